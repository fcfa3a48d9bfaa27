using SessionTrail.Core.Records;

namespace SessionTrail.Agent.Recording.Upload;

/// <summary>Where the uploader sends segments: the SessionTrail server (<see cref="ServerRecordingTarget"/>) or S3 (<see cref="S3RecordingTarget"/>).</summary>
public interface IRecordingTarget : IDisposable
{
    /// <summary>"server" or "s3".</summary>
    string Name { get; }

    /// <summary>True when the target takes an open segment's bytes as they grow (near-live viewing).</summary>
    bool Live { get; }

    /// <summary>
    /// Sends what is on disk of an open segment and not yet held by the target; returns the bytes the target holds.
    /// Throws <see cref="RecordingUploadException"/> (retry later) or <see cref="SegmentFailedException"/>.
    /// </summary>
    Task<long> SendOpenAsync(SpoolSegment segment, CancellationToken ct);

    /// <summary>
    /// Makes the target hold the closed segment whole and verified (size + SHA-256 of <paramref name="sidecar"/>);
    /// returns how many bytes were sent for it in this call. Idempotent: a segment the target already holds
    /// with the same hash returns at once. Throws <see cref="RecordingUploadException"/> or <see cref="SegmentFailedException"/>.
    /// </summary>
    Task<long> FinishAsync(SpoolSegment segment, RecordingSegmentRecord sidecar, CancellationToken ct);
}
