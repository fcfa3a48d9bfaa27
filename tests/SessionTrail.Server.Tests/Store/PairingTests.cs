using SessionTrail.Core.Records;
using SessionTrail.Server.Reports;
using SessionTrail.Server.Store;

namespace SessionTrail.Server.Tests.Store;

public sealed class PairingTests
{
    private static string Summary(IEnumerable<RunRow> runs) =>
        string.Join("; ", runs.Select(r => $"{r.Host}/{r.Pid}@{r.Start[11..16]}-{r.End?[11..16] ?? "…"}:{r.EndedBy}"));

    [Fact]
    public void AStartIsPairedWithItsExit()
    {
        using var s = new StoreFixture();
        s.Ingest(R.Start("a", 10, 0), R.Exit("b", 10, 5));

        var run = Assert.Single(s.Runs());
        Assert.Equal((R.Iso(0), R.Iso(5), 300.0, "exit"), (run.Start, run.End, run.Seconds, run.EndedBy));
    }

    [Fact]
    public void AReusedPidStartsANewRun()
    {
        using var s = new StoreFixture();
        s.Ingest(R.Start("a", 10, 0), R.Exit("b", 10, 5), R.Start("c", 10, 6, "/usr/bin/less"), R.Exit("d", 10, 9));

        Assert.Equal("h1/10@08:00-08:05:exit; h1/10@08:06-08:09:exit", Summary(s.Runs()));
        Assert.Equal("/usr/bin/less", s.Runs()[1].App);
    }

    [Fact]
    public void RecordsArrivingInAnyOrderGiveTheSameRuns()
    {
        TrailRecord[] records = [R.Start("a", 10, 0), R.Exit("b", 10, 5), R.Start("c", 10, 6), R.Exit("d", 10, 9), R.Start("e", 10, 12)];
        const string Expected = "h1/10@08:00-08:05:exit; h1/10@08:06-08:09:exit; h1/10@08:12-…:open";
        foreach (var order in Permutations(records))
        {
            using var oneBatch = new StoreFixture();
            oneBatch.Ingest(order.ToArray());
            Assert.Equal(Expected, Summary(oneBatch.Runs()));

            using var oneByOne = new StoreFixture();
            foreach (var record in order)
            {
                oneByOne.Ingest(record);
            }

            Assert.Equal(Expected, Summary(oneByOne.Runs()));
        }
    }

    [Fact]
    public void AStartArrivingBetweenAnEarlierStartAndItsExitTakesThatExit()
    {
        using var s = new StoreFixture();
        s.Ingest(R.Start("a", 10, 0), R.Exit("b", 10, 9));
        s.Ingest(R.Start("c", 10, 6));

        Assert.Equal("h1/10@08:00-…:open; h1/10@08:06-08:09:exit", Summary(s.Runs()));
    }

    [Fact]
    public void ALateExitAttachesToTheStartBeforeIt()
    {
        using var s = new StoreFixture();
        s.Ingest(R.Start("a", 10, 0), R.Start("c", 10, 6));
        s.Ingest(R.Exit("b", 10, 5));

        Assert.Equal("h1/10@08:00-08:05:exit; h1/10@08:06-…:open", Summary(s.Runs()));
    }

    [Fact]
    public void AnEarlierExitArrivingLateReplacesALaterOne()
    {
        using var s = new StoreFixture();
        s.Ingest(R.Start("a", 10, 0), R.Exit("x", 10, 8));
        s.Ingest(R.Exit("b", 10, 5));

        Assert.Equal("h1/10@08:00-08:05:exit", Summary(s.Runs()));
    }

    [Fact]
    public void AnExitWithNoStartIsKeptButMakesNoRun()
    {
        using var s = new StoreFixture();
        var result = s.Ingest(R.Exit("b", 10, 5));

        Assert.Equal(new(1, 0), result);
        Assert.Empty(s.Runs());
    }

    [Fact]
    public void TheSamePidOnAnotherHostIsAnotherProcess()
    {
        using var s = new StoreFixture();
        s.Ingest(R.Start("a", 10, 0), R.Start("b", 10, 1, host: "h2"), R.Exit("c", 10, 2, host: "h2"), R.Exit("d", 10, 4));

        Assert.Equal("h1/10@08:00-08:04:exit; h2/10@08:01-08:02:exit", Summary(s.Runs()));
    }

    [Fact]
    public void ARecordStoredTwiceIsADuplicateAndChangesNothing()
    {
        using var s = new StoreFixture();
        TrailRecord[] batch = [R.Start("a", 10, 0), R.Exit("b", 10, 5), R.SessionStart("s", "s1", 0)];

        Assert.Equal(new(3, 0), s.Ingest(batch));
        Assert.Equal(new(0, 3), s.Ingest(batch));
        Assert.Equal(new(1, 1), s.Ingest(R.Exit("b", 10, 1), R.Exit("c", 10, 7)));
        Assert.Equal("h1/10@08:00-08:05:exit", Summary(s.Runs()));
    }

    [Fact]
    public void ARunWithNoExitEndsAtItsSessionEnd()
    {
        using var s = new StoreFixture();
        s.Ingest(R.SessionStart("s", "s1", 0), R.Start("a", 10, 1, session: "s1"), R.Start("b", 11, 2, session: "s1"), R.Exit("c", 11, 3));
        s.Ingest(R.SessionEnd("e", "s1", 30));

        Assert.Equal("h1/10@08:01-08:30:session_end; h1/11@08:02-08:03:exit", Summary(s.Runs()));
    }

    [Fact]
    public void ASessionEndArrivingBeforeTheStartStillEndsTheRun()
    {
        using var s = new StoreFixture();
        s.Ingest(R.SessionEnd("e", "s1", 30));
        s.Ingest(R.Start("a", 10, 1, session: "s1"));

        Assert.Equal("h1/10@08:01-08:30:session_end", Summary(s.Runs()));
    }

    [Fact]
    public void AnExitArrivingAfterTheSessionEndWins()
    {
        using var s = new StoreFixture();
        s.Ingest(R.Start("a", 10, 1, session: "s1"), R.SessionEnd("e", "s1", 30));
        s.Ingest(R.Exit("b", 10, 20));

        Assert.Equal("h1/10@08:01-08:20:exit", Summary(s.Runs()));
    }

    [Fact]
    public void AStartThatTakesAnotherRunsExitLeavesThatRunEndingAtItsSessionEnd()
    {
        using var s = new StoreFixture();
        s.Ingest(R.Start("a", 10, 0, session: "s1"), R.Exit("b", 10, 9), R.SessionEnd("e", "s1", 30));
        s.Ingest(R.Start("c", 10, 6, session: "s1"));

        Assert.Equal("h1/10@08:00-08:30:session_end; h1/10@08:06-08:09:exit", Summary(s.Runs()));
    }

    [Fact]
    public void AnOpenRunIsMeasuredToNow()
    {
        using var s = new StoreFixture(nowMinutes: 90);
        s.Ingest(R.Start("a", 10, 30));

        var run = Assert.Single(s.Runs());
        Assert.Equal((null, 3600.0, "open"), (run.End, run.Seconds, run.EndedBy));
    }

    [Fact]
    public void ASessionEndForAnUnknownSessionIsKept()
    {
        using var s = new StoreFixture();
        Assert.Equal(new(1, 0), s.Ingest(R.SessionEnd("e", "ghost", 30)));

        var row = Assert.Single(s.Report<SessionRow>("sessions"));
        Assert.Equal(("ghost", (string?)null, R.Iso(30)), (row.Session, row.Start, row.End));
    }

    [Fact]
    public void AFailingBatchStoresNothing()
    {
        using var s = new StoreFixture();

        Assert.ThrowsAny<ArgumentException>(() => s.Ingest(R.Start("a", 10, 0), R.SessionStart("s", "s1", 0), new OddRecord { Time = R.T0, Host = "h1", Id = "x" }));

        Assert.Empty(s.Runs());
        Assert.Empty(s.Report<SessionRow>("sessions"));
        Assert.Equal(new(2, 0), s.Ingest(R.Start("a", 10, 0), R.SessionStart("s", "s1", 0)));
    }

    [Fact]
    public void TheRunsUserComesFromItsSessionWhenTheProcessHasNone()
    {
        using var s = new StoreFixture();
        s.Ingest(R.Start("a", 10, 1, user: null, session: "s1"));
        s.Ingest(R.SessionStart("s", "s1", 0, user: "carol"));
        s.Ingest(R.Start("b", 11, 2, user: null, session: "s1"));

        Assert.Equal(["carol", "carol"], s.Runs().Select(r => r.User));
    }

    [Fact]
    public void AStorePairedByTheOldExitTriggerGoesOnPairingAfterTheUpgrade()
    {
        // Schema 7 paired exits with a trigger; schema 8 drops it and ingest pairs with ProcessRuns. A store
        // written by schema 7 (rows as its ingest left them) must go on exactly where the trigger stopped.
        using var dir = new TempDataDir();
        using (var v7 = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={Core.DataDirectory.DatabasePath(dir.Path)}"))
        {
            v7.Open();
            var t = (Func<double, long>)(m => R.At(m).ToUnixTimeMilliseconds());
            SqliteStore.Execute(
                v7,
                string.Concat(Enumerable.Range(1, 7).Select(Schema.MigrationSql)) + "PRAGMA user_version = 7;" + $"""
                INSERT INTO apps(id, path) VALUES(1, '/usr/bin/vim');
                INSERT INTO users(id, name) VALUES(1, 'alice');
                INSERT INTO process_events(seq, id, host, pid, type, time, exe, user) VALUES(1, 'a', 'h1', 10, 0, {t(0)}, '/usr/bin/vim', 'alice');
                INSERT INTO runs(start_seq, exit_seq, app_id, user_id, host, pid, session, start, end, ended_by) VALUES(1, NULL, 1, 1, 'h1', 10, NULL, {t(0)}, NULL, 0);
                INSERT INTO process_events(seq, id, host, pid, type, time, exe, user) VALUES(2, 'b', 'h1', 11, 0, {t(0)}, '/usr/bin/vim', 'alice');
                INSERT INTO runs(start_seq, exit_seq, app_id, user_id, host, pid, session, start, end, ended_by) VALUES(2, NULL, 1, 1, 'h1', 11, NULL, {t(0)}, NULL, 0);
                INSERT INTO process_events(seq, id, host, pid, type, time) VALUES(3, 'c', 'h1', 11, 1, {t(9)});
                """);
            using var paired = v7.CreateCommand();
            paired.CommandText = "SELECT exit_seq FROM runs WHERE start_seq = 2";
            Assert.Equal(3L, paired.ExecuteScalar()); // the trigger paired it
        }

        using var store = SqliteStore.Open(dir.Path);
        using (var connection = store.OpenConnection())
        using (var triggers = connection.CreateCommand())
        {
            triggers.CommandText = "SELECT COUNT(*) FROM sqlite_master WHERE type = 'trigger' AND name = 'process_exit_pairs'";
            Assert.Equal(0L, triggers.ExecuteScalar());
        }

        // A late exit for pid 10; a start of pid 11 between its start and its exit takes that exit.
        store.Ingest([R.Exit("d", 10, 5), R.Start("e", 11, 6)]);
        var runs = new ReportService(store, new FixedClock(R.At(24 * 60))).Run("runs", ReportFilter.None).Rows.Cast<RunRow>();
        Assert.Equal("h1/10@08:00-08:05:exit; h1/11@08:00-…:open; h1/11@08:06-08:09:exit", Summary(runs.OrderBy(r => r.Pid).ThenBy(r => r.Start, StringComparer.Ordinal)));
    }

    private sealed record OddRecord : TrailRecord
    {
        public override string Kind => "odd";
    }

    private static IEnumerable<List<T>> Permutations<T>(IReadOnlyList<T> items)
    {
        if (items.Count <= 1)
        {
            yield return items.ToList();
            yield break;
        }

        for (var i = 0; i < items.Count; i++)
        {
            var rest = items.Where((_, j) => j != i).ToList();
            foreach (var tail in Permutations(rest))
            {
                tail.Insert(0, items[i]);
                yield return tail;
            }
        }
    }
}
