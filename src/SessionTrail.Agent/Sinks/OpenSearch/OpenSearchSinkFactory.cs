using SessionTrail.Agent.Config;
using SessionTrail.Agent.Ids;
using SessionTrail.Agent.Sinks;
using SessionTrail.Agent.Sources;

namespace SessionTrail.Agent.Sinks.OpenSearch;

/// <summary>
/// <c>SinkType: "OpenSearch"</c> (alias <c>"Elasticsearch"</c>, <see cref="ElasticsearchSinkFactory"/>). Keys:
/// <c>Url</c> (required, http or https, the cluster's base URL), <c>Index</c> (default
/// <c>sessiontrail-logs-{yyyy.MM.dd}</c>; <c>{FORMAT}</c> tokens are .NET date formats of the record's UTC
/// time, see <see cref="TimePattern"/>; must be lower case), <c>Username</c> + <c>Password</c> (basic
/// auth) or <c>ApiKey</c> (the base64 id:key of an API key), <c>BufferSize</c> (documents per request,
/// default 1000), <c>MaxBytes</c> (bytes per request, default 5 MiB), <c>BufferInterval</c> (seconds a
/// partial batch waits, default 1), <c>MaxAttempts</c> (attempts per throttled document before it goes to
/// the dead-letter file; default forever), <c>Format</c> (json only).
/// </summary>
public class OpenSearchSinkFactory : ILogSinkFactory
{
    private static readonly string[] Keys = ["Url", "Index", "Username", "Password", "ApiKey", "MaxBytes", "RequestTimeout"];

    public virtual string SinkType => "OpenSearch";

    public ISink Create(ConfigNode config, LogSinkContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        return new OpenSearchSink(Options(config, context), context);
    }

    /// <summary>Reads and checks the keys (errors name the key path).</summary>
    public static OpenSearchSinkOptions Options(ConfigNode config, LogSinkContext context)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(context);
        SinkKeys.WarnUnknown(config, context.Logs.CreateLogger("SessionTrail.Agent.Logs.Sinks.OpenSearch"), Keys);
        var urlText = config.Required("Url");
        if (!Uri.TryCreate(urlText, UriKind.Absolute, out var url) || (url.Scheme != Uri.UriSchemeHttp && url.Scheme != Uri.UriSchemeHttps))
        {
            throw new LogConfigException(config.KeyPath("Url"), $"must be an http:// or https:// URL, not '{urlText}'");
        }

        if (LogDocument.ParseFormat(config) != LogFormat.Json)
        {
            throw new LogConfigException(config.KeyPath("Format"), "must be json for OpenSearch (documents are JSON objects)");
        }

        var indexText = config.Optional("Index", OpenSearchSinkOptions.DefaultIndex);
        var index = TimePattern.Parse(indexText, config.KeyPath("Index"));
        var sample = index.Format(new DateTimeOffset(2026, 1, 2, 3, 4, 5, TimeSpan.Zero), context.Host);
        if (sample.Any(c => char.IsUpper(c) || c is ' ' or '"' or '*' or '\\' or '<' or '|' or ',' or '>' or '/' or '?' or '#' or ':') || sample.StartsWith('_') || sample.StartsWith('-'))
        {
            throw new LogConfigException(config.KeyPath("Index"), $"gives the index name '{sample}', which OpenSearch refuses (lower case only; no spaces or \\/*?\"<>|,#:; not starting with _ or -)");
        }

        var apiKey = config.Optional("ApiKey");
        var user = config.Optional("Username");
        var password = config.Optional("Password");
        if (apiKey is not null && user is not null)
        {
            throw new LogConfigException(config.KeyPath("ApiKey"), "and Username cannot both be set; use one way to sign in");
        }

        if (password is not null && user is null)
        {
            throw new LogConfigException(config.KeyPath("Username"), "is required when Password is set");
        }

        var maxAttempts = config.Int("MaxAttempts", 0, 0);
        return new OpenSearchSinkOptions
        {
            Url = url,
            Index = index,
            Username = user,
            Password = password,
            ApiKey = apiKey,
            BufferSize = config.Int("BufferSize", 1000, 1, 100_000),
            MaxBytes = config.Long("MaxBytes", 5L << 20, 1024, 1L << 30),
            BufferInterval = config.Seconds("BufferInterval", TimeSpan.FromSeconds(1)),
            MaxAttempts = maxAttempts == 0 ? null : maxAttempts,
            RequestTimeout = config.Seconds("RequestTimeout", TimeSpan.FromSeconds(60), TimeSpan.FromSeconds(1)),
        };
    }
}

/// <summary><c>SinkType: "Elasticsearch"</c>: the same sink as <see cref="OpenSearchSinkFactory"/>.</summary>
public sealed class ElasticsearchSinkFactory : OpenSearchSinkFactory
{
    public override string SinkType => "Elasticsearch";
}
