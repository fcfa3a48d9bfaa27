using Amazon.Runtime;
using SessionTrail.Agent.Config;
using SessionTrail.Agent.Ids;
using SessionTrail.Agent.Sinks;
using SessionTrail.Agent.Sources;

namespace SessionTrail.Agent.Sinks.S3;

/// <summary>
/// Builds the S3 sink (<see cref="S3Sink"/>) from either config form, and its S3 client (the one place
/// where endpoint, region and credentials become an <see cref="AwsS3ObjectStore"/>).
/// </summary>
/// <remarks>
/// The agent's own form, <c>"Type": "S3"</c> in "Sinks", is bound to <see cref="S3SinkOptions"/> by
/// <see cref="SinkConfiguration.LoadS3"/> and built with <see cref="Create(S3SinkOptions, string, LogSinkContext, AWSCredentials?)"/>
/// (objects per session unless <c>"Objects": "batch"</c>).
/// The log form, <c>"SinkType": "S3"</c> (KinesisTap's keys), is read by <see cref="Create(ConfigNode, LogSinkContext)"/>:
/// <c>Objects</c> (<c>batch</c> default, or <c>session</c>), <c>BucketName</c> (required),
/// <c>Region</c> (required unless <c>ServiceURL</c>), <c>ServiceURL</c>, <c>ForcePathStyle</c>, <c>RequestTimeout</c>,
/// credentials as <see cref="AwsCredentials.Resolve"/> (else the SDK's chain, including instance roles).
/// Per batch: <c>FilePath</c> (key prefix with time tokens, e.g. <c>logs/{yyyy}/{MM}/{dd}/{HH}</c> or
/// <c>logs/{timestamp:yyyy/MM/dd}</c>; default <c>sessiontrail-logs/{yyyy}/{MM}/{dd}</c>), <c>FileName</c>
/// (optional start of the object name), <c>Format</c> (json default, or "" for text), <c>MaxObjectBytes</c>
/// (uncompressed, default 8 MiB), <c>BufferSize</c> (records per object, default 100000),
/// <c>BufferInterval</c> (seconds, default 60). Per session: <c>Format</c>, <c>Prefix</c>,
/// <c>UnattributedPrefix</c>, <c>PartialUploadInterval</c> and <c>DayCloseDelay</c> (seconds) as in the
/// agent's form; the spool is DIR/agent/s3/ID.
/// </remarks>
public sealed class S3SinkFactory : ILogSinkFactory
{
    private static readonly string[] Keys = ["Objects", "BucketName", "ForcePathStyle", "RequestTimeout"];

    private static readonly string[] BatchKeys = ["FilePath", "FileName", "MaxObjectBytes"];

    private static readonly string[] SessionKeys = ["Prefix", "UnattributedPrefix", "PartialUploadInterval", "DayCloseDelay"];

    public string SinkType => S3SinkOptions.SinkType;

    /// <summary>The sink of a log sink entry (<c>"SinkType": "S3"</c>; errors name the key path).</summary>
    public ISink Create(ConfigNode config, LogSinkContext context)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(context);
        var (options, credentials) = Read(config, context);
        return Create(options, config.Path, context, credentials);
    }

    /// <summary>
    /// The sink of <paramref name="options"/> and its S3 client; <paramref name="settingPath"/> (e.g. "Sinks:0")
    /// names the entry in errors. Credentials: <paramref name="credentials"/> when given, else
    /// <see cref="S3SinkOptions.Profile"/> / <see cref="S3SinkOptions.UseInstanceRole"/> / the SDK's chain.
    /// </summary>
    /// <param name="context">Data directory, host, logs and clock; its Id is <see cref="S3SinkOptions.Name"/>.</param>
    public static S3Sink Create(S3SinkOptions options, string settingPath, LogSinkContext context, AWSCredentials? credentials = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        var store = new AwsS3ObjectStore(options, settingPath, credentials);
        try
        {
            return S3Sink.Create(options, context, store);
        }
        catch
        {
            store.Dispose();
            throw;
        }
    }

    /// <summary>The options of a log sink entry and its explicit credentials (errors name the key path).</summary>
    public static (S3SinkOptions Options, AWSCredentials? Credentials) Read(ConfigNode config, LogSinkContext context, Func<string, string?>? environment = null, string? credentialsFile = null)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(context);
        var objects = config.Optional("Objects", "batch").Trim().ToUpperInvariant() switch
        {
            "BATCH" => S3Objects.Batch,
            "SESSION" => S3Objects.Session,
            _ => throw new LogConfigException(config.KeyPath("Objects"), $"must be \"batch\" or \"session\", not '{config.Optional("Objects")}'"),
        };
        string[] known = [.. Keys, .. objects == S3Objects.Batch ? BatchKeys : SessionKeys];
        SinkKeys.WarnUnknown(config, context.Logs.CreateLogger(S3BatchObjects.LoggerCategory), known, SinkKeys.Aws);
        var bucket = config.Required("BucketName");
        var serviceUrl = config.Optional("ServiceURL");
        if (serviceUrl is not null && (!Uri.TryCreate(serviceUrl, UriKind.Absolute, out var url) || (url.Scheme != Uri.UriSchemeHttp && url.Scheme != Uri.UriSchemeHttps)))
        {
            throw new LogConfigException(config.KeyPath("ServiceURL"), $"must be an http:// or https:// URL, not '{serviceUrl}'");
        }

        var options = new S3SinkOptions
        {
            Type = S3SinkOptions.SinkType,
            Name = context.Id,
            Objects = objects,
            Bucket = bucket,
            Region = serviceUrl is null ? config.Required("Region") : config.Optional("Region", "us-east-1"),
            ServiceUrl = serviceUrl,
            ForcePathStyle = config.Bool("ForcePathStyle", serviceUrl is not null),
            RequestTimeout = config.Seconds("RequestTimeout", TimeSpan.FromSeconds(60), TimeSpan.FromSeconds(1)),
        };
        if (objects == S3Objects.Batch)
        {
            ReadBatch(config, options);
        }
        else
        {
            ReadSession(config, options);
        }

        var credentials = AwsCredentials.Resolve(config, environment, credentialsFile);
        AWSCredentials? sdkCredentials = credentials is null ? null
            : credentials.SessionToken is { } token ? new SessionAWSCredentials(credentials.AccessKey, credentials.SecretKey, token)
            : new BasicAWSCredentials(credentials.AccessKey, credentials.SecretKey);
        return (options, sdkCredentials);
    }

    private static void ReadBatch(ConfigNode config, S3SinkOptions options)
    {
        var filePath = config.Optional("FilePath", S3SinkOptions.DefaultFilePath);
        var fileName = config.Optional("FileName");
        _ = TimePattern.Parse(filePath, config.KeyPath("FilePath"));
        _ = fileName is null ? null : TimePattern.Parse(fileName, config.KeyPath("FileName"));
        options.FilePath = filePath;
        options.FileName = fileName;
        options.Format = LogDocument.ParseFormat(config) == LogFormat.Text ? "text" : "json";
        options.MaxObjectBytes = config.Long("MaxObjectBytes", 8L << 20, 1024, 1L << 30);
        options.BufferSize = config.Int("BufferSize", 100_000, 1, 10_000_000);
        options.BufferInterval = config.Seconds("BufferInterval", TimeSpan.FromSeconds(60));
    }

    private static void ReadSession(ConfigNode config, S3SinkOptions options)
    {
        options.Format = config.Optional("Format", S3SinkOptions.DefaultFormat);
        options.Prefix = config.Optional("Prefix");
        options.UnattributedPrefix = config.Optional("UnattributedPrefix", options.UnattributedPrefix);
        options.PartialUploadInterval = config.Seconds("PartialUploadInterval", options.PartialUploadInterval);
        options.DayCloseDelay = config.Seconds("DayCloseDelay", options.DayCloseDelay);
        options.Validate(config.Path, (setting, problem) => new LogConfigException(setting, problem));
    }
}
