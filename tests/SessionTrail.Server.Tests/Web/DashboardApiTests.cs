using System.Globalization;
using System.Net;
using System.Text.Json;
using static SessionTrail.Server.Tests.Web.UiSeed;

namespace SessionTrail.Server.Tests.Web;

public sealed class DashboardApiTests(UiServerFixture fixture) : IClassFixture<UiServerFixture>
{
    private const long Day = 86_400_000;

    private UiSeed Seed => fixture.Seed;

    /// <summary>Filters with a fixed end (so that open runs count up to it, not up to a moving "now").</summary>
    public static TheoryData<string> Filters() =>
    [
        "to=2026-11-20",
        "from=2026-11-02T00:00:00Z&to=2026-11-04T12:00:00Z",
        "user=alice&to=2026-11-20",
        "fleet=fleet-b&to=2026-11-20",
        "stack=stack-x&from=2026-11-01&to=2026-11-03",
        "fleet=fleet-a&stack=stack-y&to=2026-11-20",
        "user=nobody&to=2026-11-20",
    ];

    private sealed record Window(long From, long To, string? User, string? Fleet, string? Stack);

    private static Window Parse(string query)
    {
        var p = System.Web.HttpUtility.ParseQueryString(query);
        static long Time(string? text, long fallback) => text is null ? fallback
            : DateTimeOffset.Parse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal).ToUnixTimeMilliseconds();
        return new Window(Time(p["from"], long.MinValue), Time(p["to"], long.MaxValue), p["user"], p["fleet"], p["stack"]);
    }

    /// <summary>The model's runs of sessions matching the window's user / fleet / stack.</summary>
    private IEnumerable<SeedRun> Runs(Window w) => Seed.Sessions
        .Where(s => (w.User is null || s.User == w.User) && (w.Fleet is null || s.Fleet == w.Fleet) && (w.Stack is null || s.Stack == w.Stack))
        .SelectMany(s => s.Runs);

    private static long Clipped(SeedRun r, Window w) => Math.Max(0, Math.Min(r.End ?? w.To, w.To) - Math.Max(r.Start, w.From));

    private async Task<JsonElement> Dashboard(string query) => await GetJsonAsync(fixture.Client, "/api/v1/dashboard?" + query);

    [Theory]
    [MemberData(nameof(Filters))]
    public async Task TheChartsHoldTheNumbersComputedFromTheRecords(string query)
    {
        var w = Parse(query);
        var overlapping = Runs(w).Where(r => r.Start < w.To && ((r.End ?? long.MaxValue) > w.From || r.Start >= w.From)).ToList();
        var launched = Runs(w).Where(r => r.Start >= w.From && r.Start < w.To).ToList();

        var d = await Dashboard("top=100&" + query);

        var byTime = overlapping.GroupBy(r => r.App)
            .Select(g => (App: g.Key, Seconds: g.Sum(r => Clipped(r, w)) / 1000.0, Runs: (long)g.Count(), Users: (long)g.Select(r => r.User).Distinct().Count()))
            .OrderByDescending(x => x.Seconds).ThenBy(x => x.App, StringComparer.Ordinal).ToList();
        Assert.Equal(byTime, d.GetProperty("topByTime").EnumerateArray().Select(x => (
            x.GetProperty("app").GetString()!, x.GetProperty("seconds").GetDouble(), x.GetProperty("runs").GetInt64(), x.GetProperty("users").GetInt64())));

        var byLaunches = launched.GroupBy(r => r.App)
            .Select(g => (App: g.Key, Launches: (long)g.Count(), Users: (long)g.Select(r => r.User).Distinct().Count()))
            .OrderByDescending(x => x.Launches).ThenBy(x => x.App, StringComparer.Ordinal).ToList();
        Assert.Equal(byLaunches, d.GetProperty("topByLaunches").EnumerateArray().Select(x => (
            x.GetProperty("app").GetString()!, x.GetProperty("launches").GetInt64(), x.GetProperty("users").GetInt64())));

        var started = Seed.Sessions.Where(s => s.Start >= w.From && s.Start < w.To && (w.User is null || s.User == w.User)
            && (w.Fleet is null || s.Fleet == w.Fleet) && (w.Stack is null || s.Stack == w.Stack)).ToList();
        var perDay = launched.Select(r => r.Start - (r.Start % Day)).Concat(started.Select(s => s.Start - (s.Start % Day))).Distinct().Order()
            .Select(day => (
                Day: DateTimeOffset.FromUnixTimeMilliseconds(day).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
                Sessions: (long)started.Count(s => s.Start - (s.Start % Day) == day),
                Users: (long)launched.Where(r => r.Start - (r.Start % Day) == day).Select(r => r.User).Distinct().Count(),
                Runs: (long)launched.Count(r => r.Start - (r.Start % Day) == day),
                Seconds: launched.Where(r => r.Start - (r.Start % Day) == day).Sum(r => Clipped(r, w)) / 1000.0)).ToList();
        Assert.Equal(perDay, d.GetProperty("perDay").EnumerateArray().Select(x => (
            x.GetProperty("day").GetString()!, x.GetProperty("sessions").GetInt64(), x.GetProperty("users").GetInt64(),
            x.GetProperty("runs").GetInt64(), x.GetProperty("seconds").GetDouble())));
        if (w.User != "nobody")
        {
            Assert.NotEmpty(byTime);
            Assert.NotEmpty(perDay);
        }

        // Peak concurrency: a sweep over the model's runs per app and UTC day (ends before starts at one instant).
        var peaks = new List<(string App, long Peak, string Day, long PeakRuns)>();
        foreach (var app in overlapping.GroupBy(r => r.App))
        {
            var perDayPeaks = new SortedDictionary<long, (long Users, long Runs)>();
            foreach (var day in app.SelectMany(r => Days(r, w)).Select(p => p.Day).Distinct())
            {
                var pieces = app.SelectMany(r => Days(r, w).Where(p => p.Day == day).Select(p => (p.Start, p.End, r.User))).ToList();
                var moments = pieces.SelectMany(p => new[] { p.Start, p.End }).Distinct();
                long bestUsers = 0, bestRuns = 0;
                foreach (var t in moments)
                {
                    var running = pieces.Where(p => p.Start <= t && p.End > t).ToList();
                    bestRuns = Math.Max(bestRuns, running.Count);
                    bestUsers = Math.Max(bestUsers, running.Select(p => p.User).Distinct().Count());
                }

                perDayPeaks[day] = (bestUsers, bestRuns);
            }

            var peak = perDayPeaks.Values.Max(v => v.Users);
            var first = perDayPeaks.First(v => v.Value.Users == peak).Key;
            peaks.Add((app.Key, peak, DateTimeOffset.FromUnixTimeMilliseconds(first).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture), perDayPeaks.Values.Max(v => v.Runs)));
        }

        Assert.Equal(
            peaks.OrderByDescending(p => p.Peak).ThenByDescending(p => p.PeakRuns).ThenBy(p => p.App, StringComparer.Ordinal),
            d.GetProperty("peakConcurrency").EnumerateArray().Select(x => (
                x.GetProperty("app").GetString()!, x.GetProperty("peak").GetInt64(), x.GetProperty("day").GetString()!, x.GetProperty("peakRuns").GetInt64())));

        var open = Seed.Sessions.Where(s => s.End is null && (w.User is null || s.User == w.User) && (w.Fleet is null || s.Fleet == w.Fleet) && (w.Stack is null || s.Stack == w.Stack)).ToList();
        Assert.Equal(open.Count, d.GetProperty("activeSessions").GetInt64());
        Assert.Equal(open.Select(s => s.User).Distinct().Count(), d.GetProperty("activeUsers").GetInt64());
    }

    /// <summary>The pieces of a run clipped to the window and cut at UTC midnights.</summary>
    private static IEnumerable<(long Day, long Start, long End)> Days(SeedRun r, Window w)
    {
        var start = Math.Max(r.Start, w.From);
        var end = Math.Max(Math.Min(r.End ?? w.To, w.To), start + 1);
        for (var day = start - (start % Day); day < end; day += Day)
        {
            yield return (day, Math.Max(start, day), Math.Min(end, day + Day));
        }
    }

    [Theory]
    [MemberData(nameof(Filters))]
    public async Task TheChartsAreTheReportApisNumbersForTheSameFilter(string query)
    {
        var d = await Dashboard(query + "&top=3");
        var topApps = await GetJsonAsync(fixture.Client, "/api/v1/reports/top-apps?" + query);
        var launches = await GetJsonAsync(fixture.Client, "/api/v1/reports/launches?" + query);
        var concurrency = await GetJsonAsync(fixture.Client, "/api/v1/reports/concurrency?" + query);

        Assert.Equal(
            topApps.EnumerateArray().Take(3).Select(x => (x.GetProperty("app").GetString(), x.GetProperty("seconds").GetDouble(), x.GetProperty("runs").GetInt64(), x.GetProperty("users").GetInt64())),
            d.GetProperty("topByTime").EnumerateArray().Select(x => (x.GetProperty("app").GetString(), x.GetProperty("seconds").GetDouble(), x.GetProperty("runs").GetInt64(), x.GetProperty("users").GetInt64())));
        Assert.Equal(
            launches.EnumerateArray().Take(3).Select(x => (x.GetProperty("app").GetString(), x.GetProperty("launches").GetInt64(), x.GetProperty("users").GetInt64())),
            d.GetProperty("topByLaunches").EnumerateArray().Select(x => (x.GetProperty("app").GetString(), x.GetProperty("launches").GetInt64(), x.GetProperty("users").GetInt64())));
        var rows = concurrency.EnumerateArray().Select(x => (App: x.GetProperty("app").GetString()!, Day: x.GetProperty("day").GetString()!, Users: x.GetProperty("peakUsers").GetInt64(), Runs: x.GetProperty("peakRuns").GetInt64())).ToList();
        foreach (var peak in d.GetProperty("peakConcurrency").EnumerateArray())
        {
            var app = rows.Where(r => r.App == peak.GetProperty("app").GetString()).ToList();
            Assert.Equal(app.Max(r => r.Users), peak.GetProperty("peak").GetInt64());
            Assert.Equal(app.Max(r => r.Runs), peak.GetProperty("peakRuns").GetInt64());
            Assert.Equal(app.Where(r => r.Users == app.Max(x => x.Users)).Min(r => r.Day), peak.GetProperty("day").GetString());
        }

        Assert.Equal(Math.Min(3, rows.Select(r => r.App).Distinct().Count()), d.GetProperty("peakConcurrency").GetArrayLength());
    }

    [Fact]
    public async Task WithoutAWindowTheCountsAreTheReportsToo()
    {
        var d = await Dashboard("top=100");
        var launches = await GetJsonAsync(fixture.Client, "/api/v1/reports/launches");

        Assert.Equal(Seed.Runs.Count(), d.GetProperty("topByLaunches").EnumerateArray().Sum(x => x.GetProperty("launches").GetInt64()));
        Assert.Equal(launches.EnumerateArray().Select(x => x.GetProperty("launches").GetInt64()), d.GetProperty("topByLaunches").EnumerateArray().Select(x => x.GetProperty("launches").GetInt64()));
        Assert.Equal(Seed.Runs.Count(), d.GetProperty("perDay").EnumerateArray().Sum(x => x.GetProperty("runs").GetInt64()));
        Assert.Equal(Seed.Runs.Count(), d.GetProperty("topByTime").EnumerateArray().Sum(x => x.GetProperty("runs").GetInt64()));
    }

    [Theory]
    [InlineData("topByTime")]
    [InlineData("topByLaunches")]
    [InlineData("perDay")]
    [InlineData("peakConcurrency")]
    public async Task EachChartsCsvIsItsTableParsedBack(string part)
    {
        const string Query = "from=2026-11-01&to=2026-11-20&top=100";
        var d = await Dashboard(Query);
        var response = await fixture.Client.GetAsync($"/api/v1/dashboard/{part}.csv?{Query}");
        var text = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/csv", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("attachment", response.Content.Headers.ContentDisposition?.DispositionType);
        Assert.Equal($"{part}.csv", response.Content.Headers.ContentDisposition?.FileName?.Trim('"'));
        Assert.EndsWith("\r\n", text, StringComparison.Ordinal);
        var table = Rfc4180.Parse(text);
        var json = d.GetProperty(part).EnumerateArray().ToList();
        Assert.Equal(json.Count + 1, table.Count);
        var header = table[0];
        foreach (var (row, item) in table.Skip(1).Zip(json))
        {
            Assert.Equal(header.Count, row.Count);
            Assert.Equal(item.EnumerateObject().Select(p => p.Name).Order(), header.Order());
            for (var i = 0; i < header.Count; i++)
            {
                var value = item.GetProperty(header[i]);
                Assert.Equal(value.ValueKind == JsonValueKind.String ? value.GetString() : value.GetRawText(), row[i]);
            }
        }

        if (part is "topByTime" or "topByLaunches")
        {
            Assert.Contains(table, r => r[0] == Apps[5]); // the path with a comma and quotes survives the round trip
            Assert.Contains("\"C:\\Program Files\\Vendor, Inc\\\"\"Pro\"\" Tool\\tool.exe\"", text, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task FacetsListTheUsersFleetsAndStacksOfTheSessions()
    {
        var facets = await GetJsonAsync(fixture.Client, "/api/v1/facets");

        Assert.Equal(Seed.Sessions.Select(s => s.User).Distinct().Order(StringComparer.Ordinal), facets.GetProperty("users").EnumerateArray().Select(x => x.GetString()));
        Assert.Equal(Seed.Sessions.Select(s => s.Fleet).Distinct().Order(StringComparer.Ordinal), facets.GetProperty("fleets").EnumerateArray().Select(x => x.GetString()));
        Assert.Equal(Seed.Sessions.Select(s => s.Stack).Distinct().Order(StringComparer.Ordinal), facets.GetProperty("stacks").EnumerateArray().Select(x => x.GetString()));
    }

    [Fact]
    public async Task AnUnknownChartIs404()
    {
        var response = await fixture.Client.GetAsync("/api/v1/dashboard/sessions.csv");

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Contains("perDay", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }
}
