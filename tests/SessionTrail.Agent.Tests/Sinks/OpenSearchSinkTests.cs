using System.Text;
using System.Text.Json;
using SessionTrail.Agent.Config;
using SessionTrail.Agent.Ids;
using SessionTrail.Agent.Sinks;
using SessionTrail.Agent.Sinks.OpenSearch;
using SessionTrail.Agent.Sources;
using SessionTrail.Agent.Tests.Fakes;
using SessionTrail.Agent.Tests.Sources;
using static SessionTrail.Agent.Tests.Sinks.SinkTestKit;

namespace SessionTrail.Agent.Tests.Sinks;

/// <summary>The OpenSearch sink, through the real queue and sender, against <see cref="FakeOpenSearch"/>.</summary>
public sealed class OpenSearchSinkTests : IAsyncLifetime, IDisposable
{
    private readonly TempDir _dir = new();
    private FakeOpenSearch _os = null!;

    public async Task InitializeAsync() => _os = await FakeOpenSearch.StartAsync();

    public async Task DisposeAsync() => await _os.DisposeAsync();

    public void Dispose() => _dir.Dispose();

    private OpenSearchSink Sink(string extra = "", int bufferSize = 10)
    {
        var config = Node($"{{\"Id\":\"os\",\"SinkType\":\"OpenSearch\",\"Url\":\"{_os.Url}\",\"BufferSize\":\"{bufferSize}\",\"BufferInterval\":\"0\"{extra}}}");
        var options = OpenSearchSinkFactory.Options(config, Context(_dir.Path, "os")) with
        {
            RetryInitialDelay = TimeSpan.FromMilliseconds(10),
            RetryMaxDelay = TimeSpan.FromMilliseconds(50),
        };
        return new OpenSearchSink(options, Context(_dir.Path, "os"));
    }

    private static string Id(int n) => Log(n).Id;

    private static int N(string id) => int.Parse(id["log-".Length..], System.Globalization.CultureInfo.InvariantCulture);

    [Fact]
    public async Task DocumentsArriveOnceInTheirDailyIndexWithTheRecordIdAsIdAndTheWireFormatChecked()
    {
        _os.ExpectedAuthorization = "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes("elastic:s3cret"));
        using var sink = Sink(",\"Username\":\"elastic\",\"Password\":\"s3cret\"");
        using var harness = new SenderHarness(sink, _dir.Path);

        // Records 86395.. cross midnight of 2026-11-23 (T0 is 2026-11-22 08:00).
        await harness.EnqueueAsync(Lines(57_590, 25));
        await harness.DrainAsync();

        Assert.Empty(_os.Violations);
        var indices = _os.Indices;
        Assert.Equal(["sessiontrail-logs-2026.11.22", "sessiontrail-logs-2026.11.23"], indices.Keys.Order().ToList());
        Assert.Equal(Enumerable.Range(57_590, 25).Select(Id), _os.StoredIds.Order());
        Assert.Equal(10, _os.Requests.First().Count);
        using var doc = JsonDocument.Parse(indices["sessiontrail-logs-2026.11.22"][Id(57_590)]);
        Assert.Equal("line 57590", doc.RootElement.GetProperty("Message").GetString());
        Assert.Equal("AppLog", doc.RootElement.GetProperty("Source").GetString());
    }

    [Fact]
    public async Task ThrottledAndFailedItemsAloneAreResentAndBadItemsGoToTheDeadLetterFileWithTheirReason()
    {
        // Every 7th document: 429 twice; every 5th: 503 once; every 10th: 400 mapper_parsing_exception.
        _os.ItemFailure = (id, attempt) => N(id) switch
        {
            var n when n % 10 == 0 => (400, "mapper_parsing_exception"),
            var n when n % 7 == 0 && attempt < 2 => (429, "es_rejected_execution_exception"),
            var n when n % 5 == 0 && attempt < 1 => (503, "unavailable_shards_exception"),
            _ => null,
        };
        using var sink = Sink(bufferSize: 50);
        using var harness = new SenderHarness(sink, _dir.Path);

        await harness.EnqueueAsync(Lines(1, 50));
        await harness.DrainAsync();

        Assert.Empty(_os.Violations);
        var bad = Enumerable.Range(1, 50).Where(n => n % 10 == 0).ToList();
        Assert.Equal(Enumerable.Range(1, 50).Except(bad).Select(Id), _os.StoredIds.Order());
        Assert.Equal(0, _os.Conflicts);
        var requests = _os.Requests.ToList();
        Assert.Equal(50, requests[0].Count);
        Assert.Equal(Enumerable.Range(1, 50).Where(n => n % 10 != 0 && (n % 7 == 0 || n % 5 == 0)).Select(Id), requests[1]);
        Assert.Equal(Enumerable.Range(1, 50).Where(n => n % 7 == 0 && n % 10 != 0).Select(Id), requests[2]);
        Assert.Equal(3, requests.Count);

        var deadLetters = ReadDeadLetters(sink.DeadLetter.Path);
        Assert.Equal(bad.Select(Id), deadLetters.Select(d => JsonDocument.Parse(d.Line).RootElement.GetProperty("id").GetString()));
        Assert.All(deadLetters, d => Assert.Contains("400 mapper_parsing_exception: scripted mapper_parsing_exception", d.Reason, StringComparison.Ordinal));
        Assert.Equal(0, harness.Sender.DeadLetteredTotal);
    }

    [Fact]
    public async Task WholeRequestThrottlingAndALostResponseAreRetriedWithoutDuplicates()
    {
        _os.ScriptStatus(429, retryAfter: "0");
        _os.ScriptStatus(503);
        _os.ScriptLostResponse();
        using var sink = Sink(bufferSize: 20);
        using var harness = new SenderHarness(sink, _dir.Path);

        await harness.EnqueueAsync(Lines(1, 20));
        await harness.DrainAsync();

        Assert.Empty(_os.Violations);
        Assert.Equal(Enumerable.Range(1, 20).Select(Id), _os.StoredIds.Order());
        Assert.Equal(20, _os.Conflicts); // the resend after the lost response: all already there, counted as delivered
        Assert.Equal(3, harness.Sender.RetriesTotal);
        Assert.Contains(harness.Sender.Errors.Snapshot(), e => e.Message.Contains("429", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(429)]
    [InlineData(503)]
    public async Task AWholeRequestThrottledOrUnavailableIsRetryableWithTheServersRetryAfter(int status)
    {
        _os.ScriptStatus(status, retryAfter: "7");
        using var sink = Sink();

        var result = await sink.SendAsync(Lines(1, 2), CancellationToken.None);

        Assert.Equal(Agent.Sinks.SinkOutcome.Retryable, result.Outcome);
        Assert.Equal(TimeSpan.FromSeconds(7), result.RetryAfter);
        Assert.Contains(status.ToString(System.Globalization.CultureInfo.InvariantCulture), result.Reason, StringComparison.Ordinal);
        Assert.Empty(_os.StoredIds);
    }

    [Fact]
    public async Task AnOutageWithConnectionsRefusedIsRiddenOutAndEverythingArrivesOnce()
    {
        using var sink = Sink();
        using var harness = new SenderHarness(sink, _dir.Path);
        await harness.EnqueueAsync(Lines(1, 15));
        harness.Start();
        await SenderHarness.UntilAsync(() => _os.StoredIds.Count >= 10, "the first batch is stored");
        await _os.Server.StopAsync();
        await harness.EnqueueAsync(Lines(16, 15));
        await SenderHarness.UntilAsync(() => harness.Sender.RetriesTotal >= 3, "the sender retried during the outage");
        Assert.Contains("unreachable", harness.Sender.Errors.Snapshot()[^1].Message, StringComparison.Ordinal);

        await _os.Server.StartAgainAsync();
        await harness.DrainAsync();

        Assert.Equal(Enumerable.Range(1, 30).Select(Id), _os.StoredIds.Order());
        Assert.Empty(_os.Violations);
    }

    [Fact]
    public async Task A413SplitsTheBatchUntilItFits()
    {
        using var sink = Sink(bufferSize: 40);
        var oneDocument = Encoding.UTF8.GetByteCount("{\"create\":{\"_index\":\"sessiontrail-logs-2026.11.22\",\"_id\":\"log-000001\"}}\n") + LogDocument.ToJson(Log(1)).Length + 1;
        _os.MaxBodyBytes = oneDocument * 12;
        using var harness = new SenderHarness(sink, _dir.Path);

        await harness.EnqueueAsync(Lines(1, 40));
        await harness.DrainAsync();

        Assert.Equal(Enumerable.Range(1, 40).Select(Id), _os.StoredIds.Order());
        Assert.All(_os.Requests.Skip(1), r => Assert.True(r.Count <= 12));
    }

    [Fact]
    public async Task WrongCredentialsKeepTheRecordsAndSayWhyUntilTheyAreFixed()
    {
        _os.ExpectedAuthorization = "ApiKey right";
        using var sink = Sink(",\"ApiKey\":\"wrong\"");
        using var harness = new SenderHarness(sink, _dir.Path);
        await harness.EnqueueAsync(Lines(1, 5));
        harness.Start();
        await SenderHarness.UntilAsync(() => harness.Sender.RetriesTotal >= 2, "retries with the wrong key");

        Assert.Contains("credentials refused (401)", harness.Sender.Errors.Snapshot()[^1].Message, StringComparison.Ordinal);
        Assert.Empty(_os.StoredIds);
        Assert.Equal(5, harness.Queue.GetStats().PendingRecords);

        _os.ExpectedAuthorization = "ApiKey wrong"; // the cluster now accepts the key
        await harness.DrainAsync();
        Assert.Equal(5, _os.StoredIds.Count);
    }

    [Fact]
    public async Task ALineThatIsNotARecordIsDeadLetteredAndTheRestDelivered()
    {
        using var sink = Sink();
        using var harness = new SenderHarness(sink, _dir.Path);
        await harness.EnqueueAsync([Line(Log(1)), "{\"kind\":\"log\",\"id\":\"x\"}\n"u8.ToArray(), Line(Log(2))]);
        await harness.DrainAsync();

        Assert.Equal([Id(1), Id(2)], _os.StoredIds.Order());
        var dead = Assert.Single(ReadDeadLetters(sink.DeadLetter.Path));
        Assert.Contains("not a SessionTrail record (line 2 of the batch)", dead.Reason, StringComparison.Ordinal);
        Assert.Equal("{\"kind\":\"log\",\"id\":\"x\"}", dead.Line);
    }

    [Fact]
    public async Task MaxAttemptsSendsADocumentThatStaysThrottledToTheDeadLetterFile()
    {
        _os.ItemFailure = (id, _) => id == Id(2) ? (429, "es_rejected_execution_exception") : null;
        using var sink = Sink(",\"MaxAttempts\":\"3\"");
        using var harness = new SenderHarness(sink, _dir.Path);
        await harness.EnqueueAsync(Lines(1, 3));
        await harness.DrainAsync();

        Assert.Equal([Id(1), Id(3)], _os.StoredIds.Order());
        Assert.Equal(3, _os.Requests.Count);
        Assert.Contains("gave up after 3 attempts: 429 es_rejected_execution_exception", Assert.Single(ReadDeadLetters(sink.DeadLetter.Path)).Reason, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("{\"Id\":\"os\"}", "Sinks:0:Url", "is required")]
    [InlineData("{\"Url\":\"ftp://x\"}", "Sinks:0:Url", "http:// or https://")]
    [InlineData("{\"Url\":\"http://x\",\"Index\":\"Logs-{yyyy}\"}", "Sinks:0:Index", "lower case")]
    [InlineData("{\"Url\":\"http://x\",\"Index\":\"logs-{yyyy\"}", "Sinks:0:Index", "without its '}'")]
    [InlineData("{\"Url\":\"http://x\",\"BufferSize\":\"0\"}", "Sinks:0:BufferSize", "between 1")]
    [InlineData("{\"Url\":\"http://x\",\"Password\":\"p\"}", "Sinks:0:Username", "required when Password")]
    [InlineData("{\"Url\":\"http://x\",\"Format\":\"\"}", "Sinks:0:Format", "must be json")]
    public void BadSettingsNameTheKey(string json, string path, string problem)
    {
        var ex = Assert.Throws<LogConfigException>(() => new OpenSearchSinkFactory().Create(Node(json), Context(_dir.Path)));
        Assert.Equal(path, ex.Path);
        Assert.Contains(problem, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void TheElasticsearchAliasBuildsTheSameSink()
    {
        using var sink = (OpenSearchSink)new ElasticsearchSinkFactory().Create(Node("{\"Url\":\"http://127.0.0.1:9/\",\"BufferSize\":\"7\",\"BufferInterval\":\"2.5\"}"), Context(_dir.Path));
        Assert.Equal("Elasticsearch", new ElasticsearchSinkFactory().SinkType);
        Assert.Equal(7, sink.MaxRecords);
        Assert.Equal(5L << 20, sink.MaxBytes);
        Assert.Equal(TimeSpan.FromSeconds(2.5), sink.MaxLinger);
    }
}
