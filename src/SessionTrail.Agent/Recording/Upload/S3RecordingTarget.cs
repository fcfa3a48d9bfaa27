using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Serialization;
using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;
using SessionTrail.Agent.Sinks.S3;
using SessionTrail.Core;
using SessionTrail.Core.Records;

namespace SessionTrail.Agent.Recording.Upload;

/// <summary>
/// Closed segments straight to S3 in the seed's layout (aws-samples/appstream-session-recording):
/// <c>{Prefix}{stack}/{fleet}/{session}/{yyyy-MM-dd_HH-mm-ss}-metadata.txt</c> once per session (JSON with
/// StackName, UserAccessMode, SessionReservationDateTime, UserName, SessionId, ImageArn, InstanceType,
/// FleetName) and per segment <c>…/{start yyyy-MM-dd_HH-mm-ss}-video.mp4</c> (UTC) plus our
/// <c>…-video.json</c> (the sidecar: size, SHA-256, previous SHA-256 …), PUT after the video. Two segments
/// starting in the same second get "-{index:D6}" before "-video" on the later one. The client and its
/// credentials are the S3 sink's (<see cref="AwsS3ObjectStore"/>). Open segments are not sent (S3 objects
/// cannot grow); a PUT of the same key replaces the object, so a repeat after a crash leaves one copy.
/// </summary>
public sealed class S3RecordingTarget : IRecordingTarget
{
    private readonly AwsS3ObjectStore _store;
    private readonly string _bucket;
    private readonly string _prefix;
    private readonly HashSet<string> _metadataWritten = new(StringComparer.Ordinal);

    /// <param name="credentials">Explicit credentials (tests); null for Profile / the standard chain.</param>
    public S3RecordingTarget(RecordingS3Options options, AWSCredentials? credentials = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        _bucket = options.Bucket;
        _prefix = options.Prefix ?? "";
        var sink = new S3SinkOptions
        {
            Type = S3SinkOptions.SinkType,
            Bucket = options.Bucket,
            Region = options.Region ?? "us-east-1",
            ServiceUrl = options.ServiceUrl,
            ForcePathStyle = options.ServiceUrl is not null,
            Profile = options.Profile,
            RequestTimeout = TimeSpan.FromMinutes(10),
        };
        _store = new AwsS3ObjectStore(sink, "Agent:Recording:S3", credentials);
    }

    public string Name => "s3";

    public bool Live => false;

    public string Describe => _store.Describe;

    /// <summary>{Prefix}{stack}/{fleet}/{session}/ — each part made key-safe like a spool folder name.</summary>
    public string SessionPrefix(SpoolSession session)
    {
        ArgumentNullException.ThrowIfNull(session);
        return _prefix
            + SafeFileName.Encode(session.Field("StackName", "stack") ?? "unknown") + "/"
            + SafeFileName.Encode(session.Field("FleetName", "fleet") ?? "unknown") + "/"
            + SafeFileName.Encode(session.Id) + "/";
    }

    public string MetadataKey(SpoolSession session) => SessionPrefix(session) + Stamp(session.Started) + "-metadata.txt";

    /// <summary>The video's key; the sidecar JSON's is the same with ".json".</summary>
    public string VideoKey(SpoolSegment segment, RecordingSegmentRecord sidecar)
    {
        ArgumentNullException.ThrowIfNull(segment);
        ArgumentNullException.ThrowIfNull(sidecar);
        var stamp = Stamp(sidecar.Start);
        var clash = false;
        for (var i = 0; i < segment.Index && !clash; i++)
        {
            var other = Path.Combine(segment.Session.Directory, RecordingSpool.SidecarFileName(i));
            try
            {
                clash = File.Exists(other) && Stamp(RecordingSpool.ReadSidecar(other).Start) == stamp;
            }
            catch (Exception e) when (e is IOException or JsonException or InvalidOperationException)
            {
            }
        }

        return SessionPrefix(segment.Session) + stamp + (clash ? "-" + segment.Index.ToString("D6", CultureInfo.InvariantCulture) : "") + "-video.mp4";
    }

    public Task<long> SendOpenAsync(SpoolSegment segment, CancellationToken ct) => Task.FromResult(0L);

    public async Task<long> FinishAsync(SpoolSegment segment, RecordingSegmentRecord sidecar, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(segment);
        ArgumentNullException.ThrowIfNull(sidecar);
        var length = segment.VideoLength();
        if (length != sidecar.Bytes)
        {
            throw new SegmentFailedException($"{segment.VideoPath} holds {length} bytes but its sidecar says {sidecar.Bytes}");
        }

        var videoKey = VideoKey(segment, sidecar);
        try
        {
            await EnsureMetadataAsync(segment.Session, ct);
            long sent = 0;
            if (!await HoldsAsync(videoKey, sidecar, ct))
            {
                var actual = await HashAsync(segment.VideoPath, ct);
                if (!string.Equals(actual, sidecar.Sha256, StringComparison.OrdinalIgnoreCase))
                {
                    throw new SegmentFailedException($"{segment.VideoPath} has SHA-256 {actual} but its sidecar says {sidecar.Sha256}");
                }

                await using var file = new FileStream(segment.VideoPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 1 << 16, useAsync: true);
                var put = new PutObjectRequest
                {
                    BucketName = _bucket,
                    Key = videoKey,
                    InputStream = file,
                    AutoCloseStream = false,
                    ContentType = "video/mp4",
                    UseChunkEncoding = false,
                };
                put.Metadata.Add("sha256", sidecar.Sha256.ToLowerInvariant());
                await _store.Client.PutObjectAsync(put, ct);
                sent = sidecar.Bytes;
            }

            var json = JsonSerializer.SerializeToUtf8Bytes(
                new S3SegmentJson(sidecar.Session ?? segment.Session.Id, sidecar.Index, sidecar.Start, sidecar.End, sidecar.Width, sidecar.Height, sidecar.Fps, sidecar.Codec,
                    sidecar.Bytes, sidecar.Sha256.ToLowerInvariant(), sidecar.PreviousSha256, sidecar.EndReason, Path.GetFileName(videoKey)),
                RecordingS3SegmentJsonContext.Default.S3SegmentJson);
            await _store.PutAsync(new Sinks.S3.S3Object(videoKey[..^".mp4".Length] + ".json", json, "application/json"), ct);
            return sent;
        }
        catch (Exception e) when (e is AmazonServiceException or AmazonClientException or HttpRequestException or IOException or TimeoutException || (e is TaskCanceledException && !ct.IsCancellationRequested))
        {
            var (message, _) = S3Failure.Explain(e, _store.Describe);
            throw new RecordingUploadException(message, inner: e); // outages and configuration alike: retried with back-off until fixed
        }
    }

    public void Dispose() => _store.Dispose();

    private static string Stamp(DateTimeOffset time) => time.UtcDateTime.ToString("yyyy-MM-dd_HH-mm-ss", CultureInfo.InvariantCulture);

    private async Task EnsureMetadataAsync(SpoolSession session, CancellationToken ct)
    {
        var key = MetadataKey(session);
        if (_metadataWritten.Contains(key))
        {
            return;
        }

        var metadata = new S3SessionMetadata(
            session.Field("StackName", "stack"),
            session.Field("UserAccessMode", "accessMode"),
            session.Field("SessionReservationDateTime", "reservationTime"),
            session.Field("UserName", "user"),
            session.Id,
            session.Field("ImageArn", "imageArn"),
            session.Field("InstanceType", "instanceType"),
            session.Field("FleetName", "fleet"));
        await _store.PutAsync(new Sinks.S3.S3Object(key, JsonSerializer.SerializeToUtf8Bytes(metadata, RecordingS3JsonContext.Default.S3SessionMetadata), "text/plain"), ct);
        _metadataWritten.Add(key);
    }

    private async Task<bool> HoldsAsync(string key, RecordingSegmentRecord sidecar, CancellationToken ct)
    {
        try
        {
            var head = await _store.Client.GetObjectMetadataAsync(new GetObjectMetadataRequest { BucketName = _bucket, Key = key }, ct);
            return head.ContentLength == sidecar.Bytes
                && string.Equals(head.Metadata["sha256"], sidecar.Sha256, StringComparison.OrdinalIgnoreCase);
        }
        catch (AmazonS3Exception e) when (e.StatusCode == HttpStatusCode.NotFound)
        {
            return false;
        }
    }

    /// <summary>The local video's SHA-256; a file that cannot be read is the segment's problem (<see cref="SegmentFailedException"/>).</summary>
    private static async Task<string> HashAsync(string path, CancellationToken ct)
    {
        try
        {
            await using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 1 << 16, useAsync: true);
            return Convert.ToHexStringLower(await SHA256.HashDataAsync(stream, ct));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new SegmentFailedException($"{path} cannot be read: {e.Message}", e);
        }
    }
}

/// <summary>The seed's per-session metadata file (its field names, PascalCase).</summary>
public sealed record S3SessionMetadata(
    string? StackName,
    string? UserAccessMode,
    string? SessionReservationDateTime,
    string? UserName,
    string SessionId,
    string? ImageArn,
    string? InstanceType,
    string? FleetName);

/// <summary>Our sidecar beside each video on S3.</summary>
public sealed record S3SegmentJson(
    string Session,
    int Index,
    DateTimeOffset Start,
    DateTimeOffset End,
    int Width,
    int Height,
    int Fps,
    string Codec,
    long Bytes,
    string Sha256,
    string? PrevSha256,
    string? EndReason,
    string File);

[JsonSourceGenerationOptions(WriteIndented = true)]
[JsonSerializable(typeof(S3SessionMetadata))]
internal sealed partial class RecordingS3JsonContext : JsonSerializerContext;

[JsonSourceGenerationOptions(WriteIndented = true, PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
[JsonSerializable(typeof(S3SegmentJson))]
internal sealed partial class RecordingS3SegmentJsonContext : JsonSerializerContext;
