using SessionTrail.Agent.Config;

namespace SessionTrail.Agent.Sinks.S3;

/// <summary>What one S3 object holds.</summary>
public enum S3Objects
{
    /// <summary>One session (the data lake, <see cref="S3SessionObjects"/>); the default of the agent's "Type": "S3" sinks.</summary>
    Session,

    /// <summary>One batch of records (log objects, <see cref="S3BatchObjects"/>); the default of "SinkType": "S3" log sinks.</summary>
    Batch,
}

/// <summary>
/// The settings of one S3 sink (<see cref="S3Sink"/>): bound from an entry of the config file's top-level
/// "Sinks" array (<c>{ "Type": "S3", "Bucket": "...", "Region": "..." }</c>, see docs/athena.md "S3 data-lake
/// sink"), or read from a log sink entry (<c>"SinkType": "S3"</c>) by <see cref="S3SinkFactory"/>.
/// </summary>
public sealed class S3SinkOptions
{
    public const string SinkType = "S3";

    /// <summary>The seed's per-session CSV (<see cref="S3ObjectFormats.AthenaCsv"/>).</summary>
    public const string DefaultFormat = S3ObjectFormats.AthenaCsv;

    /// <summary>The formats of objects per batch: "json" (default, one JSON document per record) and "text" (the message lines).</summary>
    public static readonly IReadOnlyList<string> BatchFormats = ["json", "text"];

    /// <summary>The default key prefix of objects per batch (time tokens from the batch's first record).</summary>
    public const string DefaultFilePath = "sessiontrail-logs/{yyyy}/{MM}/{dd}";

    private string? _format;

    /// <summary>"S3" (the only sink type so far).</summary>
    public string? Type { get; set; }

    /// <summary>One object per session (default) or per batch.</summary>
    public S3Objects Objects { get; set; } = S3Objects.Session;

    /// <summary>Names the queue and the spool folder (DIR/agent/s3/NAME). Default "s3".</summary>
    public string Name { get; set; } = "s3";

    /// <summary>Bucket to write to. Required.</summary>
    public string? Bucket { get; set; }

    /// <summary>Region, e.g. "us-east-1" (also signs requests to a custom endpoint). Required.</summary>
    public string? Region { get; set; }

    /// <summary>Key prefix before "year=YYYY/…". Default "appstream_applications" (athena-csv), "appstream_applications_jsonl" (athena-jsonl) or "sessiontrail_sessions" (jsonl).</summary>
    public string? Prefix { get; set; }

    /// <summary>Key prefix of the per-host, per-day objects of records without a session. Default "sessiontrail_unattributed".</summary>
    public string UnattributedPrefix { get; set; } = "sessiontrail_unattributed";

    /// <summary>
    /// Per session: "athena-csv" (default, the seed's CSV), "athena-jsonl" (the same rows as JSON lines) or
    /// "jsonl" (the agent's records). Per batch: "json" (default) or "text".
    /// </summary>
    public string Format
    {
        get => _format ?? (Objects == S3Objects.Batch ? BatchFormats[0] : DefaultFormat);
        set => _format = value;
    }

    /// <summary>Endpoint of an S3-compatible service, e.g. "http://127.0.0.1:9000"; null for AWS.</summary>
    public string? ServiceUrl { get; set; }

    /// <summary>Path-style addressing (endpoint/bucket/key), as most S3-compatible servers need. Default false.</summary>
    public bool ForcePathStyle { get; set; }

    /// <summary>A named profile of the shared credentials/config files; null = the standard credential chain.</summary>
    public string? Profile { get; set; }

    /// <summary>Use the EC2 instance role (instance metadata) only. Default false (the standard chain, which includes it).</summary>
    public bool UseInstanceRole { get; set; }

    /// <summary>
    /// Every this often, each open session that changed is also uploaded as it is so far, to
    /// PREFIX_open/SESSION.EXT (outside the table's folder; replaced each time, deleted after the final
    /// object when s3:DeleteObject is allowed). Zero (default) = only the final object.
    /// </summary>
    public TimeSpan PartialUploadInterval { get; set; } = TimeSpan.Zero;

    /// <summary>How long after the end of a UTC day its per-host object of unattributed records is uploaded. Default 10 min.</summary>
    public TimeSpan DayCloseDelay { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>How long an uploaded spool is kept so that a late or resent record re-uploads a complete object. Default 1 day.</summary>
    public TimeSpan UploadedRetention { get; set; } = TimeSpan.FromDays(1);

    /// <summary>First delay after a failed upload (doubles, with jitter). Default 1 s.</summary>
    public TimeSpan RetryInitialDelay { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Longest delay between upload attempts. Default 2 min. Uploads are retried forever.</summary>
    public TimeSpan RetryMaxDelay { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>Timeout of one PUT. Default 60 s.</summary>
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>Per batch: the key prefix, with time tokens filled from the batch's first record. Default <see cref="DefaultFilePath"/>.</summary>
    public string? FilePath { get; set; }

    /// <summary>Per batch: an optional start of the object name (before the first record's id), with time tokens.</summary>
    public string? FileName { get; set; }

    /// <summary>Per batch: uncompressed bytes per object (queued NDJSON lines; the rendering is about as large). Default 8 MiB.</summary>
    public long? MaxObjectBytes { get; set; }

    /// <summary>Per batch: records per object. Default 100000.</summary>
    public int? BufferSize { get; set; }

    /// <summary>Per batch: how long a batch that is not full waits for more records. Default 60 s.</summary>
    public TimeSpan? BufferInterval { get; set; }

    /// <summary>The key prefix of objects per batch in effect.</summary>
    public string EffectiveFilePath => FilePath ?? DefaultFilePath;

    public long EffectiveMaxObjectBytes => MaxObjectBytes ?? 8L << 20;

    public int EffectiveBufferSize => BufferSize ?? 100_000;

    public TimeSpan EffectiveBufferInterval => BufferInterval ?? TimeSpan.FromSeconds(60);

    /// <summary>The rendering of records in objects per batch.</summary>
    public LogFormat EffectiveLogFormat => string.Equals(Format, "text", StringComparison.OrdinalIgnoreCase) ? LogFormat.Text : LogFormat.Json;

    /// <summary>The prefix in effect (the configured one, or the format's default), without slashes at the ends.</summary>
    public string EffectivePrefix => (Prefix ?? S3ObjectFormats.DefaultPrefix(Format)).Trim('/');

    /// <summary>The key prefix of partial (in-progress) session objects: PREFIX_open.</summary>
    public string OpenPrefix => EffectivePrefix + "_open";

    /// <summary>Throws <see cref="AgentOptionsException"/> naming the bad key as <paramref name="path"/>:KEY (e.g. "Sinks:0:Bucket").</summary>
    public void Validate(string path) => Validate(path, (setting, problem) => new AgentOptionsException(setting, problem));

    /// <summary>Throws <paramref name="error"/>(PATH:KEY, problem) for the first bad setting.</summary>
    public void Validate(string path, Func<string, string, Exception> error)
    {
        ArgumentNullException.ThrowIfNull(error);
        void Require(bool ok, string key, string problem)
        {
            if (!ok)
            {
                throw error(path + ":" + key, problem);
            }
        }

        Require(string.Equals(Type, SinkType, StringComparison.OrdinalIgnoreCase), nameof(Type), Type is null ? "is required (\"S3\" for the data-lake sink; a log sink has a \"SinkType\" instead)" : $"'{Type}' is not a known sink type (known: \"S3\")");
        Require(!string.IsNullOrWhiteSpace(Name) && Name.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.') && !Name.StartsWith('.'), nameof(Name), "must be letters, digits, '-', '_' or '.' (it names a folder)");
        Require(!string.IsNullOrWhiteSpace(Bucket), nameof(Bucket), "is required (the S3 bucket to write to)");
        Require(!string.IsNullOrWhiteSpace(Region), nameof(Region), "is required (e.g. \"us-east-1\"; with ServiceUrl it signs the requests)");
        if (ServiceUrl is not null)
        {
            Require(Uri.TryCreate(ServiceUrl, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps), nameof(ServiceUrl), $"'{ServiceUrl}' is not an http(s) URL");
        }

        Require(Profile is null || !string.IsNullOrWhiteSpace(Profile), nameof(Profile), "must not be empty (leave it out for the standard credential chain)");
        Require(!(UseInstanceRole && Profile is not null), nameof(Profile), "and UseInstanceRole exclude each other");
        if (Objects == S3Objects.Batch)
        {
            ValidateBatch(Require);
        }
        else
        {
            ValidateSession(Require);
        }

        Require(RequestTimeout > TimeSpan.Zero, nameof(RequestTimeout), "must be positive");
    }

    private static string List(IEnumerable<string> values) => string.Join(", ", values.Select(f => '"' + f + '"'));

    private void ValidateSession(Action<bool, string, string> require)
    {
        foreach (var (key, set) in new[] { (nameof(FilePath), FilePath is not null), (nameof(FileName), FileName is not null), (nameof(MaxObjectBytes), MaxObjectBytes is not null), (nameof(BufferSize), BufferSize is not null), (nameof(BufferInterval), BufferInterval is not null) })
        {
            require(!set, key, "applies only to objects per batch (\"Objects\": \"batch\")");
        }

        require(S3ObjectFormats.All.Contains(Format), nameof(Format), $"'{Format}' is not a format ({List(S3ObjectFormats.All)})");
        require(!string.IsNullOrWhiteSpace(EffectivePrefix), nameof(Prefix), "must not be empty");
        require(!string.IsNullOrWhiteSpace(UnattributedPrefix.Trim('/')), nameof(UnattributedPrefix), "must not be empty");
        require(EffectivePrefix != UnattributedPrefix.Trim('/'), nameof(UnattributedPrefix), "must differ from Prefix (Athena would read both as one table)");
        require(PartialUploadInterval >= TimeSpan.Zero, nameof(PartialUploadInterval), "must not be negative (zero turns partial uploads off)");
        require(DayCloseDelay >= TimeSpan.Zero, nameof(DayCloseDelay), "must not be negative");
        require(UploadedRetention >= TimeSpan.Zero, nameof(UploadedRetention), "must not be negative");
        require(RetryInitialDelay > TimeSpan.Zero, nameof(RetryInitialDelay), "must be positive");
        require(RetryMaxDelay >= RetryInitialDelay, nameof(RetryMaxDelay), "must be at least RetryInitialDelay");
    }

    private void ValidateBatch(Action<bool, string, string> require)
    {
        require(Prefix is null, nameof(Prefix), "applies only to objects per session; objects per batch take FilePath");
        require(BatchFormats.Contains(Format, StringComparer.OrdinalIgnoreCase), nameof(Format), $"'{Format}' is not a format of objects per batch ({List(BatchFormats)})");
        foreach (var (key, pattern) in new[] { (nameof(FilePath), FilePath), (nameof(FileName), FileName) })
        {
            try
            {
                _ = pattern is null ? null : TimePattern.Parse(pattern, key);
            }
            catch (LogConfigException ex)
            {
                require(false, key, ex.Problem);
            }
        }

        require(EffectiveMaxObjectBytes is >= 1024 and <= 1L << 30, nameof(MaxObjectBytes), $"must be between 1024 and {1L << 30}, not {EffectiveMaxObjectBytes}");
        require(EffectiveBufferSize is >= 1 and <= 10_000_000, nameof(BufferSize), $"must be between 1 and 10000000, not {EffectiveBufferSize}");
        require(EffectiveBufferInterval >= TimeSpan.Zero, nameof(BufferInterval), "must not be negative");
    }
}
