using System.Net;
using System.Text;
using System.Text.Json;
using SessionTrail.Core.Formats;
using SessionTrail.Server.Reports;
using SessionTrail.Server.Tests.Http;

namespace SessionTrail.Server.Tests.Reports;

/// <summary>
/// The licence reports over 40 days (times in days after 2026-11-01 08:00 UTC; "now" is day 40 = 2026-12-11 08:00):
///   vim     alice  day 0  08:00–09:00, day 10 08:00–08:30
///   vim     bob    day 0  08:30–10:00
///   firefox bob    day 5  08:00–(open, running now)
///   firefox alice  day 35 08:00–09:00 (2026-12-06)
///   excel   carol  day 38 08:00–09:00 (2026-12-09)
/// </summary>
public sealed class LicenceReportTests : IDisposable
{
    private const string Vim = "/usr/bin/vim";
    private const string Firefox = "/usr/lib/firefox/firefox";
    private const string Excel = "/opt/excel";
    private const double Day = 24 * 60;
    private static readonly JsonSerializerOptions Web = new(JsonSerializerDefaults.Web);
    private readonly StoreFixture s = new(nowMinutes: 40 * Day);

    public LicenceReportTests()
    {
        s.Ingest(
            R.Start("a", 1, 0, Vim, "alice"), R.Exit("a.", 1, 60),
            R.Start("b", 2, (10 * Day) + 0, Vim, "alice"), R.Exit("b.", 2, (10 * Day) + 30),
            R.Start("c", 3, 30, Vim, "bob"), R.Exit("c.", 3, 120),
            R.Start("d", 4, 5 * Day, Firefox, "bob"),
            R.Start("e", 5, 35 * Day, Firefox, "alice"), R.Exit("e.", 5, (35 * Day) + 60),
            R.Start("f", 6, 38 * Day, Excel, "carol"), R.Exit("f.", 6, (38 * Day) + 60));
    }

    public void Dispose() => s.Dispose();

    private static string Iso(double minutes) => R.Iso(minutes);

    [Fact]
    public void ConcurrencyByMonthIsTheHighestDailyPeakOfEachMonth()
    {
        // vim: 2026-11-01 08:30–09:00 alice and bob together. firefox: bob's open run alone through November;
        // on 2026-12-06 alice's run joins it: 2 users, 2 runs. excel: one run in December.
        Assert.Equal(
            [
                new ConcurrencyMonthRow(Excel, "2026-12", 1, 1),
                new ConcurrencyMonthRow(Vim, "2026-11", 2, 2),
                new ConcurrencyMonthRow(Firefox, "2026-11", 1, 1),
                new ConcurrencyMonthRow(Firefox, "2026-12", 2, 2),
            ],
            s.Report<ConcurrencyMonthRow>("concurrency", new ReportFilter(By: ReportPeriod.Month)));

        // The daily rows it comes from: vim on two days (Nov 1: 2/2, Nov 11: 1/1), firefox on 36 days.
        var daily = s.Report<ConcurrencyRow>("concurrency");
        Assert.Equal([("2026-11-01", 2L, 2L), ("2026-11-11", 1L, 1L)], daily.Where(r => r.App == Vim).Select(r => (r.Day, r.PeakUsers, r.PeakRuns)));
        Assert.Equal(36, daily.Count(r => r.App == Firefox));
    }

    [Fact]
    public void InactiveListsPairsWithNoRunInTheLastNDays()
    {
        // --days 30: cutoff day 10 08:00. bob's vim ended day 0 10:00 (39 whole days idle); alice's vim ran
        // until day 10 08:30, after the cutoff; bob's firefox is still open, so in use.
        Assert.Equal(
            [new InactiveRow("bob", Vim, Iso(30), Iso(120), 1, 39)],
            s.Report<InactiveRow>("inactive", new ReportFilter(Days: 30)));

        // --days 29: cutoff day 11 08:00; alice's vim (ended day 10 08:30) is now idle 29 whole days.
        Assert.Equal(
            [new InactiveRow("bob", Vim, Iso(30), Iso(120), 1, 39), new InactiveRow("alice", Vim, Iso(10 * Day), Iso((10 * Day) + 30), 2, 29)],
            s.Report<InactiveRow>("inactive", new ReportFilter(Days: 29)));
    }

    [Fact]
    public void InactiveIsRelativeToToAndHonoursUser()
    {
        // --to day 20 --days 5: cutoff day 15 08:00; runs starting at or after day 20 are not looked at.
        Assert.Equal(
            [new InactiveRow("bob", Vim, Iso(30), Iso(120), 1, 19), new InactiveRow("alice", Vim, Iso(10 * Day), Iso((10 * Day) + 30), 2, 9)],
            s.Report<InactiveRow>("inactive", new ReportFilter(To: R.At(20 * Day), Days: 5)));
        Assert.Equal(
            ["alice"],
            s.Report<InactiveRow>("inactive", new ReportFilter(To: R.At(20 * Day), User: "alice", Days: 5)).Select(r => r.User));
        Assert.Empty(s.Report<InactiveRow>("inactive", new ReportFilter(To: R.At(20 * Day), Days: 30)));
    }

    [Fact]
    public void InactiveNeedsDays()
    {
        var error = Assert.Throws<ArgumentException>(() => s.Reports.Run("inactive", ReportFilter.None));
        Assert.Contains("days", error.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => s.Reports.Run("inactive", new ReportFilter(Days: 0)));
    }

    [Fact]
    public void LastUsedIsThereForEveryPair()
    {
        Assert.Equal(
            [("bob", Vim, Iso(30)), ("bob", Firefox, Iso(5 * Day)), ("alice", Vim, Iso(10 * Day)), ("alice", Firefox, Iso(35 * Day)), ("carol", Excel, Iso(38 * Day))],
            s.Report<LastUsedRow>("last-used").Select(r => (r.User, r.App, r.LastUsed)));
    }

    [Theory]
    [InlineData("concurrency", ReportPeriod.Month, null, "app,month,peakUsers,peakRuns")]
    [InlineData("inactive", ReportPeriod.Day, 5, "user,app,lastUsed,lastEnd,runs,idleDays")]
    public void JsonHasExactlyTheDocumentedFields(string name, ReportPeriod by, int? days, string fields)
    {
        var table = s.Reports.Run(name, new ReportFilter(To: R.At(20 * Day), By: by, Days: days));
        var json = JsonSerializer.SerializeToElement(table.RowsAsObjects, Web);
        Assert.Equal(fields, string.Join(",", table.Columns));
        Assert.NotEmpty(table.Rows);
        for (var i = 0; i < table.Rows.Count; i++)
        {
            Assert.Equal(fields, string.Join(",", json[i].EnumerateObject().Select(p => p.Name)));
            for (var c = 0; c < table.Columns.Count; c++)
            {
                var value = table.Rows[i].GetValue(c);
                Assert.Equal(value is null ? "null" : JsonSerializer.Serialize(value), json[i].GetProperty(table.Columns[c]).GetRawText());
            }
        }
    }

    [Fact]
    public async Task TheApiTakesByAndDaysAndNamesABadOne()
    {
        await using var server = await RunningServer.StartAsync();
        var body = string.Concat(new[] { R.Start("a", 1, 0, Vim, "alice"), R.Exit("b", 1, 60) }.Select(r => Encoding.UTF8.GetString(NdjsonWriter.ToLine(r))));
        (await server.Client.PostAsync("/api/v1/ingest", new StringContent(body, Encoding.UTF8, "application/x-ndjson"))).EnsureSuccessStatusCode();

        var month = JsonDocument.Parse(await server.Client.GetStringAsync("/api/v1/reports/concurrency?by=month")).RootElement;
        Assert.Equal("2026-11", Assert.Single(month.EnumerateArray()).GetProperty("month").GetString());
        var inactive = JsonDocument.Parse(await server.Client.GetStringAsync("/api/v1/reports/inactive?days=1&to=2026-11-03")).RootElement;
        Assert.Equal("alice", Assert.Single(inactive.EnumerateArray()).GetProperty("user").GetString());

        foreach (var (query, parameter) in new[] { ("inactive", "days"), ("inactive?days=0", "days"), ("inactive?days=x", "days"), ("concurrency?by=week", "by") })
        {
            var response = await server.Client.GetAsync("/api/v1/reports/" + query);
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            Assert.Equal(parameter, JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("parameter").GetString());
        }
    }
}
