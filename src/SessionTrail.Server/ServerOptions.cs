namespace SessionTrail.Server;

/// <summary>Settings of <c>sessiontrail server</c>. Validated by <see cref="ServerApp.Build"/>, which names a bad setting.</summary>
public sealed class ServerOptions
{
    /// <summary>The data directory holding sessiontrail.db. Required (the CLI passes DataDirectory.Default() when --data is absent).</summary>
    public string DataDir { get; set; } = "";

    /// <summary>Where Kestrel listens, ';'-separated. Default "http://127.0.0.1:5080" (loopback only).</summary>
    public string Urls { get; set; } = "http://127.0.0.1:5080";

    /// <summary>Largest ingest body, in bytes after gzip decompression. Default 16 MiB; larger bodies get 413.</summary>
    public long MaxBodyBytes { get; set; } = 16 * 1024 * 1024;

    /// <summary>Longest NDJSON line, in bytes. Default 256 KiB; a longer line is a 400 naming the line.</summary>
    public int MaxLineBytes { get; set; } = Core.Formats.NdjsonReader.DefaultMaxLineBytes;

    /// <summary>Days after a session's end its recordings are deleted (unless on legal hold). Default 90; 0 keeps them forever.</summary>
    public int RecordingRetentionDays { get; set; } = 90;

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

        if (MaxLineBytes <= 0)
        {
            throw new ArgumentException($"ServerOptions.MaxLineBytes must be positive, got {MaxLineBytes}.", nameof(MaxLineBytes));
        }
    }
}
