namespace SessionTrail.Server.Recordings;

/// <summary>
/// Where segment bytes live on the server: the filesystem by default (<see cref="FileSystemRecordingStore"/>),
/// S3 as an option. An object is addressed by (session, index). Uploads are resumable: bytes are appended
/// at the offset the store already holds, and <see cref="CompleteAsync"/> checks size and SHA-256 before the
/// object counts as complete. An incomplete object can be read too (near-live viewing of a fragmented MP4).
/// Segment metadata (the agent's "segment" records) is kept in the database, not here.
/// </summary>
public interface IRecordingStore
{
    /// <summary>What the store holds for the object: null when nothing.</summary>
    Task<RecordingObjectInfo?> GetInfoAsync(string session, int index, CancellationToken ct);

    /// <summary>
    /// Appends <paramref name="data"/> when <paramref name="offset"/> equals the bytes held now and the object
    /// is not complete; returns the new length. Otherwise throws <see cref="UploadOffsetException"/> with the
    /// length held (nothing written). The bytes are durable (flushed to disk) when this returns.
    /// </summary>
    Task<long> AppendAsync(string session, int index, long offset, Stream data, CancellationToken ct);

    /// <summary>
    /// Marks the object complete when its length is <paramref name="bytes"/> and its SHA-256 (computed by
    /// the store over what it holds) is <paramref name="sha256"/>. On a mismatch the partial object is
    /// discarded (so the uploader starts again from 0) and <see cref="UploadVerificationException"/> names it.
    /// Fewer bytes held than <paramref name="bytes"/> is no mismatch: <see cref="UploadOffsetException"/> with the
    /// length held (nothing discarded). Completing an already complete object with the same hash succeeds (idempotent).
    /// An empty segment (<paramref name="bytes"/> 0, nothing appended) completes as an empty object.
    /// </summary>
    Task<RecordingObjectInfo> CompleteAsync(string session, int index, long bytes, string sha256, CancellationToken ct);

    /// <summary>Opens the bytes held (complete or not) for reading, seekable; null when there is nothing.</summary>
    Task<Stream?> OpenReadAsync(string session, int index, CancellationToken ct);

    /// <summary>Recomputes the SHA-256 of what is stored (for verification: detects bytes altered at rest).</summary>
    Task<string?> ComputeSha256Async(string session, int index, CancellationToken ct);

    /// <summary>Indexes stored for a session, ascending.</summary>
    Task<IReadOnlyList<int>> ListAsync(string session, CancellationToken ct);

    /// <summary>Deletes every object of the session (retention); returns how many bytes were freed.</summary>
    Task<long> DeleteSessionAsync(string session, CancellationToken ct);
}

/// <param name="Length">Bytes held.</param>
/// <param name="Complete">True once <see cref="IRecordingStore.CompleteAsync"/> succeeded.</param>
/// <param name="Sha256">The verified SHA-256 (lowercase hex) when complete, else null.</param>
/// <param name="LastWrite">When bytes were last appended (or the object completed).</param>
public sealed record RecordingObjectInfo(long Length, bool Complete, string? Sha256, DateTimeOffset LastWrite);

/// <summary>An append at the wrong offset, or to a complete object.</summary>
public sealed class UploadOffsetException(long held, bool complete)
    : Exception(complete ? $"the segment is already complete ({held} bytes)" : $"the upload offset must be {held}")
{
    public long Held { get; } = held;

    public bool Complete { get; } = complete;
}

/// <summary>A completion whose size or hash does not match what was uploaded; the partial upload was discarded.</summary>
public sealed class UploadVerificationException(string message) : Exception(message);
