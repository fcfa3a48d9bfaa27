namespace SessionTrail.Agent.Recording.Upload;

/// <summary>
/// An upload attempt that failed because the target is away or refuses every request (no answer, timeout, token
/// refused, 429/502/503/504/507, an S3 outage or misconfiguration): whatever segment came next would fail the same
/// way, so the pass stops and is retried with back-off. Anything that can depend on the segment is a
/// <see cref="SegmentFailedException"/> instead.
/// </summary>
public sealed class RecordingUploadException(string message, TimeSpan? retryAfter = null, Exception? inner = null) : Exception(message, inner)
{
    public TimeSpan? RetryAfter { get; } = retryAfter;
}

/// <summary>
/// A segment that cannot go now (the target refused it — hash mismatch after a restart from 0, a conflict that does
/// not settle, a 4xx or 500 about it — or its spool files are wrong: video missing, unreadable or changed, bad
/// sidecar): it is set aside and retried with its own back-off while the other segments go on (<see cref="SetAsideSegments"/>).
/// </summary>
public sealed class SegmentFailedException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>Reading a segment's file in the spool failed (it vanished, shrank, or cannot be read): the segment's problem, not the target's.</summary>
public sealed class SpoolFileException(string message, Exception? inner = null) : IOException(message, inner);
