namespace SessionTrail.Agent.Recording.Upload;

/// <summary>An upload attempt that failed for a reason that may pass (server down, timeout, 5xx, token refused): retried with back-off.</summary>
public sealed class RecordingUploadException(string message, TimeSpan? retryAfter = null, Exception? inner = null) : Exception(message, inner)
{
    public TimeSpan? RetryAfter { get; } = retryAfter;
}

/// <summary>A segment that cannot be uploaded as it is (hash mismatch after a restart from 0, bad sidecar, refused by the server): reported, kept, not retried in this run.</summary>
public sealed class SegmentFailedException(string message, Exception? inner = null) : Exception(message, inner);
