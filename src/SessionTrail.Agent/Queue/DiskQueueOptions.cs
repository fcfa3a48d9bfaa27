namespace SessionTrail.Agent.Queue;

/// <summary>What a queue does when appending a record would exceed <see cref="DiskQueueOptions.MaxBytes"/>.</summary>
public enum QueueFullPolicy
{
    /// <summary>Delete the oldest segment, un-acknowledged records included (counted as dropped, logged).</summary>
    DropOldest,

    /// <summary>Refuse the new record (counted as dropped, logged).</summary>
    RejectNew,

    /// <summary>Make the writer wait until the sink acknowledges enough to free space (back-pressure).</summary>
    Block,
}

/// <summary>When the queue forces appended records to the disk (fsync).</summary>
public enum FsyncPolicy
{
    /// <summary>Group fsync: at most once per <see cref="DiskQueueOptions.FsyncInterval"/>, and on <see cref="DiskQueue.Flush"/>.</summary>
    Interval,

    /// <summary>fsync after every record (slow; survives power loss record by record).</summary>
    Always,

    /// <summary>Only on <see cref="DiskQueue.Flush"/>; the OS decides otherwise. Survives a process kill, not a power loss.</summary>
    Never,
}

/// <summary>Settings of one durable queue.</summary>
public sealed class DiskQueueOptions
{
    /// <summary>Size cap of all segment files together. Default 1 GiB.</summary>
    public long MaxBytes { get; set; } = 1L << 30;

    /// <summary>Policy when the cap is reached. Default <see cref="QueueFullPolicy.DropOldest"/>.</summary>
    public QueueFullPolicy FullPolicy { get; set; } = QueueFullPolicy.DropOldest;

    /// <summary>Size at which a new segment file is started. Default 32 MiB, never more than a quarter of <see cref="MaxBytes"/>.</summary>
    public long SegmentBytes { get; set; } = 32L << 20;

    /// <summary>fsync policy. Default <see cref="FsyncPolicy.Interval"/>.</summary>
    public FsyncPolicy Fsync { get; set; } = FsyncPolicy.Interval;

    /// <summary>Group fsync interval for <see cref="FsyncPolicy.Interval"/>. Default 200 ms.</summary>
    public TimeSpan FsyncInterval { get; set; } = TimeSpan.FromMilliseconds(200);

    internal long EffectiveSegmentBytes => Math.Max(4096, Math.Min(SegmentBytes, MaxBytes / 4));
}
