using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using SessionTrail.Core.Records;
using SessionTrail.Server;
using SessionTrail.Server.Auth;
using SessionTrail.Server.Store;

namespace SessionTrail.Bench;

/// <summary>
/// Latency of the web UI's JSON API over real HTTP on a large store. Generates straight into the tables (bulk SQL,
/// bypassing pairing): 100,000 sessions over 90 days (2,000 users, 500 hosts, 20 fleets, 10 stacks; 1 % still open,
/// 10 % with a recording segment record), 1,000,000 runs (10 per session, 200 apps, a few used a lot), then
/// 200,000 log records through the store's real ingest (FTS5 included). Starts the real server on it and times each endpoint.
/// Usage: bench ui-api [--sessions 100000] [--runs-per-session 10] [--logs 200000] [--repeat 7] [--keep DIR (generate once into DIR, reuse it after)] [--only TEXT (endpoints whose label holds it)]
/// Prints the median of each endpoint over the repeats (after one warm-up request).
/// </summary>
public static class UiApiBench
{
    private static readonly DateTimeOffset T0 = new(2026, 8, 1, 0, 0, 0, TimeSpan.Zero);
    private const long Span = 90L * 86_400_000;

    public static async Task<int> RunAsync(string[] args)
    {
        var sessions = IngestBench.Arg(args, "--sessions", 100_000);
        var perSession = IngestBench.Arg(args, "--runs-per-session", 10);
        var logs = IngestBench.Arg(args, "--logs", 200_000);
        var repeat = IngestBench.Arg(args, "--repeat", 7);
        var keep = Array.IndexOf(args, "--keep") is var k and >= 0 && k + 1 < args.Length ? args[k + 1] : null;
        var dir = keep ?? Path.Combine(Path.GetTempPath(), "st-bench-ui-" + Guid.NewGuid().ToString("N"));
        try
        {
            var load = Stopwatch.StartNew();
            if (keep is not null && File.Exists(Path.Combine(keep, "sessiontrail.db")))
            {
                Console.WriteLine($"reusing the store in {keep}");
            }
            else
            {
                using var store = SqliteStore.Open(dir);
                Generate(store, sessions, perSession);
                store.RebuildAggregates(); // the runs were written around ingest
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{sessions:N0} sessions, {sessions * perSession:N0} runs generated in {load.Elapsed.TotalSeconds:F1} s"));
                load.Restart();
                IngestLogs(store, logs, sessions);
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{logs:N0} log records ingested in {load.Elapsed.TotalSeconds:F1} s; database {new FileInfo(store.DatabasePath).Length / 1048576.0:F0} MiB"));
                using var connection = store.OpenConnection();
                using var analyze = connection.CreateCommand();
                analyze.CommandText = "ANALYZE";
                analyze.ExecuteNonQuery();
            }

            SqliteConnection.ClearAllPools();
            SqliteStore.Open(dir).Dispose(); // a kept store made by an older build gets this build's migrations

            await using var app = ServerApp.Build(new ServerOptions { DataDir = dir, Urls = "http://127.0.0.1:0" }, ["--Logging:LogLevel:Default=Warning"]);
            await app.StartAsync();
            var token = app.Services.GetRequiredService<TokenStore>().Create("bench");
            using var client = new HttpClient { BaseAddress = new Uri(ServerApp.Addresses(app)[0]), Timeout = TimeSpan.FromMinutes(5) };
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
            var month = "from=2026-09-01&to=2026-10-01";
            var only = Array.IndexOf(args, "--only") is var o and >= 0 && o + 1 < args.Length ? args[o + 1] : null;
            foreach (var (label, url) in new (string, string)[]
            {
                ("sessions, page 1 (newest)", "/api/v1/sessions"),
                ("sessions, deep page (offset 99,000)", $"/api/v1/sessions?offset={Math.Max(0, sessions - 1000)}"),
                ("sessions, search q=user123", "/api/v1/sessions?q=user123"),
                ("sessions, fleet + sort -duration", "/api/v1/sessions?fleet=fleet-7&sort=-duration"),
                ("sessions, one month, by user", $"/api/v1/sessions?{month}&sort=user"),
                ("session detail", "/api/v1/sessions/as2-" + (sessions / 2).ToString("D6", CultureInfo.InvariantCulture)),
                ("dashboard, unfiltered", "/api/v1/dashboard"),
                ("dashboard, one month", $"/api/v1/dashboard?{month}"),
                ("dashboard, one month + fleet", $"/api/v1/dashboard?{month}&fleet=fleet-7"),
                ("dashboard, one user", "/api/v1/dashboard?user=user42"),
                ("dashboard perDay.csv", "/api/v1/dashboard/perDay.csv"),
                ("dashboard, unfiltered, kept (cached)", "/api/v1/dashboard?top=10"),
                ("facets", "/api/v1/facets"),
                ("log histogram, unfiltered", "/api/v1/logs/histogram"),
                ("log histogram, q=w7", "/api/v1/logs/histogram?q=w7"),
                ("log fields, unfiltered", "/api/v1/logs/fields"),
                ("log fields, one session", "/api/v1/logs/fields?session=as2-" + (sessions / 2).ToString("D6", CultureInfo.InvariantCulture)),
            })
            {
                if (only is not null && !label.Contains(only, StringComparison.OrdinalIgnoreCase))
                {
                    continue;
                }

                var times = new List<double>();
                long bytes = 0;
                for (var i = 0; i <= repeat; i++)
                {
                    // Each request of a dashboard URL asks for another top, so that the charts are computed, not reused
                    // (the dashboard keeps unchanged charts); the "kept" line measures the reuse.
                    var asked = url.StartsWith("/api/v1/dashboard", StringComparison.Ordinal) && !label.Contains("kept", StringComparison.Ordinal)
                        ? url + (url.Contains('?', StringComparison.Ordinal) ? "&" : "?") + "top=" + (20 + i).ToString(CultureInfo.InvariantCulture)
                        : url;
                    var watch = Stopwatch.StartNew();
                    using var response = await client.GetAsync(asked);
                    var body = await response.Content.ReadAsByteArrayAsync();
                    var ms = watch.Elapsed.TotalMilliseconds;
                    if (!response.IsSuccessStatusCode)
                    {
                        Console.WriteLine($"{label}: HTTP {(int)response.StatusCode} {System.Text.Encoding.UTF8.GetString(body)}");
                        return 1;
                    }

                    bytes = body.Length;
                    if (i > 0)
                    {
                        times.Add(ms); // the first request warms the caches and the JIT
                    }
                }

                times.Sort();
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{label,-38} median {times[times.Count / 2],8:F1} ms  (min {times[0]:F1}, max {times[^1]:F1}; {bytes:N0} bytes)"));
            }

            // Where the dashboard's time goes: each report it runs, in process, on the same store.
            var reports = app.Services.GetRequiredService<SessionTrail.Server.Reports.ReportService>();
            foreach (var (label, run) in new (string, Func<object>)[]
            {
                ("  top-apps report", () => reports.Run("top-apps", SessionTrail.Server.Reports.ReportFilter.None)),
                ("  launches report", () => reports.Run("launches", SessionTrail.Server.Reports.ReportFilter.None)),
                ("  concurrency report", () => reports.Run("concurrency", SessionTrail.Server.Reports.ReportFilter.None)),
                ("  perDay", () => reports.PerDay(SessionTrail.Server.Reports.ReportFilter.None)),
                ("  peakConcurrency", () => reports.PeakConcurrency(SessionTrail.Server.Reports.ReportFilter.None, 10)),
            })
            {
                var times = new List<double>();
                for (var i = 0; i <= repeat; i++)
                {
                    var watch = Stopwatch.StartNew();
                    run();
                    times.Add(watch.Elapsed.TotalMilliseconds);
                }

                times.RemoveAt(0);
                times.Sort();
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{label,-38} median {times[times.Count / 2],8:F1} ms (unfiltered, no HTTP)"));
            }

            await app.StopAsync();
        }
        finally
        {
            SqliteConnection.ClearAllPools();
            if (keep is null)
            {
                Directory.Delete(dir, recursive: true);
            }
        }

        return 0;
    }

    private static void Generate(SqliteStore store, int sessions, int perSession)
    {
        var random = new Random(1);
        var t0 = T0.ToUnixTimeMilliseconds();
        var starts = new long[sessions];
        var ends = new long?[sessions];
        var users = new int[sessions];
        store.Write((connection, tx) =>
        {
            ReportBench.AddAppsAndUsers(connection, tx);
            using var cmd = connection.CreateCommand();
            cmd.Transaction = tx;
            cmd.Parameters.Clear();
            cmd.CommandText = """
                INSERT INTO sessions(id, host, user, stack, fleet, access_mode, instance_type, region, image_arn, start, end)
                VALUES($id, $host, $user, $stack, $fleet, 'userpool', 'stream.standard.medium', 'eu-west-1', 'arn:aws:appstream:eu-west-1::image/Base', $start, $end)
                """;
            var p = new[] { "$id", "$host", "$user", "$stack", "$fleet", "$start", "$end" }.Select(x => cmd.Parameters.Add(new SqliteParameter(x, null))).ToArray();
            for (var i = 0; i < sessions; i++)
            {
                starts[i] = t0 + (long)((double)i / sessions * Span) + random.Next(60_000);
                ends[i] = i >= sessions - (sessions / 100) ? null : starts[i] + random.Next(600_000, 36_000_000);
                users[i] = 1 + random.Next(2000);
                p[0].Value = "as2-" + i.ToString("D6", CultureInfo.InvariantCulture);
                p[1].Value = "host-" + random.Next(500).ToString(CultureInfo.InvariantCulture);
                p[2].Value = "user" + users[i].ToString(CultureInfo.InvariantCulture);
                p[3].Value = "stack-" + random.Next(10).ToString(CultureInfo.InvariantCulture);
                p[4].Value = "fleet-" + random.Next(20).ToString(CultureInfo.InvariantCulture);
                p[5].Value = starts[i];
                p[6].Value = ends[i] is { } e ? e : DBNull.Value;
                cmd.ExecuteNonQuery();
            }

            cmd.Parameters.Clear();
            cmd.CommandText = """
                INSERT INTO recording_segments(id, session, idx, time, host, start, end, width, height, fps, codec, bytes, sha256, prev_sha256, file)
                VALUES($id, $session, 0, $start, 'host', $start, $start + 300000, 1920, 1080, 5, 'h264', 1000, 'aa', NULL, '000000.mp4')
                """;
            var s = cmd.Parameters.Add("$session", SqliteType.Text);
            var segmentId = cmd.Parameters.Add("$id", SqliteType.Text);
            var segmentStart = cmd.Parameters.Add("$start", SqliteType.Integer);
            for (var i = 0; i < sessions; i += 10)
            {
                (s.Value, segmentId.Value, segmentStart.Value) = ("as2-" + i.ToString("D6", CultureInfo.InvariantCulture), "seg-" + i.ToString(CultureInfo.InvariantCulture), starts[i]);
                cmd.ExecuteNonQuery();
            }

            return 0;
        });

        const int Chunk = 20_000; // sessions per transaction
        for (var first = 0; first < sessions; first += Chunk)
        {
            var begin = first;
            store.Write((connection, tx) =>
            {
                using var cmd = connection.CreateCommand();
                cmd.Transaction = tx;
                cmd.CommandText = """
                    INSERT INTO runs(start_seq, exit_seq, app_id, user_id, host, pid, session, start, end, ended_by)
                    VALUES($seq, $exit, $app, $user, 'host', $pid, $session, $start, $end, $endedBy)
                    """;
                var p = new[] { "$seq", "$exit", "$app", "$user", "$pid", "$session", "$start", "$end", "$endedBy" }
                    .Select(x => cmd.Parameters.Add(new SqliteParameter(x, null))).ToArray();
                for (var i = begin; i < Math.Min(sessions, begin + Chunk); i++)
                {
                    var sessionEnd = ends[i] ?? (starts[i] + 36_000_000);
                    for (var k = 0; k < perSession; k++)
                    {
                        var seq = ((long)i * perSession) + k + 1;
                        var start = starts[i] + (long)(random.NextDouble() * (sessionEnd - starts[i]));
                        var exits = random.Next(10) < 8;
                        long? end = exits ? Math.Min(sessionEnd, start + random.Next(1_000, 7_200_000)) : ends[i];
                        p[0].Value = seq;
                        p[1].Value = exits ? seq : DBNull.Value;
                        p[2].Value = 1 + (int)(200 * Math.Pow(random.NextDouble(), 2));
                        p[3].Value = users[i];
                        p[4].Value = (int)(seq % 32768);
                        p[5].Value = "as2-" + i.ToString("D6", CultureInfo.InvariantCulture);
                        p[6].Value = start;
                        p[7].Value = end is { } e ? e : DBNull.Value;
                        p[8].Value = exits ? 1 : end is null ? 0 : 2;
                        cmd.ExecuteNonQuery();
                    }
                }

                return 0;
            });
        }
    }

    private static void IngestLogs(SqliteStore store, int count, int sessions)
    {
        var random = new Random(2);
        var words = Enumerable.Range(0, 2000).Select(i => "w" + i.ToString(CultureInfo.InvariantCulture)).ToArray();
        var batch = new List<TrailRecord>(5000);
        for (var i = 0; i < count; i++)
        {
            var session = random.Next(sessions);
            batch.Add(new LogRecord
            {
                Id = "l:" + i.ToString(CultureInfo.InvariantCulture),
                Time = T0.AddMilliseconds((double)i / count * Span),
                Host = "host-" + (session % 500).ToString(CultureInfo.InvariantCulture),
                Session = "as2-" + session.ToString("D6", CultureInfo.InvariantCulture),
                Source = i % 3 == 0 ? "journal" : "winlog",
                Channel = "Application",
                Provider = "Prov" + (i % 20).ToString(CultureInfo.InvariantCulture),
                EventId = i % 50,
                Level = i % 10 == 0 ? "Error" : "Information",
                Message = string.Join(' ', Enumerable.Range(0, 10).Select(_ => words[(int)Math.Min(1999, random.NextDouble() * random.NextDouble() * 2000)])),
            });
            if (batch.Count == 5000 || i == count - 1)
            {
                store.Ingest(batch);
                batch.Clear();
            }
        }
    }
}
