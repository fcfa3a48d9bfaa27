using SessionTrail.Core.Records;

namespace SessionTrail.Core.Formats;

/// <summary>One row of a session's Athena object, before formatting.</summary>
/// <param name="EventType">4688 (start), 4689 (exit, and the session_end pseudo-row).</param>
/// <param name="Time">The event's time (the session end for the pseudo-row).</param>
/// <param name="Process">Executable path ("session_end" for the pseudo-row).</param>
/// <param name="Host">Host column ("session_end" for the pseudo-row).</param>
/// <param name="Pid">Process id (-1 for the pseudo-row).</param>
/// <param name="UserId">The process's user (SID on Windows; "session_end" for the pseudo-row).</param>
/// <param name="RunStart">The run's start: the event itself for a 4688, the paired start for a 4689 (null without one).</param>
/// <param name="RunEnd">The run's end: the paired exit, else the session end (null when the session ended before it), for a 4688; the event itself for a 4689.</param>
public sealed record AthenaRow(
    int EventType, DateTimeOffset Time, string Process, string Host, long Pid, string UserId, DateTimeOffset? RunStart, DateTimeOffset? RunEnd);

/// <summary>
/// The rows of one session in the seed script's order: every start (4688) newest first, then every
/// exit (4689) newest first (Get-WinEvent reads the log newest first), then the session_end pseudo-row
/// (4689, pid -1). Events at the same time keep the reverse of their given (arrival) order.
/// Starts and exits are paired by <see cref="ProcessRuns"/>, the rule the server's store keeps too.
/// </summary>
public static class AthenaRows
{
    /// <summary>The 4688 event id the seed writes for a start.</summary>
    public const int StartEvent = 4688;

    /// <summary>The 4689 event id the seed writes for an exit and the session_end row.</summary>
    public const int ExitEvent = 4689;

    /// <summary>The process/host/userid value of the pseudo-row.</summary>
    public const string SessionEnd = "session_end";

    /// <summary>The rows of <paramref name="events"/> (in arrival order) for <paramref name="session"/>.</summary>
    public static IReadOnlyList<AthenaRow> Build(AthenaSession session, IReadOnlyList<ProcessRecord> events)
    {
        ArgumentNullException.ThrowIfNull(session);
        ArgumentNullException.ThrowIfNull(events);
        var pairs = ProcessRuns.Pair(events);
        var rows = new List<AthenaRow>(events.Count + 1);
        foreach (var type in new[] { ProcessEventType.Start, ProcessEventType.Exit })
        {
            var indexes = Enumerable.Range(0, events.Count).Where(i => events[i].Type == type).ToList();
            indexes.Sort((a, b) =>
            {
                var byTime = events[b].Time.CompareTo(events[a].Time);
                return byTime != 0 ? byTime : b.CompareTo(a);
            });
            foreach (var i in indexes)
            {
                var e = events[i];
                var isStart = type == ProcessEventType.Start;
                rows.Add(new AthenaRow(
                    isStart ? StartEvent : ExitEvent,
                    e.Time,
                    e.Executable ?? (pairs.TryGetExit(i, out var partner) || pairs.TryGetStart(i, out partner) ? events[partner].Executable ?? "" : ""),
                    e.Host,
                    e.Pid,
                    UserOf(e) ?? (!isStart && pairs.TryGetStart(i, out var owner) ? UserOf(events[owner]) : null) ?? "",
                    isStart ? e.Time : pairs.TryGetStart(i, out var s) ? events[s].Time : null,
                    isStart ? ProcessRuns.End(e.Time, pairs.TryGetExit(i, out var x) ? events[x].Time : null, session.End) : e.Time));
            }
        }

        rows.Add(new AthenaRow(ExitEvent, session.End, SessionEnd, SessionEnd, -1, SessionEnd, session.Start, session.End));
        return rows;
    }

    /// <summary>The userid column: the user as recorded, else the uid. An exit without one (Linux exits carry
    /// no user) takes its start's, as the seed's 4689 rows carry the user.</summary>
    private static string? UserOf(ProcessRecord e) => e.User ?? e.Uid?.ToString(System.Globalization.CultureInfo.InvariantCulture);
}
