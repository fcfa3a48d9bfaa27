using System.Net;
using System.Text;
using System.Text.Json;
using SessionTrail.Core.Formats;
using SessionTrail.Core.Records;
using SessionTrail.Server.Logs;
using SessionTrail.Server.Tests.Logs;

namespace SessionTrail.Server.Tests.Http;

public sealed class LogsApiTests
{
    private static StringContent Ndjson(params TrailRecord[] records) =>
        new(string.Concat(records.Select(r => Encoding.UTF8.GetString(NdjsonWriter.ToLine(r)))), Encoding.UTF8, "application/x-ndjson");

    private static async Task<JsonElement> Json(HttpResponseMessage response) =>
        JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;

    [Fact]
    public async Task LogsPostedToIngestAreSearchedWithTheirFieldsAndPagedByTheCursorHeader()
    {
        await using var server = await RunningServer.StartAsync();
        var posted = await server.Client.PostAsync("/api/v1/ingest", Ndjson(
            R.SessionStart("s", "sess-1", 0, user: "alice"),
            LogStoreTests.Log("l1", 1, "printer jammed", session: "sess-1", fields: new() { ["Printer"] = "HP" }, decoration: new() { ["stack"] = "st" }),
            LogStoreTests.Log("l2", 2, "printer ok", session: "sess-1"),
            LogStoreTests.Log("l3", 3, "unrelated")));
        Assert.Equal("""{"accepted":4,"duplicates":0}""", await posted.Content.ReadAsStringAsync());

        var first = await server.Client.GetAsync("/api/v1/logs?q=printer&user=alice&limit=1");
        var page1 = await Json(first);
        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal(JsonValueKind.Array, page1.ValueKind);
        var newest = Assert.Single(page1.EnumerateArray());
        Assert.Equal("printer ok", newest.GetProperty("message").GetString());
        var cursor = Assert.Single(first.Headers.GetValues(LogsApi.NextCursorHeader));

        var second = await server.Client.GetAsync($"/api/v1/logs?q=printer&user=alice&limit=1&before={Uri.EscapeDataString(cursor)}");
        var older = Assert.Single((await Json(second)).EnumerateArray());
        Assert.False(second.Headers.Contains(LogsApi.NextCursorHeader));
        Assert.Equal(
            ["time", "source", "message", "session", "user", "host", "channel", "provider", "eventId", "level", "fields", "decoration"],
            older.EnumerateObject().Select(p => p.Name).ToArray());
        Assert.Equal(("printer jammed", "sess-1", "alice", "app", "h1", 1000), (
            older.GetProperty("message").GetString(), older.GetProperty("session").GetString(), older.GetProperty("user").GetString(),
            older.GetProperty("source").GetString(), older.GetProperty("host").GetString(), older.GetProperty("eventId").GetInt32()));
        Assert.Equal("2026-11-01T08:01:00Z", older.GetProperty("time").GetString());
        Assert.Equal("""{"Printer":"HP","stack":"st"}""", older.GetProperty("fields").GetRawText());
        Assert.Equal("""{"stack":"st"}""", older.GetProperty("decoration").GetRawText());

        var byField = await Json(await server.Client.GetAsync("/api/v1/logs?field.Printer=HP&field.stack=st"));
        Assert.Equal("printer jammed", Assert.Single(byField.EnumerateArray()).GetProperty("message").GetString());
        Assert.Empty((await Json(await server.Client.GetAsync("/api/v1/logs?field.Printer=hp"))).EnumerateArray());
    }

    [Fact]
    public async Task LevelProviderAndEventIdFilterTheRecordsTheHistogramAndTheFacets()
    {
        await using var server = await RunningServer.StartAsync();
        await server.Client.PostAsync("/api/v1/ingest", Ndjson(
            LogStoreTests.Log("l1", 1, "one") with { Level = "Error", Provider = "Disk", EventId = 7 },
            LogStoreTests.Log("l2", 2, "two") with { Level = "Warning", Provider = "Disk", EventId = 51 },
            LogStoreTests.Log("l3", 3, "three") with { Level = "Error", Provider = "Service Control Manager", EventId = 7 },
            LogStoreTests.Log("l4", 4, "four") with { Level = null, Provider = null, EventId = null }));

        async Task<string[]> Messages(string query) =>
            [.. (await Json(await server.Client.GetAsync("/api/v1/logs?order=asc&" + query))).EnumerateArray().Select(r => r.GetProperty("message").GetString()!)];

        Assert.Equal(["one", "three"], await Messages("level=Error"));
        Assert.Equal(["one", "two"], await Messages("provider=Disk"));
        Assert.Equal(["three"], await Messages("provider=Service%20Control%20Manager&eventId=7"));
        Assert.Equal(["one"], await Messages("level=Error&provider=Disk&eventId=7"));
        Assert.Empty(await Messages("level=error")); // exact, as the facets show it
        var histogram = await Json(await server.Client.GetAsync("/api/v1/logs/histogram?eventId=7"));
        Assert.Equal(2, histogram.GetProperty("total").GetInt32());
        var fields = await Json(await server.Client.GetAsync("/api/v1/logs/fields?level=Warning"));
        Assert.Equal(1, fields.GetProperty("records").GetInt32());
    }

    [Fact]
    public async Task LogsNeedAToken()
    {
        await using var server = await RunningServer.StartAsync();

        var response = await server.Anonymous.GetAsync("/api/v1/logs");

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Theory]
    [InlineData("q=%22unbalanced", "q")]
    [InlineData("q=a%20OR", "q")]
    [InlineData("q=fields:x%20AND", "q")]
    [InlineData("limit=0", "limit")]
    [InlineData("limit=ten", "limit")]
    [InlineData("before=abc", "before")]
    [InlineData("from=yesterday", "from")]
    [InlineData("to=2026-13-01", "to")]
    [InlineData("field.=x", "field.NAME")]
    [InlineData("eventId=seven", "eventId")]
    [InlineData("eventId=99999999999", "eventId")]
    public async Task ABadParameterIsA400NamingIt(string query, string parameter)
    {
        await using var server = await RunningServer.StartAsync();
        await server.Client.PostAsync("/api/v1/ingest", Ndjson(LogStoreTests.Log("l1", 1, "x")));

        var response = await server.Client.GetAsync("/api/v1/logs?" + query);
        var json = await Json(response);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(parameter, json.GetProperty("parameter").GetString());
        Assert.StartsWith($"parameter '{parameter}': ", json.GetProperty("error").GetString(), StringComparison.Ordinal);
    }
}
