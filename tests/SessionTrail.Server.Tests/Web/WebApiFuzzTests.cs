using System.Net;
using System.Text;
using System.Text.Json;

namespace SessionTrail.Server.Tests.Web;

/// <summary>
/// A deterministic random mutation loop over the web UI endpoints' query strings (and session ids in the path):
/// whatever is sent, the answer is 200 (or 404 for an unknown session/chart) with JSON or CSV, or a 400 naming a
/// parameter — never a 500, never a hang.
/// </summary>
public sealed class WebApiFuzzTests(UiServerFixture fixture) : IClassFixture<UiServerFixture>
{
    private static readonly string[] Paths =
    [
        "/api/v1/sessions", "/api/v1/dashboard", "/api/v1/dashboard/topByTime.csv", "/api/v1/dashboard/perDay.csv",
        "/api/v1/dashboard/peakConcurrency.csv", "/api/v1/dashboard/topByLaunches.csv", "/api/v1/logs/histogram", "/api/v1/logs/fields",
        "/api/v1/logs", "/api/v1/facets", "/api/v1/reports/top-apps", "/api/v1/reports/concurrency",
    ];

    private static readonly string[] Names =
    [
        "q", "user", "host", "stack", "fleet", "from", "to", "recorded", "sort", "offset", "limit", "top", "buckets", "session", "source",
        "before", "order", "field.level", "field.", "field.Image", "by", "days", "x", "",
    ];

    private static readonly string[] Values =
    [
        "", " ", "0", "1", "-1", "50", "500", "501", "1000", "2147483647", "2147483648", "99999999999999999999", "1e3", "0x10", "+5",
        "2026-11-01", "2026-11-02T06:30:00Z", "2026-11-02T06:30:00.123+02:00", "2026-13-01", "0001-01-01", "9999-12-31T23:59:59.999Z",
        "9999-12-31", "1970-01-01", "true", "false", "TRUE", "asc", "desc", "start", "-start", "duration", "-duration", "user", "-user",
        "alice", "Carol", "fleet-a", "stack-x", "ws-01", "winlog", "as2-0001-b", "as2/odd id ä%#?", "printer", "\"printer", "a OR", "NEAR(",
        "*", "^x", "message:disk", "fields:", "%", "_", "\\", "'", "';DROP TABLE sessions;--", "ä", "😀", "\u0000", "\n", "\r\n", "123-45",
        "-5-7", "9223372036854775807-1",
    ];

    [Fact]
    public async Task NoQueryStringMakesA500()
    {
        var random = new Random(20261130);
        var failures = new List<string>();
        var ok = new HashSet<string>();
        for (var i = 0; i < 700; i++)
        {
            var url = Url(random);
            using var response = await fixture.Client.GetAsync(url);
            var body = await response.Content.ReadAsStringAsync();
            var status = (int)response.StatusCode;
            if (status == 200)
            {
                ok.Add(url.Split('?')[0].StartsWith("/api/v1/sessions/", StringComparison.Ordinal) ? "/api/v1/sessions/{id}" : url.Split('?')[0]);
            }

            if (KestrelRefused(url, status, body))
            {
                continue; // refused by Kestrel before any endpoint runs (its own limits), not by the API
            }

            if (status is not (200 or 400 or 404))
            {
                failures.Add($"{status} {url}: {body}");
                continue;
            }

            if (status == 200 && url.Contains(".csv", StringComparison.Ordinal))
            {
                Rfc4180.Parse(body);
                continue;
            }

            JsonDocument json;
            try
            {
                json = JsonDocument.Parse(body);
            }
            catch (JsonException e)
            {
                failures.Add($"{status} {url}: not JSON ({e.Message}): {body}");
                continue;
            }

            using var _ = json;
            if (status == 400 && !url.Contains("/recordings", StringComparison.Ordinal) && json.RootElement.TryGetProperty("parameter", out var p))
            {
                Assert.Contains($"'{p.GetString()}'", json.RootElement.GetProperty("error").GetString(), StringComparison.Ordinal);
            }
        }

        Assert.Empty(failures);

        // The loop must not be all 400s: every path was answered 200 at least once too.
        Assert.Superset(Paths.Append("/api/v1/sessions/{id}").ToHashSet(), ok);
    }

    /// <summary>Kestrel's own answers: 414 for a request line over its 8 KiB limit, an empty 400 for a NUL in the path.</summary>
    private static bool KestrelRefused(string url, int status, string body) =>
        body.Length == 0 && ((status == 414 && url.Length > 8192) || (status == 400 && url.Split('?')[0].Contains("%00", StringComparison.Ordinal)));

    private static string Url(Random random)
    {
        var path = random.Next(6) == 0 ? "/api/v1/sessions/" + Encode(Value(random)) : Paths[random.Next(Paths.Length)];
        var query = new StringBuilder();
        for (var n = random.Next(0, 6); n > 0; n--)
        {
            query.Append(query.Length == 0 ? '?' : '&').Append(Encode(Names[random.Next(Names.Length)])).Append('=').Append(Encode(Value(random)));
        }

        if (random.Next(10) == 0)
        {
            query.Append(query.Length == 0 ? "?" : "&").Append(Raw(random)); // raw bytes: invalid UTF-8, stray '%', '=' and '&'
        }

        return path + query;
    }

    /// <summary>A value from the pool, sometimes mutated (a character replaced, inserted or deleted, or repeated into a long string).</summary>
    private static string Value(Random random)
    {
        var value = Values[random.Next(Values.Length)];
        switch (random.Next(6))
        {
            case 0 when value.Length > 0:
                var chars = value.ToCharArray();
                chars[random.Next(chars.Length)] = (char)random.Next(32, 127);
                return new string(chars);
            case 1:
                return value.Insert(random.Next(value.Length + 1), ((char)random.Next(32, 0x3000)).ToString());
            case 2 when value.Length > 1:
                return value.Remove(random.Next(value.Length), 1);
            case 3 when random.Next(4) == 0:
                return string.Concat(Enumerable.Repeat(value.Length == 0 ? "x" : value, 2000 / Math.Max(1, value.Length)));
            default:
                return value;
        }
    }

    private static string Encode(string text) => Uri.EscapeDataString(text.Replace('\uD83D', 'x').Replace('\uDE00', 'y'));

    private static string Raw(Random random)
    {
        string[] pieces = ["%FF", "%C3", "%", "%%", "%2", "=", "&&", "%00", "+", "%E2%82", "limit=%FF", "q=%C3%28", "sort=%2Dstart"];
        return string.Concat(Enumerable.Range(0, random.Next(1, 4)).Select(_ => pieces[random.Next(pieces.Length)]));
    }

    [Theory]
    [InlineData("/api/v1/dashboard?top=0", "top")]
    [InlineData("/api/v1/dashboard?top=1001", "top")]
    [InlineData("/api/v1/dashboard?from=monday", "from")]
    [InlineData("/api/v1/dashboard?to=2026-11-31", "to")]
    [InlineData("/api/v1/dashboard?fleet=a&fleet=b", "fleet")]
    [InlineData("/api/v1/dashboard/perDay.csv?from=x", "from")]
    [InlineData("/api/v1/reports/top-apps?from=x&fleet=f", "from")]
    [InlineData("/api/v1/logs/histogram?buckets=0", "buckets")]
    [InlineData("/api/v1/logs/histogram?buckets=abc", "buckets")]
    [InlineData("/api/v1/logs/histogram?q=%22open", "q")]
    [InlineData("/api/v1/logs/histogram?from=x", "from")]
    [InlineData("/api/v1/logs/fields?q=a%20OR", "q")]
    [InlineData("/api/v1/logs/fields?field.=x", "field.NAME")]
    [InlineData("/api/v1/logs?order=up", "order")]
    [InlineData("/api/v1/sessions?limit=0", "limit")]
    [InlineData("/api/v1/sessions?limit=501", "limit")]
    [InlineData("/api/v1/sessions?limit=-1", "limit")]
    [InlineData("/api/v1/sessions?offset=-5", "offset")]
    [InlineData("/api/v1/sessions?offset=99999999999", "offset")]
    [InlineData("/api/v1/sessions?sort=size", "sort")]
    [InlineData("/api/v1/sessions?recorded=yes", "recorded")]
    [InlineData("/api/v1/sessions?from=last-week", "from")]
    [InlineData("/api/v1/sessions?to=2026-02-30", "to")]
    [InlineData("/api/v1/sessions?user=a&user=b", "user")]
    public async Task ABadParameterIsA400NamingIt(string url, string parameter)
    {
        var response = await fixture.Client.GetAsync(url);
        var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(parameter, json.GetProperty("parameter").GetString());
        Assert.StartsWith($"parameter '{parameter}': ", json.GetProperty("error").GetString(), StringComparison.Ordinal);
    }
}
