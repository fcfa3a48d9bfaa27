using System.Diagnostics;
using SessionTrail.Agent.Config;
using SessionTrail.Agent.Ids;
using SessionTrail.Agent.Sinks;
using SessionTrail.Agent.Sources;
using SessionTrail.Agent.Tests.Fakes;
using SessionTrail.Agent.Tests.Sources;
using static SessionTrail.Agent.Tests.Sinks.SinkTestKit;

namespace SessionTrail.Agent.Tests.Sinks;

/// <summary>The sender with a sink that sets its own batching (<see cref="ISinkBatching"/>).</summary>
public sealed class SinkSenderLingerTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private sealed class BatchingSink(int maxRecords, long maxBytes, TimeSpan linger) : ISink, ISinkBatching
    {
        private readonly Lock _lock = new();

        public string Name => "batching";

        public int MaxRecords => maxRecords;

        public long MaxBytes => maxBytes;

        public TimeSpan MaxLinger => linger;

        public List<(int Count, TimeSpan At)> Batches { get; } = [];

        public Stopwatch Clock { get; } = Stopwatch.StartNew();

        public Task<SinkResult> SendAsync(IReadOnlyList<ReadOnlyMemory<byte>> lines, CancellationToken cancellationToken)
        {
            lock (_lock)
            {
                Batches.Add((lines.Count, Clock.Elapsed));
            }

            return Task.FromResult(SinkResult.Success);
        }

        public List<(int Count, TimeSpan At)> Snapshot()
        {
            lock (_lock)
            {
                return [.. Batches];
            }
        }
    }

    [Fact]
    public async Task APartialBatchWaitsForTheLingerTimeThenGoes()
    {
        // The second records come 200 ms after the first, well inside the 2 s linger: a loaded machine once stalled the
        // test for more than 500 ms between them when the linger was 800 ms, and the first records went alone.
        var sink = new BatchingSink(100, 1 << 20, TimeSpan.FromMilliseconds(2000));
        using var harness = new SenderHarness(sink, _dir.Path, maxRecords: 1);
        harness.Start();
        var start = sink.Clock.Elapsed;
        await harness.EnqueueAsync(Lines(1, 3));
        await Task.Delay(200);
        await harness.EnqueueAsync(Lines(4, 2));
        await SenderHarness.UntilAsync(() => sink.Snapshot().Count > 0, "the batch is sent");

        var batch = Assert.Single(sink.Snapshot());
        Assert.Equal(5, batch.Count); // the agent-wide maxRecords (1) is overridden by the sink's 100
        Assert.InRange((batch.At - start).TotalMilliseconds, 1900, 10_000);
    }

    [Fact]
    public async Task AFullBatchGoesAtOnceAndTheRestAfterItsLinger()
    {
        var sink = new BatchingSink(10, 1 << 20, TimeSpan.FromSeconds(3));
        using var harness = new SenderHarness(sink, _dir.Path);
        await harness.EnqueueAsync(Lines(1, 25));
        var start = sink.Clock.Elapsed;
        harness.Start();
        await SenderHarness.UntilAsync(() => sink.Snapshot().Count >= 2, "two full batches");

        var batches = sink.Snapshot();
        Assert.Equal([10, 10], batches.Take(2).Select(b => b.Count));
        Assert.True((batches[1].At - start).TotalMilliseconds < 2000, "full batches do not linger");

        // The 5 left over are a backlog that has waited: they go without a new linger.
        await SenderHarness.UntilAsync(() => sink.Snapshot().Count >= 3, "the rest");
        Assert.Equal(5, sink.Snapshot()[2].Count);
    }

    [Fact]
    public async Task MaxBytesCutsTheBatch()
    {
        var lineBytes = Line(Log(1)).Length;
        var sink = new BatchingSink(1000, lineBytes * 4, TimeSpan.FromSeconds(30));
        using var harness = new SenderHarness(sink, _dir.Path);
        await harness.EnqueueAsync(Lines(1, 8));
        harness.Start();
        await SenderHarness.UntilAsync(() => sink.Snapshot().Count >= 1, "a batch cut by bytes");
        Assert.InRange(sink.Snapshot()[0].Count, 3, 4);
    }

    [Fact]
    public async Task DrainingSendsAPartialBatchWithoutWaiting()
    {
        var sink = new BatchingSink(100, 1 << 20, TimeSpan.FromMinutes(10));
        using var harness = new SenderHarness(sink, _dir.Path);
        await harness.EnqueueAsync(Lines(1, 3));
        var watch = Stopwatch.StartNew();
        await harness.DrainAsync(timeoutSeconds: 10);

        Assert.Equal(3, Assert.Single(sink.Snapshot()).Count);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(5));
    }
}
