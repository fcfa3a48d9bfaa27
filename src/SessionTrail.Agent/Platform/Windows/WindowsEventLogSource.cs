using System.Diagnostics.Eventing.Reader;
using System.Runtime.Versioning;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using SessionTrail.Agent.Logs.Windows;
using SessionTrail.Agent.Sources;

namespace SessionTrail.Agent.Platform.Windows;

/// <summary>
/// Live 4688/4689 from the Security log through <see cref="EventLogWatcher"/>. A thin shell: where to
/// start is <see cref="SecurityLogPosition.Decide"/>, each event goes through <c>EventRecord.ToXml()</c>
/// into <see cref="SecurityEventPump"/> (parse, map, filter, write, bookmark after durability).
/// Needs to run as an administrator or a member of "Event Log Readers", and the audit policy for
/// Process Creation/Termination (<c>sessiontrail agent --enable-audit-policy</c>).
/// </summary>
[SupportedOSPlatform("windows")]
public sealed partial class WindowsEventLogSource(WindowsCaptureOptions options, string dataDir, ILogger<WindowsEventLogSource> logger, TimeProvider time) : IRecordSource
{
    private readonly SecurityLogPosition _position = new(dataDir);
    private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public string Name => "windows-security-log";

    /// <summary>Completes when the watcher is subscribed.</summary>
    public Task Ready => _ready.Task;

    public SecurityEventStats? Stats { get; private set; }

    public async Task RunAsync(IRecordOutput output, CancellationToken cancellationToken)
    {
        var (bookmark, unreadable) = _position.Load();
        var start = SecurityLogPosition.Decide(bookmark, unreadable, options.ReadExistingOnFirstStart, EventLogShell.NewestRecordId(SecurityLogPosition.Channel));
        LogStart(logger, start.Why, start.Query);

        // The watcher calls back on its own thread; a bounded channel makes it wait when the agent is busy.
        var channel = Channel.CreateBounded<string>(new BoundedChannelOptions(4096) { SingleReader = true, FullMode = BoundedChannelFullMode.Wait });
        var pump = new SecurityEventPump(options, _position, logger, time);
        Stats = pump.Stats;
        Exception? watcherError = null;
        var query = new EventLogQuery(SecurityLogPosition.Channel, PathType.LogName, start.Query);
        using var watcher = new EventLogWatcher(query, null, start.ReadExisting);
        watcher.EventRecordWritten += (_, args) =>
        {
            if (args.EventException is { } ex)
            {
                watcherError = ex;
                channel.Writer.TryComplete(ex);
                return;
            }

            using var record = args.EventRecord;
            if (record is null)
            {
                return;
            }

            try
            {
                channel.Writer.WriteAsync(record.ToXml(), cancellationToken).AsTask().GetAwaiter().GetResult();
            }
            catch (OperationCanceledException)
            {
            }
            catch (ChannelClosedException)
            {
            }
        };
        using var stop = cancellationToken.Register(() => channel.Writer.TryComplete());
        watcher.Enabled = true;
        _ready.TrySetResult();
        try
        {
            await pump.RunAsync(channel.Reader, output, cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
        finally
        {
            watcher.Enabled = false;
        }

        if (watcherError is not null && !cancellationToken.IsCancellationRequested)
        {
            throw new InvalidOperationException("the Security event log watcher failed: " + watcherError.Message, watcherError);
        }
    }

    [LoggerMessage(EventId = 3102, Level = LogLevel.Information, Message = "Windows Security log: {Why}; query {Query}")]
    private static partial void LogStart(ILogger logger, string why, string query);
}
