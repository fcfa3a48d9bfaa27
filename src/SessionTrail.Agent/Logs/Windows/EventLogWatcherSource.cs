using System.Diagnostics.Eventing.Reader;
using System.Runtime.Versioning;
using System.Threading.Channels;
using SessionTrail.Agent.Sources;

namespace SessionTrail.Agent.Logs.Windows;

/// <summary>
/// "WindowsEventLogSource": any event log through <see cref="EventLogWatcher"/> (push). A thin shell: the
/// start position is <see cref="EventLogPump.Decide"/>, every event goes through
/// <see cref="EventLogShell.ToItem"/> into <see cref="EventLogPump"/> (parse, map, write, bookmark after
/// durability). The watcher's callback waits on a bounded channel when the agent is busy.
/// </summary>
[SupportedOSPlatform("windows")]
public sealed class EventLogWatcherSource(WindowsEventLogOptions options, LogSourceContext context) : IRecordSource
{
    private readonly EventLogPump _pump = new(options, context, context.Logs.CreateLogger("SessionTrail.Agent.Logs.Windows." + context.Id));

    public string Name => context.Id;

    public EventLogStats Stats => _pump.Stats;

    public async Task RunAsync(IRecordOutput output, CancellationToken cancellationToken)
    {
        var start = _pump.Decide(EventLogShell.NewestRecordId(options.LogName));
        var channel = Channel.CreateBounded<EventLogItem>(new BoundedChannelOptions(4096) { SingleReader = true, FullMode = BoundedChannelFullMode.Wait });
        Exception? watcherError = null;
        var query = new EventLogQuery(options.LogName, PathType.LogName, EventLogPosition.Query(options.Query, start.AfterRecordId, start.NotBefore));
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
                channel.Writer.WriteAsync(EventLogShell.ToItem(record), cancellationToken).AsTask().GetAwaiter().GetResult();
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
        try
        {
            await _pump.RunAsync(channel.Reader, start, output, cancellationToken);
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
            throw new InvalidOperationException($"the event log watcher of {options.LogName} failed: {watcherError.Message}", watcherError);
        }
    }
}
