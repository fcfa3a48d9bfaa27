namespace SessionTrail.Core.Records;

/// <summary>
/// The run-pairing rule: which process start an exit belongs to, and when a run ends.
/// Per host and pid, events are ordered by time, starts before exits at the same time, then arrival; a start
/// owns the first exit at or after it that comes before the pid's next start (a reused pid starts a new run,
/// an exit arriving late or out of order still finds its start, an exit no start owns is nobody's, a repeated
/// exit after the owned one is ignored). A run without an exit ends at its session's end when that is not
/// before its start, else it is open.
/// This is the rule for a list of events held in memory (Athena export, the agent's S3 objects). The store
/// keeps the same rule incrementally in SQL at ingest (<c>SessionTrail.Server.Store.IngestCommands</c>), and
/// <c>StoreAndExportPairingTests</c> feeds random event streams through both and requires the same runs.
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
        var startOf = new Dictionary<int, int>();
        var exitOf = new Dictionary<int, int>();
        var order = Enumerable.Range(0, events.Count).ToList();
        order.Sort((a, b) =>
        {
            var byTime = events[a].Time.CompareTo(events[b].Time);
            if (byTime != 0)
            {
                return byTime;
            }

            var byType = events[a].Type.CompareTo(events[b].Type); // Start (0) before Exit (1)
            return byType != 0 ? byType : a.CompareTo(b);
        });
        var open = new Dictionary<(string Host, int Pid), int>();
        foreach (var i in order)
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
