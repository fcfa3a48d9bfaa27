using System.Globalization;
using System.Net;
using System.Text.Json;
using static SessionTrail.Server.Tests.Web.UiSeed;

namespace SessionTrail.Server.Tests.Web;

public sealed class LogCountsApiTests(UiServerFixture fixture) : IClassFixture<UiServerFixture>
{
    private UiSeed Seed => fixture.Seed;

    private static long Millis(string iso) => DateTimeOffset.Parse(iso, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal).ToUnixTimeMilliseconds();

    private IEnumerable<SeedLog> Matching(string query)
    {
        var p = System.Web.HttpUtility.ParseQueryString(query);
        return Seed.Logs.Where(l =>
            (p["q"] is not { } q || l.Message.Split(' ').Contains(q)) && (p["user"] is null || l.User == p["user"]) && (p["host"] is null || l.Host == p["host"])
            && (p["source"] is null || l.Source == p["source"]) && (p["session"] is null || l.Session == p["session"])
            && (p["from"] is null || l.Time >= Millis(p["from"]!)) && (p["to"] is null || l.Time < Millis(p["to"]!)));
    }

    public static TheoryData<string, int> Queries() => new()
    {
        { "", 60 },
        { "buckets=7", 7 },
        { "buckets=1", 1 },
        { "q=printer", 60 },
        { "user=alice&buckets=24", 24 },
        { "host=ws-03&source=winlog&buckets=30", 30 },
        { "from=2026-11-02&to=2026-11-04&buckets=48", 48 },
        { "from=2026-11-02T06:30:00Z&to=2026-11-02T06:31:00Z&buckets=1000", 1000 },
        { "from=2026-11-03", 60 },
        { "q=nothingmatches", 60 },
        { "from=0001-01-01&to=9999-12-31T23:59:59Z", 60 }, // 3.65 M days still make at most `buckets` buckets
        { "from=0001-01-01&to=9999-12-31&q=nothingmatches&buckets=1000", 1000 },
    };

    [Theory]
    [MemberData(nameof(Queries))]
    public async Task EveryRecordIsInTheBucketOfItsTimeAndTheCountsAddUpToTheTotal(string query, int buckets)
    {
        var expected = Matching(query).ToList();

        var h = await GetJsonAsync(fixture.Client, "/api/v1/logs/histogram?" + query);

        Assert.Equal(expected.Count, h.GetProperty("total").GetInt64());
        var list = h.GetProperty("buckets").EnumerateArray().ToList();
        Assert.Equal(h.GetProperty("total").GetInt64(), list.Sum(b => b.GetProperty("count").GetInt64()));
        if (expected.Count == 0 && !query.Contains("from", StringComparison.Ordinal))
        {
            Assert.Empty(list);
            return;
        }

        Assert.InRange(list.Count, 1, buckets);
        var step = (long)(h.GetProperty("bucketSeconds").GetDouble() * 1000);
        var from = Millis(h.GetProperty("from").GetString()!);
        var to = Millis(h.GetProperty("to").GetString()!);
        var p = System.Web.HttpUtility.ParseQueryString(query);
        Assert.Equal(p["from"] is { } f ? Millis(f) : expected.Min(l => l.Time), from);
        Assert.Equal(p["to"] is { } t ? Millis(t) : expected.Max(l => l.Time) + 1, to);
        Assert.True(step * list.Count >= to - from && step * (list.Count - 1) < to - from, "the buckets cover [from, to) and no more than one step past it");
        for (var i = 0; i < list.Count; i++)
        {
            Assert.Equal(Iso(from + (i * step)), list[i].GetProperty("start").GetString());
            var start = from + (i * step);
            Assert.Equal(expected.Count(l => l.Time >= start && l.Time < start + step), list[i].GetProperty("count").GetInt64());
        }
    }

    [Theory]
    [InlineData("")]
    [InlineData("user=bob")]
    [InlineData("q=disk&source=winlog")]
    public async Task FieldFacetsCountTheTopValuesOfEachField(string query)
    {
        var expected = Matching(query).ToList();

        var body = await GetJsonAsync(fixture.Client, "/api/v1/logs/fields?" + query);
        var fields = body.GetProperty("fields").EnumerateArray().ToList();

        Assert.Equal(expected.Count, body.GetProperty("records").GetInt64());

        Assert.Equal(["host", "source", "level", "provider", "eventId", "user"], fields.Select(f => f.GetProperty("name").GetString()));
        foreach (var field in fields)
        {
            Func<SeedLog, string?> value = field.GetProperty("name").GetString() switch
            {
                "host" => l => l.Host,
                "source" => l => l.Source,
                "level" => l => l.Level,
                "provider" => l => l.Provider,
                "eventId" => l => l.EventId.ToString(CultureInfo.InvariantCulture),
                _ => l => l.User,
            };
            var counts = expected.Where(l => value(l) is not null).GroupBy(value).Select(g => (g.Key!, (long)g.Count()))
                .OrderByDescending(x => x.Item2).ThenBy(x => x.Item1, StringComparer.Ordinal).Take(10);
            Assert.Equal(counts, field.GetProperty("values").EnumerateArray().Select(v => (v.GetProperty("value").GetString()!, v.GetProperty("count").GetInt64())));
        }
    }

    [Fact]
    public async Task FieldFacetsCountTheNewestTenThousandMatchingRecords()
    {
        await using var server = await RunningServer.StartAsync();
        var records = Enumerable.Range(0, 10_050).Select(i => (Core.Records.TrailRecord)new Core.Records.LogRecord
        {
            Id = $"f:{i}", Time = T0.AddSeconds(i), Host = i < 50 ? "old-host" : $"host-{i % 3}", Source = "winlog", Message = "m",
        }).ToList();
        var ingest = await server.Client.PostAsync("/api/v1/ingest", new StringContent(
            string.Concat(records.Select(r => System.Text.Encoding.UTF8.GetString(Core.Formats.NdjsonWriter.ToLine(r)))), System.Text.Encoding.UTF8, "application/x-ndjson"));
        Assert.True(ingest.IsSuccessStatusCode);

        var body = await GetJsonAsync(server.Client, "/api/v1/logs/fields");
        var hosts = body.GetProperty("fields")[0].GetProperty("values").EnumerateArray().ToDictionary(v => v.GetProperty("value").GetString()!, v => v.GetProperty("count").GetInt64());

        Assert.Equal(10_000, body.GetProperty("records").GetInt64());
        Assert.Equal(new Dictionary<string, long> { ["host-0"] = 3333, ["host-1"] = 3333, ["host-2"] = 3334 }, hosts);
        Assert.Equal(10_050, (await GetJsonAsync(server.Client, "/api/v1/logs/histogram")).GetProperty("total").GetInt64());
    }

    [Fact]
    public async Task ASessionsLogsComeOldestFirstWithOrderAsc()
    {
        var session = Seed.Logs.Where(l => l.Session is not null).GroupBy(l => l.Session).OrderByDescending(g => g.Count()).First();

        var first = await fixture.Client.GetAsync($"/api/v1/logs?session={Q(session.Key!)}&order=asc&limit=2");
        var page1 = JsonDocument.Parse(await first.Content.ReadAsStringAsync()).RootElement.EnumerateArray().Select(l => l.GetProperty("message").GetString()).ToList();
        var cursor = Assert.Single(first.Headers.GetValues("X-Next-Cursor"));
        var page2 = (await GetJsonAsync(fixture.Client, $"/api/v1/logs?session={Q(session.Key!)}&order=asc&limit=100&before={Q(cursor)}"))
            .EnumerateArray().Select(l => l.GetProperty("message").GetString());

        Assert.Equal(session.OrderBy(l => l.Time).Select(l => l.Message), page1.Concat(page2));
    }
}
