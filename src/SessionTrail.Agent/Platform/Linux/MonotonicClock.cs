namespace SessionTrail.Agent.Platform.Linux;

/// <summary>
/// Converts CLOCK_MONOTONIC nanoseconds (proc connector timestamps) to UTC wall-clock time, with one
/// offset measured when the object is created. A later wall-clock step (NTP) is not followed, so
/// event times stay ordered like the kernel's.
/// </summary>
internal sealed class MonotonicClock
{
    private readonly long _offsetNs;

    public MonotonicClock(TimeProvider time)
        : this(time.GetUtcNow(), Libc.MonotonicNowNs())
    {
    }

    /// <summary>For tests: the wall clock <paramref name="wallNow"/> was read at monotonic <paramref name="monotonicNowNs"/>.</summary>
    internal MonotonicClock(DateTimeOffset wallNow, ulong monotonicNowNs)
    {
        long wallNs = (wallNow.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks) * 100;
        _offsetNs = wallNs - (long)monotonicNowNs;
    }

    public DateTimeOffset ToWallClock(ulong monotonicNs) =>
        new(DateTimeOffset.UnixEpoch.UtcTicks + (((long)monotonicNs + _offsetNs) / 100), TimeSpan.Zero);
}
