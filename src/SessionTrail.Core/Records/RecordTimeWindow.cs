using System.Globalization;

namespace SessionTrail.Core.Records;

/// <summary>
/// The times a record may carry to be stored: from <see cref="Floor"/> (2000-01-01T00:00:00Z) to
/// <see cref="MaxAhead"/> (24 h) past the receiver's clock, both ends included. A time outside (year 0001 from
/// a zeroed clock, year 9999 from a "never" sentinel, a machine whose clock is years off) would pair into
/// runs spanning centuries and make every report that walks time explode, so the server's ingest and
/// <c>sessiontrail import</c> refuse such a record, naming the field. 24 h ahead leaves room for clocks that
/// are somewhat fast and for time zones gone wrong; 2000 keeps every plausible history (the seed's data lake
/// starts in 2015).
/// Every time field counts: <c>time</c> of every kind, a segment's <c>start</c> and <c>end</c>, a recording
/// event's <c>gapStart</c> and <c>gapEnd</c>. (A session's <c>reservationTime</c> is kept as text, never
/// computed with, and is not checked.)
/// </summary>
/// <param name="Now">The receiver's clock (the server's injected <see cref="TimeProvider"/>, or the importing machine's).</param>
public readonly record struct RecordTimeWindow(DateTimeOffset Now)
{
    /// <summary>The earliest time accepted: 2000-01-01T00:00:00Z.</summary>
    public static readonly DateTimeOffset Floor = new(2000, 1, 1, 0, 0, 0, TimeSpan.Zero);

    /// <summary>How far past the receiver's clock a time may lie: 24 hours.</summary>
    public static readonly TimeSpan MaxAhead = TimeSpan.FromHours(24);

    /// <summary>The window for now on <paramref name="clock"/>.</summary>
    public static RecordTimeWindow Of(TimeProvider clock)
    {
        ArgumentNullException.ThrowIfNull(clock);
        return new RecordTimeWindow(clock.GetUtcNow());
    }

    /// <summary>The earliest time accepted (<see cref="Floor"/>).</summary>
    public DateTimeOffset Earliest => Floor;

    /// <summary>The latest time accepted: <see cref="Now"/> + <see cref="MaxAhead"/>.</summary>
    public DateTimeOffset Latest => Now > DateTimeOffset.MaxValue - MaxAhead ? DateTimeOffset.MaxValue : Now + MaxAhead;

    /// <summary>What is wrong with <paramref name="time"/> ("'0001-01-01T00:00:00.000Z' is before …"), or null when it is inside.</summary>
    public string? Problem(DateTimeOffset time)
    {
        if (time < Earliest)
        {
            return $"'{Format(time)}' is before {Format(Earliest)}, the earliest time accepted";
        }

        if (time > Latest)
        {
            return $"'{Format(time)}' is more than 24 h ahead of the receiver's clock ({Format(Now)}); is the sender's clock wrong?";
        }

        return null;
    }

    /// <summary>The first time field of <paramref name="record"/> outside the window: its wire name and the problem; null when all are inside.</summary>
    public (string Field, string Problem)? Check(TrailRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        if (Problem(record.Time) is { } time)
        {
            return ("time", time);
        }

        switch (record)
        {
            case RecordingSegmentRecord segment:
                if (Problem(segment.Start) is { } start)
                {
                    return ("start", start);
                }

                if (Problem(segment.End) is { } end)
                {
                    return ("end", end);
                }

                break;
            case RecordingEventRecord recording:
                if (recording.GapStart is { } gs && Problem(gs) is { } gapStart)
                {
                    return ("gapStart", gapStart);
                }

                if (recording.GapEnd is { } ge && Problem(ge) is { } gapEnd)
                {
                    return ("gapEnd", gapEnd);
                }

                break;
        }

        return null;
    }

    private static string Format(DateTimeOffset time) =>
        time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);
}
