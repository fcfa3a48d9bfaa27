namespace SessionTrail.Agent.Platform.Linux;

/// <summary>
/// Counters of the Linux process source, safe to read from any thread while it runs. They only grow
/// (for the life of the source object), so that a status page can show rates.
/// </summary>
public sealed class CaptureStats
{
    private long _eventsSeen;
    private long _startsEmitted;
    private long _exitsEmitted;
    private long _filtered;
    private long _missedPath;
    private long _enobufs;
    private long _fanotifyOverflows;
    private long _fanotifyUnmatched;
    private int _mode;

    /// <summary>Kernel events (connector + fanotify) or /proc observations processed.</summary>
    public long EventsSeen => Volatile.Read(ref _eventsSeen);

    /// <summary>Start records handed to the pipeline.</summary>
    public long StartsEmitted => Volatile.Read(ref _startsEmitted);

    /// <summary>Exit records handed to the pipeline.</summary>
    public long ExitsEmitted => Volatile.Read(ref _exitsEmitted);

    /// <summary>Execs not captured because of the uid range, path globs or because the agent started them.</summary>
    public long Filtered => Volatile.Read(ref _filtered);

    /// <summary>Execs whose executable path could not be learned (no fanotify event, /proc gone); not emitted.</summary>
    public long MissedPath => Volatile.Read(ref _missedPath);

    /// <summary>Times the kernel reported dropped connector events (ENOBUFS on the netlink socket).</summary>
    public long Enobufs => Volatile.Read(ref _enobufs);

    /// <summary>Times the fanotify queue overflowed (should stay 0: the queue is unlimited).</summary>
    public long FanotifyOverflows => Volatile.Read(ref _fanotifyOverflows);

    /// <summary>fanotify exec events that no exec event claimed within twice the join window (failed execs).</summary>
    public long FanotifyUnmatched => Volatile.Read(ref _fanotifyUnmatched);

    /// <summary>The mode actually running: Kernel or Poll (Auto until the source started).</summary>
    public CaptureMode Mode => (CaptureMode)Volatile.Read(ref _mode);

    internal void AddEvents(long n) => Interlocked.Add(ref _eventsSeen, n);

    internal void AddStart() => Interlocked.Increment(ref _startsEmitted);

    internal void AddExit() => Interlocked.Increment(ref _exitsEmitted);

    internal void AddFiltered() => Interlocked.Increment(ref _filtered);

    internal void AddMissedPath() => Interlocked.Increment(ref _missedPath);

    internal void AddEnobufs() => Interlocked.Increment(ref _enobufs);

    internal void AddFanotifyOverflow() => Interlocked.Increment(ref _fanotifyOverflows);

    internal void AddFanotifyUnmatched() => Interlocked.Increment(ref _fanotifyUnmatched);

    internal void SetMode(CaptureMode mode) => Volatile.Write(ref _mode, (int)mode);
}
