using System.Diagnostics.Eventing.Reader;
using System.Runtime.Versioning;
using SessionTrail.Agent.Config;
using SessionTrail.Agent.Ids;
using SessionTrail.Agent.Sinks;
using SessionTrail.Agent.Sources;

namespace SessionTrail.Agent.Sources.WindowsEventLog;

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
        var query = new EventLogQuery(options.LogName, PathType.LogName, EventLogPosition.Query(options.Query, start.AfterRecordId, start.NotBefore));
        using var subscription = new EventLogSubscription<EventLogItem>(query, start.ReadExisting, EventLogShell.ToItem, cancellationToken);
        subscription.Start();
        try
        {
            await _pump.RunAsync(subscription.Reader, start, output, cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }

        if (subscription.Error is { } error && !cancellationToken.IsCancellationRequested)
        {
            throw new InvalidOperationException($"the event log watcher of {options.LogName} failed: {error.Message}", error);
        }
    }
}
