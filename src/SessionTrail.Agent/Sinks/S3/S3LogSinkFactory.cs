using Amazon.Runtime;
using SessionTrail.Agent.Config;
using SessionTrail.Agent.Ids;
using SessionTrail.Agent.Sinks;
using SessionTrail.Agent.Sources;

namespace SessionTrail.Agent.Sinks.S3;

/// <summary>
/// <c>SinkType: "S3"</c> (log objects). Keys: <c>BucketName</c> (required), <c>FilePath</c> (key prefix with
/// time tokens, e.g. <c>logs/{yyyy}/{MM}/{dd}/{HH}</c> or <c>logs/{timestamp:yyyy/MM/dd}</c>; default
/// <c>sessiontrail-logs/{yyyy}/{MM}/{dd}</c>), <c>FileName</c> (optional start of the object name),
/// <c>Region</c> (required unless <c>ServiceURL</c>), <c>ServiceURL</c>, <c>ForcePathStyle</c>, credentials
/// as <see cref="AwsCredentials.Resolve"/> (else the SDK's chain, including instance roles), <c>Format</c>
/// (json default, or "" for text), <c>MaxObjectBytes</c> (uncompressed, default 8 MiB), <c>BufferSize</c>
/// (records per object, default 100000), <c>BufferInterval</c> (seconds, default 60).
/// </summary>
/// <remarks>
/// The data-lake sink of the agent's own config is also type "S3" (Sinks/S3); this factory is for the
/// KinesisTap-style log config, where BucketName marks it.
/// </remarks>
public sealed class S3LogSinkFactory : ILogSinkFactory
{
    private static readonly string[] Keys = ["BucketName", "FilePath", "FileName", "ForcePathStyle", "MaxObjectBytes", "RequestTimeout"];

    public string SinkType => "S3";

    public ISink Create(ConfigNode config, LogSinkContext context)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(context);
        var (options, store) = Build(config, context);
        return new S3LogSink(options, store, context);
    }

    /// <summary>The sink's options and its S3 store (errors name the key path).</summary>
    public static (S3LogSinkOptions Options, IS3ObjectStore Store) Build(ConfigNode config, LogSinkContext context, Func<string, string?>? environment = null, string? credentialsFile = null)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(context);
        SinkKeys.WarnUnknown(config, context.Logs.CreateLogger("SessionTrail.Agent.Logs.Sinks.S3Logs"), Keys, SinkKeys.Aws);
        var bucket = config.Required("BucketName");
        var serviceUrl = config.Optional("ServiceURL");
        if (serviceUrl is not null && (!Uri.TryCreate(serviceUrl, UriKind.Absolute, out var url) || (url.Scheme != Uri.UriSchemeHttp && url.Scheme != Uri.UriSchemeHttps)))
        {
            throw new LogConfigException(config.KeyPath("ServiceURL"), $"must be an http:// or https:// URL, not '{serviceUrl}'");
        }

        var region = serviceUrl is null ? config.Required("Region") : config.Optional("Region", "us-east-1");
        var fileName = config.Optional("FileName");
        var options = new S3LogSinkOptions
        {
            BucketName = bucket,
            FilePath = TimePattern.Parse(config.Optional("FilePath", "sessiontrail-logs/{yyyy}/{MM}/{dd}"), config.KeyPath("FilePath")),
            FileName = fileName is null ? null : TimePattern.Parse(fileName, config.KeyPath("FileName")),
            Format = LogDocument.ParseFormat(config),
            MaxObjectBytes = config.Long("MaxObjectBytes", 8L << 20, 1024, 1L << 30),
            MaxObjectRecords = config.Int("BufferSize", 100_000, 1, 10_000_000),
            BufferInterval = config.Seconds("BufferInterval", TimeSpan.FromSeconds(60)),
        };
        var s3 = new S3SinkOptions
        {
            Name = context.Id,
            Bucket = bucket,
            Region = region,
            ServiceUrl = serviceUrl,
            ForcePathStyle = config.Bool("ForcePathStyle", serviceUrl is not null),
            RequestTimeout = config.Seconds("RequestTimeout", TimeSpan.FromSeconds(60), TimeSpan.FromSeconds(1)),
        };
        var credentials = AwsCredentials.Resolve(config, environment, credentialsFile);
        AWSCredentials? sdkCredentials = credentials is null ? null
            : credentials.SessionToken is { } token ? new SessionAWSCredentials(credentials.AccessKey, credentials.SecretKey, token)
            : new BasicAWSCredentials(credentials.AccessKey, credentials.SecretKey);
        return (options, new AwsS3ObjectStore(s3, config.Path, sdkCredentials));
    }
}
