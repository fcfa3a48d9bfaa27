using System.Security.Cryptography;
using System.Text.Json;
using Amazon.Runtime;
using Microsoft.Extensions.Logging.Abstractions;
using SessionTrail.Agent.Recording;
using SessionTrail.Agent.Recording.Upload;
using SessionTrail.Agent.Tests.Fakes;

namespace SessionTrail.Agent.Tests.Recording.Upload;

/// <summary>Straight-to-S3 upload in the seed's layout, against a real S3-protocol server (s3rver).</summary>
public sealed class S3RecordingTargetTests : IAsyncLifetime, IDisposable
{
    private const string Bucket = "recordings";
    private static readonly DateTimeOffset T0 = new(2026, 11, 30, 8, 15, 42, TimeSpan.Zero);
    private readonly TempDir _agentDir = new();
    private S3rverServer _s3 = null!;

    private SpoolWriter Spool => new(_agentDir.Path);

    public async Task InitializeAsync() => _s3 = await S3rverServer.StartAsync(Bucket);

    public async Task DisposeAsync() => await _s3.DisposeAsync();

    public void Dispose() => _agentDir.Dispose();

    private RecordingS3Options S3Options(string prefix = "recordings/") =>
        new() { Bucket = Bucket, Prefix = prefix, Region = S3rverServer.Region, ServiceUrl = _s3.Url };

    private RecordingUploader Uploader(params IRecordingTarget[] targets) =>
        new(new RecordingOptions { Upload = "s3" }, _agentDir.Path, targets, NullLoggerFactory.Instance, TimeProvider.System, () => 0.5);

    private S3RecordingTarget Target() => new(S3Options(), new BasicAWSCredentials(S3rverServer.AccessKey, S3rverServer.SecretKey));

    private static async Task DrainAsync(RecordingUploader uploader)
    {
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await uploader.RunAsync(new CancellationToken(canceled: true), stop.Token);
        Assert.False(stop.IsCancellationRequested, "the uploader did not drain in time: " + uploader.GetStatus().LastError);
    }

    private const string SessionJson = """
        {
          "id": "7f2c9a10-1b2c-4d5e-8f90-aabbccddeeff",
          "user": "alice@example.com",
          "stack": "Office-Stack",
          "fleet": "Office-Fleet",
          "accessMode": "userpool",
          "reservationTime": "2026-11-30T08:15:00Z",
          "instanceType": "stream.standard.medium",
          "imageArn": "arn:aws:appstream:us-east-1:123456789012:image/Office-2026",
          "started": "2026-11-30T08:15:40Z"
        }
        """;

    [Fact]
    public async Task ClosedSegmentsLandInTheSeedLayoutWithMetadataAndSidecars()
    {
        const string session = "7f2c9a10-1b2c-4d5e-8f90-aabbccddeeff";
        Spool.Session(session, SessionJson);
        var video0 = Mp4Samples.Small;
        var video1 = Mp4Samples.Noisy;
        Spool.Segment(session, 0, video0, T0);
        var s1 = Spool.Segment(session, 1, video1, T0.AddMinutes(5));
        Spool.Segment(session, 2, video0[..1000], T0.AddMinutes(5).AddMilliseconds(400)); // same second as segment 1
        Spool.Append(session, 3, video0.AsSpan(0, 500)); // open: S3 gets nothing of it
        using var uploader = Uploader(Target());

        await DrainAsync(uploader);

        var prefix = "recordings/Office-Stack/Office-Fleet/" + session + "/";
        var keys = await _s3.KeysAsync(Bucket);
        Assert.Equal(
            [
                prefix + "2026-11-30_08-15-40-metadata.txt",
                prefix + "2026-11-30_08-15-42-video.json",
                prefix + "2026-11-30_08-15-42-video.mp4",
                prefix + "2026-11-30_08-20-42-000002-video.json",
                prefix + "2026-11-30_08-20-42-000002-video.mp4",
                prefix + "2026-11-30_08-20-42-video.json",
                prefix + "2026-11-30_08-20-42-video.mp4",
            ],
            keys);
        Assert.Equal(video0, await _s3.GetAsync(Bucket, prefix + "2026-11-30_08-15-42-video.mp4"));
        Assert.Equal(video1, await _s3.GetAsync(Bucket, prefix + "2026-11-30_08-20-42-video.mp4"));
        Assert.Equal(video0[..1000], await _s3.GetAsync(Bucket, prefix + "2026-11-30_08-20-42-000002-video.mp4"));

        using var metadata = JsonDocument.Parse(await _s3.GetAsync(Bucket, prefix + "2026-11-30_08-15-40-metadata.txt"));
        var m = metadata.RootElement;
        Assert.Equal(
            ["StackName", "UserAccessMode", "SessionReservationDateTime", "UserName", "SessionId", "ImageArn", "InstanceType", "FleetName"],
            m.EnumerateObject().Select(p => p.Name));
        Assert.Equal("Office-Stack", m.GetProperty("StackName").GetString());
        Assert.Equal("userpool", m.GetProperty("UserAccessMode").GetString());
        Assert.Equal("2026-11-30T08:15:00Z", m.GetProperty("SessionReservationDateTime").GetString());
        Assert.Equal("alice@example.com", m.GetProperty("UserName").GetString());
        Assert.Equal(session, m.GetProperty("SessionId").GetString());
        Assert.Equal("arn:aws:appstream:us-east-1:123456789012:image/Office-2026", m.GetProperty("ImageArn").GetString());
        Assert.Equal("stream.standard.medium", m.GetProperty("InstanceType").GetString());
        Assert.Equal("Office-Fleet", m.GetProperty("FleetName").GetString());

        using var json1 = JsonDocument.Parse(await _s3.GetAsync(Bucket, prefix + "2026-11-30_08-20-42-video.json"));
        var j = json1.RootElement;
        Assert.Equal(video1.Length, j.GetProperty("bytes").GetInt64());
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(video1)), j.GetProperty("sha256").GetString());
        Assert.Equal(s1.Sha256, j.GetProperty("sha256").GetString());
        Assert.Equal(1, j.GetProperty("index").GetInt32());
        Assert.Equal("2026-11-30_08-20-42-video.mp4", j.GetProperty("file").GetString());
        Assert.True(j.TryGetProperty("prevSha256", out _));

        Assert.True(File.Exists(Spool.MarkerPath(session, 0)));
        Assert.True(File.Exists(Spool.MarkerPath(session, 2)));
        Assert.False(File.Exists(Spool.MarkerPath(session, 3)));
        Assert.Equal(3, uploader.GetStatus().UploadedSegmentsTotal);
    }

    [Fact]
    public async Task AnS3OutageIsRetriedAndAnAlteredSpoolFileIsFailedNotUploaded()
    {
        const string session = "s-out";
        Spool.Segment(session, 0, Mp4Samples.Small, T0);
        Spool.Segment(session, 1, Mp4Samples.Small[..2000], T0.AddMinutes(5), sha256: new string('b', 64));
        await _s3.StopAsync();
        using var uploader = Uploader(Target());
        using var drain = new CancellationTokenSource();
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var run = uploader.RunAsync(drain.Token, stop.Token);
        await Task.Delay(2000);
        var down = uploader.GetStatus();
        await _s3.StartAgainAsync(Bucket);
        await drain.CancelAsync();
        await run;

        Assert.Equal("retrying", down.State);
        Assert.Contains("unreachable", down.LastError, StringComparison.OrdinalIgnoreCase);
        Assert.False(stop.IsCancellationRequested);
        Assert.True(File.Exists(Spool.MarkerPath(session, 0)));
        var failed = Assert.Single(uploader.GetStatus().SetAside);
        Assert.Equal("s-out/1", failed.Segment);
        Assert.Contains("SHA-256", failed.Reason, StringComparison.Ordinal);
        var keys = await _s3.KeysAsync(Bucket);
        Assert.Equal(3, keys.Count); // metadata + segment 0's video and json; nothing of segment 1
        Assert.All(keys, k => Assert.StartsWith("recordings/unknown/unknown/s-out/", k, StringComparison.Ordinal));
    }
}
