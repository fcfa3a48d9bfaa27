using System.Net;
using System.Net.Sockets;
using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using SessionTrail.Agent.Delivery;
using SessionTrail.Agent.Queue;
using SessionTrail.Agent.Sinks;
using SessionTrail.Agent.Tests.Fakes;

namespace SessionTrail.Agent.Tests.Sinks;

public sealed class SessionTrailServerSinkTests : IAsyncLifetime, IDisposable
{
    private readonly TempDir _dir = new();
    private readonly FakeTimeProvider _time = new();
    private FakeIngestServer _server = null!;

    public async Task InitializeAsync() => _server = await FakeIngestServer.StartAsync();

    public async Task DisposeAsync() => await _server.DisposeAsync();

    public void Dispose()
    {
        _time.Dispose();
        _dir.Dispose();
    }

    private static List<ReadOnlyMemory<byte>> Lines(int count, int from = 0) =>
        [.. Enumerable.Range(from, count).Select(i => (ReadOnlyMemory<byte>)Encoding.UTF8.GetBytes($"{{\"id\":\"agent:{i}\",\"kind\":\"process\"}}\n"))];

    private SessionTrailServerSink Sink(Uri? url = null, string token = FakeIngestServer.Token) =>
        new(url ?? _server.Url, token, NullLogger.Instance);

    [Fact]
    public async Task A200AcknowledgesTheBatchAndTheWireFormatIsGzipNdjsonWithABearerToken()
    {
        using var sink = Sink();
        var result = await sink.SendAsync(Lines(3), CancellationToken.None);

        Assert.Equal(SinkOutcome.Success, result.Outcome);
        Assert.Empty(_server.Violations);
        Assert.Equal(["agent:0", "agent:1", "agent:2"], _server.Stored.Keys.Order());
    }

    [Fact]
    public async Task A400IsAPermanentRejectionCarryingTheServersReason()
    {
        _server.Script(400);
        using var sink = Sink();
        var result = await sink.SendAsync(Lines(1), CancellationToken.None);

        Assert.Equal((SinkOutcome.RecordRejected, 1), (result.Outcome, result.Line)); // the server's 400 names the bad line
        Assert.Contains("field 'pid'", result.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AWrongTokenIsRetryableAndSaysTheTokenWasRejected()
    {
        using var sink = Sink(token: "wrong");
        var result = await sink.SendAsync(Lines(1), CancellationToken.None);

        Assert.Equal(SinkOutcome.Retryable, result.Outcome);
        Assert.Contains("token rejected", result.Reason, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(413, SinkOutcome.TooLarge)]
    [InlineData(408, SinkOutcome.Retryable)]
    [InlineData(429, SinkOutcome.Retryable)]
    [InlineData(500, SinkOutcome.Retryable)]
    [InlineData(503, SinkOutcome.Retryable)]
    [InlineData(403, SinkOutcome.Retryable)]
    public async Task StatusCodesAreClassified(int status, SinkOutcome expected)
    {
        _server.Script(status);
        using var sink = Sink();
        Assert.Equal(expected, (await sink.SendAsync(Lines(1), CancellationToken.None)).Outcome);
    }

    [Fact]
    public async Task AServerThatIsDownIsRetryable()
    {
        using var sink = Sink(new Uri($"http://127.0.0.1:{FreePort()}"));
        var result = await sink.SendAsync(Lines(1), CancellationToken.None);
        Assert.Equal(SinkOutcome.Retryable, result.Outcome);
        Assert.Contains("unreachable", result.Reason, StringComparison.Ordinal);
    }

    // Through the queue and sender: what an agent does with each answer.

    private DiskQueue OpenQueue() =>
        DiskQueue.Open(Path.Combine(_dir.Path, "queue"), new DiskQueueOptions(), NullLogger.Instance, TimeProvider.System);

    private SinkSender Sender(ISink sink, DiskQueue queue, int maxRecords = 5000) =>
        new(sink, queue, maxRecords, 4 << 20, new Backoff(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(60), random: () => 0), Path.Combine(_dir.Path, "dead-letter"), _time, NullLogger.Instance);

    private static async Task Fill(DiskQueue queue, int count)
    {
        foreach (var line in Lines(count))
        {
            await queue.EnqueueAsync(line, CancellationToken.None);
        }
    }

    private static Task Drain(SinkSender sender) =>
        Task.Run(() => sender.RunAsync(new CancellationToken(canceled: true), CancellationToken.None));

    [Fact]
    public async Task RecordsTheServerRefusesEndInTheDeadLetterFileEachOnItsOwn()
    {
        _server.Script(Enumerable.Repeat(400, 5).ToArray()); // 5 records, every send refused naming line 1: one send each
        using var queue = OpenQueue();
        await Fill(queue, 5);
        using var sink = Sink();

        await Drain(Sender(sink, queue)).WaitAsync(TimeSpan.FromSeconds(30));

        var deadLetter = File.ReadAllLines(Path.Combine(_dir.Path, "dead-letter", "server.ndjson"));
        Assert.Equal(10, deadLetter.Length); // a reason line and the record, for each
        Assert.All(deadLetter.Where((_, i) => i % 2 == 0), l => Assert.Contains("400", l, StringComparison.Ordinal));
        Assert.Empty(_server.Stored);
        Assert.Equal(0, queue.GetStats().PendingRecords);
    }

    [Fact]
    public async Task TheLineTheServerRefusesIsDeadLetteredAndTheRestOfTheBatchIsStored()
    {
        _server.Script(400); // names line 1 of the first send
        using var queue = OpenQueue();
        await Fill(queue, 5);
        using var sink = Sink();

        await Drain(Sender(sink, queue)).WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(4, _server.Stored.Count);
        Assert.Equal(2, File.ReadAllLines(Path.Combine(_dir.Path, "dead-letter", "server.ndjson")).Length); // the reason, then the record
        Assert.Equal(0, queue.GetStats().PendingRecords);
    }

    [Theory]
    [InlineData("""{"error":"line 3: field 'time': before 2000-01-01","line":3,"field":"time"}""", 3)]
    [InlineData("""{"error":"the body is not valid gzip"}""", null)]
    [InlineData("""{"error":"x","line":0}""", null)]
    [InlineData("""{"error":"x","line":"3"}""", null)]
    [InlineData("""{"error":"cut sho""", null)]
    [InlineData("""[3]""", null)]
    [InlineData("", null)]
    public void A400NamesARecordOnlyWhenItsBodyGivesALine(string body, int? line) => Assert.Equal(line, SessionTrailServerSink.BadLine(body));

    [Fact]
    public async Task A413SplitsTheBatchUntilTheServerTakesIt()
    {
        _server.MaxRecords = 30;
        using var queue = OpenQueue();
        await Fill(queue, 100);
        using var sink = Sink();

        await Drain(Sender(sink, queue)).WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(100, _server.Stored.Count);
        Assert.All(_server.BatchSizes, n => Assert.True(n <= 30));
        Assert.Equal(0, queue.GetStats().PendingRecords);
    }

    [Fact]
    public async Task A500IsRetriedAfterTheBackoffAndThenDelivered()
    {
        _server.Script(500, 503);
        using var queue = OpenQueue();
        await Fill(queue, 10);
        using var sink = Sink();

        var run = Drain(Sender(sink, queue));
        await _time.WaitForTimerCreatedAsync();
        _time.Advance(TimeSpan.FromSeconds(1));
        await _time.WaitForTimerCreatedAsync();
        _time.Advance(TimeSpan.FromSeconds(2));
        await run.WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(3, _server.Requests);
        Assert.Equal(10, _server.Stored.Count);
        Assert.All(_server.Stored.Values, n => Assert.Equal(1, n));
    }

    [Fact]
    public async Task WhenTheServerIsDownRecordsAreKeptOnDisk()
    {
        var queuePath = Path.Combine(_dir.Path, "queue");
        using (var queue = OpenQueue())
        {
            await Fill(queue, 20);
            using var sink = Sink(new Uri($"http://127.0.0.1:{FreePort()}"));
            using var stop = new CancellationTokenSource();
            var sender = Sender(sink, queue);
            var run = Task.Run(() => sender.RunAsync(CancellationToken.None, stop.Token));
            await _time.WaitForTimerCreatedAsync(); // first attempt failed, waiting to retry
            await stop.CancelAsync();
            await run.WaitAsync(TimeSpan.FromSeconds(30));
            Assert.Contains("unreachable", sender.Errors.Snapshot().Single().Message, StringComparison.Ordinal);
        }

        using (var reopened = OpenQueue())
        {
            Assert.Equal(20, reopened.GetStats().PendingRecords);
            using var sink = Sink();
            await Drain(Sender(sink, reopened)).WaitAsync(TimeSpan.FromSeconds(30));
        }

        Assert.Equal(20, _server.Stored.Count);
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
