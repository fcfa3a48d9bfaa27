using System.Diagnostics;
using System.Globalization;
using SessionTrail.Core.Records;
using SessionTrail.Server.Logs;
using SessionTrail.Server.Store;

namespace SessionTrail.Bench;

/// <summary>
/// Log ingest and search over a large store, through the real ingest path (SqliteStore.Ingest: one
/// transaction per batch, FTS5 rows included, synchronous=FULL). Generated records: 50 hosts, 500
/// sessions (each with a session start), 12-word messages from a 2,000-word vocabulary, 3 fields each.
/// Usage: bench logs [--records 1000000] [--batch 5000] [--repeat 5] [--drop-indexes host,source] [--behind attached|main [--chunk 50000] [--index-after]]
/// Prints ingest records/s (and per CPU-second), the median latency of several searches (100 records per page), and
/// how long one step of log retention (10,000 oldest records and their index entries, one transaction) takes.
/// </summary>
public static class LogBench
{
    public static async Task<int> RunAsync(string[] args)
    {
        var count = IngestBench.Arg(args, "--records", 1_000_000);
        var batchSize = IngestBench.Arg(args, "--batch", 5_000);
        var repeat = IngestBench.Arg(args, "--repeat", 5);
        var dir = Path.Combine(Path.GetTempPath(), "st-bench-logs-" + Guid.NewGuid().ToString("N"));
        try
        {
            using var store = SqliteStore.Open(dir);
            var t0 = new DateTimeOffset(2026, 10, 1, 0, 0, 0, TimeSpan.Zero);
            store.Ingest([.. Enumerable.Range(0, 500).Select(s => (TrailRecord)new SessionRecord
            {
                Id = $"s:{s}", Time = t0, Host = $"host{s % 50}", Session = $"sess-{s}", Type = SessionEventType.Start, User = $"user{s % 200}",
            })]);
            // --drop-indexes host,source: ingest and search without those secondary indexes of logs (logs_NAME), to weigh them.
            var drop = Array.IndexOf(args, "--drop-indexes") is var at and >= 0 && at + 1 < args.Length ? args[at + 1].Split(',') : [];
            foreach (var name in drop)
            {
                store.Write((connection, tx) =>
                {
                    using var cmd = connection.CreateCommand();
                    cmd.Transaction = tx;
                    cmd.CommandText = $"DROP INDEX logs_{new string([.. name.Where(char.IsAsciiLetter)])}";
                    return cmd.ExecuteNonQuery();
                });
            }

            // --behind attached|main: the prototype of an index kept behind the writer (LogBehindProto), measured before it is built.
            var behind = Array.IndexOf(args, "--behind") is var b and >= 0 && b + 1 < args.Length ? args[b + 1] : null;
            var ingestDone = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            Task<int>? indexer = null;
            if (behind is not null)
            {
                LogBehindProto.Prepare(store, behind);
                var chunk = IngestBench.Arg(args, "--chunk", 50_000);
                var after = args.Contains("--index-after");
                indexer = Task.Run(async () =>
                {
                    if (after)
                    {
                        await ingestDone.Task;
                    }

                    return LogBehindProto.Index(store, behind, count, chunk);
                });
            }

            var random = new Random(1);
            var words = Enumerable.Range(0, 2000).Select(i => "w" + i.ToString(CultureInfo.InvariantCulture)).ToArray();
            var cpu = Process.GetCurrentProcess().TotalProcessorTime;
            var watch = Stopwatch.StartNew();
            var batch = new List<TrailRecord>(batchSize);
            for (var i = 0; i < count; i++)
            {
                var session = random.Next(500);
                var message = string.Join(' ', Enumerable.Range(0, 12).Select(_ => words[(int)Math.Min(1999, random.NextDouble() * random.NextDouble() * 2000)]));
                batch.Add(new LogRecord
                {
                    Id = $"l:{i}",
                    Time = t0.AddMilliseconds(i * 2_500L),
                    Host = $"host{session % 50}",
                    Session = $"sess-{session}",
                    Source = i % 3 == 0 ? "journal" : "winlog-app",
                    Channel = "Application",
                    Provider = "Prov" + (i % 20).ToString(CultureInfo.InvariantCulture),
                    EventId = i % 1000,
                    Level = i % 10 == 0 ? "Error" : "Information",
                    Message = message,
                    Fields = new Dictionary<string, string> { ["ProcessId"] = (i % 5000).ToString(CultureInfo.InvariantCulture), ["Image"] = $"C:\\Apps\\app{i % 300}.exe", ["Code"] = words[i % 2000] },
                });
                if (batch.Count == batchSize || i == count - 1)
                {
                    store.Ingest(batch);
                    batch.Clear();
                }
            }

            var seconds = watch.Elapsed.TotalSeconds;
            ingestDone.SetResult();
            var cpuSeconds = (Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalSeconds;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{count:N0} log records ingested in {seconds:F1} s: {count / seconds:N0} records/s ({count / cpuSeconds:N0} per CPU-second; batches of {batchSize:N0}); database {new FileInfo(store.DatabasePath).Length / 1048576.0:F0} MiB, load {File.ReadAllText("/proc/loadavg")[..14]}"));
            if (indexer is not null)
            {
                var chunks = await indexer;
                var caughtUp = watch.Elapsed.TotalSeconds;
                var ixFile = new FileInfo(LogBehindProto.IndexPath(store));
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"indexer caught up {caughtUp:F1} s after ingest start: {count / caughtUp:N0} records/s end to end ({chunks} chunks); index file {(ixFile.Exists ? ixFile.Length / 1048576.0 : 0):F0} MiB, load {File.ReadAllText("/proc/loadavg")[..14]}"));
                LogBehindProto.Searches(store, behind!, repeat);
                return 0;
            }

            var search = new LogSearch(store);
            var page = search.Search(new LogQuery(Limit: 100));
            for (var i = 0; i < 9; i++)
            {
                page = search.Search(new LogQuery(Limit: 100, Before: page.Next));
            }

            var tenth = page.Next;
            foreach (var (label, query) in new (string, LogQuery)[]
            {
                ("newest 100, no filter", new LogQuery()),
                ("page 11 (cursor)", new LogQuery(Before: tenth)),
                ("q=common word (w0)", new LogQuery("w0")),
                ("q=rare word (w1990)", new LogQuery("w1990")),
                ("q=two words (w5 w7)", new LogQuery("w5 w7")),
                ("q=field value app17.exe", new LogQuery("\"app17.exe\"")),
                ("q=phrase + user", new LogQuery("\"w1 w2\"", User: "user7")),
                ("session", new LogQuery(Session: "sess-42")),
                ("host", new LogQuery(Host: "host7")),
                ("source", new LogQuery(Source: "journal")),
                ("rare word + host", new LogQuery("w1990", Host: "host7")),
                ("user", new LogQuery(User: "user42")),
                ("one day", new LogQuery(From: t0.AddDays(10), To: t0.AddDays(11))),
                ("rare word + one day", new LogQuery("w1990", From: t0.AddDays(10), To: t0.AddDays(11))),
            })
            {
                var times = new List<double>();
                var rows = 0;
                for (var i = 0; i < repeat; i++)
                {
                    var w = Stopwatch.StartNew();
                    rows = search.Search(query).Records.Count;
                    times.Add(w.Elapsed.TotalMilliseconds);
                }

                times.Sort();
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"search {label,-26} median {times[times.Count / 2],8:F1} ms  ({rows} records)"));
            }

            // Log retention's step (LogRetention.Step): how long one transaction of 10,000 deletions holds the writer.
            var retention = new LogRetention(store, new Server.ServerOptions { DataDir = dir, LogRetentionDays = 1 }, TimeProvider.System, Microsoft.Extensions.Logging.Abstractions.NullLogger<LogRetention>.Instance);
            var cutoff = t0.AddMilliseconds(count * 2_500L).ToUnixTimeMilliseconds();
            var steps = new List<double>();
            for (var i = 0; i < repeat; i++)
            {
                var w = Stopwatch.StartNew();
                var deleted = retention.Step(cutoff);
                steps.Add(w.Elapsed.TotalMilliseconds);
                if (deleted < retention.StepRows)
                {
                    break;
                }
            }

            steps.Sort();
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"log retention step of {retention.StepRows:N0} oldest records: median {steps[steps.Count / 2]:F0} ms (max {steps[^1]:F0} ms, {steps.Count} steps)"));
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            Directory.Delete(dir, recursive: true);
        }

        await Task.CompletedTask;
        return 0;
    }
}
