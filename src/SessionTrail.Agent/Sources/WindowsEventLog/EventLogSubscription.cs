using System.Diagnostics.Eventing.Reader;
using System.Runtime.Versioning;
using System.Threading.Channels;
using SessionTrail.Agent.Config;
using SessionTrail.Agent.Ids;
using SessionTrail.Agent.Sinks;
using SessionTrail.Agent.Sources;

namespace SessionTrail.Agent.Sources.WindowsEventLog;

/// <summary>
/// An <see cref="EventLogWatcher"/> whose events, converted by <c>convert</c>, go into a bounded channel: the
/// watcher's callback waits when the agent is busy. A watcher error completes the channel with it and is kept
/// in <see cref="Error"/>. Shared by the Security process capture and the log-shipping event log source.
/// </summary>
[SupportedOSPlatform("windows")]
public sealed class EventLogSubscription<T> : IDisposable
{
    private readonly Channel<T> _channel = Channel.CreateBounded<T>(new BoundedChannelOptions(4096) { SingleReader = true, FullMode = BoundedChannelFullMode.Wait });
    private readonly EventLogWatcher _watcher;
    private readonly CancellationTokenRegistration _stop;

    public EventLogSubscription(EventLogQuery query, bool readExisting, Func<EventRecord, T> convert, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(convert);
        _watcher = new EventLogWatcher(query, null, readExisting);
        _watcher.EventRecordWritten += (_, args) =>
        {
            if (args.EventException is { } ex)
            {
                Error = ex;
                _channel.Writer.TryComplete(ex);
                return;
            }

            using var record = args.EventRecord;
            if (record is null)
            {
                return;
            }

            try
            {
                _channel.Writer.WriteAsync(convert(record), cancellationToken).AsTask().GetAwaiter().GetResult();
            }
            catch (OperationCanceledException)
            {
            }
            catch (ChannelClosedException)
            {
            }
        };
        _stop = cancellationToken.Register(() => _channel.Writer.TryComplete());
    }

    /// <summary>What the watcher reported, when it failed.</summary>
    public Exception? Error { get; private set; }

    public ChannelReader<T> Reader => _channel.Reader;

    /// <summary>Subscribes: events start to arrive.</summary>
    public void Start() => _watcher.Enabled = true;

    public void Dispose()
    {
        _watcher.Enabled = false;
        _watcher.Dispose();
        _stop.Dispose();
    }
}
