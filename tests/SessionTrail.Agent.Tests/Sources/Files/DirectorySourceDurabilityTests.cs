using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using SessionTrail.Agent.Config;
using SessionTrail.Agent.Ids;
using SessionTrail.Agent.Pipeline;
using SessionTrail.Agent.Queue;
using SessionTrail.Agent.Sinks;
using SessionTrail.Agent.Sources;
using SessionTrail.Agent.Sources.Files;
using SessionTrail.Agent.Tests.Fakes;
using SessionTrail.Agent.Tests.Sources;
using SessionTrail.Core.Formats;
using SessionTrail.Core.Records;

namespace SessionTrail.Agent.Tests.Sources.Files;

/// <summary>The source with the agent's real pump and disk queue, stopped abruptly again and again.</summary>
public sealed class DirectorySourceDurabilityTests
{
    [Fact]
    public async Task AbruptStopsWhileAFileGrowsLoseNothingAndRepeatOnlyWithTheSameIds()
    {
        using var temp = new TempDir();
        var logDir = Path.Combine(temp.Path, "logs");
        var dataDir = Path.Combine(temp.Path, "data");
        var queueDir = Path.Combine(temp.Path, "queue");
        Directory.CreateDirectory(logDir);
        var path = Path.Combine(logDir, "app.log");
        var node = FileSourceHarness.Node(new()
        {
            ["Id"] = "applogs", ["SourceType"] = "DirectorySource", ["Directory"] = logDir, ["FileNameFilter"] = "*.log",
            ["RecordParser"] = "SingleLine", ["InitialPosition"] = "BOS", ["Interval"] = "20",
        });
        var random = new Random(5);
        var written = 0;
        using var writer = new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete);

        async Task WriteAsync(int count, CancellationToken token)
        {
            for (var i = 0; i < count && !token.IsCancellationRequested; i++)
            {
                // Lines are written in two pieces, so some stops fall inside a line.
                var line = Encoding.UTF8.GetBytes($"line {written:D6} {new string('x', written % 90)}\n");
                var cut = line.Length / 2;
                writer.Write(line, 0, cut);
                writer.Flush();
                writer.Write(line, cut, line.Length - cut);
                writer.Flush();
                written++;
                if (i % 100 == 0)
                {
                    await Task.Delay(1, CancellationToken.None);
                }
            }
        }

        for (var round = 0; round < 12; round++)
        {
            using var queue = DiskQueue.Open(queueDir, new DiskQueueOptions(), NullLogger.Instance, TimeProvider.System);
            var pump = new RecordPump(1000, [], RecordIdGenerator.Open(Path.Combine(dataDir, "agent")), [queue], NullLogger.Instance);
            var pumping = pump.RunAsync(CancellationToken.None);
            var context = new LogSourceContext("applogs", dataDir, "host1", new BookmarkStore(dataDir), NullLoggerFactory.Instance, TimeProvider.System);
            var source = new DirectorySourceFactory().Create(node, context);
            using var stop = new CancellationTokenSource();
            using var memory = new VolatileOutput(pump);
            var running = source.RunAsync(memory, stop.Token);
            await WriteAsync(random.Next(500, 3000), CancellationToken.None);
            await Task.Delay(random.Next(0, 1500));

            // Like a SIGKILL: what is still in memory is gone, the source cannot save a final bookmark;
            // only what reached the queue survives.
            memory.Crash();
            pump.Complete();
            await pumping;
            await stop.CancelAsync();
            try
            {
                await running;
            }
            catch (System.Threading.Channels.ChannelClosedException)
            {
            }
        }

        // A last, clean run delivers the rest.
        {
            using var queue = DiskQueue.Open(queueDir, new DiskQueueOptions(), NullLogger.Instance, TimeProvider.System);
            var pump = new RecordPump(1000, [], RecordIdGenerator.Open(Path.Combine(dataDir, "agent")), [queue], NullLogger.Instance);
            var pumping = pump.RunAsync(CancellationToken.None);
            var context = new LogSourceContext("applogs", dataDir, "host1", new BookmarkStore(dataDir), NullLoggerFactory.Instance, TimeProvider.System);
            var source = (DirectorySource)new DirectorySourceFactory().Create(node, context);
            using var stop = new CancellationTokenSource();
            var running = source.RunAsync(pump, stop.Token);
            var deadline = DateTime.UtcNow.AddSeconds(30);
            while (DateTime.UtcNow < deadline && !QueueHasLine(queue, written - 1))
            {
                await Task.Delay(100);
            }

            await stop.CancelAsync();
            await running;
            pump.Complete();
            await pumping;

            var records = ReadAll(queue);
            var byPosition = records.GroupBy(r => r.Fields!["_position"]).ToList();
            Assert.Equal(written, byPosition.Count);
            Assert.All(byPosition, g => Assert.Single(g.Select(r => r.Id).Distinct()));
            Assert.Equal(
                Enumerable.Range(0, written).Select(i => $"line {i:D6} {new string('x', i % 90)}"),
                byPosition.Select(g => g.First()).OrderBy(r => long.Parse(r.Fields!["_position"], System.Globalization.CultureInfo.InvariantCulture)).Select(r => r.Message));
            Assert.True(records.Count < written * 2, $"{records.Count} records for {written} lines: repeats are bounded");
        }
    }

    private static bool QueueHasLine(DiskQueue queue, int number)
    {
        var needle = $"line {number:D6}";
        return ReadAll(queue).Any(r => r.Message.StartsWith(needle, StringComparison.Ordinal));
    }

    private static List<LogRecord> ReadAll(DiskQueue queue)
    {
        // ReadBatch does not move the cursor (only Acknowledge does), so this reads everything queued.
        var batch = queue.ReadBatch(10_000_000, 1L << 34);
        return [.. batch.Records.Select((line, i) => (LogRecord)NdjsonReader.ParseLine(line.Span, i + 1))];
    }

    /// <summary>
    /// Stands for the agent's in-memory channel: records wait here (lost on <see cref="Crash"/>) until
    /// a few hundred have gathered or a durability barrier asks for them; then they go to the real pump.
    /// </summary>
    private sealed class VolatileOutput(RecordPump pump) : IDurableRecordOutput, IDisposable
    {
        private readonly SemaphoreSlim _forwarding = new(1, 1);
        private readonly Lock _lock = new();
        private List<TrailRecord> _pending = [];
        private volatile bool _crashed;

        public void Crash()
        {
            _crashed = true;
            lock (_lock)
            {
                _pending = [];
            }
        }

        public async ValueTask WriteAsync(TrailRecord record, CancellationToken cancellationToken)
        {
            int count;
            lock (_lock)
            {
                ThrowIfCrashed();
                _pending.Add(record);
                count = _pending.Count;
            }

            if (count >= 300)
            {
                await ForwardAsync(cancellationToken);
            }
        }

        public async ValueTask WhenDurableAsync(CancellationToken cancellationToken)
        {
            await ForwardAsync(cancellationToken);
            ThrowIfCrashed();
            await pump.WhenDurableAsync(cancellationToken);
        }

        public void Dispose() => _forwarding.Dispose();

        private async Task ForwardAsync(CancellationToken cancellationToken)
        {
            await _forwarding.WaitAsync(cancellationToken);
            try
            {
                List<TrailRecord> batch;
                lock (_lock)
                {
                    ThrowIfCrashed();
                    batch = _pending;
                    _pending = [];
                }

                foreach (var record in batch)
                {
                    ThrowIfCrashed();
                    await pump.WriteAsync(record, cancellationToken);
                }
            }
            finally
            {
                _forwarding.Release();
            }
        }

        private void ThrowIfCrashed()
        {
            if (_crashed)
            {
                throw new System.Threading.Channels.ChannelClosedException();
            }
        }
    }
}
