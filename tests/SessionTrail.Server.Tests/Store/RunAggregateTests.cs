using System.Text.Json;
using SessionTrail.Core.Records;
using SessionTrail.Server.Reports;
using SessionTrail.Server.Store;

namespace SessionTrail.Server.Tests.Store;

/// <summary>
/// The per (app, user) run aggregates (schema 9) against the runs they summarise. Random fleets — pid reuse, late and
/// missing exits, runs over midnight and month ends, sessions that end (some twice, later), users known only from a
/// session start that arrives after the runs, runs that start after "now", duplicate deliveries — arrive shuffled in
/// random batches. After every few batches the table must equal the same sums and maxima computed from the runs, and
/// every report the aggregates answer must equal the same report read from the runs (ReportService with aggregates off:
/// the SQL the reports used before schema 9), for several values of now, with and without a user filter.
/// </summary>
public sealed class RunAggregateTests
{
    private const string PairsFromRuns =
        """
        SELECT app_id, COALESCE(user_id, 0), COUNT(*), MAX(start), SUM(CASE WHEN end IS NULL THEN 0 ELSE MAX(0, end - start) END),
               MAX(end), SUM(end IS NULL), SUM(CASE WHEN end IS NULL THEN start ELSE 0 END)
        FROM runs GROUP BY app_id, COALESCE(user_id, 0) ORDER BY 1, 2
        """;

    private const string Pairs = "SELECT * FROM user_app ORDER BY 1, 2";

    private const string AppsFromRuns =
        """
        SELECT app_id, COUNT(*), SUM(CASE WHEN end IS NULL THEN 0 ELSE MAX(0, end - start) END), SUM(end IS NULL),
               SUM(CASE WHEN end IS NULL THEN start ELSE 0 END), COUNT(DISTINCT user_id)
        FROM runs GROUP BY app_id ORDER BY 1
        """;

    // The runs' sums per (UTC day | month of their start, app, user), as user_app_day and user_app_month must hold them.
    private const string DaysFromRuns =
        """
        SELECT CAST(strftime('%s', date(start / 1000, 'unixepoch')) AS INTEGER) / 86400, app_id, COALESCE(user_id, 0), COUNT(*),
               SUM(CASE WHEN end IS NULL THEN 0 ELSE MAX(0, end - start) END), SUM(end IS NULL), SUM(CASE WHEN end IS NULL THEN start ELSE 0 END)
        FROM runs GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
        """;

    private const string MonthsFromRuns =
        """
        SELECT CAST(strftime('%Y', start / 1000, 'unixepoch') AS INTEGER) * 12 + CAST(strftime('%m', start / 1000, 'unixepoch') AS INTEGER) - 1,
               app_id, COALESCE(user_id, 0), COUNT(*),
               SUM(CASE WHEN end IS NULL THEN 0 ELSE MAX(0, end - start) END), SUM(end IS NULL), SUM(CASE WHEN end IS NULL THEN start ELSE 0 END)
        FROM runs GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
        """;

    private const string UserDaysFromRuns =
        """
        SELECT CAST(strftime('%s', date(start / 1000, 'unixepoch')) AS INTEGER) / 86400, COALESCE(user_id, 0), COUNT(*),
               SUM(CASE WHEN end IS NULL THEN 0 ELSE MAX(0, end - start) END), SUM(end IS NULL), SUM(CASE WHEN end IS NULL THEN start ELSE 0 END)
        FROM runs GROUP BY 1, 2 ORDER BY 1, 2
        """;

    public static TheoryData<int> Seeds => [.. Enumerable.Range(1, 12)];

    [Theory]
    [MemberData(nameof(Seeds))]
    public void TheAggregatesAndEveryReportTheyAnswerEqualTheRunsForAnyArrivalOrderAndBatching(int seed)
    {
        var random = new Random(seed);
        var history = History(random);
        var arrival = history.OrderBy(_ => random.Next()).ToList();
        arrival.AddRange(arrival.Where(_ => random.Next(10) == 0).ToList()); // some sent twice
        using var store = new StoreFixture();
        var checks = 0;
        for (var i = 0; i < arrival.Count;)
        {
            var n = Math.Min(arrival.Count - i, 1 + random.Next(25));
            store.Ingest([.. arrival.Skip(i).Take(n)]);
            i += n;
            if (random.Next(6) == 0 || i == arrival.Count)
            {
                AssertExact(store.Store, random);
                checks++;
            }
        }

        Assert.True(checks >= 2);
        Assert.True(Rows(store.Store, Pairs).Count >= 8, "the fleet should make several (app, user) pairs");
    }

    [Fact]
    public void TheReportsReadTheAggregates()
    {
        // Guards the test above: were the reports reading the runs, it would compare the runs with themselves.
        using var store = new StoreFixture();
        store.Ingest(R.Start("a", 1, 0), R.Exit("b", 1, 30), R.Start("c", 2, 10, exe: "/usr/bin/top"));
        Assert.Equal(["/usr/bin/top 1", "/usr/bin/vim 1"], store.Report<LaunchRow>("launches").Select(r => $"{r.App} {r.Launches}"));
        store.Store.Write((connection, tx) =>
        {
            using var cmd = connection.CreateCommand();
            cmd.Transaction = tx;
            cmd.CommandText = """
                UPDATE app_total SET runs = 7 WHERE app_id = (SELECT id FROM apps WHERE path = '/usr/bin/top');
                UPDATE user_app SET runs = 5 WHERE app_id = (SELECT id FROM apps WHERE path = '/usr/bin/top');
                """;
            return cmd.ExecuteNonQuery();
        });
        Assert.Equal(["/usr/bin/top 7", "/usr/bin/vim 1"], store.Report<LaunchRow>("launches").Select(r => $"{r.App} {r.Launches}"));
        Assert.Equal(["/usr/bin/top 5", "/usr/bin/vim 1"], store.Report<LaunchRow>("launches", new ReportFilter(User: "alice")).Select(r => $"{r.App} {r.Launches}"));
        Assert.Equal(["alice /usr/bin/vim 1", "alice /usr/bin/top 5"], store.Report<LastUsedRow>("last-used").Select(r => $"{r.User} {r.App} {r.Runs}"));
        Assert.Equal(["/usr/bin/top 1", "/usr/bin/vim 1"], store.Report<LaunchRow>("launches", new ReportFilter(From: R.At(-60))).Select(r => $"{r.App} {r.Launches}"));

        // A window holding a whole day reads that day's sums; one holding a whole month, the month's.
        var november = new ReportFilter(new DateTimeOffset(2026, 11, 1, 0, 0, 0, TimeSpan.Zero), new DateTimeOffset(2026, 12, 1, 0, 0, 0, TimeSpan.Zero));
        var aDay = new ReportFilter(new DateTimeOffset(2026, 10, 31, 12, 0, 0, TimeSpan.Zero), new DateTimeOffset(2026, 11, 2, 12, 0, 0, TimeSpan.Zero));
        store.Store.Write((connection, tx) =>
        {
            using var cmd = connection.CreateCommand();
            cmd.Transaction = tx;
            cmd.CommandText = """
                UPDATE user_app_day SET runs = 4, closed_ms = 3600000 WHERE app_id = (SELECT id FROM apps WHERE path = '/usr/bin/top');
                UPDATE user_app_month SET runs = 9 WHERE app_id = (SELECT id FROM apps WHERE path = '/usr/bin/top');
                """;
            return cmd.ExecuteNonQuery();
        });
        Assert.Equal(["/usr/bin/top 9", "/usr/bin/vim 1"], store.Report<LaunchRow>("launches", november).Select(r => $"{r.App} {r.Launches}"));
        Assert.Equal(["/usr/bin/top 4", "/usr/bin/vim 1"], store.Report<LaunchRow>("launches", aDay).Select(r => $"{r.App} {r.Launches}"));
        Assert.Equal(["/usr/bin/top 4"], store.Report<TopAppRow>("top-apps", aDay).Take(1).Select(r => $"{r.App} {r.Runs}"));

        // The sessions report reads each session's runs from session_runs.
        store.Ingest(R.Start("e", 7, 40, session: "s9"), R.Start("f", 8, 41, session: "s9"));
        Assert.Equal(["s9 2"], store.Report<SessionRow>("sessions").Select(r => $"{r.Session} {r.Runs}"));
        store.Store.Write((connection, tx) =>
        {
            using var cmd = connection.CreateCommand();
            cmd.Transaction = tx;
            cmd.CommandText = "UPDATE session_runs SET runs = 42 WHERE session = 's9'";
            return cmd.ExecuteNonQuery();
        });
        Assert.Equal(["s9 42"], store.Report<SessionRow>("sessions").Select(r => $"{r.Session} {r.Runs}"));
    }

    [Fact]
    public void AStoreWrittenBeforeSchema9IsBackFilledWhenOpenedAndTheReportsReadTheRunsUntilThen()
    {
        using var current = new TempDataDir();
        using (var store = SqliteStore.Open(current.Path))
        {
            store.Ingest([R.Start("a", 1, 0), R.Exit("b", 1, 30), R.Start("c", 2, 10, exe: "/usr/bin/top", user: null), R.Start("d", 3, 20, user: "bob", session: "s1")]);
        }

        // A store as schema 8 left it, holding those runs.
        using var dir = new TempDataDir();
        using (var old = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={Core.DataDirectory.DatabasePath(dir.Path)};Pooling=False"))
        {
            old.Open();
            SqliteStore.Execute(
                old,
                string.Concat(Enumerable.Range(1, 8).Select(Schema.MigrationSql)) + "PRAGMA user_version = 8;" +
                $"ATTACH '{Core.DataDirectory.DatabasePath(current.Path)}' AS current;" +
                "INSERT INTO apps SELECT * FROM current.apps; INSERT INTO users SELECT * FROM current.users; INSERT INTO runs SELECT * FROM current.runs;");
        }

        var progress = new List<string>();
        using (var store = SqliteStore.Open(dir.Path, progress.Add))
        {
            Assert.Equal(Rows(store, PairsFromRuns), Rows(store, Pairs));
            Assert.Equal(3, Rows(store, Pairs).Count);
            Assert.Equal([$"s1 1 {R.At(20).ToUnixTimeMilliseconds()}"], Rows(store, "SELECT * FROM session_runs"));
        }

        Assert.Equal("back-filling the run aggregates: 3 runs", progress[0]);
        Assert.StartsWith("back-filled the run aggregates: 3 runs in ", progress[^1], StringComparison.Ordinal);

        // Interrupted: the pending row is still there (a back-fill stopped half-way); reports read the runs meanwhile.
        using (var old = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={Core.DataDirectory.DatabasePath(dir.Path)};Pooling=False"))
        {
            old.Open();
            SqliteStore.Execute(old, "DELETE FROM user_app WHERE app_id > 1; DELETE FROM app_total WHERE app_id > 1; DELETE FROM user_app_day WHERE app_id > 1; DELETE FROM user_app_month WHERE app_id > 1; DELETE FROM user_day; INSERT INTO user_day SELECT day, user_id, SUM(runs), SUM(closed_ms), SUM(open_runs), SUM(open_start_sum) FROM user_app_day GROUP BY 1, 2; INSERT INTO aggregates_pending VALUES(2);");
        }

        using (var reader = SqliteStore.OpenReadOnly(dir.Path))
        {
            var launches = new ReportService(reader, new FixedClock(R.At(60))).Run("launches", ReportFilter.None).Rows.Cast<LaunchRow>();
            Assert.Equal(["/usr/bin/vim 2", "/usr/bin/top 1"], launches.Select(r => $"{r.App} {r.Launches}"));
        }

        using (var store = SqliteStore.Open(dir.Path))
        {
            Assert.Equal(Rows(store, PairsFromRuns), Rows(store, Pairs));
            Assert.Equal(Rows(store, DaysFromRuns), Rows(store, "SELECT * FROM user_app_day ORDER BY 1, 2, 3"));
            Assert.Equal(Rows(store, MonthsFromRuns), Rows(store, "SELECT * FROM user_app_month ORDER BY 1, 2, 3"));
            Assert.Equal(Rows(store, UserDaysFromRuns), Rows(store, "SELECT * FROM user_day ORDER BY 1, 2"));
        }
    }

    private static void AssertExact(SqliteStore store, Random random)
    {
        Assert.Equal(Rows(store, PairsFromRuns), Rows(store, Pairs));
        Assert.Equal(Rows(store, AppsFromRuns), Rows(store, "SELECT * FROM app_total ORDER BY 1"));
        Assert.Equal(Rows(store, DaysFromRuns), Rows(store, "SELECT * FROM user_app_day ORDER BY 1, 2, 3"));
        Assert.Equal(Rows(store, MonthsFromRuns), Rows(store, "SELECT * FROM user_app_month ORDER BY 1, 2, 3"));
        Assert.Equal(Rows(store, UserDaysFromRuns), Rows(store, "SELECT * FROM user_day ORDER BY 1, 2"));
        Assert.Equal(
            Rows(store, "SELECT session, COUNT(*), MIN(start) FROM runs WHERE session IS NOT NULL GROUP BY session ORDER BY 1"),
            Rows(store, "SELECT * FROM session_runs ORDER BY 1"));
        var users = new[] { null, "u0", "u1", "nobody" };
        foreach (var minutes in new[] { 0.0, 2 * 24 * 60, 20 * 24 * 60, random.Next(40 * 24 * 60), (45 * 24 * 60) + random.Next(600) })
        {
            var clock = new FixedClock(R.At(minutes));
            var fromAggregates = new ReportService(store, clock, int.MaxValue);
            var fromRuns = new ReportService(store, clock, int.MaxValue, aggregates: false);
            foreach (var user in users)
            {
                var filter = new ReportFilter(User: user);
                foreach (var name in new[] { "top-apps", "launches", "last-used", "sessions" })
                {
                    Assert.Equal(Text(fromRuns.Run(name, filter)), Text(fromAggregates.Run(name, filter)));
                }

                foreach (var days in new[] { 1, 3, 10 })
                {
                    var inactive = filter with { Days = days };
                    Assert.Equal(Text(fromRuns.Run("inactive", inactive)), Text(fromAggregates.Run("inactive", inactive)));
                }

                foreach (var name in new[] { "top-apps", "launches" })
                {
                    Assert.Equal(Text(fromRuns.First(name, filter, 2)), Text(fromAggregates.First(name, filter, 2)));
                }
            }

            foreach (var (from, to) in Windows(random).Prepend((null, null)))
            {
                var filter = new ReportFilter(from, to);
                foreach (var name in new[] { "top-apps", "launches", "per-day", "per-day u1", "sessions" })
                {
                    var (oracle, ours) = name switch
                    {
                        "per-day" => (fromRuns.PerDay(filter), fromAggregates.PerDay(filter)),
                        "per-day u1" => (fromRuns.PerDay(filter with { User = "u1" }), fromAggregates.PerDay(filter with { User = "u1" })),
                        _ => (fromRuns.Run(name, filter), fromAggregates.Run(name, filter)),
                    };
                    Assert.True(Text(oracle) == Text(ours), $"{name} from {from:O} to {to:O}, now {clock.GetUtcNow():O}:\n{Text(oracle)}\n{Text(ours)}");
                }
            }
        }
    }

    /// <summary>
    /// Windows over the fleet's ~40 days from 2026-11-01 (a month end inside): whole months and days, partial days at either
    /// edge, one end open — each with a whole month or at most WholePeriods.MostDays whole days outside months, which the
    /// aggregates answer, and as many past it and with no whole day, which the runs answer — and random ones.
    /// </summary>
    private static IEnumerable<(DateTimeOffset? From, DateTimeOffset? To)> Windows(Random random)
    {
        DateTimeOffset Day(double d) => new DateTimeOffset(2026, 11, 1, 0, 0, 0, TimeSpan.Zero).AddDays(d); // from midnight, UTC
        yield return (Day(0), Day(30));                   // November, whole
        yield return (Day(-1), Day(31));                  // a whole month and a whole day on either side
        yield return (Day(-0.5), Day(31.75));             // the same with partial days at both edges
        yield return (Day(4), Day(11));                   // 7 whole days, no whole month
        yield return (Day(3.44), Day(9.125));             // 5 whole days and partial ones at both edges
        yield return (Day(27.2), null);                   // 3 whole days, then every month on
        yield return (null, Day(32.3));                   // every month before December, 2 whole days and a partial one
        yield return (Day(19.44), Day(34.125));           // past MostDays: the runs answer
        yield return (Day(3.04), Day(3.6));               // inside one day: the runs answer
        for (var i = 0; i < 4; i++)
        {
            var from = Day(random.Next(-2 * 24 * 60, 42 * 24 * 60) / (24.0 * 60));
            yield return (from, from.AddMinutes(random.Next(10, 9 * 24 * 60)));
        }
    }

    private static string Text(ReportTable table) => JsonSerializer.Serialize(table.RowsAsObjects);

    /// <summary>
    /// 3 hosts × 4 pids over ~40 days from T0 (2026-11-01, so runs cross the end of November): runs of minutes to days,
    /// pid reuse, a fifth without an exit, users from the process, from the session, or none; sessions that end, some twice.
    /// </summary>
    private static List<TrailRecord> History(Random random)
    {
        var records = new List<TrailRecord>();
        var id = 0;
        string[] sessions = ["s0", "s1", "s2", "s3"];
        for (var s = 0; s < sessions.Length; s++)
        {
            if (random.Next(4) > 0)
            {
                records.Add(R.SessionStart($"ss{s}", sessions[s], random.Next(60), user: "u" + s));
            }

            for (var e = random.Next(3); e > 0; e--)
            {
                records.Add(R.SessionEnd($"se{s}.{e}", sessions[s], random.Next(40 * 24 * 60)));
            }
        }

        // A rarely used app: one run in the first days, one weeks later (inactive before the second, then not).
        var rare = random.Next(3 * 24 * 60);
        var late = (25 * 24 * 60) + random.Next(10 * 24 * 60);
        records.AddRange([R.Start("rare1", 99, rare, exe: "/opt/rare", user: "u1", host: "h9"), R.Exit("rare2", 99, rare + 30, host: "h9")]);
        records.AddRange([R.Start("rare3", 99, late, exe: "/opt/rare", user: "u1", host: "h9"), R.Exit("rare4", 99, late + 30, host: "h9")]);

        foreach (var host in new[] { "h1", "h2", "h3" })
        {
            for (var pid = 1; pid <= 4; pid++)
            {
                double t = random.Next(600);
                while (t < 40 * 24 * 60)
                {
                    var session = random.Next(4) == 0 ? null : sessions[random.Next(sessions.Length)];
                    var user = random.Next(3) == 0 ? null : "u" + random.Next(4);
                    records.Add(R.Start($"e{id++}", pid, t, exe: "/usr/bin/app" + random.Next(4), user: user, session: session, host: host));
                    var length = random.Next(5) == 0 ? random.Next(3 * 24 * 60) : random.Next(240);
                    if (random.Next(5) > 0)
                    {
                        records.Add(R.Exit($"e{id++}", pid, t + length, host: host));
                    }

                    t += length + random.Next(2) + random.Next(24 * 60);
                }
            }
        }

        return records;
    }

    private static List<string> Rows(SqliteStore store, string sql)
    {
        using var connection = store.OpenConnection();
        using var cmd = connection.CreateCommand();
        cmd.CommandText = sql;
        using var reader = cmd.ExecuteReader();
        var rows = new List<string>();
        while (reader.Read())
        {
            rows.Add(string.Join(" ", Enumerable.Range(0, reader.FieldCount).Select(i => reader.IsDBNull(i) ? "null" : reader.GetValue(i).ToString())));
        }

        return rows;
    }
}
