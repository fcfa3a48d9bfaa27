using System.Net;
using System.Text.Json;
using static SessionTrail.Server.Tests.Web.UiSeed;

namespace SessionTrail.Server.Tests.Web;

public sealed class SessionsApiTests(UiServerFixture fixture) : IClassFixture<UiServerFixture>
{
    private UiSeed Seed => fixture.Seed;

    private static readonly string[] ItemFields = ["id", "user", "host", "stack", "fleet", "start", "end", "duration", "runs", "apps", "recording"];

    /// <summary>Every page of <paramref name="query"/> at <paramref name="limit"/> per page, checking total/offset/limit on each.</summary>
    private async Task<List<JsonElement>> AllPagesAsync(string query, int limit)
    {
        var items = new List<JsonElement>();
        long? total = null;
        for (var offset = 0; ; offset += limit)
        {
            var page = await GetJsonAsync(fixture.Client, $"/api/v1/sessions?{query}&offset={offset}&limit={limit}");
            Assert.Equal(offset, page.GetProperty("offset").GetInt32());
            Assert.Equal(limit, page.GetProperty("limit").GetInt32());
            total ??= page.GetProperty("total").GetInt64();
            Assert.Equal(total, page.GetProperty("total").GetInt64());
            var got = page.GetProperty("items").EnumerateArray().ToList();
            Assert.True(got.Count <= limit);
            items.AddRange(got);
            if (got.Count < limit)
            {
                Assert.Equal(total, items.Count);
                return items;
            }
        }
    }

    private static long Now => DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();

    private IEnumerable<SeedSession> Expected(Func<SeedSession, bool> where, string sort)
    {
        var now = Now;
        var s = Seed.Sessions.Where(where);
        return sort switch
        {
            "start" => s.OrderBy(x => x.Start).ThenBy(x => x.Id, StringComparer.Ordinal),
            "-start" => s.OrderByDescending(x => x.Start).ThenByDescending(x => x.Id, StringComparer.Ordinal),
            "duration" => s.OrderBy(x => (x.End ?? now) - x.Start).ThenBy(x => x.Id, StringComparer.Ordinal),
            "-duration" => s.OrderByDescending(x => (x.End ?? now) - x.Start).ThenByDescending(x => x.Id, StringComparer.Ordinal),
            "user" => s.OrderBy(x => x.User, StringComparer.Ordinal).ThenBy(x => x.Start).ThenBy(x => x.Id, StringComparer.Ordinal),
            _ => throw new ArgumentException(sort),
        };
    }

    [Theory]
    [InlineData("sort=start", "start")]
    [InlineData("", "-start")]
    [InlineData("sort=-start", "-start")]
    [InlineData("sort=duration", "duration")]
    [InlineData("sort=-duration", "-duration")]
    [InlineData("sort=user", "user")]
    public async Task EveryPageTogetherIsTheWholeListInTheAskedOrder(string query, string sort)
    {
        var items = await AllPagesAsync(query, 7);

        Assert.Equal(Expected(_ => true, sort).Select(s => s.Id), items.Select(i => i.GetProperty("id").GetString()));
    }

    [Fact]
    public async Task EachRowHasTheSessionsMetadataRunCountAppsAndRecordingFlag()
    {
        var items = await AllPagesAsync("sort=start", 500);
        var now = Now;
        foreach (var (item, s) in items.Zip(Expected(_ => true, "start")))
        {
            Assert.Equal(ItemFields, item.EnumerateObject().Select(p => p.Name));
            Assert.Equal((s.Id, s.User, s.Host, s.Stack, s.Fleet, Iso(s.Start)), (
                item.GetProperty("id").GetString(), item.GetProperty("user").GetString(), item.GetProperty("host").GetString(),
                item.GetProperty("stack").GetString(), item.GetProperty("fleet").GetString(), item.GetProperty("start").GetString()));
            Assert.Equal(s.End is { } e ? Iso(e) : null, item.GetProperty("end").GetString());
            Assert.Matches(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$", item.GetProperty("start").GetString());
            var duration = item.GetProperty("duration").GetDouble();
            if (s.End is { } end)
            {
                Assert.Equal((end - s.Start) / 1000.0, duration);
            }
            else
            {
                Assert.InRange(duration, (now - s.Start - 60_000) / 1000.0, (now - s.Start + 60_000) / 1000.0);
            }

            Assert.Equal(s.Runs.Count, item.GetProperty("runs").GetInt64());
            var apps = s.Runs.GroupBy(r => r.App).OrderByDescending(g => g.Max(r => r.Start)).Select(g => Name(g.Key)).Take(5);
            Assert.Equal(apps, item.GetProperty("apps").EnumerateArray().Select(a => a.GetString()));
            Assert.Equal(s.Recorded, item.GetProperty("recording").GetBoolean());
        }
    }

    public static TheoryData<string> Filters() =>
    [
        "user=alice", "user=Carol", "host=ws-02", "fleet=fleet-b", "stack=stack-y", "fleet=fleet-a&stack=stack-x&user=bob",
        "q=CAR", "q=WS-03", "q=0012", "q=%C3%A4%25", "q=_", "recorded=true", "recorded=false", "user=nobody",
        "from=2026-11-03&to=2026-11-04", "from=2026-11-05T12:00:00Z", "to=2026-11-02T08:00:00.000Z", "q=as2&recorded=true&sort=-duration",
    ];

    [Theory]
    [MemberData(nameof(Filters))]
    public async Task FiltersAndSearchKeepWhatTheModelKeeps(string query)
    {
        var p = System.Web.HttpUtility.ParseQueryString(query);
        var now = Now;
        long? from = p["from"] is { } f ? DateTimeOffset.Parse(f, System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.AssumeUniversal).ToUnixTimeMilliseconds() : null;
        long? to = p["to"] is { } t ? DateTimeOffset.Parse(t, System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.AssumeUniversal).ToUnixTimeMilliseconds() : null;
        bool Keep(SeedSession s) =>
            (p["user"] is null || s.User == p["user"]) && (p["host"] is null || s.Host == p["host"])
            && (p["fleet"] is null || s.Fleet == p["fleet"]) && (p["stack"] is null || s.Stack == p["stack"])
            && (p["q"] is not { } q || new[] { s.Id, s.User, s.Host }.Any(x => x.Contains(q, StringComparison.OrdinalIgnoreCase)))
            && (p["recorded"] is null || s.Recorded == (p["recorded"] == "true"))
            && (to is null || s.Start < to) && (from is null || (s.End ?? now) > from || s.Start >= from);

        var items = await AllPagesAsync(query, 5);

        var expected = Expected(Keep, p["sort"] ?? "-start").Select(s => s.Id).ToList();
        Assert.Equal(expected, items.Select(i => i.GetProperty("id").GetString()));
        if (query is not ("user=nobody" or "q=%C3%A4%25" or "q=_"))
        {
            Assert.NotEmpty(expected);
            Assert.True(expected.Count < Seed.Sessions.Count, "the filter keeps a part");
        }
    }

    [Fact]
    public async Task ASessionPageHasItsMetadataRunsLogCountAndRecordingSummary()
    {
        var now = Now;
        foreach (var s in Seed.Sessions)
        {
            var detail = await GetJsonAsync(fixture.Client, "/api/v1/sessions/" + Q(s.Id));
            Assert.Equal(["session", "runs", "logCount", "recording"], detail.EnumerateObject().Select(x => x.Name));
            var info = detail.GetProperty("session");
            Assert.Equal(
                (s.Id, s.User, s.Host, s.Stack, s.Fleet, "userpool", "stream.standard.medium", "eu-west-1", "arn:aws:appstream:eu-west-1::image/Base", Iso(s.Start), s.End is { } e ? Iso(e) : null),
                (info.GetProperty("id").GetString(), info.GetProperty("user").GetString(), info.GetProperty("host").GetString(), info.GetProperty("stack").GetString(),
                 info.GetProperty("fleet").GetString(), info.GetProperty("accessMode").GetString(), info.GetProperty("instanceType").GetString(),
                 info.GetProperty("region").GetString(), info.GetProperty("imageArn").GetString(), info.GetProperty("start").GetString(), info.GetProperty("end").GetString()));
            var runs = detail.GetProperty("runs").EnumerateArray().ToList();
            var expected = s.Runs.OrderBy(r => r.Start).ToList();
            Assert.Equal(expected.Count, runs.Count);
            foreach (var (run, r) in runs.Zip(expected))
            {
                Assert.Equal(
                    (r.App, Name(r.App), (long)r.Pid, r.User, Iso(r.Start), r.End is { } re ? Iso(re) : null, r.Ended),
                    (run.GetProperty("app").GetString(), run.GetProperty("name").GetString(), run.GetProperty("pid").GetInt64(), run.GetProperty("user").GetString(),
                     run.GetProperty("start").GetString(), run.GetProperty("end").GetString(), run.GetProperty("ended").GetString()));
                Assert.Equal(r.ExitCode, run.GetProperty("exitCode").ValueKind == JsonValueKind.Null ? null : run.GetProperty("exitCode").GetInt32());
                var d = run.GetProperty("duration").GetDouble();
                if (r.End is { } end)
                {
                    Assert.Equal((end - r.Start) / 1000.0, d);
                }
                else
                {
                    Assert.InRange(d, (now - r.Start - 60_000) / 1000.0, (now - r.Start + 60_000) / 1000.0);
                }
            }

            Assert.Equal(Seed.Logs.Count(l => l.Session == s.Id), detail.GetProperty("logCount").GetInt64());
            var recording = detail.GetProperty("recording");
            if (!s.Recorded)
            {
                Assert.Equal(JsonValueKind.Null, recording.ValueKind);
                continue;
            }

            // From the recordings listing itself: the summary must agree with what GET …/recordings says.
            var listing = await GetJsonAsync(fixture.Client, $"/api/v1/sessions/{Q(s.Id)}/recordings");
            var segments = listing.GetProperty("segments").EnumerateArray().ToList();
            Assert.Equal(segments.Count, recording.GetProperty("segments").GetInt32());
            Assert.Equal(segments.Count(x => x.GetProperty("state").GetString() == "complete"), recording.GetProperty("complete").GetInt32());
            Assert.Equal(listing.GetProperty("chain").GetProperty("problems").GetArrayLength(), recording.GetProperty("problems").GetInt32());
            var complete = Seed.Sessions.IndexOf(s) % 10 == 0;
            Assert.Equal(complete ? (2, 2, 0) : (3, 0, 1), (recording.GetProperty("segments").GetInt32(), recording.GetProperty("complete").GetInt32(), recording.GetProperty("problems").GetInt32()));
            Assert.Equal(R.Iso(0), recording.GetProperty("start").GetString());
            Assert.Equal(complete ? R.Iso(10) : R.Iso(15), recording.GetProperty("end").GetString());
        }
    }

    [Fact]
    public async Task APercentEncodedSessionIdWithASlashIsFound()
    {
        var raw = await fixture.Client.GetAsync("/api/v1/sessions/as2%2Fodd%20id%20%C3%A4%25%23%3F");
        var detail = JsonDocument.Parse(await raw.Content.ReadAsStringAsync()).RootElement;

        Assert.Equal(HttpStatusCode.OK, raw.StatusCode);
        Assert.Equal(OddId, detail.GetProperty("session").GetProperty("id").GetString());
        var search = await GetJsonAsync(fixture.Client, "/api/v1/sessions?q=" + Q("ODD ID ä%#?"));
        Assert.Equal(OddId, Assert.Single(search.GetProperty("items").EnumerateArray()).GetProperty("id").GetString());
    }

    [Theory]
    [InlineData("no-such-session")]
    [InlineData("as2-0001")]
    [InlineData("AS2-0001-B")]
    public async Task AnUnknownSessionIs404(string id)
    {
        var response = await fixture.Client.GetAsync("/api/v1/sessions/" + Q(id));

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Contains(id, JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("error").GetString(), StringComparison.Ordinal);
    }
}
