using System.Text;
using SessionTrail.Core.Formats;
using SessionTrail.Core.Records;
using SessionTrail.Server.Tests.Http;
using static SessionTrail.Server.Tests.Web.UiSeed;

namespace SessionTrail.Server.Tests.Web;

public sealed class DashboardCacheTests
{
    private static async Task PostAsync(RunningServer server, params TrailRecord[] records)
    {
        var body = string.Concat(records.Select(r => Encoding.UTF8.GetString(NdjsonWriter.ToLine(r))));
        var response = await server.Client.PostAsync("/api/v1/ingest", new StringContent(body, Encoding.UTF8, "application/x-ndjson"));
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
    }

    private static async Task<long> LaunchesAsync(RunningServer server, string url) =>
        (await GetJsonAsync(server.Client, url)).GetProperty("topByLaunches").EnumerateArray().Sum(x => x.GetProperty("launches").GetInt64());

    [Fact]
    public async Task AChartKeptForLaterIsComputedAgainOnceNewRecordsArrive()
    {
        await using var server = await RunningServer.StartAsync();
        await PostAsync(server, R.SessionStart("s1", "sess-1", 0), R.Start("p1", 10, 1, session: "sess-1"), R.Exit("x1", 10, 5));
        const string Url = "/api/v1/dashboard?to=2026-11-20";

        Assert.Equal(1, await LaunchesAsync(server, Url));
        Assert.Equal(1, await LaunchesAsync(server, Url)); // kept (nothing new)
        var csv = Rfc4180.Parse(await server.Client.GetStringAsync("/api/v1/dashboard/topByLaunches.csv?to=2026-11-20&top=10"));
        Assert.Equal("1", csv[1][1]);

        await PostAsync(server, R.Start("p2", 11, 2, session: "sess-1"), R.Start("p3", 12, 3, session: "sess-1"));
        Assert.Equal(3, await LaunchesAsync(server, Url));
        Assert.Equal("3", Rfc4180.Parse(await server.Client.GetStringAsync("/api/v1/dashboard/topByLaunches.csv?to=2026-11-20&top=10"))[1][1]);

        await PostAsync(server, R.SessionStart("s2", "sess-2", 60, user: "bob"));
        var perDay = (await GetJsonAsync(server.Client, Url)).GetProperty("perDay")[0];
        Assert.Equal(2, perDay.GetProperty("sessions").GetInt64()); // a session record alone is new data too
    }
}
