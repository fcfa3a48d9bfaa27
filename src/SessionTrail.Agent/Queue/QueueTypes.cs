namespace SessionTrail.Agent.Queue;

/// <summary>A place in a queue: a segment and a byte offset inside it (just after a frame).</summary>
public readonly record struct QueuePosition(long Segment, long Offset) : IComparable<QueuePosition>
{
    public int CompareTo(QueuePosition other) =>
        Segment != other.Segment ? Segment.CompareTo(other.Segment) : Offset.CompareTo(other.Offset);

    public static bool operator <(QueuePosition a, QueuePosition b) => a.CompareTo(b) < 0;

    public static bool operator >(QueuePosition a, QueuePosition b) => a.CompareTo(b) > 0;

    public static bool operator <=(QueuePosition a, QueuePosition b) => a.CompareTo(b) <= 0;

    public static bool operator >=(QueuePosition a, QueuePosition b) => a.CompareTo(b) >= 0;
}

/// <summary>Records read from a queue; acknowledge <see cref="End"/> once the sink has accepted them all.</summary>
public sealed class QueueBatch
{
    internal QueueBatch(IReadOnlyList<ReadOnlyMemory<byte>> records, QueuePosition start, QueuePosition end, long bytes, int recordsInLastSegment)
    {
        Records = records;
        Start = start;
        End = end;
        Bytes = bytes;
        RecordsInLastSegment = recordsInLastSegment;
    }

    public IReadOnlyList<ReadOnlyMemory<byte>> Records { get; }

    /// <summary>The cursor when the batch was read.</summary>
    public QueuePosition Start { get; }

    public QueuePosition End { get; }

    internal int RecordsInLastSegment { get; }

    /// <summary>Payload bytes (without framing).</summary>
    public long Bytes { get; }

    public int Count => Records.Count;
}

/// <summary>A snapshot of a queue's counters.</summary>
public sealed record QueueStats(
    long PendingRecords,
    long PendingBytes,
    long DiskBytes,
    DateTimeOffset? OldestPendingSince,
    long AckedTotal,
    long DroppedTotal,
    bool Full);
