namespace SessionTrail.Server;

/// <summary>Settings of <c>sessiontrail server</c>. Validated by <see cref="ServerApp.Build"/>, which names a bad setting.</summary>
public sealed class ServerOptions
{
    /// <summary>The data directory holding sessiontrail.db. Required (the CLI passes DataDirectory.Default() when --data is absent).</summary>
    public string DataDir { get; set; } = "";

    /// <summary>Where Kestrel listens, ';'-separated. Default "http://127.0.0.1:5080" (loopback only).</summary>
    public string Urls { get; set; } = "http://127.0.0.1:5080";

    /// <summary>Largest ingest body, in bytes, both as sent (chunked too) and after decompression. Default 16 MiB; larger bodies get 413.</summary>
    public long MaxBodyBytes { get; set; } = 16 * 1024 * 1024;

    /// <summary>Longest NDJSON line, in bytes. Default 256 KiB; a longer line is a 400 naming the line.</summary>
    public int MaxLineBytes { get; set; } = Core.Formats.NdjsonReader.DefaultMaxLineBytes;

    /// <summary>Days after a session's end its recordings are deleted (unless on legal hold). Default 90; 0 keeps them forever.</summary>
    public int RecordingRetentionDays { get; set; } = 90;

    /// <summary>
    /// Days log records are kept (by the record's time); older ones and their index entries are deleted in the background,
    /// in steps of at most 10,000 records (<c>--log-retention-days</c>). Default 0: kept forever.
    /// </summary>
    public int LogRetentionDays { get; set; }

    /// <summary>"BUCKET[/PREFIX]": keep recording bytes in S3 instead of DIR/recordings. Credentials: the AWS SDK's standard chain (environment, profile, instance role).</summary>
    public string? RecordingsS3 { get; set; }

    /// <summary>S3-compatible endpoint URL for <see cref="RecordingsS3"/> (path-style addressing); null for AWS itself.</summary>
    public string? RecordingsS3Endpoint { get; set; }

    /// <summary>AWS region of <see cref="RecordingsS3"/> (the signing region with an endpoint). Default us-east-1.</summary>
    public string RecordingsS3Region { get; set; } = "us-east-1";

    /// <summary>
    /// The most rows one report, or one dashboard chart, answers (<c>--report-max-rows</c>). Default 100,000 (about 20 MB
    /// of <c>runs</c> JSON); past it the answer is a 422 naming the number of rows and how to narrow the question.
    /// </summary>
    public int ReportMaxRows { get; set; } = Reports.ReportService.DefaultMaxRows;

    /// <summary>
    /// Seconds a client is told to wait (<c>Retry-After</c>) when a write found the disk full (507). Default 60;
    /// 1..3600. The agent keeps the data and retries; writes resume by themselves once space is freed.
    /// </summary>
    public int DiskFullRetryAfterSeconds { get; set; } = 60;

    /// <summary>Throws <see cref="ArgumentException"/> naming the first invalid setting.</summary>
    public void Validate()
    {
        if (string.IsNullOrWhiteSpace(DataDir))
        {
            throw new ArgumentException("ServerOptions.DataDir is required (the directory for sessiontrail.db).", nameof(DataDir));
        }

        if (string.IsNullOrWhiteSpace(Urls))
        {
            throw new ArgumentException("ServerOptions.Urls must name at least one URL, e.g. http://127.0.0.1:5080.", nameof(Urls));
        }

        if (MaxBodyBytes <= 0 || MaxBodyBytes > int.MaxValue)
        {
            throw new ArgumentException($"ServerOptions.MaxBodyBytes must be between 1 and {int.MaxValue}, got {MaxBodyBytes}.", nameof(MaxBodyBytes));
        }

        if (RecordingRetentionDays is < 0 or > 36_500)
        {
            throw new ArgumentException($"ServerOptions.RecordingRetentionDays must be between 0 (keep forever) and 36500, got {RecordingRetentionDays}.", nameof(RecordingRetentionDays));
        }

        if (LogRetentionDays is < 0 or > 36_500)
        {
            throw new ArgumentException($"ServerOptions.LogRetentionDays must be between 0 (keep forever) and 36500, got {LogRetentionDays}.", nameof(LogRetentionDays));
        }

        if (RecordingsS3 is not null && (RecordingsS3.Length == 0 || RecordingsS3.StartsWith('/') || RecordingsS3.StartsWith("s3:", StringComparison.OrdinalIgnoreCase)))
        {
            throw new ArgumentException($"ServerOptions.RecordingsS3 must be BUCKET or BUCKET/PREFIX, got '{RecordingsS3}'.", nameof(RecordingsS3));
        }

        if (RecordingsS3Endpoint is not null && !Uri.TryCreate(RecordingsS3Endpoint, UriKind.Absolute, out _))
        {
            throw new ArgumentException($"ServerOptions.RecordingsS3Endpoint must be an absolute URL, got '{RecordingsS3Endpoint}'.", nameof(RecordingsS3Endpoint));
        }

        if (ReportMaxRows < 1)
        {
            throw new ArgumentException($"ServerOptions.ReportMaxRows must be 1 or more, got {ReportMaxRows}.", nameof(ReportMaxRows));
        }

        if (DiskFullRetryAfterSeconds is < 1 or > 3600)
        {
            throw new ArgumentException($"ServerOptions.DiskFullRetryAfterSeconds must be between 1 and 3600, got {DiskFullRetryAfterSeconds}.", nameof(DiskFullRetryAfterSeconds));
        }

        if (MaxLineBytes <= 0)
        {
            throw new ArgumentException($"ServerOptions.MaxLineBytes must be positive, got {MaxLineBytes}.", nameof(MaxLineBytes));
        }
    }
}
