using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.Logging.Abstractions;
using SessionTrail.Agent.Queue;
using SessionTrail.Core.Formats;
using SessionTrail.Core.Records;

namespace SessionTrail.Bench;

/// <summary>
/// Durable queue throughput: one producer enqueues NDJSON process records while one consumer reads
/// batches of 5,000 and acknowledges them (cursor persisted atomically per batch), default fsync policy
/// (group fsync every 200 ms). Usage: queue [records=1000000] [Interval|Never|Always] [dir].
/// </summary>
public static class QueueBench
{
    public static async Task<int> RunAsync(string[] args)
    {
        ArgumentNullException.ThrowIfNull(args);
        var count = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 1_000_000;
        var fsync = args.Length > 1 ? Enum.Parse<FsyncPolicy>(args[1], ignoreCase: true) : FsyncPolicy.Interval;
        var dir = args.Length > 2 ? args[2] : Path.Combine(Path.GetTempPath(), "sessiontrail-queue-bench-" + Environment.ProcessId.ToString(CultureInfo.InvariantCulture));
        if (Directory.Exists(dir))
        {
            Directory.Delete(dir, recursive: true);
        }

        var line = NdjsonWriter.ToLine(new ProcessRecord
        {
            Id = "0123456789abcdef:123456789",
            Type = ProcessEventType.Start,
            Time = DateTimeOffset.UtcNow,
            Host = "bench-host",
            Session = "bench-host-ses42",
            Pid = 123456,
            ParentPid = 1234,
            Executable = "/usr/lib/firefox/firefox",
            CommandLine = "/usr/lib/firefox/firefox -contentproc -childID 12 -isForBrowser -prefsLen 31337",
            Uid = 1000,
            User = "alice",
            LoginUid = 1000,
            AuditSession = 42,
        });

        try
        {
            using var queue = DiskQueue.Open(dir, new DiskQueueOptions { Fsync = fsync }, NullLogger.Instance, TimeProvider.System);
            var total = Stopwatch.StartNew();
            var producer = Task.Run(async () =>
            {
                var sw = Stopwatch.StartNew();
                for (var i = 0; i < count; i++)
                {
                    await queue.EnqueueAsync(line, CancellationToken.None);
                }

                return sw.Elapsed;
            });

            long consumed = 0;
            long batches = 0;
            while (consumed < count)
            {
                var batch = queue.ReadBatch(5000, 4 << 20);
                if (batch.Count == 0)
                {
                    await queue.WaitForDataAsync(CancellationToken.None);
                    continue;
                }

                queue.Acknowledge(batch);
                consumed += batch.Count;
                batches++;
            }

            var enqueueTime = await producer;
            queue.Flush();
            total.Stop();
            Console.WriteLine($"queue: {count:N0} records of {line.Length} bytes, fsync {fsync}{(fsync == FsyncPolicy.Interval ? " (group, 200 ms, the default)" : "")}, batches of 5,000, {batches:N0} acks");
            Console.WriteLine($"queue: enqueue {count / enqueueTime.TotalSeconds:N0} records/s ({count * (double)line.Length / enqueueTime.TotalSeconds / (1 << 20):N1} MiB/s)");
            Console.WriteLine($"queue: enqueue+dequeue+ack {count / total.Elapsed.TotalSeconds:N0} records/s (end to end {total.Elapsed.TotalSeconds:N2} s)");
            return 0;
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
