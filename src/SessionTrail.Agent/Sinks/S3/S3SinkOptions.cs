using SessionTrail.Agent.Config;

namespace SessionTrail.Agent.Sinks.S3;

/// <summary>
/// One S3 data-lake sink, bound from an entry of the config file's top-level "Sinks" array
/// (<c>{ "Type": "S3", "Bucket": "...", "Region": "..." }</c>). See docs/athena.md "S3 data-lake sink".
/// </summary>
public sealed class S3SinkOptions
{
    public const string SinkType = "S3";

    /// <summary>The seed's per-session CSV (<see cref="S3ObjectFormats.AthenaCsv"/>).</summary>
    public const string DefaultFormat = S3ObjectFormats.AthenaCsv;

    /// <summary>"S3" (the only sink type so far).</summary>
    public string? Type { get; set; }

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

    /// <summary>"athena-csv" (default, the seed's CSV), "athena-jsonl" (the same rows as JSON lines) or "jsonl" (the agent's records).</summary>
    public string Format { get; set; } = DefaultFormat;

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

    /// <summary>The prefix in effect (the configured one, or the format's default), without slashes at the ends.</summary>
    public string EffectivePrefix => (Prefix ?? S3ObjectFormats.DefaultPrefix(Format)).Trim('/');

    /// <summary>The key prefix of partial (in-progress) session objects: PREFIX_open.</summary>
    public string OpenPrefix => EffectivePrefix + "_open";

    /// <summary>Throws <see cref="AgentOptionsException"/> naming the bad key as <paramref name="path"/>:KEY (e.g. "Sinks:0:Bucket").</summary>
    public void Validate(string path)
    {
        void Require(bool ok, string key, string problem)
        {
            if (!ok)
            {
                throw new AgentOptionsException(path + ":" + key, problem);
            }
        }

        Require(string.Equals(Type, SinkType, StringComparison.OrdinalIgnoreCase), nameof(Type), Type is null ? "is required (\"S3\" for the data-lake sink; a log sink has a \"SinkType\" instead)" : $"'{Type}' is not a known sink type (known: \"S3\")");
        Require(!string.IsNullOrWhiteSpace(Name) && Name.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.') && !Name.StartsWith('.'), nameof(Name), "must be letters, digits, '-', '_' or '.' (it names a folder)");
        Require(!string.IsNullOrWhiteSpace(Bucket), nameof(Bucket), "is required (the S3 bucket to write to)");
        Require(!string.IsNullOrWhiteSpace(Region), nameof(Region), "is required (e.g. \"us-east-1\"; with ServiceUrl it signs the requests)");
        Require(S3ObjectFormats.All.Contains(Format), nameof(Format), $"'{Format}' is not a format ({string.Join(", ", S3ObjectFormats.All.Select(f => '"' + f + '"'))})");
        Require(!string.IsNullOrWhiteSpace(EffectivePrefix), nameof(Prefix), "must not be empty");
        Require(!string.IsNullOrWhiteSpace(UnattributedPrefix.Trim('/')), nameof(UnattributedPrefix), "must not be empty");
        Require(EffectivePrefix != UnattributedPrefix.Trim('/'), nameof(UnattributedPrefix), "must differ from Prefix (Athena would read both as one table)");
        if (ServiceUrl is not null)
        {
            Require(Uri.TryCreate(ServiceUrl, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps), nameof(ServiceUrl), $"'{ServiceUrl}' is not an http(s) URL");
        }

        Require(Profile is null || !string.IsNullOrWhiteSpace(Profile), nameof(Profile), "must not be empty (leave it out for the standard credential chain)");
        Require(!(UseInstanceRole && Profile is not null), nameof(Profile), "and UseInstanceRole exclude each other");
        Require(PartialUploadInterval >= TimeSpan.Zero, nameof(PartialUploadInterval), "must not be negative (zero turns partial uploads off)");
        Require(DayCloseDelay >= TimeSpan.Zero, nameof(DayCloseDelay), "must not be negative");
        Require(UploadedRetention >= TimeSpan.Zero, nameof(UploadedRetention), "must not be negative");
        Require(RetryInitialDelay > TimeSpan.Zero, nameof(RetryInitialDelay), "must be positive");
        Require(RetryMaxDelay >= RetryInitialDelay, nameof(RetryMaxDelay), "must be at least RetryInitialDelay");
        Require(RequestTimeout > TimeSpan.Zero, nameof(RequestTimeout), "must be positive");
    }
}
