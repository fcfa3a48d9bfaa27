using System.IO.Compression;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using SessionTrail.Core.Formats;
using SessionTrail.Core.Records;
using SessionTrail.Server.Reports;
using SessionTrail.Server.Store;

namespace SessionTrail.Server.Tests.Http;

public sealed class ServerApiTests
{
    private static string Body(params TrailRecord[] records) =>
        string.Concat(records.Select(r => Encoding.UTF8.GetString(NdjsonWriter.ToLine(r))));

    private static readonly string ThreeRecords = Body(R.SessionStart("s", "s1", 0), R.Start("a", 10, 1, session: "s1"), R.Exit("b", 10, 6));

    private static StringContent Ndjson(string body) => new(body, Encoding.UTF8, "application/x-ndjson");

    private static ByteArrayContent Gzip(string body)
    {
        using var buffer = new MemoryStream();
        using (var gzip = new GZipStream(buffer, CompressionLevel.Fastest))
        {
            gzip.Write(Encoding.UTF8.GetBytes(body));
        }

        var content = new ByteArrayContent(buffer.ToArray());
        content.Headers.ContentType = new MediaTypeHeaderValue("application/x-ndjson");
        content.Headers.ContentEncoding.Add("gzip");
        return content;
    }

    private static async Task<JsonElement> Json(HttpResponseMessage response) =>
        JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;

    private static async Task<int> RunCount(RunningServer server) =>
        (await Json(await server.Client.GetAsync("/api/v1/reports/runs"))).GetArrayLength();

    [Fact]
    public async Task HealthzAnswersWithoutAToken()
    {
        await using var server = await RunningServer.StartAsync();

        var response = await server.Anonymous.GetAsync("/healthz");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("Bearer st_wrong")]
    [InlineData("Basic dXNlcjpwYXNz")]
    public async Task TheApiRefusesAMissingOrWrongToken(string? authorization)
    {
        await using var server = await RunningServer.StartAsync();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/ingest") { Content = Ndjson(ThreeRecords) };
        if (authorization is not null)
        {
            request.Headers.TryAddWithoutValidation("Authorization", authorization);
        }

        var response = await server.Anonymous.SendAsync(request);
        var reports = await server.Anonymous.GetAsync("/api/v1/reports/runs");

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.False(string.IsNullOrEmpty((await Json(response)).GetProperty("error").GetString()));
        Assert.Equal(HttpStatusCode.Unauthorized, reports.StatusCode);
        Assert.Equal(0, await RunCount(server));
    }

    [Fact]
    public async Task ABatchIsStoredAndSendingItAgainOnlyCountsDuplicates()
    {
        await using var server = await RunningServer.StartAsync();

        var first = await server.Client.PostAsync("/api/v1/ingest", Ndjson(ThreeRecords));
        var second = await server.Client.PostAsync("/api/v1/ingest", Ndjson(ThreeRecords));

        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal("""{"accepted":3,"duplicates":0}""", await first.Content.ReadAsStringAsync());
        Assert.Equal("""{"accepted":0,"duplicates":3}""", await second.Content.ReadAsStringAsync());
        Assert.Equal(1, await RunCount(server));
    }

    [Fact]
    public async Task ABadLineRejectsTheWholeBatchNamingLineAndField()
    {
        await using var server = await RunningServer.StartAsync();
        var bad = ThreeRecords.TrimEnd('\n') + "\n" + ThreeRecords.Split('\n')[1].Replace("\"pid\":10", "\"pid\":\"10\"", StringComparison.Ordinal) + "\n";

        var response = await server.Client.PostAsync("/api/v1/ingest", Ndjson(bad));
        var json = await Json(response);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("line 4: field 'pid': expected an integer, got string", json.GetProperty("error").GetString());
        Assert.Equal(4, json.GetProperty("line").GetInt32());
        Assert.Equal("pid", json.GetProperty("field").GetString());
        Assert.Equal(0, await RunCount(server));
        Assert.Equal(0, (await Json(await server.Client.GetAsync("/api/v1/reports/sessions"))).GetArrayLength());
    }

    [Fact]
    public async Task AGzipBodyIsAccepted()
    {
        await using var server = await RunningServer.StartAsync();

        var response = await server.Client.PostAsync("/api/v1/ingest", Gzip(ThreeRecords));

        Assert.Equal("""{"accepted":3,"duplicates":0}""", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task AnUnsupportedContentEncodingIs415AndABrokenGzipIs400()
    {
        await using var server = await RunningServer.StartAsync();
        var compress = Ndjson(ThreeRecords);
        compress.Headers.ContentEncoding.Add("compress");
        var notGzip = Ndjson(ThreeRecords);
        notGzip.Headers.ContentEncoding.Add("gzip");

        var unsupported = await server.Client.PostAsync("/api/v1/ingest", compress);
        var broken = await server.Client.PostAsync("/api/v1/ingest", notGzip);

        Assert.Equal(HttpStatusCode.UnsupportedMediaType, unsupported.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, broken.StatusCode);
        Assert.Equal(0, await RunCount(server));
    }

    [Fact]
    public async Task ABodyOverTheLimitIs413EvenWhenItOnlyGrowsOnDecompression()
    {
        await using var server = await RunningServer.StartAsync(o => o.MaxBodyBytes = 4096);
        var big = string.Concat(Enumerable.Range(0, 100).Select(i => Body(R.Start($"a{i}", i, 1))));

        var plain = await server.Client.PostAsync("/api/v1/ingest", Ndjson(big));
        var gzipped = Gzip(big);
        Assert.True(gzipped.Headers.ContentLength < 4096);
        var bomb = await server.Client.PostAsync("/api/v1/ingest", gzipped);

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, plain.StatusCode);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, bomb.StatusCode);
        Assert.Contains("4096", (await Json(bomb)).GetProperty("error").GetString(), StringComparison.Ordinal);
        Assert.Equal(0, await RunCount(server));
    }

    [Fact]
    public async Task ReportsAreJsonArraysWithExactlyTheirFields()
    {
        await using var server = await RunningServer.StartAsync();
        await server.Client.PostAsync("/api/v1/ingest", Ndjson(ThreeRecords));

        var top = await Json(await server.Client.GetAsync("/api/v1/reports/top-apps?from=2026-11-01&to=2026-11-02T00:00:00Z&user=alice"));

        var row = Assert.Single(top.EnumerateArray());
        Assert.Equal("app,runs,users,seconds", string.Join(",", row.EnumerateObject().Select(p => p.Name)));
        Assert.Equal(("/usr/bin/vim", 1, 1, 300.0), (row.GetProperty("app").GetString(), row.GetProperty("runs").GetInt32(), row.GetProperty("users").GetInt32(), row.GetProperty("seconds").GetDouble()));
    }

    [Fact]
    public async Task AnUnknownReportIs404NamingTheValidOnes()
    {
        await using var server = await RunningServer.StartAsync();

        var response = await server.Client.GetAsync("/api/v1/reports/top");

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Contains("top-apps, launches, runs, concurrency, last-used, inactive, sessions", (await Json(response)).GetProperty("error").GetString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("from=yesterday", "from")]
    [InlineData("to=2026-13-45", "to")]
    public async Task ABadDateIs400NamingTheParameter(string query, string parameter)
    {
        await using var server = await RunningServer.StartAsync();

        var response = await server.Client.GetAsync("/api/v1/reports/runs?" + query);
        var json = await Json(response);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(parameter, json.GetProperty("parameter").GetString());
        Assert.StartsWith($"parameter '{parameter}'", json.GetProperty("error").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task TheCliCanReadTheDatabaseReadOnlyWhileTheServerRuns()
    {
        await using var server = await RunningServer.StartAsync();
        await server.Client.PostAsync("/api/v1/ingest", Ndjson(ThreeRecords));

        using (var readOnly = SqliteStore.OpenReadOnly(server.DataDir))
        {
            var runs = new ReportService(readOnly).Run("runs", ReportFilter.None);
            Assert.Equal("/usr/bin/vim", ((RunRow)Assert.Single(runs.Rows)).App);
            Assert.Throws<InvalidOperationException>(() => readOnly.Ingest([R.Start("z", 1, 1)]));
        }

        var more = await server.Client.PostAsync("/api/v1/ingest", Ndjson(Body(R.Start("c", 11, 2))));
        Assert.Equal(HttpStatusCode.OK, more.StatusCode);
        Assert.Equal(2, await RunCount(server));
    }

    [Fact]
    public void OpeningAMissingDatabaseReadOnlyIsAClearError()
    {
        using var dir = new TempDataDir();

        var error = Assert.Throws<FileNotFoundException>(() => SqliteStore.OpenReadOnly(dir.Path));

        Assert.Contains("sessiontrail.db", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AnUnhandledErrorIs500JsonAndTheServerKeepsRunning()
    {
        await using var server = await RunningServer.StartAsync();
        server.App.Services.GetRequiredService<SqliteStore>().Dispose(); // the store fails from now on

        var response = await server.Client.PostAsync("/api/v1/ingest", Ndjson(ThreeRecords));
        var health = await server.Anonymous.GetAsync("/healthz");

        Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
        Assert.Equal("internal server error; see the server log", (await Json(response)).GetProperty("error").GetString());
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
    }

    [Fact]
    public void ABadSettingIsNamedAtStart()
    {
        var error = Assert.Throws<ArgumentException>(() => ServerApp.Build(new ServerOptions { DataDir = "" }));

        Assert.Contains("DataDir", error.Message, StringComparison.Ordinal);
    }
}
