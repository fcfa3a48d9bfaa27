using System.Diagnostics.Eventing.Reader;
using System.Runtime.Versioning;
using System.Threading.Channels;
using SessionTrail.Agent.Config;
using SessionTrail.Agent.Ids;
using SessionTrail.Agent.Sinks;
using SessionTrail.Agent.Sources;

namespace SessionTrail.Agent.Sources.WindowsEventLog;

/// <summary>
/// "WindowsEventLogPollingSource": any event log read with <see cref="EventLogReader"/> in a loop. Each poll
/// runs the query for the records after the last one read, in batches; a poll that read at least
/// DelayThreshold events polls again after MinReaderDelayMs, a quieter one doubles the wait up to
/// MaxReaderDelayMs (<see cref="WindowsEventLogOptions.NextReaderDelay"/>). Everything after the read is
/// <see cref="EventLogPump"/>, as for the push source.
/// </summary>
[SupportedOSPlatform("windows")]
public sealed class EventLogPollingSource(WindowsEventLogOptions options, LogSourceContext context) : IRecordSource
{
    private const int BatchSize = 128;
    private readonly EventLogPump _pump = new(options, context, context.Logs.CreateLogger("SessionTrail.Agent.Logs.Windows." + context.Id));

    public string Name => context.Id;

    public EventLogStats Stats => _pump.Stats;

    public async Task RunAsync(IRecordOutput output, CancellationToken cancellationToken)
    {
        var start = _pump.Decide(EventLogShell.NewestRecordId(options.LogName));
        var channel = Channel.CreateBounded<EventLogItem>(new BoundedChannelOptions(4096) { SingleReader = true, SingleWriter = true, FullMode = BoundedChannelFullMode.Wait });
        using var stopping = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var reading = Task.Run(() => PollAsync(channel.Writer, start, stopping.Token), CancellationToken.None);
        try
        {
            await _pump.RunAsync(channel.Reader, start, output, cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
        finally
        {
            await stopping.CancelAsync();
            try
            {
                await reading;
            }
            catch (OperationCanceledException)
            {
            }
        }
    }

    private async Task PollAsync(ChannelWriter<EventLogItem> writer, EventLogStart start, CancellationToken cancellationToken)
    {
        var after = start.AfterRecordId;
        if (!start.ReadExisting && after is null)
        {
            after = EventLogShell.NewestRecordId(options.LogName) ?? 0; // from now
        }

        var delay = options.MinReaderDelay;
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                var read = 0;
                var query = new EventLogQuery(options.LogName, PathType.LogName, EventLogPosition.Query(options.Query, after, start.NotBefore));
                using (var reader = new EventLogReader(query) { BatchSize = BatchSize })
                {
                    while (!cancellationToken.IsCancellationRequested && reader.ReadEvent() is { } record)
                    {
                        using (record)
                        {
                            await writer.WriteAsync(EventLogShell.ToItem(record), cancellationToken);
                            after = record.RecordId ?? after;
                            read++;
                        }
                    }
                }

                delay = options.NextReaderDelay(delay, read);
                await Task.Delay(delay, context.Time, cancellationToken);
            }

            writer.TryComplete();
        }
        catch (OperationCanceledException)
        {
            writer.TryComplete();
        }
        catch (Exception ex) when (ex is EventLogException or UnauthorizedAccessException)
        {
            writer.TryComplete(new InvalidOperationException($"reading event log {options.LogName} failed: {ex.Message}", ex));
        }
    }
}
