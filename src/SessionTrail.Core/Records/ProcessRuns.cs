namespace SessionTrail.Core.Records;

/// <summary>
/// The run-pairing rule: which process start an exit belongs to, and when a run ends.
/// Per host and pid, events are ordered by time, starts before exits at the same time, then arrival; a start
/// owns the first exit at or after it that comes before the pid's next start (a reused pid starts a new run,
/// an exit arriving late or out of order still finds its start, an exit no start owns is nobody's, a repeated
/// exit after the owned one is ignored). A run without an exit ends at its session's end when that is not
/// before its start, else it is open.
/// This is the one statement of the rule. Export and the agent's S3 objects call it on the events they hold; the
/// store calls it at ingest on the stored events around each new one (<c>SessionTrail.Server.Store.IngestCommands</c>),
/// and <c>StoreAndExportPairingTests</c> feeds random event streams through both and requires the same runs.
/// </summary>
public static class ProcessRuns
{
    /// <summary>The end of a run that started at <paramref name="start"/>: its exit, else its session's end when not before the start, else null (open).</summary>
    public static DateTimeOffset? End(DateTimeOffset start, DateTimeOffset? exit, DateTimeOffset? sessionEnd) =>
        exit ?? (sessionEnd >= start ? sessionEnd : null);

    /// <summary>The pairs of <paramref name="events"/> (in arrival order), by index into it.</summary>
    public static RunPairs Pair(IReadOnlyList<ProcessRecord> events)
    {
        ArgumentNullException.ThrowIfNull(events);
        var view = new RunEvent[events.Count];
        for (var i = 0; i < view.Length; i++)
        {
            var e = events[i];
            view[i] = new RunEvent(e.Host, e.Pid, e.Type, e.Time.UtcTicks, i);
        }

        return Pair(view);
    }

    /// <summary>The pairs of <paramref name="events"/> (in any order: <see cref="RunEvent.Arrival"/> orders events of the same time and kind), by index into it.</summary>
    public static RunPairs Pair(IReadOnlyList<RunEvent> events)
    {
        ArgumentNullException.ThrowIfNull(events);
        var startOf = new Dictionary<int, int>();
        var exitOf = new Dictionary<int, int>();
        var order = new (long Time, ProcessEventType Type, long Arrival, int Index)[events.Count];
        for (var i = 0; i < order.Length; i++)
        {
            var e = events[i];
            order[i] = (e.Time, e.Type, e.Arrival, i); // Start (0) before Exit (1) at the same time
        }

        Array.Sort(order);
        var open = new Dictionary<(string Host, int Pid), int>();
        foreach (var (_, _, _, i) in order)
        {
            var key = (events[i].Host, events[i].Pid);
            if (events[i].Type == ProcessEventType.Start)
            {
                open[key] = i;
            }
            else if (open.Remove(key, out var start))
            {
                startOf[i] = start;
                exitOf[start] = i;
            }
        }

        return new RunPairs(startOf, exitOf);
    }
}

/// <summary>
/// What the pairing rule reads of a process event: its host, pid, kind, time (any unit that orders, e.g. UTC
/// ticks or the store's milliseconds) and when it arrived (any increasing number: an index, the store's seq).
/// </summary>
public readonly record struct RunEvent(string Host, int Pid, ProcessEventType Type, long Time, long Arrival);

/// <summary>The pairs <see cref="ProcessRuns.Pair"/> found, by index into the events it was given.</summary>
public sealed class RunPairs
{
    private readonly Dictionary<int, int> startOfExit;
    private readonly Dictionary<int, int> exitOfStart;

    internal RunPairs(Dictionary<int, int> startOfExit, Dictionary<int, int> exitOfStart)
    {
        this.startOfExit = startOfExit;
        this.exitOfStart = exitOfStart;
    }

    /// <summary>The exit that start <paramref name="start"/> owns.</summary>
    public bool TryGetExit(int start, out int exit) => exitOfStart.TryGetValue(start, out exit);

    /// <summary>The start that owns exit <paramref name="exit"/>.</summary>
    public bool TryGetStart(int exit, out int start) => startOfExit.TryGetValue(exit, out start);
}
