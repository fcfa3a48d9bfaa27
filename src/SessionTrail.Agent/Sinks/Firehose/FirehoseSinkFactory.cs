using SessionTrail.Agent.Config;
using SessionTrail.Agent.Ids;
using SessionTrail.Agent.Sinks;
using SessionTrail.Agent.Sources;

namespace SessionTrail.Agent.Sinks.Firehose;

/// <summary>
/// <c>SinkType: "KinesisFirehose"</c>. Keys: <c>StreamName</c> (required), <c>Region</c> (required unless
/// <c>ServiceURL</c> is set; then default us-east-1 for signing), <c>ServiceURL</c> (endpoint override),
/// credentials (<c>AccessKey</c>/<c>SecretKey</c> (+<c>SessionToken</c>), else AWS_ACCESS_KEY_ID /
/// AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN, else <c>ProfileName</c> or "default" in ~/.aws/credentials;
/// see <see cref="AwsCredentials.Resolve"/>), <c>Format</c> (json default, or "" for the message text),
/// <c>BufferSize</c> (records per batch, 1–500, default 500), <c>BufferInterval</c> (seconds, default 1),
/// <c>RecordsPerSecond</c> (default 5000), <c>BytesPerSecond</c> (default 5 MiB), <c>CombineRecords</c>
/// (default false), <c>MaxAttempts</c> (per failed record; default forever).
/// </summary>
public sealed class FirehoseSinkFactory : ILogSinkFactory
{
    private static readonly string[] Keys = ["StreamName", "RecordsPerSecond", "BytesPerSecond", "CombineRecords", "RequestTimeout"];

    public string SinkType => "KinesisFirehose";

    public ISink Create(ConfigNode config, LogSinkContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        return new FirehoseSink(Options(config, context), context);
    }

    public static FirehoseSinkOptions Options(ConfigNode config, LogSinkContext context, Func<string, string?>? environment = null, string? credentialsFile = null)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(context);
        SinkKeys.WarnUnknown(config, context.Logs.CreateLogger("SessionTrail.Agent.Logs.Sinks.Firehose"), Keys, SinkKeys.Aws);
        var stream = config.Required("StreamName");
        var serviceUrl = config.Optional("ServiceURL");
        var region = serviceUrl is null ? config.Required("Region") : config.Optional("Region", "us-east-1");
        Uri endpoint;
        if (serviceUrl is not null)
        {
            if (!Uri.TryCreate(serviceUrl, UriKind.Absolute, out var url) || (url.Scheme != Uri.UriSchemeHttp && url.Scheme != Uri.UriSchemeHttps))
            {
                throw new LogConfigException(config.KeyPath("ServiceURL"), $"must be an http:// or https:// URL, not '{serviceUrl}'");
            }

            endpoint = url;
        }
        else
        {
            if (!region.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c == '-'))
            {
                throw new LogConfigException(config.KeyPath("Region"), $"must be a region name such as eu-west-1, not '{region}'");
            }

            endpoint = new Uri($"https://firehose.{region}.amazonaws.com/");
        }

        var credentials = CredentialSource(config, environment, credentialsFile);
        var maxAttempts = config.Int("MaxAttempts", 0, 0);
        return new FirehoseSinkOptions
        {
            StreamName = stream,
            Region = region,
            Endpoint = endpoint,
            CredentialSource = credentials,
            Format = LogDocument.ParseFormat(config),
            BufferSize = config.Int("BufferSize", FirehoseSinkOptions.MaxRecordsPerCall, 1, FirehoseSinkOptions.MaxRecordsPerCall),
            BufferInterval = config.Seconds("BufferInterval", TimeSpan.FromSeconds(1)),
            RecordsPerSecond = config.Int("RecordsPerSecond", 5000, 1),
            BytesPerSecond = config.Long("BytesPerSecond", 5L << 20, FirehoseSinkOptions.MaxRecordBytes),
            CombineRecords = config.Bool("CombineRecords", false),
            MaxAttempts = maxAttempts == 0 ? null : maxAttempts,
            RequestTimeout = config.Seconds("RequestTimeout", TimeSpan.FromSeconds(60), TimeSpan.FromSeconds(1)),
        };
    }

    /// <summary>
    /// Keys from the entry, the environment or the shared credentials file (<see cref="AwsCredentials.Resolve"/>);
    /// else a <c>ProfileName</c> the AWS SDK knows (the config file too: credential_process, role profiles);
    /// else the instance role (EC2 / AppStream fleet instance metadata), resolved when sending.
    /// </summary>
    private static Func<AwsCredentials> CredentialSource(ConfigNode config, Func<string, string?>? environment, string? credentialsFile)
    {
        AwsCredentials? fixedKeys;
        try
        {
            fixedKeys = AwsCredentials.Resolve(config, environment, credentialsFile);
        }
        catch (LogConfigException) when (config.Optional("ProfileName") is { } profile)
        {
            if (!new Amazon.Runtime.CredentialManagement.CredentialProfileStoreChain().TryGetAWSCredentials(profile, out var sdk))
            {
                throw new LogConfigException(config.KeyPath("ProfileName"), $"'{profile}' is not a profile in the shared credentials file or the AWS config file (~/.aws/config)");
            }

            return () => FromSdk(sdk, $"profile '{profile}'");
        }

        if (fixedKeys is not null)
        {
            return () => fixedKeys;
        }

        Amazon.Runtime.InstanceProfileAWSCredentials instance;
        try
        {
            instance = new Amazon.Runtime.InstanceProfileAWSCredentials();
        }
        catch (InvalidOperationException ex)
        {
            throw new LogConfigException(config.KeyPath("AccessKey"), $"is required: no AWS credentials were found (set AccessKey and SecretKey, ProfileName, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY; the instance role cannot be used here: {ex.Message})");
        }

        return () => FromSdk(instance, "the instance role");
    }

    private static AwsCredentials FromSdk(Amazon.Runtime.AWSCredentials credentials, string origin)
    {
        var now = credentials.GetCredentials();
        return new AwsCredentials(now.AccessKey, now.SecretKey, string.IsNullOrEmpty(now.Token) ? null : now.Token, origin);
    }
}
