using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using SessionTrail.Agent.Delivery;
using SessionTrail.Agent.Queue;
using SessionTrail.Agent.Sinks;
using SessionTrail.Agent.Tests.Fakes;

namespace SessionTrail.Agent.Tests.Delivery;

public sealed class SinkSenderTests : IDisposable
{
    private readonly TempDir _dir = new();
    private readonly FakeTimeProvider _time = new();

    public void Dispose()
    {
        _time.Dispose();
        _dir.Dispose();
    }

    private DiskQueue OpenQueue() =>
        DiskQueue.Open(Path.Combine(_dir.Path, "q"), new DiskQueueOptions { Fsync = FsyncPolicy.Never }, NullLogger.Instance, TimeProvider.System);

    private SinkSender Sender(ISink sink, DiskQueue queue, int maxRecords = 100) =>
        new(sink, queue, maxRecords, 1 << 20, new Backoff(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(60), random: () => 0), Path.Combine(_dir.Path, "dead-letter"), _time, NullLogger.Instance);

    private static async Task Fill(DiskQueue q, int count)
    {
        for (var i = 0; i < count; i++)
        {
            await q.EnqueueAsync(Encoding.UTF8.GetBytes($"{{\"id\":\"a:{i}\"}}\n"), CancellationToken.None);
        }
    }

    /// <summary>Runs the sender in drain mode: it returns once the queue is empty.</summary>
    private static Task Drain(SinkSender sender, CancellationToken stop = default)
    {
        var drained = new CancellationToken(canceled: true);
        return Task.Run(() => sender.RunAsync(drained, stop), CancellationToken.None);
    }

    [Fact]
    public async Task ARetryableFailureIsRetriedOnTheBackoffScheduleWithoutSleeping()
    {
        using var queue = OpenQueue();
        await Fill(queue, 3);
        var sink = new FakeSink("s", (_, call) => call <= 2 ? SinkResult.Retryable("boom") : SinkResult.Success);
        var sender = Sender(sink, queue);

        var run = Drain(sender);
        await _time.WaitForTimerCreatedAsync();
        Assert.Equal([TimeSpan.FromSeconds(1)], _time.PendingDelays());
        _time.Advance(TimeSpan.FromSeconds(1));
        await _time.WaitForTimerCreatedAsync();
        Assert.Equal([TimeSpan.FromSeconds(2)], _time.PendingDelays());
        _time.Advance(TimeSpan.FromSeconds(2));
        await run.WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal(3, sink.Calls);
        Assert.Equal(3, sink.Accepted.Count);
        Assert.Equal(0, queue.GetStats().PendingRecords);
        Assert.Equal(2, sender.Errors.Snapshot().Count);
        Assert.Equal("boom", sender.Errors.Snapshot()[0].Message);
    }

    [Fact]
    public async Task ARejectedRecordGoesToTheDeadLetterFileWithTheReasonAndIsAcknowledged()
    {
        using var queue = OpenQueue();
        await Fill(queue, 2);
        var sink = new FakeSink("srv", (_, _) => SinkResult.RecordRejected("a record is bad", line: null));
        var sender = Sender(sink, queue);

        await Drain(sender).WaitAsync(TimeSpan.FromSeconds(10));

        // Both records are refused: the batch is split, and each goes to the dead-letter file on its own, with the reason.
        var deadLetter = File.ReadAllLines(Path.Combine(_dir.Path, "dead-letter", "srv.ndjson"));
        Assert.Equal(4, deadLetter.Length);
        Assert.Contains("a record is bad", deadLetter[0], StringComparison.Ordinal);
        Assert.Equal("{\"id\":\"a:0\"}", deadLetter[1]);
        Assert.Equal("{\"id\":\"a:1\"}", deadLetter[3]);
        Assert.Equal([2, 1, 1], sink.BatchSizes);
        Assert.Equal(2, sender.DeadLetteredTotal);
        Assert.Equal(0, queue.GetStats().PendingRecords);
        Assert.All(sender.Errors.Snapshot(), e => Assert.Contains("dead-lettered 1 records", e.Message, StringComparison.Ordinal));
    }

    [Fact]
    public async Task OneRejectedRecordInABatchDoesNotTakeTheOthersWithIt()
    {
        using var queue = OpenQueue();
        await Fill(queue, 10);
        // Like the server: the batch is refused whole when any record in it is bad (here a:6).
        var sink = new FakeSink("srv", (lines, _) => lines.Any(l => l.Contains("a:6", StringComparison.Ordinal))
            ? SinkResult.RecordRejected("a record is bad: before 2000-01-01", line: null)
            : SinkResult.Success);
        var sender = Sender(sink, queue);

        await Drain(sender).WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal([.. Enumerable.Range(0, 10).Where(i => i != 6).Select(i => $"{{\"id\":\"a:{i}\"}}\n")], sink.Accepted);
        var deadLetter = File.ReadAllLines(Path.Combine(_dir.Path, "dead-letter", "srv.ndjson"));
        Assert.Equal(["{\"id\":\"a:6\"}"], deadLetter.Skip(1));
        Assert.Equal([10, 5, 5, 3, 2, 1, 1, 1, 2], sink.BatchSizes); // no line named: halves, down to the one record
        Assert.Equal(1, sender.DeadLetteredTotal);
        Assert.Equal(0, queue.GetStats().PendingRecords);
    }

    [Fact]
    public async Task WhenTheSinkNamesTheRefusedLineTheRecordsBeforeItGoOnTheRecordIsDeadLetteredAndTheRestGoesInHalves()
    {
        using var queue = OpenQueue();
        await Fill(queue, 10);
        // Like the server: it reads in order and names the first bad line of what it was sent (a:6 here).
        var sink = new FakeSink("srv", (lines, _) => lines.ToList().FindIndex(l => l.Contains("a:6", StringComparison.Ordinal)) is var at and >= 0
            ? SinkResult.RecordRejected($"line {at + 1}: field 'time': before 2000-01-01", at + 1)
            : SinkResult.Success);
        var sender = Sender(sink, queue);

        await Drain(sender).WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal([.. Enumerable.Range(0, 10).Where(i => i != 6).Select(i => $"{{\"id\":\"a:{i}\"}}\n")], sink.Accepted);
        Assert.Equal([10, 6, 2, 1], sink.BatchSizes); // refused; the 6 before it; the 3 after it in halves
        var deadLetter = File.ReadAllLines(Path.Combine(_dir.Path, "dead-letter", "srv.ndjson"));
        Assert.Contains("line 7: field 'time'", deadLetter[0], StringComparison.Ordinal);
        Assert.Equal(["{\"id\":\"a:6\"}"], deadLetter.Skip(1));
    }

    [Fact]
    public async Task ABatchWhoseEveryRecordIsRefusedCostsAboutOneSendPerRecordNotTheSquare()
    {
        using var queue = OpenQueue();
        await Fill(queue, 1000);
        var sink = new FakeSink("srv", (lines, _) => SinkResult.RecordRejected("line 1: field 'time': more than 24 h ahead", 1));
        var sender = Sender(sink, queue, maxRecords: 1000);

        await Drain(sender).WaitAsync(TimeSpan.FromSeconds(60));

        Assert.Equal(1000, sender.DeadLetteredTotal);
        Assert.InRange(sink.Calls, 1000, 1000); // each send dead-letters one record and halves the rest
        Assert.InRange(sink.BatchSizes.Sum(), 1000, 1000 * 11); // about n·log2(n) records sent in all, not n²/2
    }

    [Fact]
    public async Task ARequestRefusedAsSuchIsDeadLetteredWholeWithoutSplitting()
    {
        using var queue = OpenQueue();
        await Fill(queue, 8);
        var sink = new FakeSink("os", (_, _) => SinkResult.Rejected("400: no such index"));
        var sender = Sender(sink, queue);

        await Drain(sender).WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal([8], sink.BatchSizes);
        Assert.Equal(9, File.ReadAllLines(Path.Combine(_dir.Path, "dead-letter", "os.ndjson")).Length);
        Assert.Equal(8, sender.DeadLetteredTotal);
    }

    [Fact]
    public async Task ATooLargeBatchIsSplitUntilItFits()
    {
        using var queue = OpenQueue();
        await Fill(queue, 10);
        var sink = new FakeSink("s", (lines, _) => lines.Count > 3 ? SinkResult.TooLarge("413") : SinkResult.Success);
        var sender = Sender(sink, queue);

        await Drain(sender).WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal([.. Enumerable.Range(0, 10).Select(i => $"{{\"id\":\"a:{i}\"}}\n")], sink.Accepted);
        Assert.Equal([10, 5, 2, 3, 5, 2, 3], sink.BatchSizes);
        Assert.Equal(0, queue.GetStats().PendingRecords);
    }

    [Fact]
    public async Task WhenStoppedDuringRetriesTheBatchStaysInTheQueue()
    {
        using var queue = OpenQueue();
        await Fill(queue, 4);
        var sink = new FakeSink("s", (_, _) => SinkResult.Retryable("down"));
        var sender = Sender(sink, queue);
        using var stop = new CancellationTokenSource();

        var run = Task.Run(() => sender.RunAsync(CancellationToken.None, stop.Token));
        await _time.WaitForTimerCreatedAsync();
        await stop.CancelAsync();
        await run.WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal(4, queue.GetStats().PendingRecords);
        Assert.Equal(1, sender.RetriesTotal);
    }

    [Fact]
    public async Task AnExceptionFromTheSinkCountsAsRetryable()
    {
        using var queue = OpenQueue();
        await Fill(queue, 1);
        var sink = new FakeSink("s", (_, call) => call == 1 ? throw new InvalidOperationException("kaput") : SinkResult.Success);
        var sender = Sender(sink, queue);

        var run = Drain(sender);
        await _time.WaitForTimerCreatedAsync();
        _time.Advance(TimeSpan.FromSeconds(1));
        await run.WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Single(sink.Accepted);
        Assert.Contains("kaput", sender.Errors.Snapshot().Single().Message, StringComparison.Ordinal);
    }
}
