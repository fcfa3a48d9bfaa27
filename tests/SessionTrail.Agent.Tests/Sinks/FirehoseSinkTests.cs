using System.Diagnostics;
using SessionTrail.Agent.Config;
using SessionTrail.Agent.Ids;
using SessionTrail.Agent.Sinks;
using SessionTrail.Agent.Sinks.Firehose;
using SessionTrail.Agent.Sources;
using SessionTrail.Agent.Tests.Fakes;
using SessionTrail.Agent.Tests.Sources;
using static SessionTrail.Agent.Tests.Sinks.SinkTestKit;

namespace SessionTrail.Agent.Tests.Sinks;

/// <summary>The Firehose sink, through the real queue and sender, against <see cref="FakeFirehose"/>.</summary>
public sealed class FirehoseSinkTests : IAsyncLifetime, IDisposable
{
    private static readonly Func<string, string?> NoEnvironment = _ => null;
    private readonly TempDir _dir = new();
    private FakeFirehose _fh = null!;

    public async Task InitializeAsync() => _fh = await FakeFirehose.StartAsync();

    public async Task DisposeAsync() => await _fh.DisposeAsync();

    public void Dispose() => _dir.Dispose();

    private string Json(string extra = "", string stream = FakeFirehose.Stream, string secret = FakeFirehose.SecretKey) =>
        $"{{\"Id\":\"fh\",\"SinkType\":\"KinesisFirehose\",\"StreamName\":\"{stream}\",\"Region\":\"{FakeFirehose.Region}\",\"ServiceURL\":\"{_fh.Url}\","
        + $"\"AccessKey\":\"{FakeFirehose.AccessKey}\",\"SecretKey\":\"{secret}\",\"BufferInterval\":\"0\"{extra}}}";

    private FirehoseSink Sink(string json) =>
        new(FirehoseSinkFactory.Options(Node(json), Context(_dir.Path, "fh"), NoEnvironment, "/nonexistent") with
        {
            RetryInitialDelay = TimeSpan.FromMilliseconds(10),
            RetryMaxDelay = TimeSpan.FromMilliseconds(50),
        }, Context(_dir.Path, "fh"));

    private static IEnumerable<string> Ids(int from, int count) => Enumerable.Range(from, count).Select(n => Log(n).Id);

    private static int N(string id) => int.Parse(id["log-".Length..], System.Globalization.CultureInfo.InvariantCulture);

    [Fact]
    public async Task RecordsArriveOnceInOrderInSignedCallsOfAtMost500()
    {
        using var sink = Sink(Json(",\"SessionToken\":\"temporary-token\""));
        _fh.SessionToken = "temporary-token";
        using var harness = new SenderHarness(sink, _dir.Path, maxRecords: 100);

        await harness.EnqueueAsync(Lines(1, 1200));
        await harness.DrainAsync();

        Assert.Empty(_fh.Violations);
        Assert.Equal(Ids(1, 1200), _fh.Ids);
        Assert.Equal([500, 500, 200], _fh.Calls);
        Assert.Equal(500, sink.MaxRecords);
        Assert.Equal("line 1", System.Text.Json.JsonDocument.Parse(_fh.Lines[0]).RootElement.GetProperty("Message").GetString());
    }

    [Fact]
    public async Task OnlyTheFailedRecordsOfAPartialFailureAreResent()
    {
        _fh.RecordFailure = (id, attempt) => N(id) switch
        {
            var n when n % 9 == 0 && attempt < 2 => "InternalFailure",
            var n when n % 4 == 0 && attempt < 1 => "ServiceUnavailableException",
            _ => null,
        };
        using var sink = Sink(Json(",\"BufferSize\":\"100\""));
        using var harness = new SenderHarness(sink, _dir.Path);

        await harness.EnqueueAsync(Lines(1, 100));
        await harness.DrainAsync();

        Assert.Empty(_fh.Violations);
        Assert.Equal(Ids(1, 100).Order(), _fh.Ids.Order());
        Assert.Equal(100, _fh.Ids.Distinct().Count());
        var failedFirst = Enumerable.Range(1, 100).Count(n => n % 9 == 0 || n % 4 == 0);
        Assert.Equal([100, failedFirst, Enumerable.Range(1, 100).Count(n => n % 9 == 0)], _fh.Calls);
        Assert.Equal(0, harness.Sender.RetriesTotal);
    }

    [Fact]
    public async Task ThrottlingAndServerErrorsOnTheCallAreRetriedByTheSender()
    {
        _fh.Script(400, "ThrottlingException");
        _fh.Script(400, "com.amazonaws.firehose#ServiceUnavailableException");
        _fh.Script(500, "InternalFailure");
        using var sink = Sink(Json());
        using var harness = new SenderHarness(sink, _dir.Path);

        await harness.EnqueueAsync(Lines(1, 30));
        await harness.DrainAsync();

        Assert.Empty(_fh.Violations);
        Assert.Equal(Ids(1, 30), _fh.Ids);
        Assert.Equal(3, harness.Sender.RetriesTotal);
        Assert.Contains("ThrottlingException", harness.Sender.Errors.Snapshot()[0].Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AnOutageWithConnectionsRefusedLosesAndRepeatsNothing()
    {
        using var sink = Sink(Json(",\"BufferSize\":\"10\""));
        using var harness = new SenderHarness(sink, _dir.Path);
        await harness.EnqueueAsync(Lines(1, 20));
        harness.Start();
        await SenderHarness.UntilAsync(() => _fh.Ids.Count >= 20, "the first records arrive");
        await _fh.Server.StopAsync();
        await harness.EnqueueAsync(Lines(21, 30));
        await SenderHarness.UntilAsync(() => harness.Sender.RetriesTotal >= 3, "retries during the outage");
        Assert.Contains("unreachable", harness.Sender.Errors.Snapshot()[^1].Message, StringComparison.Ordinal);

        await _fh.Server.StartAgainAsync();
        await harness.DrainAsync();

        Assert.Equal(Ids(1, 50), _fh.Ids);
        Assert.Empty(_fh.Violations);
    }

    [Fact]
    public async Task ABatchResentAfterAFailedSecondCallSkipsWhatTheFirstCallDelivered()
    {
        // 30 records of ~300 KB: 4 MiB per call makes three calls; the second fails once.
        var records = Enumerable.Range(1, 30).Select(n => Log(n, new string((char)('a' + (n % 26)), 300_000))).ToList();
        using var sink = Sink(Json());
        var lines = Lines(records);
        var first = sink.SendAsync(lines, CancellationToken.None);
        await SenderHarness.UntilAsync(() => !_fh.Calls.IsEmpty, "the first call");
        _fh.Script(503, "ServiceUnavailableException");
        var result = await first;
        Assert.Equal(SinkOutcome.Retryable, result.Outcome);
        var deliveredBefore = _fh.Ids.Count;
        Assert.InRange(deliveredBefore, 1, 29);

        Assert.Equal(SinkOutcome.Success, (await sink.SendAsync(lines, CancellationToken.None)).Outcome);

        Assert.Equal(Ids(1, 30), _fh.Ids);
        Assert.Empty(_fh.Violations);
        Assert.All(_fh.Calls, c => Assert.True(c <= 14));
    }

    [Fact]
    public async Task AfterA413OnTheThirdCallTheSendersSplitHalvesSkipWhatWasAlreadyAccepted()
    {
        // 36 records of ~300 KB make three calls of at most 13; the third answers 413.
        _fh.CallFailure = n => n == 3 ? (413, "RequestEntityTooLarge") : null;
        var records = Enumerable.Range(1, 36).Select(n => Log(n, new string('m', 300_000))).ToList();
        using var sink = Sink(Json());
        var lines = Lines(records);

        Assert.Equal(SinkOutcome.TooLarge, (await sink.SendAsync(lines, CancellationToken.None)).Outcome);
        Assert.Equal(26, _fh.Ids.Count);
        Assert.Equal(SinkOutcome.Success, (await sink.SendAsync(lines[..18], CancellationToken.None)).Outcome);
        Assert.Equal(SinkOutcome.Success, (await sink.SendAsync(lines[18..], CancellationToken.None)).Outcome);

        Assert.Equal(Ids(1, 36), _fh.Ids);
        Assert.Empty(_fh.Violations);
    }

    [Fact]
    public async Task ARecordOverTheLimitGoesToTheDeadLetterFileAndTheRestIsDelivered()
    {
        using var sink = Sink(Json());
        using var harness = new SenderHarness(sink, _dir.Path);
        await harness.EnqueueAsync(Lines([Log(1), Log(2, new string('x', 1_100_000)), Log(3)]));
        await harness.DrainAsync();

        Assert.Equal([Log(1).Id, Log(3).Id], _fh.Ids);
        var dead = Assert.Single(ReadDeadLetters(sink.DeadLetter.Path));
        Assert.Contains("Firehose takes at most 1024000 bytes (1,000 KiB) per record", dead.Reason, StringComparison.Ordinal);
        Assert.Contains(Log(2).Id, dead.Line, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("no-such-stream", FakeFirehose.SecretKey, "the delivery stream does not exist")]
    [InlineData(FakeFirehose.Stream, "wrong-secret", "credentials refused")]
    public async Task AMissingStreamOrWrongCredentialsKeepTheRecordsWithAClearError(string stream, string secret, string message)
    {
        using var sink = Sink(Json(stream: stream, secret: secret));
        using var harness = new SenderHarness(sink, _dir.Path);
        await harness.EnqueueAsync(Lines(1, 5));
        harness.Start();
        await SenderHarness.UntilAsync(() => harness.Sender.RetriesTotal >= 2, "retries");

        Assert.Contains(message, harness.Sender.Errors.Snapshot()[^1].Message, StringComparison.Ordinal);
        Assert.Equal(5, harness.Queue.GetStats().PendingRecords);
        Assert.Empty(_fh.Ids);
        Assert.Equal(0, harness.Sender.DeadLetteredTotal);
    }

    [Fact]
    public async Task CombineRecordsPacksSeveralRecordsIntoOneFirehoseRecord()
    {
        using var sink = Sink(Json(",\"CombineRecords\":\"true\""));
        using var harness = new SenderHarness(sink, _dir.Path);
        await harness.EnqueueAsync(Lines(1, 100));
        await harness.DrainAsync();

        Assert.Equal(Ids(1, 100), _fh.Ids);
        Assert.Equal([1], _fh.Calls);
        Assert.Equal([100], _fh.LinesPerRecord);
        Assert.Empty(_fh.Violations);
    }

    [Fact]
    public async Task RecordsPerSecondSlowsTheCallsDown()
    {
        using var sink = Sink(Json(",\"BufferSize\":\"100\",\"RecordsPerSecond\":\"100\""));
        using var harness = new SenderHarness(sink, _dir.Path);
        await harness.EnqueueAsync(Lines(1, 300));
        var watch = Stopwatch.StartNew();
        await harness.DrainAsync();

        Assert.Equal(Ids(1, 300), _fh.Ids);
        Assert.True(watch.Elapsed >= TimeSpan.FromSeconds(1.8), $"300 records at 100/s took {watch.Elapsed}");
    }

    [Fact]
    public void CredentialsComeFromTheProfileOfTheSharedCredentialsFile()
    {
        var file = Path.Combine(_dir.Path, "credentials");
        File.WriteAllText(file, "[default]\naws_access_key_id = DEF\naws_secret_access_key = defsecret\n\n# comment\n[logs]\naws_access_key_id=AKLOGS\naws_secret_access_key = s/ec+ret\naws_session_token = tok\n");
        var json = $"{{\"StreamName\":\"s\",\"Region\":\"eu-west-1\",\"ProfileName\":\"logs\"}}";

        var options = FirehoseSinkFactory.Options(Node(json), Context(_dir.Path), NoEnvironment, file);

        Assert.Equal(("AKLOGS", "s/ec+ret", "tok"), (options.Credentials.AccessKey, options.Credentials.SecretKey, options.Credentials.SessionToken));
        Assert.Equal(new Uri("https://firehose.eu-west-1.amazonaws.com/"), options.Endpoint);
        var fromDefault = FirehoseSinkFactory.Options(Node("{\"StreamName\":\"s\",\"Region\":\"eu-west-1\"}"), Context(_dir.Path), NoEnvironment, file);
        Assert.Equal("DEF", fromDefault.Credentials.AccessKey);
        var env = new Dictionary<string, string> { ["AWS_ACCESS_KEY_ID"] = "ENVKEY", ["AWS_SECRET_ACCESS_KEY"] = "envsecret" };
        var fromEnv = FirehoseSinkFactory.Options(Node("{\"StreamName\":\"s\",\"Region\":\"eu-west-1\"}"), Context(_dir.Path), env.GetValueOrDefault, file);
        Assert.Equal("ENVKEY", fromEnv.Credentials.AccessKey);
    }

    [Theory]
    [InlineData("{\"Region\":\"eu-west-1\",\"AccessKey\":\"a\",\"SecretKey\":\"b\"}", "Sinks:0:StreamName", "is required")]
    [InlineData("{\"StreamName\":\"s\",\"AccessKey\":\"a\",\"SecretKey\":\"b\"}", "Sinks:0:Region", "is required")]
    [InlineData("{\"StreamName\":\"s\",\"Region\":\"eu-west-1\",\"AccessKey\":\"a\",\"SecretKey\":\"b\",\"BufferSize\":\"501\"}", "Sinks:0:BufferSize", "between 1 and 500")]
    [InlineData("{\"StreamName\":\"s\",\"Region\":\"eu-west-1\",\"AccessKey\":\"a\"}", "Sinks:0:SecretKey", "required when AccessKey")]
    [InlineData("{\"StreamName\":\"s\",\"Region\":\"eu-west-1\"}", "Sinks:0:AccessKey", "no AWS credentials were found")]
    [InlineData("{\"StreamName\":\"s\",\"Region\":\"eu-west-1\",\"ProfileName\":\"nope\"}", "Sinks:0:ProfileName", "'nope' is not a profile")]
    [InlineData("{\"StreamName\":\"s\",\"Region\":\"EU West\",\"AccessKey\":\"a\",\"SecretKey\":\"b\"}", "Sinks:0:Region", "region name")]
    public void BadSettingsNameTheKey(string json, string path, string problem)
    {
        var ex = Assert.Throws<LogConfigException>(() => FirehoseSinkFactory.Options(Node(json), Context(_dir.Path), NoEnvironment, "/nonexistent"));
        Assert.Equal(path, ex.Path);
        Assert.Contains(problem, ex.Message, StringComparison.Ordinal);
    }
}
