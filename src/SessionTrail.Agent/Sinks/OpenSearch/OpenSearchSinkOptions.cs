using SessionTrail.Agent.Config;
using SessionTrail.Agent.Ids;
using SessionTrail.Agent.Sinks;
using SessionTrail.Agent.Sources;

namespace SessionTrail.Agent.Sinks.OpenSearch;

/// <summary>The settings of an OpenSearch / Elasticsearch sink (see <see cref="OpenSearchSinkFactory"/> for the keys).</summary>
public sealed record OpenSearchSinkOptions
{
    public const string DefaultIndex = "sessiontrail-logs-{yyyy.MM.dd}";

    public required Uri Url { get; init; }

    public required TimePattern Index { get; init; }

    public string? Username { get; init; }

    public string? Password { get; init; }

    public string? ApiKey { get; init; }

    public int BufferSize { get; init; } = 1000;

    public long MaxBytes { get; init; } = 5L << 20;

    public TimeSpan BufferInterval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Attempts per document for item-level failures (429/5xx items); null = forever.</summary>
    public int? MaxAttempts { get; init; }

    public TimeSpan RetryInitialDelay { get; init; } = TimeSpan.FromMilliseconds(200);

    public TimeSpan RetryMaxDelay { get; init; } = TimeSpan.FromSeconds(30);

    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(60);
}
