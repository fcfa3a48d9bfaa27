using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;

namespace SessionTrail.Server.Tests.Http;

/// <summary>
/// docs/reports-and-api.md "Ingest API and bad input": a record whose time lies before 2000-01-01T00:00:00Z or more than 24 h ahead of the
/// server's clock (its injected TimeProvider) is a bad field — 400 naming line and field, nothing of the
/// batch stored — over real HTTP.
/// </summary>
public sealed class IngestTimeWindowTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 1, 12, 0, 0, TimeSpan.Zero);
    private static readonly DateTimeOffset Floor = new(2000, 1, 1, 0, 0, 0, TimeSpan.Zero);
    private static readonly DateTimeOffset Latest = Now.AddHours(24);

    private static Task<RunningServer> StartAsync() =>
        RunningServer.StartAsync(services: s => s.AddSingleton<TimeProvider>(new FixedClock(Now)));

    private static StringContent Ndjson(params string[] lines) =>
        new(string.Concat(lines.Select(l => l + "\n")), Encoding.UTF8, "application/x-ndjson");

    private static string Iso(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);

    private static async Task<JsonElement> Json(HttpResponseMessage response) =>
        JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;

    private static async Task<int> Count(RunningServer server, string report) =>
        (await Json(await server.Client.GetAsync($"/api/v1/reports/{report}"))).GetArrayLength();

    /// <summary>One valid record of each kind; {T} is the record time, {S}/{E}/{GS}/{GE} its other time fields.</summary>
    private static string Line(string kind, string id, DateTimeOffset time, string? field = null, DateTimeOffset? value = null)
    {
        string T(string name, DateTimeOffset fallback) => Iso(name == field ? value!.Value : fallback);
        var t = T("time", time);
        return kind switch
        {
            "process" => $$"""{"id":"{{id}}","kind":"process","time":"{{t}}","host":"h1","type":"start","pid":7,"exe":"/usr/bin/vim","user":"alice"}""",
            "session" => $$"""{"id":"{{id}}","kind":"session","time":"{{t}}","host":"h1","session":"s-{{id}}","type":"start","user":"alice"}""",
            "log" => $$"""{"id":"{{id}}","kind":"log","time":"{{t}}","host":"h1","source":"applog","message":"hello"}""",
            "segment" => $$"""{"id":"{{id}}","kind":"segment","time":"{{t}}","host":"h1","session":"s-{{id}}","index":0,"start":"{{T("start", time.AddMinutes(-5))}}","end":"{{T("end", time)}}","width":640,"height":480,"fps":5,"codec":"h264","bytes":10,"sha256":"{{new string('a', 64)}}","file":"000000.mp4"}""",
            "recording" => $$"""{"id":"{{id}}","kind":"recording","time":"{{t}}","host":"h1","session":"s-{{id}}","type":"gap","message":"ffmpeg restarted","gapStart":"{{T("gapStart", time.AddSeconds(-2))}}","gapEnd":"{{T("gapEnd", time)}}"}""",
            _ => throw new ArgumentOutOfRangeException(nameof(kind)),
        };
    }

    [Fact]
    public async Task TheIssuesProcessFromYear1ToYear9999IsRefusedAndNeverBecomesARun()
    {
        await using var server = await StartAsync();
        const string Start = """{"id":"p1","kind":"process","time":"0001-01-01T00:00:00Z","host":"h1","type":"start","pid":7,"exe":"/usr/bin/vim","user":"alice"}""";
        const string Exit = """{"id":"p2","kind":"process","time":"9999-12-31T23:59:59.999Z","host":"h1","type":"exit","pid":7}""";
        var good = Line("process", "ok", Now.AddHours(-1));

        var both = await server.Client.PostAsync("/api/v1/ingest", Ndjson(good, Start, Exit));
        var exitAlone = await server.Client.PostAsync("/api/v1/ingest", Ndjson(Exit));

        Assert.Equal(HttpStatusCode.BadRequest, both.StatusCode);
        var error = await Json(both);
        Assert.Equal((2, "time"), (error.GetProperty("line").GetInt32(), error.GetProperty("field").GetString()));
        Assert.Equal("line 2: field 'time': '0001-01-01T00:00:00.000Z' is before 2000-01-01T00:00:00.000Z, the earliest time accepted", error.GetProperty("error").GetString());
        Assert.Equal(HttpStatusCode.BadRequest, exitAlone.StatusCode);
        var late = await Json(exitAlone);
        Assert.Equal((1, "time"), (late.GetProperty("line").GetInt32(), late.GetProperty("field").GetString()));
        Assert.Contains("more than 24 h ahead of the receiver's clock (2026-12-01T12:00:00.000Z)", late.GetProperty("error").GetString(), StringComparison.Ordinal);
        Assert.Equal(0, await Count(server, "runs")); // not even the good line: nothing of a refused batch is stored
        Assert.Equal(0, await Count(server, "launches"));
    }

    public static TheoryData<string, string> TimeFields => new()
    {
        { "process", "time" },
        { "session", "time" },
        { "log", "time" },
        { "segment", "time" },
        { "segment", "start" },
        { "segment", "end" },
        { "recording", "time" },
        { "recording", "gapStart" },
        { "recording", "gapEnd" },
    };

    [Theory]
    [MemberData(nameof(TimeFields))]
    public async Task EveryTimeFieldOfEveryKindIsBoundedAndTheBoundsThemselvesAreAccepted(string kind, string field)
    {
        await using var server = await StartAsync();
        var inside = Now.AddHours(-1);

        var early = await server.Client.PostAsync("/api/v1/ingest", Ndjson(Line("log", "x0", inside), Line(kind, "early", inside, field, Floor.AddMilliseconds(-1))));
        var late = await server.Client.PostAsync("/api/v1/ingest", Ndjson(Line(kind, "late", inside, field, Latest.AddMilliseconds(1))));
        var atFloor = await server.Client.PostAsync("/api/v1/ingest", Ndjson(Line(kind, "floor", inside, field, Floor)));
        var atLatest = await server.Client.PostAsync("/api/v1/ingest", Ndjson(Line(kind, "latest", inside, field, Latest)));

        var e = await Json(early);
        Assert.Equal((HttpStatusCode.BadRequest, 2, field), (early.StatusCode, e.GetProperty("line").GetInt32(), e.GetProperty("field").GetString()));
        Assert.Contains("'1999-12-31T23:59:59.999Z' is before 2000-01-01", e.GetProperty("error").GetString(), StringComparison.Ordinal);
        var l = await Json(late);
        Assert.Equal((HttpStatusCode.BadRequest, 1, field), (late.StatusCode, l.GetProperty("line").GetInt32(), l.GetProperty("field").GetString()));
        Assert.Equal("""{"accepted":1,"duplicates":0}""", await atFloor.Content.ReadAsStringAsync());
        Assert.Equal("""{"accepted":1,"duplicates":0}""", await atLatest.Content.ReadAsStringAsync());

        // The refused batches stored nothing: their good line is new now.
        var again = await server.Client.PostAsync("/api/v1/ingest", Ndjson(Line("log", "x0", inside)));
        Assert.Equal("""{"accepted":1,"duplicates":0}""", await again.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task TheWindowMovesWithTheServersClock()
    {
        var clock = new FixedClock(Now);
        await using var server = await RunningServer.StartAsync(services: s => s.AddSingleton<TimeProvider>(clock));
        var tomorrowAndAMinute = Line("log", "l1", Now.AddHours(24).AddMinutes(1));

        var before = await server.Client.PostAsync("/api/v1/ingest", Ndjson(tomorrowAndAMinute));
        clock.Now = Now.AddMinutes(1);
        var after = await server.Client.PostAsync("/api/v1/ingest", Ndjson(tomorrowAndAMinute));

        Assert.Equal(HttpStatusCode.BadRequest, before.StatusCode);
        Assert.Equal(HttpStatusCode.OK, after.StatusCode);
    }

    /// <summary>
    /// Property: random batches of records whose time fields are drawn on both sides of both bounds (and
    /// anywhere in years 1..9999) are accepted exactly when every time is inside, and a refused batch names
    /// its first bad line and field and stores nothing.
    /// </summary>
    [Fact]
    public async Task RandomTimesEitherSideOfTheBoundsAreAcceptedExactlyWhenInside()
    {
        await using var server = await StartAsync();
        var random = new Random(20261207);
        string[] kinds = ["process", "session", "log", "segment", "recording"];
        var fieldsOf = TimeFields.Select(row => ((string)row[0], (string)row[1])).ToLookup(p => p.Item1, p => p.Item2);
        DateTimeOffset Draw() => random.Next(5) switch
        {
            0 => Floor.AddMilliseconds(random.Next(-5_000, 5_000)),
            1 => Latest.AddMilliseconds(random.Next(-5_000, 5_000)),
            2 => Floor.AddDays(random.Next(-3_000, 3_000)),
            3 => Latest.AddDays(random.Next(-3, 3_000)),
            _ => DateTimeOffset.MinValue.AddDays(random.NextDouble() * (DateTimeOffset.MaxValue - DateTimeOffset.MinValue).TotalDays * 0.9999),
        };
        bool Inside(DateTimeOffset t) => t >= Floor && t <= Latest;

        var accepted = 0;
        var refused = 0;
        var storedIds = new List<string>();
        var notStoredGoodLines = new List<string>();
        for (var batch = 0; batch < 80; batch++)
        {
            var lines = new List<(string Line, string Id, string? BadField)>();
            var count = random.Next(1, 8);
            for (var i = 0; i < count; i++)
            {
                var kind = kinds[random.Next(kinds.Length)];
                var id = $"b{batch}-{i}";
                var inside = Now.AddDays(-random.Next(0, 3_000));
                if (random.Next(3) == 0)
                {
                    var field = fieldsOf[kind].ElementAt(random.Next(fieldsOf[kind].Count()));
                    var value = Draw();
                    lines.Add((Line(kind, id, inside, field, value), id, Inside(value) ? null : field));
                }
                else
                {
                    lines.Add((Line(kind, id, inside), id, null));
                }
            }

            var response = await server.Client.PostAsync("/api/v1/ingest", Ndjson([.. lines.Select(l => l.Line)]));
            var firstBad = lines.FindIndex(l => l.BadField is not null);
            if (firstBad < 0)
            {
                Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
                Assert.Equal(count, (await Json(response)).GetProperty("accepted").GetInt32());
                storedIds.AddRange(lines.Select(l => l.Line));
                accepted++;
            }
            else
            {
                var error = await Json(response);
                Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
                Assert.Equal((firstBad + 1, lines[firstBad].BadField), (error.GetProperty("line").GetInt32(), error.GetProperty("field").GetString()));
                notStoredGoodLines.AddRange(lines.Where(l => l.BadField is null).Select(l => l.Line));
                refused++;
            }
        }

        Assert.True(accepted > 10 && refused > 10, $"{accepted} accepted, {refused} refused: the draw should give both");
        var resent = await Json(await server.Client.PostAsync("/api/v1/ingest", Ndjson([.. storedIds])));
        Assert.Equal((0, storedIds.Count), (resent.GetProperty("accepted").GetInt32(), resent.GetProperty("duplicates").GetInt32()));
        var neverStored = await Json(await server.Client.PostAsync("/api/v1/ingest", Ndjson([.. notStoredGoodLines])));
        Assert.Equal((notStoredGoodLines.Count, 0), (neverStored.GetProperty("accepted").GetInt32(), neverStored.GetProperty("duplicates").GetInt32()));
    }
}
