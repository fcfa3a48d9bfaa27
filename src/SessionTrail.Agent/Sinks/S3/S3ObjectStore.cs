using System.Net;
using Amazon;
using Amazon.Runtime;
using Amazon.Runtime.CredentialManagement;
using Amazon.S3;
using Amazon.S3.Model;
using SessionTrail.Agent.Config;

namespace SessionTrail.Agent.Sinks.S3;

/// <summary>Where the S3 sink PUTs objects.</summary>
public interface IS3ObjectStore : IDisposable
{
    /// <summary>"bucket B at ENDPOINT", for messages.</summary>
    string Describe { get; }

    /// <summary>PUTs one object; throws on any failure (see <see cref="S3Failure.Explain"/>).</summary>
    Task PutAsync(S3Object obj, CancellationToken cancellationToken);

    /// <summary>Deletes one object (no error when it does not exist); throws on any failure.</summary>
    Task DeleteAsync(string key, CancellationToken cancellationToken);
}

/// <summary>Any S3-compatible endpoint through AWSSDK.S3.</summary>
public sealed class AwsS3ObjectStore : IS3ObjectStore
{
    private readonly AmazonS3Client _client;
    private readonly string _bucket;

    /// <summary>
    /// Credentials: <see cref="S3SinkOptions.Profile"/> (shared credentials/config files), else
    /// <see cref="S3SinkOptions.UseInstanceRole"/>, else the SDK's standard chain (environment, profile
    /// files, container and instance role). Throws <see cref="AgentOptionsException"/> for a profile that
    /// does not exist.
    /// </summary>
    /// <param name="credentials">Explicit credentials (tests); null for the configured source.</param>
    public AwsS3ObjectStore(S3SinkOptions options, string settingPath, AWSCredentials? credentials = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        _bucket = options.Bucket!;
        var config = new AmazonS3Config
        {
            ForcePathStyle = options.ForcePathStyle,
            Timeout = options.RequestTimeout,
            MaxErrorRetry = 1, // the sink retries with its own back-off, forever
        };
        if (options.ServiceUrl is not null)
        {
            config.ServiceURL = options.ServiceUrl;
            config.AuthenticationRegion = options.Region;
        }
        else
        {
            config.RegionEndpoint = RegionEndpoint.GetBySystemName(options.Region);
        }

        if (credentials is not null)
        {
        }
        else if (options.Profile is not null)
        {
            if (!new CredentialProfileStoreChain().TryGetAWSCredentials(options.Profile, out credentials))
            {
                throw new AgentOptionsException(settingPath + ":Profile", $"'{options.Profile}' is not a profile in the shared credentials or config file");
            }
        }
        else if (options.UseInstanceRole)
        {
            credentials = new InstanceProfileAWSCredentials();
        }

        _client = credentials is null ? new AmazonS3Client(config) : new AmazonS3Client(credentials, config);
        Describe = $"bucket '{_bucket}' at {options.ServiceUrl ?? "AWS " + options.Region}";
    }

    public string Describe { get; }

    /// <summary>The configured SDK client (the recording uploader streams segment files through it).</summary>
    internal AmazonS3Client Client => _client;

    public async Task PutAsync(S3Object obj, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(obj);
        using var body = new MemoryStream(obj.Body, writable: false);
        var request = new PutObjectRequest
        {
            BucketName = _bucket,
            Key = obj.Key,
            InputStream = body,
            ContentType = obj.ContentType,
            AutoCloseStream = false,

            // Plain (not aws-chunked) bodies: S3-compatible servers that do not decode chunked uploads store them as sent.
            UseChunkEncoding = false,
        };
        await _client.PutObjectAsync(request, cancellationToken);
    }

    public async Task DeleteAsync(string key, CancellationToken cancellationToken) =>
        await _client.DeleteObjectAsync(new DeleteObjectRequest { BucketName = _bucket, Key = key }, cancellationToken);

    public void Dispose() => _client.Dispose();
}

/// <summary>Turns an upload failure into one line an operator can act on.</summary>
public static class S3Failure
{
    /// <summary>The message, and whether it is a configuration problem (credentials, bucket) rather than an outage.</summary>
    public static (string Message, bool Configuration) Explain(Exception exception, string store)
    {
        ArgumentNullException.ThrowIfNull(exception);
        return exception switch
        {
            AmazonS3Exception { StatusCode: HttpStatusCode.NotFound, ErrorCode: "NoSuchBucket" } =>
                ($"{store}: the bucket does not exist (404 NoSuchBucket); create it or fix Bucket", true),
            AmazonS3Exception { StatusCode: HttpStatusCode.Forbidden or HttpStatusCode.Unauthorized } e =>
                ($"{store}: credentials refused ({(int)e.StatusCode} {e.ErrorCode}: {e.Message}); check the credentials and their s3:PutObject permission", true),
            AmazonS3Exception e =>
                ($"{store}: S3 answered {(int)e.StatusCode} {e.ErrorCode}: {e.Message}", false),
            AmazonClientException e when e.Message.Contains("credentials", StringComparison.OrdinalIgnoreCase) =>
                ($"{store}: no AWS credentials found ({e.Message}); set Profile, UseInstanceRole or the AWS_* environment", true),
            HttpRequestException e => ($"{store}: unreachable ({e.Message})", false),
            AmazonServiceException { InnerException: HttpRequestException e } => ($"{store}: unreachable ({e.Message})", false),
            TaskCanceledException or TimeoutException => ($"{store}: request timed out", false),
            _ => ($"{store}: {exception.GetType().Name}: {exception.Message}", false),
        };
    }
}
