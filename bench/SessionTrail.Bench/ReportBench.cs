using System.Diagnostics;
using System.Globalization;
using SessionTrail.Server.Reports;
using SessionTrail.Server.Store;

namespace SessionTrail.Bench;

/// <summary>
/// Report speed over a large store. Generates runs straight into the runs/apps/users/sessions tables
/// (bulk path, bypassing HTTP and pairing): 200 apps, 2,000 users, 50 hosts, 90 days; 3% open,
/// 10% ended by their session. Usage: bench reports [--runs 1000000] [--also-10m] [--repeat 5]
/// Prints the median time of each report (the `runs` report materializes every row; skipped above 2 M). The reports run
/// without a row cap (so that the figures stay comparable); the "(cap)" lines run with the default cap of
/// <see cref="ReportService.DefaultMaxRows"/> rows and time the error, and "peakConcurrency" is the dashboard's chart.
/// </summary>
public static class ReportBench
{
    public static async Task<int> RunAsync(string[] args)
    {
        var sizes = new List<int> { IngestBench.Arg(args, "--runs", 1_000_000) };
        if (args.Contains("--also-10m"))
        {
            sizes.Add(10_000_000);
        }

        var repeat = IngestBench.Arg(args, "--repeat", 5);
        foreach (var size in sizes)
        {
            var dir = Path.Combine(Path.GetTempPath(), "st-bench-reports-" + Guid.NewGuid().ToString("N"));
            try
            {
                using var store = SqliteStore.Open(dir);
                var load = Stopwatch.StartNew();
                Generate(store, size);
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{size:N0} runs generated in {load.Elapsed.TotalSeconds:F1} s"));
                var backFill = Stopwatch.StartNew();
                store.RebuildAggregates();
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{size:N0} runs  aggregates back-filled in {backFill.Elapsed.TotalSeconds:F1} s; {Sizes(store, size)}"));
                using var duck = args.Contains("--no-duckdb") ? null : LoadPeer(store, size);
                var reports = new ReportService(store, new FixedNow(), int.MaxValue);
                var fromRuns = new ReportService(store, new FixedNow(), int.MaxValue, aggregates: false);
                var now = new FixedNow().GetUtcNow().ToUnixTimeMilliseconds();
                var capped = new ReportService(store, new FixedNow());
                var month = new ReportFilter(new DateTimeOffset(2026, 9, 1, 0, 0, 0, TimeSpan.Zero), new DateTimeOffset(2026, 10, 1, 0, 0, 0, TimeSpan.Zero));
                foreach (var (label, name, filter) in new (string, string, ReportFilter)[]
                {
                    ("top-apps", "top-apps", ReportFilter.None),
                    ("top-apps (one month)", "top-apps", month),
                    ("top-apps (35 days)", "top-apps", new ReportFilter(new DateTimeOffset(2026, 9, 15, 12, 0, 0, TimeSpan.Zero), new DateTimeOffset(2026, 10, 20, 18, 0, 0, TimeSpan.Zero))),
                    ("top-apps (one day)", "top-apps", new ReportFilter(new DateTimeOffset(2026, 9, 15, 0, 0, 0, TimeSpan.Zero), new DateTimeOffset(2026, 9, 16, 0, 0, 0, TimeSpan.Zero))),
                    ("top-apps (one user)", "top-apps", new ReportFilter(User: "user42")),
                    ("launches", "launches", ReportFilter.None),
                    ("launches (one month)", "launches", month),
                    ("concurrency", "concurrency", ReportFilter.None),
                    ("last-used", "last-used", ReportFilter.None),
                    ("last-used (one user)", "last-used", new ReportFilter(User: "user42")),
                    ("inactive (30 days)", "inactive", new ReportFilter(Days: 30)),
                    ("sessions", "sessions", ReportFilter.None),
                    ("runs (one user)", "runs", new ReportFilter(User: "user42")),
                    ("runs (all rows)", "runs", ReportFilter.None),
                })
                {
                    if (name == "runs" && filter.User is null && size > 2_000_000)
                    {
                        Console.WriteLine($"{size:N0} runs  {label,-22} skipped (every row in memory)");
                        continue;
                    }

                    var rounds = name == "runs" && filter.User is null ? Math.Min(repeat, 3) : repeat;
                    var peerSql = DuckDbPeer.Sql(name, filter.User, now, filter.Days ?? 0, filter.From?.ToUnixTimeMilliseconds(), filter.To?.ToUnixTimeMilliseconds());
                    if (peerSql is null)
                    {
                        Time(size, label, rounds, () => $"{reports.Run(name, filter).Rows.Count:N0} rows");
                        continue;
                    }

                    // Side by side, alternating: the aggregates, the same report from the runs (as before schema 9), DuckDB on the runs.
                    var medians = Medians(
                        rounds,
                        () => reports.Run(name, filter).Rows.Count,
                        () => fromRuns.Run(name, filter).Rows.Count,
                        () => duck?.Rows(peerSql) ?? -1);
                    Console.WriteLine(string.Create(
                        CultureInfo.InvariantCulture,
                        $"{size:N0} runs  {label,-22} median {medians[0].Ms,8:F1} ms  ({medians[0].Rows:N0} rows)  from runs {medians[1].Ms,8:F0} ms  duckdb {(duck is null ? "-" : $"{medians[2].Ms:F0} ms ({medians[2].Rows:N0} rows)")}  ours/duckdb {(duck is null ? "-" : $"{medians[0].Ms / medians[2].Ms:F3}")}"));
                }

                Time(size, "peakConcurrency", repeat, () => $"{reports.PeakConcurrency(ReportFilter.None, 10).Rows.Count:N0} rows");
                foreach (var name in new[] { "runs", "last-used" })
                {
                    Time(size, name + " (cap)", repeat, () =>
                    {
                        try
                        {
                            return $"{capped.Run(name, ReportFilter.None).Rows.Count:N0} rows";
                        }
                        catch (ReportTooLargeException e)
                        {
                            return $"error: {e.Rows:N0} rows past the cap";
                        }
                    });
                }
            }
            finally
            {
                Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
                Directory.Delete(dir, recursive: true);
            }
        }

        await Task.CompletedTask;
        return 0;
    }

    /// <summary>Each of <paramref name="runs"/> <paramref name="repeat"/> times, alternating: per one, the median time and the rows it answered.</summary>
    private static (double Ms, int Rows)[] Medians(int repeat, params Func<int>[] runs)
    {
        var times = runs.Select(_ => new List<double>()).ToArray();
        var rows = new int[runs.Length];
        for (var i = 0; i < repeat; i++)
        {
            for (var k = 0; k < runs.Length; k++)
            {
                var watch = Stopwatch.StartNew();
                rows[k] = runs[k]();
                times[k].Add(watch.Elapsed.TotalMilliseconds);
            }
        }

        return [.. times.Select((t, k) => (t.Order().ElementAt(t.Count / 2), rows[k]))];
    }

    private static DuckDbPeer LoadPeer(SqliteStore store, int size)
    {
        var watch = Stopwatch.StartNew();
        var peer = DuckDbPeer.Load(store);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{size:N0} runs  copied into DuckDB (in memory) in {watch.Elapsed.TotalSeconds:F1} s"));
        return peer;
    }

    /// <summary>The database's size per million runs, and the aggregates' share of it (SQLite's dbstat).</summary>
    private static string Sizes(SqliteStore store, int runs)
    {
        using var connection = store.OpenConnection();
        using var cmd = connection.CreateCommand();
        cmd.CommandText = "PRAGMA wal_checkpoint(TRUNCATE)";
        cmd.ExecuteNonQuery();
        cmd.CommandText = "SELECT name, SUM(pgsize) FROM dbstat WHERE name IN ('runs', 'runs_app', 'runs_day', 'runs_session', 'runs_long', 'user_app', 'user_app_day', 'user_app_month') GROUP BY name";
        var parts = new List<string>();
        try
        {
            using var reader = cmd.ExecuteReader();
            while (reader.Read())
            {
                parts.Add(string.Create(CultureInfo.InvariantCulture, $"{reader.GetString(0)} {reader.GetInt64(1) / 1e6 * 1e6 / runs:F1} MB/M runs"));
            }
        }
        catch (Microsoft.Data.Sqlite.SqliteException e)
        {
            parts.Add("dbstat: " + e.Message);
        }

        var file = new FileInfo(store.DatabasePath).Length;
        return string.Create(CultureInfo.InvariantCulture, $"database {file / 1e6 * 1e6 / runs:F1} MB per million runs ({string.Join(", ", parts)})");
    }

    /// <summary>Runs <paramref name="report"/> <paramref name="repeat"/> times and prints the median and what the last run answered.</summary>
    private static void Time(int size, string label, int repeat, Func<string> report)
    {
        var times = new List<double>();
        var answer = "";
        for (var i = 0; i < repeat; i++)
        {
            var watch = Stopwatch.StartNew();
            answer = report();
            times.Add(watch.Elapsed.TotalMilliseconds);
        }

        times.Sort();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{size:N0} runs  {label,-22} median {times[times.Count / 2],8:F0} ms  ({answer})"));
    }

    private static void Generate(SqliteStore store, int count)
    {
        var t0 = new DateTimeOffset(2026, 8, 1, 0, 0, 0, TimeSpan.Zero).ToUnixTimeMilliseconds();
        const long Span = 90L * 86_400_000;
        store.Write((connection, tx) =>
        {
            AddAppsAndUsers(connection, tx);
            using var cmd = connection.CreateCommand();
            cmd.Transaction = tx;
            var id = cmd.Parameters.Add("$id", Microsoft.Data.Sqlite.SqliteType.Integer);
            var name = cmd.Parameters.Add("$name", Microsoft.Data.Sqlite.SqliteType.Text);
            cmd.CommandText = "INSERT INTO sessions(id, host, user, start, end) VALUES($name, 'host', 'user', $id, $id + 28800000)";
            for (var i = 0; i < 20_000; i++)
            {
                (id.Value, name.Value) = (t0 + (i * (Span / 20_000)), $"session-{i}");
                cmd.ExecuteNonQuery();
            }

            return 0;
        });

        var random = new Random(1);
        const int Chunk = 200_000;
        for (var done = 0; done < count; done += Chunk)
        {
            var n = Math.Min(Chunk, count - done);
            store.Write((connection, tx) =>
            {
                using var cmd = connection.CreateCommand();
                cmd.Transaction = tx;
                cmd.CommandText = """
                    INSERT INTO runs(start_seq, exit_seq, app_id, user_id, host, pid, session, start, end, ended_by)
                    VALUES($seq, $exit, $app, $user, $host, $pid, $session, $start, $end, $endedBy)
                    """;
                var p = new[] { "$seq", "$exit", "$app", "$user", "$host", "$pid", "$session", "$start", "$end", "$endedBy" }
                    .Select(x => cmd.Parameters.Add(new Microsoft.Data.Sqlite.SqliteParameter(x, null))).ToArray();
                for (var i = 0; i < n; i++)
                {
                    var seq = done + i + 1L;
                    var start = t0 + (long)(random.NextDouble() * Span);
                    var kind = random.Next(100);
                    var end = kind < 3 ? (long?)null : start + random.Next(1_000, 7_200_000);
                    var app = 1 + (int)(200 * Math.Pow(random.NextDouble(), 2)); // a few apps are used a lot
                    p[0].Value = seq;
                    p[1].Value = kind >= 13 ? seq * 2 : DBNull.Value;
                    p[2].Value = app;
                    p[3].Value = 1 + random.Next(2000);
                    p[4].Value = "host-" + (seq % 50).ToString(CultureInfo.InvariantCulture);
                    p[5].Value = (int)(seq % 32768);
                    p[6].Value = "session-" + ((start - t0) / (Span / 20_000)).ToString(CultureInfo.InvariantCulture);
                    p[7].Value = start;
                    p[8].Value = end is { } e ? e : DBNull.Value;
                    p[9].Value = end is null ? 0 : kind < 13 ? 2 : 1;
                    cmd.ExecuteNonQuery();
                }

                return 0;
            });
        }

        using var analyze = store.OpenConnection();
        using var cmd = analyze.CreateCommand();
        cmd.CommandText = "ANALYZE";
        cmd.ExecuteNonQuery();
    }

    /// <summary>200 apps (ids 1–200, a few vendors) and 2,000 users (ids 1–2000, "user1" …), shared with <see cref="UiApiBench"/>.</summary>
    internal static void AddAppsAndUsers(Microsoft.Data.Sqlite.SqliteConnection connection, Microsoft.Data.Sqlite.SqliteTransaction tx)
    {
        using var cmd = connection.CreateCommand();
        cmd.Transaction = tx;
        cmd.CommandText = "INSERT INTO apps(id, path) VALUES($id, $name)";
        var id = cmd.Parameters.Add("$id", Microsoft.Data.Sqlite.SqliteType.Integer);
        var name = cmd.Parameters.Add("$name", Microsoft.Data.Sqlite.SqliteType.Text);
        for (var i = 1; i <= 200; i++)
        {
            (id.Value, name.Value) = (i, $"C:\\Program Files\\Vendor{i % 17}\\app{i}.exe");
            cmd.ExecuteNonQuery();
        }

        cmd.CommandText = "INSERT INTO users(id, name) VALUES($id, $name)";
        for (var i = 1; i <= 2000; i++)
        {
            (id.Value, name.Value) = (i, $"user{i}");
            cmd.ExecuteNonQuery();
        }
    }

    /// <summary>"Now" fixed just after the generated data, so open runs have stable lengths.</summary>
    private sealed class FixedNow : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => new(2026, 11, 1, 0, 0, 0, TimeSpan.Zero);
    }
}
