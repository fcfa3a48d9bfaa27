using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using SessionTrail.Agent.Queue;
using SessionTrail.Agent.Tests.Fakes;

namespace SessionTrail.Agent.Tests.Queue;

public sealed class DiskQueueTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private DiskQueue Open(DiskQueueOptions? options = null) =>
        DiskQueue.Open(_dir.Path, options ?? new DiskQueueOptions(), NullLogger.Instance, TimeProvider.System);

    private static byte[] Line(int i) => Encoding.UTF8.GetBytes($"{{\"id\":\"a:{i}\",\"pad\":\"{new string('x', i % 50)}\"}}\n");

    private static List<string> Texts(QueueBatch batch) => [.. batch.Records.Select(r => Encoding.UTF8.GetString(r.Span))];

    private static async Task Fill(DiskQueue q, int from, int count)
    {
        for (var i = from; i < from + count; i++)
        {
            Assert.True(await q.EnqueueAsync(Line(i), CancellationToken.None));
        }
    }

    [Fact]
    public async Task RecordsComeOutInOrderAndAnAcknowledgedBatchIsNotReadAgain()
    {
        using var q = Open();
        await Fill(q, 0, 10);

        var first = q.ReadBatch(4, 1 << 20);
        Assert.Equal([.. Enumerable.Range(0, 4).Select(i => Encoding.UTF8.GetString(Line(i)))], Texts(first));
        Assert.Equal(Texts(first), Texts(q.ReadBatch(4, 1 << 20))); // not acked: read again
        q.Acknowledge(first);

        var rest = q.ReadBatch(100, 1 << 20);
        Assert.Equal(6, rest.Count);
        Assert.Equal(Encoding.UTF8.GetString(Line(4)), Texts(rest)[0]);
        q.Acknowledge(rest);
        Assert.Equal(0, q.ReadBatch(100, 1 << 20).Count);
        Assert.Equal(0, q.GetStats().PendingRecords);
        Assert.Equal(10, q.GetStats().AckedTotal);
    }

    [Fact]
    public async Task AfterReopenOnlyTheUnacknowledgedRecordsAreRead()
    {
        using (var q = Open())
        {
            await Fill(q, 0, 20);
            q.Acknowledge(q.ReadBatch(7, 1 << 20));
        }

        using var reopened = Open();
        Assert.Equal(13, reopened.GetStats().PendingRecords);
        var batch = reopened.ReadBatch(100, 1 << 20);
        Assert.Equal([.. Enumerable.Range(7, 13).Select(i => Encoding.UTF8.GetString(Line(i)))], Texts(batch));
    }

    [Fact]
    public async Task ABatchStopsAtTheByteLimitButAlwaysHoldsAtLeastOneRecord()
    {
        using var q = Open();
        var big = Encoding.UTF8.GetBytes(new string('b', 5000) + "\n");
        await q.EnqueueAsync(big, CancellationToken.None);
        await Fill(q, 0, 3);

        var first = q.ReadBatch(100, 1000);
        Assert.Single(first.Records);
        Assert.Equal(big.Length, first.Records[0].Length);
        q.Acknowledge(first);

        var next = q.ReadBatch(100, Line(0).Length + Line(1).Length);
        Assert.Equal(2, next.Count);
    }

    [Fact]
    public async Task BatchesSpanSegmentsAndFullyAcknowledgedSegmentsAreDeleted()
    {
        var options = new DiskQueueOptions { SegmentBytes = 4096, MaxBytes = 1 << 20 };
        using var q = Open(options);
        await Fill(q, 0, 300);
        Assert.True(Directory.GetFiles(_dir.Path, "*.seg").Length > 3);

        var all = new List<string>();
        while (q.ReadBatch(37, 1 << 20) is { Count: > 0 } batch)
        {
            all.AddRange(Texts(batch));
            q.Acknowledge(batch);
        }

        Assert.Equal([.. Enumerable.Range(0, 300).Select(i => Encoding.UTF8.GetString(Line(i)))], all);
        Assert.Single(Directory.GetFiles(_dir.Path, "*.seg")); // only the segment being written
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(5)]
    public async Task ATornTailIsTruncatedAtAnyOffsetAndEveryWholeRecordBeforeItSurvives(int seed)
    {
        var random = new Random(seed);
        var frameEnds = new List<long>();
        using (var q = Open(new DiskQueueOptions { Fsync = FsyncPolicy.Never }))
        {
            long end = 0;
            for (var i = 0; i < 50; i++)
            {
                await q.EnqueueAsync(Line(i), CancellationToken.None);
                end += 8 + Line(i).Length;
                frameEnds.Add(end);
            }
        }

        var segment = Directory.GetFiles(_dir.Path, "*.seg").Single();
        var cut = random.NextInt64(1, frameEnds[^1]);
        using (var f = new FileStream(segment, FileMode.Open))
        {
            f.SetLength(cut);
        }

        using var reopened = Open();
        var whole = frameEnds.Count(e => e <= cut);
        var batch = reopened.ReadBatch(1000, 1 << 20);
        Assert.Equal([.. Enumerable.Range(0, whole).Select(i => Encoding.UTF8.GetString(Line(i)))], Texts(batch));
        Assert.Equal(whole == 0 ? 0 : frameEnds[whole - 1], new FileInfo(segment).Length);

        // The queue keeps working after the truncation.
        await reopened.EnqueueAsync(Line(999), CancellationToken.None);
        Assert.Equal(Encoding.UTF8.GetString(Line(999)), Texts(reopened.ReadBatch(1000, 1 << 20))[^1]);
    }

    [Fact]
    public async Task ACorruptedByteIsCaughtByTheChecksumAndTheRestOfTheSegmentIsDiscarded()
    {
        using (var q = Open())
        {
            await Fill(q, 0, 10);
        }

        var segment = Directory.GetFiles(_dir.Path, "*.seg").Single();
        var bytes = File.ReadAllBytes(segment);
        var offsetOfRecord5 = Enumerable.Range(0, 5).Sum(i => 8 + Line(i).Length);
        bytes[offsetOfRecord5 + 12] ^= 0xFF;
        File.WriteAllBytes(segment, bytes);

        using var reopened = Open();
        Assert.Equal(5, reopened.ReadBatch(1000, 1 << 20).Count);
    }

    [Fact]
    public async Task WhenFullDropOldestDeletesTheOldestSegmentCountsTheLossAndSaysFull()
    {
        var options = new DiskQueueOptions { MaxBytes = 64 * 1024, FullPolicy = QueueFullPolicy.DropOldest };
        using var q = Open(options);
        for (var i = 0; i < 3000; i++)
        {
            Assert.True(await q.EnqueueAsync(Line(i), CancellationToken.None));
        }

        var stats = q.GetStats();
        Assert.True(stats.DiskBytes <= options.MaxBytes);
        Assert.True(stats.DroppedTotal > 0);
        Assert.True(stats.Full);
        Assert.Equal(3000 - stats.DroppedTotal, stats.PendingRecords);

        // What is left is the newest records, in order.
        var left = new List<string>();
        while (q.ReadBatch(500, 1 << 20) is { Count: > 0 } b)
        {
            left.AddRange(Texts(b));
            q.Acknowledge(b);
        }

        Assert.Equal(Encoding.UTF8.GetString(Line(2999)), left[^1]);
        Assert.Equal(Encoding.UTF8.GetString(Line((int)stats.DroppedTotal)), left[0]);
        Assert.False(q.GetStats().Full);
    }

    [Fact]
    public async Task WhenFullRejectNewRefusesTheRecordAndCountsIt()
    {
        using var q = Open(new DiskQueueOptions { MaxBytes = 64 * 1024, FullPolicy = QueueFullPolicy.RejectNew });
        var accepted = 0;
        var refused = 0;
        for (var i = 0; i < 3000; i++)
        {
            if (await q.EnqueueAsync(Line(i), CancellationToken.None))
            {
                accepted++;
            }
            else
            {
                refused++;
            }
        }

        var stats = q.GetStats();
        Assert.True(refused > 0);
        Assert.Equal(refused, stats.DroppedTotal);
        Assert.Equal(accepted, stats.PendingRecords);
        Assert.True(stats.Full);
        Assert.Equal(Encoding.UTF8.GetString(Line(0)), Texts(q.ReadBatch(1, 1 << 20))[0]);
    }

    [Fact]
    public async Task WhenFullBlockMakesTheWriterWaitUntilAcknowledgementFreesSpace()
    {
        using var q = Open(new DiskQueueOptions { MaxBytes = 64 * 1024, FullPolicy = QueueFullPolicy.Block });
        var i = 0;
        while (true)
        {
            var pending = q.EnqueueAsync(Line(i), CancellationToken.None).AsTask();
            if (!pending.IsCompleted)
            {
                Assert.True(q.GetStats().Full);
                // Acknowledge everything: whole segments are freed and the writer continues.
                while (q.ReadBatch(1000, 1 << 20) is { Count: > 0 } b)
                {
                    q.Acknowledge(b);
                }

                Assert.True(await pending.WaitAsync(TimeSpan.FromSeconds(10)));
                break;
            }

            Assert.True(await pending);
            i++;
        }

        Assert.Equal(0, q.GetStats().DroppedTotal);
        Assert.Equal(Encoding.UTF8.GetString(Line(i)), Texts(q.ReadBatch(1000, 1 << 20))[^1]);
    }

    [Fact]
    public async Task ABlockedWriterCanBeCancelledAndForcedPastTheCap()
    {
        using var q = Open(new DiskQueueOptions { MaxBytes = 64 * 1024, FullPolicy = QueueFullPolicy.Block });
        using var cts = new CancellationTokenSource();
        var i = 0;
        Task<bool> pending;
        while ((pending = q.EnqueueAsync(Line(i), cts.Token).AsTask()).IsCompleted)
        {
            i++;
        }

        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => pending);
        Assert.True(await q.EnqueueAsync(Line(i), CancellationToken.None, force: true));
        Assert.Equal(i + 1, q.GetStats().PendingRecords);
    }

    [Fact]
    public async Task AcknowledgementsSurviveReopenAcrossManySegments()
    {
        var options = new DiskQueueOptions { SegmentBytes = 4096 };
        using (var q = Open(options))
        {
            await Fill(q, 0, 500);
            for (var k = 0; k < 5; k++)
            {
                q.Acknowledge(q.ReadBatch(41, 1 << 20));
            }
        }

        using var reopened = Open(options);
        Assert.Equal(500 - 205, reopened.GetStats().PendingRecords);
        Assert.Equal(Encoding.UTF8.GetString(Line(205)), Texts(reopened.ReadBatch(1, 1 << 20))[0]);
    }

    [Fact]
    public async Task WaitForDataCompletesWhenARecordIsAppended()
    {
        using var q = Open();
        var wait = q.WaitForDataAsync(CancellationToken.None);
        Assert.False(wait.IsCompleted);
        await q.EnqueueAsync(Line(1), CancellationToken.None);
        await wait.WaitAsync(TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task AcknowledgingABatchWhoseRecordsWereDroppedMeanwhileChangesNothing()
    {
        using var q = Open(new DiskQueueOptions { MaxBytes = 64 * 1024, FullPolicy = QueueFullPolicy.DropOldest });
        await Fill(q, 0, 10);
        var inFlight = q.ReadBatch(5, 1 << 20);
        await Fill(q, 10, 3000); // the cap drops the in-flight records' segment
        var before = q.GetStats();
        Assert.True(before.DroppedTotal >= 10);

        q.Acknowledge(inFlight);

        Assert.Equal(before.PendingRecords, q.GetStats().PendingRecords);
        Assert.Equal(0, q.GetStats().AckedTotal);
        Assert.Equal(Encoding.UTF8.GetString(Line((int)before.DroppedTotal)), Texts(q.ReadBatch(1, 1 << 20))[0]);
    }

    [Fact]
    public async Task AQueueAbandonedWithoutClosingLikeAfterKill9LosesNothingAndResendsOnlyUnacknowledged()
    {
        var options = new DiskQueueOptions { SegmentBytes = 4096, Fsync = FsyncPolicy.Never };
        var abandoned = Open(options); // never disposed: no final fsync, no clean close
        await Fill(abandoned, 0, 200);
        abandoned.Acknowledge(abandoned.ReadBatch(120, 1 << 20));
        _ = abandoned.ReadBatch(50, 1 << 20); // in flight when "killed": not acknowledged

        using var restarted = Open(options);
        var resent = new List<string>();
        while (restarted.ReadBatch(1000, 1 << 20) is { Count: > 0 } b)
        {
            resent.AddRange(Texts(b));
            restarted.Acknowledge(b);
        }

        Assert.Equal([.. Enumerable.Range(120, 80).Select(i => Encoding.UTF8.GetString(Line(i)))], resent);
    }
}
