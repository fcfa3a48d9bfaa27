using System.Net;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using SessionTrail.Core.Formats;
using SessionTrail.Server.Store;
using SessionTrail.Server.Tests.Http;
using SessionTrail.Server.Reports;

namespace SessionTrail.Server.Tests.Reports;

/// <summary>
/// Every report has a cap on the rows it answers and past it says how many it would have answered; the concurrency
/// sweep costs what the runs cost, not what their span is. Data over four days (minutes after 2026-11-01 08:00 UTC,
/// "now" is day 4):
///   vim     alice  day 0  08:10–08:40          firefox alice day 0 08:20–09:20
///   vim     bob    day 1  09:00–09:30          firefox bob   day 1 09:40–(open)
///   excel   carol  day 2  08:10–day 3 09:00    vim     carol day 2 08:20–08:30
/// </summary>
public sealed class ReportCapTests : IDisposable
{
    private const string Vim = "/usr/bin/vim";
    private const string Firefox = "/usr/lib/firefox/firefox";
    private const string Excel = "/opt/excel";
    private const double Day = 24 * 60;

    /// <summary>The UTC days from 0001-01-01 to 9999-12-31, both included: what one run over all of them would make enumerate.</summary>
    private const long AllDays = 3_652_059;

    /// <summary>The UTC months from 0001-01 to 9999-12.</summary>
    private const long AllMonths = 9999 * 12;

    private readonly StoreFixture s = new(nowMinutes: 4 * Day);

    public ReportCapTests()
    {
        s.Ingest(
            R.SessionStart("s1", "s1", 0, "alice"), R.SessionEnd("s1.", "s1", 600),
            R.SessionStart("s2", "s2", Day, "bob"),
            R.SessionStart("s3", "s3", 2 * Day, "carol"),
            R.Start("a", 1, 10, Vim, "alice", "s1"), R.Exit("a.", 1, 40),
            R.Start("b", 2, 20, Firefox, "alice", "s1"), R.Exit("b.", 2, 80),
            R.Start("c", 3, Day + 60, Vim, "bob", "s2"), R.Exit("c.", 3, Day + 90),
            R.Start("d", 4, Day + 100, Firefox, "bob", "s2"),
            R.Start("e", 5, (2 * Day) + 10, Excel, "carol", "s3"), R.Exit("e.", 5, (3 * Day) + 60),
            R.Start("f", 6, (2 * Day) + 20, Vim, "carol", "s3"), R.Exit("f.", 6, (2 * Day) + 30));
    }

    public void Dispose() => s.Dispose();

    public static TheoryData<string, ReportPeriod, int?> Reports() => new()
    {
        { "top-apps", ReportPeriod.Day, null },
        { "launches", ReportPeriod.Day, null },
        { "runs", ReportPeriod.Day, null },
        { "concurrency", ReportPeriod.Day, null },
        { "concurrency", ReportPeriod.Month, null },
        { "last-used", ReportPeriod.Day, null },
        { "inactive", ReportPeriod.Day, 1 },
        { "sessions", ReportPeriod.Day, null },
    };

    [Theory]
    [MemberData(nameof(Reports))]
    public void EachReportAnswersUpToItsCapAndPastItNamesTheRowsItWouldHaveAnswered(string name, ReportPeriod by, int? days)
    {
        var filter = new ReportFilter(By: by, Days: days, To: days is null ? null : R.At(10 * Day));
        var all = s.Reports.Run(name, filter).Rows;
        Assert.True(all.Count >= 2, $"{name} answers {all.Count} rows here; the test needs 2 or more");

        Assert.Equal(all, new ReportService(s.Store, s.Clock, all.Count).Run(name, filter).Rows);
        var error = Assert.Throws<ReportTooLargeException>(() => new ReportService(s.Store, s.Clock, all.Count - 1).Run(name, filter));

        Assert.Equal((name, (long)all.Count, all.Count - 1), (error.Report, error.Rows, error.MaxRows));
        Assert.StartsWith($"{name} would answer {all.Count} rows, more than the cap of {all.Count - 1}: narrow it with from/to (--from/--to)", error.Message, StringComparison.Ordinal);
        Assert.Contains("--report-max-rows", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void PerDayHasTheCapToo()
    {
        var all = s.Reports.PerDay(ReportFilter.None).Rows;
        Assert.Equal(3, all.Count); // days 0, 1 and 2 have launches and sessions

        Assert.Equal(all, new ReportService(s.Store, s.Clock, 3).PerDay(ReportFilter.None).Rows);
        var error = Assert.Throws<ReportTooLargeException>(() => new ReportService(s.Store, s.Clock, 2).PerDay(ReportFilter.None));
        Assert.Equal(("perDay", 3L, 2), (error.Report, error.Rows, error.MaxRows));
        Assert.Equal(3, Assert.Throws<ReportTooLargeException>(() => new ReportService(s.Store, s.Clock, 1).PerDay(ReportFilter.None)).Rows);
    }

    [Fact]
    public void TheDashboardsTopChartsKeepTheirTopRowsWhateverTheCap()
    {
        var capped = new ReportService(s.Store, s.Clock, 1);

        Assert.Equal(s.Report<TopAppRow>("top-apps"), capped.First("top-apps", ReportFilter.None, 3).Rows.Cast<TopAppRow>());
        Assert.Equal(s.Report<LaunchRow>("launches").Take(2), capped.First("launches", ReportFilter.None, 2).Rows.Cast<LaunchRow>());
        Assert.Equal(3, capped.PeakConcurrency(ReportFilter.None, 10).Rows.Count);
    }

    /// <summary>
    /// The concurrency sweep against a day-by-day count written from the definition: for each app and UTC day, cut
    /// every run at the day's bounds, and take the most pieces (and distinct users) running at any piece's start.
    /// Random runs over 12 days, some across days, some starting or ending exactly at midnight, some without a user
    /// or still open; unfiltered and in windows that cut runs.
    /// </summary>
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(5)]
    [InlineData(6)]
    public void TheSweepAgreesWithADayByDayCountOfRandomRuns(int seed)
    {
        const long DayMs = 86_400_000;
        var random = new Random(seed);
        var t0 = new DateTimeOffset(2026, 11, 1, 0, 0, 0, TimeSpan.Zero);
        using var store = new StoreFixture(nowMinutes: 12 * Day);
        var now = store.Clock.Now.ToUnixTimeMilliseconds();
        string[] apps = [Vim, Firefox, Excel];
        string?[] users = ["alice", "bob", "carol", null];
        var runs = new List<(string App, string? User, long Start, long End)>();
        var records = new List<Core.Records.TrailRecord>();
        for (var pid = 1; pid <= 60; pid++)
        {
            var start = random.Next(4) == 0 ? t0.AddDays(random.Next(10)) : t0.AddMinutes(random.Next(10 * 24 * 60));
            var end = random.Next(5) switch
            {
                0 => new DateTimeOffset(start.AddDays(1 + random.Next(3)).Date, TimeSpan.Zero), // ends at a midnight
                1 => start.AddMinutes(1 + random.Next(3 * 24 * 60)),
                _ => start.AddMinutes(1 + random.Next(180)),
            };
            var open = random.Next(12) == 0;
            var (app, user) = (apps[random.Next(apps.Length)], users[random.Next(users.Length)]);
            records.Add(new Core.Records.ProcessRecord { Id = $"s{pid}", Type = Core.Records.ProcessEventType.Start, Pid = pid, Time = start, Executable = app, User = user, Host = "h1" });
            if (!open)
            {
                records.Add(new Core.Records.ProcessRecord { Id = $"x{pid}", Type = Core.Records.ProcessEventType.Exit, Pid = pid, Time = end, Host = "h1" });
            }

            runs.Add((app, user, start.ToUnixTimeMilliseconds(), open ? now : end.ToUnixTimeMilliseconds()));
        }

        store.Ingest([.. records]);

        foreach (var (from, to) in new (DateTimeOffset?, DateTimeOffset?)[] { (null, null), (t0.AddHours(30), t0.AddDays(6).AddHours(5)), (t0.AddDays(2), null) })
        {
            long f = from?.ToUnixTimeMilliseconds() ?? long.MinValue, t = to?.ToUnixTimeMilliseconds() ?? long.MaxValue;
            var pieces = runs
                .Where(r => r.Start < t && (r.End > f || r.Start >= f))
                .Select(r => (r.App, r.User, Start: Math.Max(r.Start, f), End: Math.Max(Math.Min(r.End, t), Math.Max(r.Start, f) + 1)))
                .SelectMany(r => Enumerable.Range(0, (int)(((r.End - 1) / DayMs) - (r.Start / DayMs) + 1))
                    .Select(i => ((r.Start / DayMs) + i) * DayMs)
                    .Select(day => (r.App, r.User, Day: day, Start: Math.Max(r.Start, day), End: Math.Min(r.End, day + DayMs))))
                .ToList();
            var expected = pieces
                .GroupBy(p => (p.App, p.Day))
                .Select(g => new ConcurrencyRow(
                    g.Key.App,
                    DateTimeOffset.FromUnixTimeMilliseconds(g.Key.Day).ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture),
                    g.Max(at => g.Where(p => p.Start <= at.Start && at.Start < p.End && p.User is not null).Select(p => p.User).Distinct().Count()),
                    g.Max(at => g.Count(p => p.Start <= at.Start && at.Start < p.End))))
                .OrderBy(r => r.App, StringComparer.Ordinal).ThenBy(r => r.Day, StringComparer.Ordinal)
                .ToList();
            var filter = new ReportFilter(from, to);

            Assert.Equal(expected, store.Report<ConcurrencyRow>("concurrency", filter));
            Assert.Equal(
                expected.GroupBy(r => (r.App, Month: r.Day[..7])).Select(g => new ConcurrencyMonthRow(g.Key.App, g.Key.Month, g.Max(r => r.PeakUsers), g.Max(r => r.PeakRuns))),
                store.Report<ConcurrencyMonthRow>("concurrency", filter with { By = ReportPeriod.Month }));
            Assert.Equal(
                expected.GroupBy(r => r.App)
                    .Select(g => new PeakRow(g.Key, g.Max(r => r.PeakUsers), g.First(r => r.PeakUsers == g.Max(x => x.PeakUsers)).Day, g.Max(r => r.PeakRuns)))
                    .OrderByDescending(p => p.Peak).ThenByDescending(p => p.PeakRuns).ThenBy(p => p.App, StringComparer.Ordinal),
                store.Reports.PeakConcurrency(filter, 10).Rows.Cast<PeakRow>());
        }
    }

    [Fact]
    public void ARunFromYearOneToYear9999IsCountedNotWalkedAndAWindowClipsIt()
    {
        Assert.Equal(AllDays, (long)(new DateTime(9999, 12, 31) - new DateTime(1, 1, 1)).TotalDays + 1);
        using var x = new StoreFixture();
        LegacyRuns.Insert(x.Store, Vim, "alice", LegacyRuns.YearOne, LegacyRuns.YearNineThousand);
        x.Ingest(R.Start("f", 1, 0, Firefox, "bob"), R.Exit("f.", 1, 60));

        var days = Assert.Throws<ReportTooLargeException>(() => x.Reports.Run("concurrency", ReportFilter.None));
        var months = Assert.Throws<ReportTooLargeException>(() => x.Reports.Run("concurrency", new ReportFilter(By: ReportPeriod.Month)));

        Assert.Equal((AllDays + 1, 100_000), (days.Rows, days.MaxRows)); // vim every day, firefox one
        Assert.StartsWith("concurrency would answer 3,652,060 rows, more than the cap of 100,000: narrow it with from/to (--from/--to), user, fleet or stack, or ask by=month (--by month); ", days.Message, StringComparison.Ordinal);
        Assert.Contains("the runs in it span 0001-01-01T00:00:00.000Z to 9999-12-31T23:59:59.999Z", days.Message, StringComparison.Ordinal);
        Assert.Equal(AllMonths + 1, months.Rows);
        Assert.DoesNotContain("by=month", months.Message, StringComparison.Ordinal);

        // Over a normal window the run is clipped to it: running all day, every day.
        var window = new ReportFilter(new DateTimeOffset(2026, 11, 1, 0, 0, 0, TimeSpan.Zero), new DateTimeOffset(2026, 11, 3, 0, 0, 0, TimeSpan.Zero));
        Assert.Equal(
            [new ConcurrencyRow(Vim, "2026-11-01", 1, 1), new ConcurrencyRow(Vim, "2026-11-02", 1, 1), new ConcurrencyRow(Firefox, "2026-11-01", 1, 1)],
            x.Report<ConcurrencyRow>("concurrency", window));
        Assert.Equal([new TopAppRow(Vim, 1, 1, 2 * 86_400), new TopAppRow(Firefox, 1, 1, 3600)], x.Report<TopAppRow>("top-apps", window));

        // The dashboard's peaks need no day rows: the first day of vim's peak is day one of year one.
        Assert.Equal(
            [new PeakRow(Vim, 1, "0001-01-01", 1), new PeakRow(Firefox, 1, "2026-11-01", 1)],
            x.Reports.PeakConcurrency(ReportFilter.None, 10).Rows.Cast<PeakRow>());

        // runs shows it as stored, so that it can be found.
        Assert.Equal(
            new RunRow(Vim, 4242, "legacy-host", "alice", null, "0001-01-01T00:00:00.000Z", "9999-12-31T23:59:59.999Z", 315_537_897_599.999, "exit"),
            x.Report<RunRow>("runs", new ReportFilter(To: new DateTimeOffset(2000, 1, 1, 0, 0, 0, TimeSpan.Zero)))[0]);
    }

    [Fact]
    public async Task OverHttpAMillenniaLongRunAnswersA422NamingTheCapAndAWindowAnswersSmall()
    {
        await using var server = await RunningServer.StartAsync();
        LegacyRuns.Insert(server.App.Services.GetRequiredService<SqliteStore>(), Vim, "alice", LegacyRuns.YearOne, LegacyRuns.YearNineThousand);
        var body = string.Concat(new[] { R.Start("f", 1, 0, Firefox, "bob"), R.Exit("f.", 1, 60) }.Select(r => Encoding.UTF8.GetString(NdjsonWriter.ToLine(r))));
        (await server.Client.PostAsync("/api/v1/ingest", new StringContent(body, Encoding.UTF8, "application/x-ndjson"))).EnsureSuccessStatusCode();

        // Two at once, as in the report of the problem (each was 250 MB of JSON).
        var answers = await Task.WhenAll(server.Client.GetAsync("/api/v1/reports/concurrency"), server.Client.GetAsync("/api/v1/reports/concurrency"));
        foreach (var answer in answers)
        {
            var text = await answer.Content.ReadAsStringAsync();
            Assert.Equal(HttpStatusCode.UnprocessableEntity, answer.StatusCode);
            Assert.True(text.Length < 1000, $"{text.Length} characters");
            var error = JsonDocument.Parse(text).RootElement;
            Assert.Equal(["error", "rows", "maxRows"], error.EnumerateObject().Select(p => p.Name));
            Assert.Equal((AllDays + 1, 100_000), (error.GetProperty("rows").GetInt64(), error.GetProperty("maxRows").GetInt32()));
            Assert.StartsWith("concurrency would answer 3,652,060 rows, more than the cap of 100,000: narrow it with from/to", error.GetProperty("error").GetString(), StringComparison.Ordinal);
        }

        var month = await server.Client.GetAsync("/api/v1/reports/concurrency?by=month");
        Assert.Equal(HttpStatusCode.UnprocessableEntity, month.StatusCode);
        Assert.Contains("119,989 rows", await month.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        var window = JsonDocument.Parse(await server.Client.GetStringAsync("/api/v1/reports/concurrency?from=2026-11-01&to=2026-11-03")).RootElement;
        Assert.Equal(["/usr/bin/vim 2026-11-01", "/usr/bin/vim 2026-11-02", "/usr/lib/firefox/firefox 2026-11-01"], window.EnumerateArray().Select(r => r.GetProperty("app").GetString() + " " + r.GetProperty("day").GetString()));

        var dashboard = await server.Client.GetStringAsync("/api/v1/dashboard");
        Assert.True(dashboard.Length < 2000, $"{dashboard.Length} characters");
        var peak = JsonDocument.Parse(dashboard).RootElement.GetProperty("peakConcurrency")[0];
        Assert.Equal(("/usr/bin/vim", "0001-01-01"), (peak.GetProperty("app").GetString(), peak.GetProperty("day").GetString()));
    }

    [Fact]
    public async Task TheServersCapIsItsOptionAndTheDashboardAnswersItsError()
    {
        await using var server = await RunningServer.StartAsync(o => o.ReportMaxRows = 2);
        var body = string.Concat(new[]
        {
            R.Start("a", 1, 0), R.Exit("a.", 1, 10), R.Start("b", 2, Day), R.Exit("b.", 2, Day + 10), R.Start("c", 3, 2 * Day), R.Exit("c.", 3, (2 * Day) + 10),
        }.Select(r => Encoding.UTF8.GetString(NdjsonWriter.ToLine(r))));
        (await server.Client.PostAsync("/api/v1/ingest", new StringContent(body, Encoding.UTF8, "application/x-ndjson"))).EnsureSuccessStatusCode();

        foreach (var (path, report) in new[] { ("/api/v1/reports/runs", "runs"), ("/api/v1/dashboard/perDay.csv", "perDay"), ("/api/v1/dashboard", "perDay") })
        {
            var response = await server.Client.GetAsync(path);
            Assert.Equal(HttpStatusCode.UnprocessableEntity, response.StatusCode);
            Assert.StartsWith($"{report} would answer 3 rows, more than the cap of 2", JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("error").GetString(), StringComparison.Ordinal);
        }

        Assert.Equal(2, JsonDocument.Parse(await server.Client.GetStringAsync("/api/v1/reports/runs?from=2026-11-02")).RootElement.GetArrayLength());
        Assert.Equal(2, JsonDocument.Parse(await server.Client.GetStringAsync("/api/v1/dashboard?from=2026-11-02")).RootElement.GetProperty("perDay").GetArrayLength());
    }

    [Fact]
    public void ACapBelowOneIsABadSetting()
    {
        var error = Assert.Throws<ArgumentException>(() => new ServerOptions { DataDir = "/tmp/x", ReportMaxRows = 0 }.Validate());
        Assert.Contains("ReportMaxRows", error.Message, StringComparison.Ordinal);
    }
}
