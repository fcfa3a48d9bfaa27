using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.Logging.Abstractions;
using SessionTrail.Agent.Ids;
using SessionTrail.Agent.Pipeline;
using SessionTrail.Agent.Pipes;
using SessionTrail.Agent.Queue;
using SessionTrail.Agent.Sessions;
using SessionTrail.Core.Records;

namespace SessionTrail.Bench;

/// <summary>
/// The agent's pump with log routing: a producer writes log records (a 120-byte web-server line each)
/// into the pump, which attributes the session, routes, decorates, serialises and appends to durable
/// queues (group fsync) while a consumer reads and acknowledges them, as a sink sender does. Scenarios:
/// no routing (every queue), one pipe, one filtered pipe, two sinks with the seed's decoration.
/// Usage: route [records=500000] [runs=3]. Prints the median of the runs.
/// </summary>
public static class RouteBench
{
    private const string Message = "10.1.2.3 - alice [22/Nov/2026:08:00:00 +0000] \"GET /api/v1/reports/launches?from=2026-11-01 HTTP/1.1\" 200 5123 \"-\" \"curl/8\"";

    public static async Task<int> RunAsync(string[] args)
    {
        ArgumentNullException.ThrowIfNull(args);
        var count = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 500_000;
        var runs = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 3;
        string[] scenarios = ["unrouted", "one pipe", "filtered pipe", "two decorated sinks"];
        foreach (var scenario in scenarios)
        {
            var results = new List<(double RecordsPerSecond, double MiBPerSecond)>();
            for (var run = 0; run < runs; run++)
            {
                results.Add(await RunOnceAsync(scenario, count));
            }

            var median = results.OrderBy(r => r.RecordsPerSecond).ElementAt(results.Count / 2);
            Console.WriteLine($"route: {scenario,-20} {count:N0} records: {median.RecordsPerSecond:N0} records/s, {median.MiBPerSecond:N1} MiB/s of NDJSON per queue (median of {runs})");
        }

        return 0;
    }

    private static async Task<(double, double)> RunOnceAsync(string scenario, int count)
    {
        var dir = Path.Combine(Path.GetTempPath(), "sessiontrail-route-bench-" + Environment.ProcessId.ToString(CultureInfo.InvariantCulture));
        if (Directory.Exists(dir))
        {
            Directory.Delete(dir, recursive: true);
        }

        Directory.CreateDirectory(dir);
        try
        {
            var ids = RecordIdGenerator.Open(dir);
            var tracker = new SessionTracker
            {
                Explicit = new CurrentSession { Id = "sess-1", Fields = new SessionFields { User = "alice", Stack = "office", AccessMode = "userpool", ReservationTime = "2026-11-22T07:59:00Z" }, Started = DateTimeOffset.UtcNow },
            };
            var queues = new List<DiskQueue> { DiskQueue.Open(Path.Combine(dir, "q0"), new DiskQueueOptions(), NullLogger.Instance, TimeProvider.System) };
            if (scenario == "two decorated sinks")
            {
                queues.Add(DiskQueue.Open(Path.Combine(dir, "q1"), new DiskQueueOptions(), NullLogger.Instance, TimeProvider.System));
            }

            LogRouter? router = scenario switch
            {
                "one pipe" => Router(queues, tracker, null, null),
                "filtered pipe" => Router(queues, tracker, new RegexFilterPipe("^(Warning|Error)$", field: "Level", negate: true), null),
                "two decorated sinks" => Router(queues, tracker, null, ObjectDecoration.Parse("{appstreamVariables};host={hostname}", "bench")),
                _ => null,
            };
            IRecordPipe[] pipes = [new SessionAttributionPipe(tracker, _ => null)];
            var pump = new RecordPump(10_000, pipes, ids, queues, NullLogger.Instance, router);
            var pumping = Task.Run(() => pump.RunAsync(CancellationToken.None));
            var consumers = queues.Select(q => Task.Run(async () =>
            {
                long consumed = 0;
                long bytes = 0;
                while (consumed < count)
                {
                    var batch = q.ReadBatch(5000, 4 << 20);
                    if (batch.Count == 0)
                    {
                        await q.WaitForDataAsync(CancellationToken.None);
                        continue;
                    }

                    q.Acknowledge(batch);
                    consumed += batch.Count;
                    bytes += batch.Bytes;
                }

                return bytes;
            })).ToList();

            var sw = Stopwatch.StartNew();
            var time = DateTimeOffset.UtcNow;
            for (var i = 0; i < count; i++)
            {
                await pump.WriteAsync(
                    new LogRecord { Id = "log-" + i.ToString(CultureInfo.InvariantCulture), Time = time, Host = "bench-host", Source = "files", Channel = "/var/log/nginx/access.log", Level = "Information", Message = Message },
                    CancellationToken.None);
            }

            pump.Complete();
            await pumping;
            var bytesPerQueue = (await Task.WhenAll(consumers))[0];
            sw.Stop();
            foreach (var queue in queues)
            {
                queue.Dispose();
            }

            ids.Persist();
            return (count / sw.Elapsed.TotalSeconds, bytesPerQueue / sw.Elapsed.TotalSeconds / (1 << 20));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    private static LogRouter Router(List<DiskQueue> queues, SessionTracker tracker, RegexFilterPipe? filter, ObjectDecoration? decoration)
    {
        var targets = queues.Select((q, i) => new RouteTarget("sink" + i.ToString(CultureInfo.InvariantCulture), q, decoration)).ToList();
        var routes = new Dictionary<string, IReadOnlyList<RoutePipe>>
        {
            ["files"] = [.. targets.Select((t, i) => new RoutePipe("p" + i.ToString(CultureInfo.InvariantCulture), t.SinkId, filter))],
        };
        return new LogRouter([], targets, routes, () => tracker.Explicit);
    }
}
