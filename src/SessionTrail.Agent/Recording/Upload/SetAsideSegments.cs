using SessionTrail.Agent.Delivery;

namespace SessionTrail.Agent.Recording.Upload;

/// <summary>
/// The segments the uploader set aside after a <see cref="SegmentFailedException"/>: each waits its own back-off
/// (<see cref="InitialDelay"/> doubling to <see cref="MaxDelay"/>, with jitter) and is then tried again, while the
/// segments behind it go on — so one segment can never hold up the queue. Keyed by video path (two spool folders
/// may name one session). Thread-safe: the pass loop writes, <c>agent status</c> reads.
/// Invariants: an entry exists only for a segment whose last attempt failed; success or the segment leaving the
/// spool removes it; <see cref="SetAsideSegment.Since"/> is the first failure of the current run of failures.
/// </summary>
public sealed class SetAsideSegments(TimeProvider time, Func<double>? random = null)
{
    /// <summary>Wait before the first retry of a set-aside segment.</summary>
    public static readonly TimeSpan InitialDelay = TimeSpan.FromSeconds(10);

    /// <summary>Longest wait between retries of one segment.</summary>
    public static readonly TimeSpan MaxDelay = TimeSpan.FromMinutes(15);

    private readonly Backoff _backoff = new(InitialDelay, MaxDelay, 0.5, random);
    private readonly Lock _lock = new();
    private readonly Dictionary<string, SetAsideSegment> _entries = new(StringComparer.Ordinal);

    /// <summary>True while <paramref name="segment"/> is set aside and its next retry is not due yet.</summary>
    public bool Waiting(SpoolSegment segment)
    {
        ArgumentNullException.ThrowIfNull(segment);
        lock (_lock)
        {
            return _entries.TryGetValue(segment.VideoPath, out var entry) && time.GetUtcNow() < entry.NextRetry;
        }
    }

    /// <summary>True when <paramref name="segment"/> is set aside (due for a retry or not).</summary>
    public bool Contains(SpoolSegment segment)
    {
        ArgumentNullException.ThrowIfNull(segment);
        lock (_lock)
        {
            return _entries.ContainsKey(segment.VideoPath);
        }
    }

    /// <summary>Records a failed attempt: sets the segment aside (or keeps it aside) until its next retry; true when it was not aside before.</summary>
    public bool Fail(SpoolSegment segment, string reason)
    {
        ArgumentNullException.ThrowIfNull(segment);
        var now = time.GetUtcNow();
        lock (_lock)
        {
            var known = _entries.TryGetValue(segment.VideoPath, out var before);
            var attempts = (before?.Attempts ?? 0) + 1;
            _entries[segment.VideoPath] = new SetAsideSegment(segment.Key, reason, before?.Since ?? now, attempts, now, now + _backoff.Delay(attempts));
            return !known;
        }
    }

    /// <summary>The segment went through: no longer aside. True when it was.</summary>
    public bool Clear(SpoolSegment segment)
    {
        ArgumentNullException.ThrowIfNull(segment);
        lock (_lock)
        {
            return _entries.Remove(segment.VideoPath);
        }
    }

    /// <summary>Forgets entries whose segment is no longer in the spool (uploaded elsewhere, folder removed).</summary>
    public void KeepOnly(IReadOnlySet<string> videoPaths)
    {
        ArgumentNullException.ThrowIfNull(videoPaths);
        lock (_lock)
        {
            foreach (var path in _entries.Keys.Where(p => !videoPaths.Contains(p)).ToList())
            {
                _entries.Remove(path);
            }
        }
    }

    /// <summary>The entries, oldest first.</summary>
    public IReadOnlyList<SetAsideSegment> Snapshot()
    {
        lock (_lock)
        {
            return [.. _entries.Values.OrderBy(e => e.Since).ThenBy(e => e.Segment, StringComparer.Ordinal)];
        }
    }
}
