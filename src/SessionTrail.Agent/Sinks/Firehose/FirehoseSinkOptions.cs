using SessionTrail.Agent.Config;
using SessionTrail.Agent.Ids;
using SessionTrail.Agent.Sinks;
using SessionTrail.Agent.Sources;

namespace SessionTrail.Agent.Sinks.Firehose;

/// <summary>The settings of a Kinesis Data Firehose sink (see <see cref="FirehoseSinkFactory"/> for the keys).</summary>
public sealed record FirehoseSinkOptions
{
    /// <summary>PutRecordBatch limits: records per call, bytes per call (data before base64), bytes per record.</summary>
    public const int MaxRecordsPerCall = 500;

    public const int MaxBytesPerCall = 4 << 20;

    public const int MaxRecordBytes = 1000 * 1024;

    public required string StreamName { get; init; }

    public required string Region { get; init; }

    /// <summary>https://firehose.REGION.amazonaws.com/ or the ServiceURL override.</summary>
    public required Uri Endpoint { get; init; }

    /// <summary>
    /// Gives the credentials to sign with, asked before every call: fixed keys, or the AWS SDK's provider of a
    /// named profile (credentials/config files incl. credential_process, e.g. AppStream's
    /// appstream_machine_role) or of the instance role, which refresh themselves. A throw is a retryable failure.
    /// </summary>
    public required Func<AwsCredentials> CredentialSource { get; init; }

    /// <summary>The credentials now (see <see cref="CredentialSource"/>).</summary>
    public AwsCredentials Credentials => CredentialSource();

    public LogFormat Format { get; init; } = LogFormat.Json;

    public int BufferSize { get; init; } = MaxRecordsPerCall;

    public TimeSpan BufferInterval { get; init; } = TimeSpan.FromSeconds(1);

    public double RecordsPerSecond { get; init; } = 5000;

    public double BytesPerSecond { get; init; } = 5 << 20;

    /// <summary>Packs several small records into one Firehose record (up to 1,000 KiB), as KinesisTap's CombineRecords.</summary>
    public bool CombineRecords { get; init; }

    /// <summary>Attempts per record for record-level failures; null = forever.</summary>
    public int? MaxAttempts { get; init; }

    public TimeSpan RetryInitialDelay { get; init; } = TimeSpan.FromMilliseconds(200);

    public TimeSpan RetryMaxDelay { get; init; } = TimeSpan.FromSeconds(30);

    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(60);
}
