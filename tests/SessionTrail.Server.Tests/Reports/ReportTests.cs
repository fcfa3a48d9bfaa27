using System.Text.Json;
using SessionTrail.Server.Reports;

namespace SessionTrail.Server.Tests.Reports;

/// <summary>
/// Every report over one small, hand-computed day (times in minutes after 08:00 UTC, "now" is 11:10):
/// session s1 (alice) 08:00–10:00, session s2 (bob) from 09:00, never ended.
///   vim     alice 100  08:10–08:40 exit           1800 s
///   vim     alice 101  09:30–(10:00) session_end  1800 s
///   vim     alice 103  09:35–09:40 exit            300 s
///   firefox alice 102  08:20–09:20 exit           3600 s
///   vim     bob   200  09:15–09:45 exit           1800 s
///   firefox bob   201  09:10–(now 11:10) open     7200 s
/// </summary>
public sealed class ReportTests : IDisposable
{
    private const string Vim = "/usr/bin/vim";
    private const string Firefox = "/usr/lib/firefox/firefox";
    private static readonly JsonSerializerOptions Web = new(JsonSerializerDefaults.Web);
    private readonly StoreFixture s = new(nowMinutes: 190);

    public ReportTests()
    {
        s.Ingest(
            R.SessionStart("s1a", "s1", 0, "alice"),
            R.SessionStart("s2a", "s2", 60, "bob"),
            R.Start("p100", 100, 10, Vim, "alice", "s1"),
            R.Exit("x100", 100, 40),
            R.Start("p101", 101, 90, Vim, "alice", "s1"),
            R.Start("p103", 103, 95, Vim, "alice", "s1"),
            R.Exit("x103", 103, 100),
            R.Start("p102", 102, 20, Firefox, "alice", "s1"),
            R.Exit("x102", 102, 80),
            R.Start("p200", 200, 75, Vim, "bob", "s2"),
            R.Exit("x200", 200, 105),
            R.Start("p201", 201, 70, Firefox, "bob", "s2"),
            R.SessionEnd("s1e", "s1", 120));
    }

    public void Dispose() => s.Dispose();

    private static ReportFilter Window(double from, double to, string? user = null) => new(R.At(from), R.At(to), user);

    [Fact]
    public void TopAppsSumsRunTimeAndSortsByIt()
    {
        Assert.Equal(
            [new TopAppRow(Firefox, 2, 2, 10800), new TopAppRow(Vim, 4, 2, 5700)],
            s.Report<TopAppRow>("top-apps"));
    }

    [Fact]
    public void TopAppsCountsRunsOverlappingTheWindowAndClipsTheirSeconds()
    {
        // 09:00–10:00: vim 101 (1800) + 103 (300) + 200 (1800); firefox 102 (09:00–09:20 1200) + 201 (09:10–10:00 3000).
        Assert.Equal(
            [new TopAppRow(Firefox, 2, 2, 4200), new TopAppRow(Vim, 3, 2, 3900)],
            s.Report<TopAppRow>("top-apps", Window(60, 120)));
    }

    [Fact]
    public void TopAppsForOneUser()
    {
        Assert.Equal(
            [new TopAppRow(Vim, 3, 1, 3900), new TopAppRow(Firefox, 1, 1, 3600)],
            s.Report<TopAppRow>("top-apps", new ReportFilter(User: "alice")));
    }

    [Fact]
    public void LaunchesCountsStartsInsideTheWindow()
    {
        Assert.Equal([new LaunchRow(Vim, 4, 2), new LaunchRow(Firefox, 2, 2)], s.Report<LaunchRow>("launches"));
        Assert.Equal([new LaunchRow(Vim, 3, 2), new LaunchRow(Firefox, 1, 1)], s.Report<LaunchRow>("launches", Window(60, 120)));
        Assert.Equal([new LaunchRow(Vim, 1, 1), new LaunchRow(Firefox, 1, 1)], s.Report<LaunchRow>("launches", Window(0, 180, "bob")));
    }

    [Fact]
    public void RunsListsEveryRunByStart()
    {
        Assert.Equal(
            [
                new RunRow(Vim, 100, "h1", "alice", "s1", R.Iso(10), R.Iso(40), 1800, "exit"),
                new RunRow(Firefox, 102, "h1", "alice", "s1", R.Iso(20), R.Iso(80), 3600, "exit"),
                new RunRow(Firefox, 201, "h1", "bob", "s2", R.Iso(70), null, 7200, "open"),
                new RunRow(Vim, 200, "h1", "bob", "s2", R.Iso(75), R.Iso(105), 1800, "exit"),
                new RunRow(Vim, 101, "h1", "alice", "s1", R.Iso(90), R.Iso(120), 1800, "session_end"),
                new RunRow(Vim, 103, "h1", "alice", "s1", R.Iso(95), R.Iso(100), 300, "exit"),
            ],
            s.Runs());
    }

    [Fact]
    public void RunsOverlappingAWindow()
    {
        Assert.Equal([102L, 201L], s.Report<RunRow>("runs", Window(45, 72)).Select(r => r.Pid));
    }

    [Fact]
    public void ConcurrencyIsThePeakOfSimultaneousRunsAndUsersPerDay()
    {
        // vim: 09:35–09:40 has 101, 103 (alice) and 200 (bob) running: 3 runs, 2 users.
        Assert.Equal(
            [new ConcurrencyRow(Vim, "2026-11-01", 2, 3), new ConcurrencyRow(Firefox, "2026-11-01", 2, 2)],
            s.Report<ConcurrencyRow>("concurrency").OrderByDescending(r => r.App == Vim).ToList());
    }

    [Fact]
    public void ConcurrencyForOneUserCountsOnlyTheirRuns()
    {
        Assert.Equal(
            [new ConcurrencyRow(Vim, "2026-11-01", 1, 2)],
            s.Report<ConcurrencyRow>("concurrency", new ReportFilter(User: "alice")).Where(r => r.App == Vim).ToList());
    }

    [Fact]
    public void ARunAcrossMidnightCountsOnBothDays()
    {
        using var night = new StoreFixture(nowMinutes: 3 * 24 * 60);
        night.Ingest(R.Start("a", 1, 15 * 60), R.Exit("b", 1, 17 * 60), R.Start("c", 2, 15 * 60 + 30, user: "bob"), R.Exit("d", 2, 15 * 60 + 45));

        Assert.Equal(
            [new ConcurrencyRow("/usr/bin/vim", "2026-11-01", 2, 2), new ConcurrencyRow("/usr/bin/vim", "2026-11-02", 1, 1)],
            night.Report<ConcurrencyRow>("concurrency"));
    }

    [Fact]
    public void BackToBackRunsAreNotConcurrent()
    {
        using var night = new StoreFixture();
        night.Ingest(R.Start("a", 1, 0), R.Exit("b", 1, 10), R.Start("c", 2, 10, user: "bob"), R.Exit("d", 2, 20));

        Assert.Equal([new ConcurrencyRow("/usr/bin/vim", "2026-11-01", 1, 1)], night.Report<ConcurrencyRow>("concurrency"));
    }

    [Fact]
    public void LastUsedIsTheLatestStartPerUserAndAppOldestFirst()
    {
        Assert.Equal(
            [
                new LastUsedRow("alice", Firefox, R.Iso(20), 1),
                new LastUsedRow("bob", Firefox, R.Iso(70), 1),
                new LastUsedRow("bob", Vim, R.Iso(75), 1),
                new LastUsedRow("alice", Vim, R.Iso(95), 3),
            ],
            s.Report<LastUsedRow>("last-used"));
    }

    [Fact]
    public void SessionsListsEachSessionWithItsRuns()
    {
        Assert.Equal(
            [new SessionRow("s1", "alice", "h1", R.Iso(0), R.Iso(120), 4), new SessionRow("s2", "bob", "h1", R.Iso(60), null, 2)],
            s.Report<SessionRow>("sessions"));
        Assert.Equal(["s2"], s.Report<SessionRow>("sessions", Window(150, 180)).Select(r => r.Session));
        Assert.Equal(["s1"], s.Report<SessionRow>("sessions", new ReportFilter(User: "alice")).Select(r => r.Session));
    }

    [Fact]
    public void AnUnknownUserHasNoRows()
    {
        Assert.Empty(s.Report<TopAppRow>("top-apps", new ReportFilter(User: "nobody")));
    }

    [Theory]
    [InlineData("top-apps", "app,runs,users,seconds")]
    [InlineData("launches", "app,launches,users")]
    [InlineData("runs", "app,pid,host,user,session,start,end,seconds,endedBy")]
    [InlineData("concurrency", "app,day,peakUsers,peakRuns")]
    [InlineData("last-used", "user,app,lastUsed,runs")]
    [InlineData("sessions", "session,user,host,start,end,runs")]
    public void EachReportsJsonHasExactlyItsFieldsAndTheColumnAccessorAgrees(string name, string fields)
    {
        var table = s.Reports.Run(name, ReportFilter.None);
        var json = JsonSerializer.SerializeToElement(table.RowsAsObjects, Web);

        Assert.Equal(fields, string.Join(",", table.Columns));
        Assert.NotEmpty(table.Rows);
        for (var i = 0; i < table.Rows.Count; i++)
        {
            var row = json[i];
            Assert.Equal(fields, string.Join(",", row.EnumerateObject().Select(p => p.Name)));
            for (var c = 0; c < table.Columns.Count; c++)
            {
                var value = table.Rows[i].GetValue(c);
                var element = row.GetProperty(table.Columns[c]);
                Assert.Equal(value is null ? "null" : JsonSerializer.Serialize(value), element.GetRawText());
            }
        }
    }

    [Fact]
    public void AnUnknownReportNamesTheValidOnes()
    {
        var error = Assert.Throws<UnknownReportException>(() => s.Reports.Run("top", ReportFilter.None));

        Assert.Contains("top-apps, launches, runs, concurrency, last-used, inactive, sessions", error.Message, StringComparison.Ordinal);
    }
}
