namespace SessionTrail.Agent.Recording.Upload;

/// <summary>The recording uploader as `sessiontrail agent status` shows it.</summary>
public sealed record RecordingUploadStatus
{
    /// <summary>
    /// "idle" (nothing to send now; set-aside segments wait for their retry), "uploading", "retrying" (the target is
    /// away; the pass is retried with back-off) or "spool full".
    /// </summary>
    public required string State { get; init; }

    /// <summary>Where segments go: "server", "s3" or "both".</summary>
    public required string Upload { get; init; }

    /// <summary>Segments in the spool not yet accepted by every target (the open one included).</summary>
    public int PendingSegments { get; init; }

    /// <summary>Bytes of those segments' videos on disk (what is left to confirm; an open segment counts whole).</summary>
    public long PendingBytes { get; init; }

    /// <summary>Segments still being recorded (video without sidecar).</summary>
    public int OpenSegments { get; init; }

    /// <summary>"SESSION/INDEX" being sent right now; null when none.</summary>
    public string? UploadingNow { get; init; }

    /// <summary>Segments completed (marker written) since the agent started.</summary>
    public long UploadedSegmentsTotal { get; init; }

    /// <summary>Bytes of those segments.</summary>
    public long UploadedBytesTotal { get; init; }

    /// <summary>Videos of uploaded segments deleted for the spool budget since the agent started.</summary>
    public long DeletedSegmentsTotal { get; init; }

    /// <summary>Bytes in DIR/agent/recordings now.</summary>
    public long SpoolBytes { get; init; }

    public long SpoolMaxBytes { get; init; }

    /// <summary>True while the spool is over its cap with nothing uploaded left to delete (the recorder pauses).</summary>
    public bool SpoolFull { get; init; }

    /// <summary>
    /// Upper bound of how long the newest bytes of the open segment have waited on disk without being on the server:
    /// 0 when the server held everything at the last look, null when no segment is open (or no server target).
    /// </summary>
    public double? LiveLagSeconds { get; init; }

    public string? LastError { get; init; }

    public DateTimeOffset? LastErrorTime { get; init; }

    /// <summary>
    /// Segments set aside after a failure that is theirs (refused by the target, video missing, unreadable or changed,
    /// bad sidecar): kept in the spool, retried with back-off, while the others go on. Empty when none.
    /// </summary>
    public IReadOnlyList<SetAsideSegment> SetAside { get; init; } = [];
}

/// <summary>A segment set aside (see <see cref="SetAsideSegments"/>).</summary>
/// <param name="Segment">"SESSION/INDEX".</param>
/// <param name="Reason">Why the last attempt failed.</param>
/// <param name="Since">The first failure of this run of failures.</param>
/// <param name="Attempts">Failed attempts since then.</param>
/// <param name="LastAttempt">When the last attempt failed.</param>
/// <param name="NextRetry">When it is tried again (the next pass after that time).</param>
public sealed record SetAsideSegment(string Segment, string Reason, DateTimeOffset Since, int Attempts, DateTimeOffset LastAttempt, DateTimeOffset NextRetry);
