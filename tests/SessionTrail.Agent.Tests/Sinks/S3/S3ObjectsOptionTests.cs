using System.IO.Compression;
using Amazon.Runtime;
using SessionTrail.Agent.Config;
using SessionTrail.Agent.Sinks;
using SessionTrail.Agent.Sinks.S3;
using SessionTrail.Agent.Tests.Fakes;
using static SessionTrail.Agent.Tests.Sinks.SinkTestKit;

namespace SessionTrail.Agent.Tests.Sinks.S3;

/// <summary>
/// "Objects": both config forms build the one S3 sink, each with its own default (the agent's "Type": "S3"
/// per session, the log config's "SinkType": "S3" per batch), and each can ask for the other (against s3rver).
/// </summary>
public sealed class S3ObjectsOptionTests : IAsyncLifetime, IDisposable
{
    private const string Bucket = "either-way";
    private readonly TempDir _dir = new();
    private S3rverServer _s3 = null!;

    public async Task InitializeAsync() => _s3 = await S3rverServer.StartAsync(Bucket);

    public async Task DisposeAsync() => await _s3.DisposeAsync();

    public void Dispose() => _dir.Dispose();

    private string LogEntry(string extra) =>
        $"{{\"Id\":\"lake\",\"SinkType\":\"S3\",\"BucketName\":\"{Bucket}\",\"ServiceURL\":\"{_s3.Url}\",\"Region\":\"{S3rverServer.Region}\","
        + $"\"AccessKey\":\"{S3rverServer.AccessKey}\",\"SecretKey\":\"{S3rverServer.SecretKey}\"{extra}}}";

    private S3SinkOptions AgentOptions(S3Objects objects) => new()
    {
        Type = "S3",
        Objects = objects,
        Bucket = Bucket,
        Region = S3rverServer.Region,
        ServiceUrl = _s3.Url,
        ForcePathStyle = true,
    };

    private S3Sink AgentSink(S3SinkOptions options) =>
        S3SinkFactory.Create(options, "Sinks:0", Context(_dir.Path, options.Name), new BasicAWSCredentials(S3rverServer.AccessKey, S3rverServer.SecretKey));

    [Fact]
    public void EachFormKeepsItsDefault()
    {
        using var agent = AgentSink(AgentOptions(new S3SinkOptions().Objects));
        Assert.IsAssignableFrom<IBackgroundSink>(agent);
        Assert.IsNotAssignableFrom<ISinkBatching>(agent);
        Assert.Equal(S3Objects.Session, agent.Options.Objects);

        using var log = (S3Sink)new S3SinkFactory().Create(Node(LogEntry("")), Context(_dir.Path, "lake"));
        Assert.IsAssignableFrom<ISinkBatching>(log);
        Assert.IsNotAssignableFrom<IBackgroundSink>(log);
        Assert.Equal(S3Objects.Batch, log.Options.Objects);
        Assert.Equal("json", log.Options.Format);
    }

    [Fact]
    public async Task TheLogConfigCanAskForObjectsPerSessionSpooledUnderItsId()
    {
        using var sink = (S3Sink)new S3SinkFactory().Create(Node(LogEntry(",\"Objects\":\"session\",\"Format\":\"jsonl\"")), Context(_dir.Path, "lake"));
        var session = Assert.IsType<S3SessionObjects>(sink);
        Assert.Equal(Path.Combine(_dir.Path, "agent", "s3", "lake"), session.Spool.Root);
        using var stop = new CancellationTokenSource();
        var run = session.RunAsync(CancellationToken.None, stop.Token);

        var lines = S3TestRecords.Session("log-form-1", 3);
        Assert.Equal(SinkOutcome.Success, (await sink.SendAsync(lines, CancellationToken.None)).Outcome);
        var keys = await _s3.WaitForKeysAsync(Bucket, 1, TimeSpan.FromSeconds(30));
        Assert.Equal(["sessiontrail_sessions/year=2026/month=11/day=23/log-form-1.jsonl"], keys);
        Assert.Equal(S3TestRecords.Concat(lines), await _s3.GetAsync(Bucket, keys[0]));

        await stop.CancelAsync();
        await run;
    }

    [Fact]
    public async Task TheAgentConfigCanAskForObjectsPerBatch()
    {
        var options = AgentOptions(S3Objects.Batch);
        options.FilePath = "logs/{yyyy}";
        options.BufferSize = 10;
        options.Validate("Sinks:0");
        using var sink = AgentSink(options);
        var batching = Assert.IsAssignableFrom<ISinkBatching>(sink);
        Assert.Equal((10, 8L << 20, TimeSpan.FromSeconds(60)), (batching.MaxRecords, batching.MaxBytes, batching.MaxLinger));

        Assert.Equal(SinkOutcome.Success, (await sink.SendAsync(Lines(1, 3), CancellationToken.None)).Outcome);
        var key = Assert.Single(await _s3.KeysAsync(Bucket));
        Assert.Equal("logs/2026/log-000001.ndjson.gz", key);
        using var gzip = new GZipStream(new MemoryStream(await _s3.GetAsync(Bucket, key)), CompressionMode.Decompress);
        using var reader = new StreamReader(gzip);
        Assert.Equal(3, (await reader.ReadToEndAsync()).Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
    }

    [Theory]
    [InlineData(",\"Objects\":\"hourly\"", "Sinks:0:Objects", "must be \"batch\" or \"session\"")]
    [InlineData(",\"Objects\":\"session\",\"Format\":\"parquet\"", "Sinks:0:Format", "'parquet' is not a format")]
    [InlineData(",\"Objects\":\"session\",\"Prefix\":\"x\",\"UnattributedPrefix\":\"x\"", "Sinks:0:UnattributedPrefix", "must differ from Prefix")]
    public void BadObjectSettingsOfTheLogConfigNameTheKey(string extra, string path, string problem)
    {
        var ex = Assert.Throws<LogConfigException>(() => new S3SinkFactory().Create(Node(LogEntry(extra)), Context(_dir.Path, "lake")));
        Assert.Equal(path, ex.Path);
        Assert.Contains(problem, ex.Message, StringComparison.Ordinal);
    }
}
