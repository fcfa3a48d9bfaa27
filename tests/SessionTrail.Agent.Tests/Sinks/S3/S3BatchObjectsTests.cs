using System.IO.Compression;
using System.Text;
using System.Text.Json;
using SessionTrail.Agent.Config;
using SessionTrail.Agent.Ids;
using SessionTrail.Agent.Sinks;
using SessionTrail.Agent.Sinks.S3;
using SessionTrail.Agent.Sources;
using SessionTrail.Agent.Tests.Fakes;
using SessionTrail.Agent.Tests.Sources;
using static SessionTrail.Agent.Tests.Sinks.SinkTestKit;

namespace SessionTrail.Agent.Tests.Sinks.S3;

/// <summary>The S3 sink with objects per batch (the log config's default) against a real S3-protocol server (s3rver).</summary>
public sealed class S3BatchObjectsTests : IAsyncLifetime, IDisposable
{
    private const string Bucket = "appstream-logs";
    private readonly TempDir _dir = new();
    private S3rverServer _s3 = null!;

    public async Task InitializeAsync() => _s3 = await S3rverServer.StartAsync(Bucket);

    public async Task DisposeAsync() => await _s3.DisposeAsync();

    public void Dispose() => _dir.Dispose();

    private S3BatchObjects Sink(string extra = "", string bucket = Bucket) =>
        (S3BatchObjects)new S3SinkFactory().Create(
            Node($"{{\"Id\":\"s3logs\",\"SinkType\":\"S3\",\"BucketName\":\"{bucket}\",\"ServiceURL\":\"{_s3.Url}\",\"Region\":\"{S3rverServer.Region}\","
                + $"\"AccessKey\":\"{S3rverServer.AccessKey}\",\"SecretKey\":\"{S3rverServer.SecretKey}\",\"RequestTimeout\":\"10\"{extra}}}"),
            Context(_dir.Path, "s3logs"));

    private async Task<List<string>> ObjectLinesAsync(string key)
    {
        var body = await _s3.GetAsync(Bucket, key);
        using var gzip = new GZipStream(new MemoryStream(body), CompressionMode.Decompress);
        using var reader = new StreamReader(gzip, Encoding.UTF8);
        return [.. (await reader.ReadToEndAsync()).Split('\n', StringSplitOptions.RemoveEmptyEntries)];
    }

    private static string Id(string line) => JsonDocument.Parse(line).RootElement.GetProperty("SessionTrailId").GetString()!;

    [Fact]
    public async Task BatchesBecomeGzipObjectsKeyedByTheirFirstRecordUnderTheTimePrefix()
    {
        using var sink = Sink(",\"FilePath\":\"logs/{yyyy}/{MM}/{dd}/{HH}\",\"FileName\":\"{hostname}\",\"BufferSize\":\"10\",\"BufferInterval\":\"0\"");
        using var harness = new SenderHarness(sink, _dir.Path);
        await harness.EnqueueAsync(Lines(1, 25));
        await harness.DrainAsync();

        var keys = await _s3.KeysAsync(Bucket);
        Assert.Equal(
            ["logs/2026/11/22/08/host-a-log-000001.ndjson.gz", "logs/2026/11/22/08/host-a-log-000011.ndjson.gz", "logs/2026/11/22/08/host-a-log-000021.ndjson.gz"],
            keys);
        var ids = new List<string>();
        foreach (var key in keys)
        {
            ids.AddRange((await ObjectLinesAsync(key)).Select(Id));
        }

        Assert.Equal(Enumerable.Range(1, 25).Select(n => Log(n).Id), ids);
    }

    [Fact]
    public async Task APutRepeatedAfterAFailureReplacesTheSameObject()
    {
        using var sink = Sink(",\"FilePath\":\"logs\"");
        var lines = Lines(1, 5);
        Assert.Equal(SinkOutcome.Success, (await sink.SendAsync(lines, CancellationToken.None)).Outcome);
        Assert.Equal(SinkOutcome.Success, (await sink.SendAsync(Lines(1, 7), CancellationToken.None)).Outcome); // resent, grown

        var key = Assert.Single(await _s3.KeysAsync(Bucket));
        Assert.Equal("logs/log-000001.ndjson.gz", key);
        Assert.Equal(Enumerable.Range(1, 7).Select(n => Log(n).Id), (await ObjectLinesAsync(key)).Select(Id));
    }

    [Fact]
    public async Task AnOutageIsRetryableAndTheObjectArrivesWhenS3IsBack()
    {
        using var sink = Sink(",\"FilePath\":\"logs\",\"BufferInterval\":\"0\"");
        using var harness = new SenderHarness(sink, _dir.Path);
        await _s3.StopAsync();
        await harness.EnqueueAsync(Lines(1, 4));
        harness.Start();
        await SenderHarness.UntilAsync(() => harness.Sender.RetriesTotal >= 2, "retries while S3 is down");
        Assert.Contains(_s3.Url.Replace("http://", "", StringComparison.Ordinal), harness.Sender.Errors.Snapshot()[^1].Message, StringComparison.Ordinal);

        await _s3.StartAgainAsync(Bucket);
        await harness.DrainAsync();

        var key = Assert.Single(await _s3.KeysAsync(Bucket));
        Assert.Equal(4, (await ObjectLinesAsync(key)).Count);
    }

    [Fact]
    public async Task AMissingBucketKeepsTheRecordsWithAClearError()
    {
        using var sink = Sink(bucket: "no-such-bucket");
        var result = await sink.SendAsync(Lines(1, 2), CancellationToken.None);
        Assert.Equal(SinkOutcome.Retryable, result.Outcome);
        Assert.Contains("the bucket does not exist", result.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TextFormatObjectsHoldTheMessages()
    {
        using var sink = Sink(",\"FilePath\":\"text/{timestamp:yyyy-MM-dd}\",\"Format\":\"\"");
        await sink.SendAsync(Lines(1, 3), CancellationToken.None);
        var key = Assert.Single(await _s3.KeysAsync(Bucket));
        Assert.Equal("text/2026-11-22/log-000001.log.gz", key);
        Assert.Equal(["line 1", "line 2", "line 3"], await ObjectLinesAsync(key));
    }

    [Fact]
    public void BatchingComesFromMaxObjectBytesBufferSizeAndBufferInterval()
    {
        using var sink = Sink(",\"MaxObjectBytes\":\"2048\",\"BufferSize\":\"77\",\"BufferInterval\":\"5\"");
        Assert.Equal((77, 2048L, TimeSpan.FromSeconds(5)), (sink.MaxRecords, sink.MaxBytes, sink.MaxLinger));
        using var defaults = Sink();
        Assert.Equal((8L << 20, TimeSpan.FromSeconds(60)), (defaults.MaxBytes, defaults.MaxLinger));
    }

    [Theory]
    [InlineData("{\"Region\":\"us-east-1\"}", "Sinks:0:BucketName", "is required")]
    [InlineData("{\"BucketName\":\"b\",\"AccessKey\":\"a\",\"SecretKey\":\"s\"}", "Sinks:0:Region", "is required")]
    [InlineData("{\"BucketName\":\"b\",\"Region\":\"us-east-1\",\"FilePath\":\"x/{yyyy\"}", "Sinks:0:FilePath", "without its '}'")]
    [InlineData("{\"BucketName\":\"b\",\"ServiceURL\":\"nope\"}", "Sinks:0:ServiceURL", "http:// or https://")]
    public void BadSettingsNameTheKey(string json, string path, string problem)
    {
        var ex = Assert.Throws<LogConfigException>(() => new S3SinkFactory().Create(Node(json), Context(_dir.Path)));
        Assert.Equal(path, ex.Path);
        Assert.Contains(problem, ex.Message, StringComparison.Ordinal);
    }
}
