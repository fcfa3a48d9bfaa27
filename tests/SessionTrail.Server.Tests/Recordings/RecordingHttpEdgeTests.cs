using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using SessionTrail.Server.Recordings;

namespace SessionTrail.Server.Tests.Recordings;

/// <summary>
/// The edges a hostile probe found on the segment endpoint, over a real Kestrel: aliased request paths (sent as
/// raw bytes: HttpClient would normalise them), Range units, If-Range validators and HEAD.
/// </summary>
public sealed class RecordingHttpEdgeTests : IAsyncLifetime
{
    private static readonly byte[] VideoA = Seg.Bytes(4000, 21);
    private static readonly byte[] VideoB = Seg.Bytes(3000, 22);
    private RecordingServer s = null!;

    public async Task InitializeAsync()
    {
        s = await RecordingServer.StartAsync();
        await s.PutChainAsync("A", VideoA);
        await s.PutChainAsync("B", VideoB);
        await s.PutChainAsync("a/b", VideoB);
    }

    public async Task DisposeAsync() => await s.DisposeAsync();

    private RecordingCatalog Catalog => s.Server.App.Services.GetRequiredService<RecordingCatalog>();

    /// <summary>The audit entries of <paramref name="session"/> (null: all), newest first, once there are <paramref name="count"/> (written just after each response).</summary>
    private async Task<List<AccessAuditEntry>> AuditAsync(string? session, int count)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        List<AccessAuditEntry> entries;
        while ((entries = Catalog.QueryAudit(new AuditQuery(session, null, null, null, null, null, 100))).Count < count && DateTime.UtcNow < deadline)
        {
            await Task.Delay(20);
        }

        return entries;
    }

    /// <summary>One request exactly as written (request target untouched), answered on a fresh connection.</summary>
    private async Task<(int Status, string Head, byte[] Body)> RawAsync(string target, string method = "GET")
    {
        var uri = s.Client.BaseAddress!;
        using var socket = new TcpClient();
        await socket.ConnectAsync(uri.Host, uri.Port);
        var stream = socket.GetStream();
        var request = $"{method} {target} HTTP/1.1\r\nHost: {uri.Authority}\r\nAuthorization: Bearer {s.Server.Token}\r\nConnection: close\r\n\r\n";
        await stream.WriteAsync(Encoding.ASCII.GetBytes(request));
        using var answer = new MemoryStream();
        await stream.CopyToAsync(answer).WaitAsync(TimeSpan.FromSeconds(30));
        var bytes = answer.ToArray();
        var end = bytes.AsSpan().IndexOf("\r\n\r\n"u8);
        var head = Encoding.ASCII.GetString(bytes, 0, end);
        var body = bytes[(end + 4)..];
        return (int.Parse(head.Split(' ')[1], CultureInfo.InvariantCulture), head,
            head.Contains("Transfer-Encoding: chunked", StringComparison.OrdinalIgnoreCase) ? Dechunk(body) : body);
    }

    /// <summary>The payload of a chunked body (size line in hex, data, CRLF; a 0 size ends it).</summary>
    private static byte[] Dechunk(byte[] body)
    {
        using var payload = new MemoryStream();
        var at = 0;
        while (true)
        {
            var line = body.AsSpan(at).IndexOf("\r\n"u8);
            var size = Convert.ToInt32(Encoding.ASCII.GetString(body, at, line).Split(';')[0], 16);
            if (size == 0)
            {
                return payload.ToArray();
            }

            payload.Write(body, at + line + 2, size);
            at += line + 2 + size + 2;
        }
    }

    private async Task<HttpResponseMessage> GetAsync(string path, params (string Name, string Value)[] headers)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        foreach (var (name, value) in headers)
        {
            request.Headers.TryAddWithoutValidation(name, value);
        }

        return await s.Client.SendAsync(request);
    }

    [Theory]
    [InlineData("/api/v1/sessions/A/../B/recordings/0", "dot segment '..'")]
    [InlineData("/api/v1/sessions/B/../A/recordings/0", "dot segment '..'")]
    [InlineData("/api/v1/sessions/B/%2e%2e/A/recordings/0", "dot segment '%2e%2e'")]
    [InlineData("/api/v1/sessions/B/.%2E/A/recordings/0", "dot segment '.%2E'")]
    [InlineData("/api/v1/sessions/B%2F..%2FA/recordings/0", "dot segment 'B%2F..%2FA'")]
    [InlineData("/api/v1/sessions/B%5C..%5CA/recordings/0", "dot segment")]
    [InlineData("/api/v1/./sessions/A/recordings/0", "dot segment '.'")]
    [InlineData("/x/../api/v1/sessions/A/recordings/0", "dot segment '..'")]
    [InlineData("/api/v1/sessions/A/recordings/0/..", "dot segment '..'")]
    [InlineData("/api/v1//sessions/A/recordings/0", "empty segment")]
    [InlineData("/api/v1/sessions/A/recordings/0/", "trailing '/'")]
    [InlineData("/api/v1/sessions/%41/recordings/0", "'%41' in segment '%41' encodes 'A'")]
    [InlineData("/api/v1/sessions/A/recordings/%30", "encodes '0'")]
    [InlineData("/API/v1/sessions/A/recordings/0", "'API' is spelt 'api'")]
    [InlineData("/api/v1/Sessions/A/recordings/0", "'Sessions' is spelt 'sessions'")]
    [InlineData("/api/v1/sessions/A/RECORDINGS/0?purpose=play", "'RECORDINGS' is spelt 'recordings'")]
    [InlineData("/api/v1/sessions/a%2fb/recordings/0", "'%2f' in segment 'a%2fb' is spelt '%2F'")]
    [InlineData("/api/v1/sessions/%c3%a9/recordings/0", "'%c3' in segment '%c3%a9' is spelt '%C3'")]
    public async Task AnAliasedRequestPathIs400BeforeAnyEndpointRuns(string target, string reason)
    {
        var (status, head, body) = await RawAsync(target);

        Assert.True(status == 400, head);
        var error = System.Text.Json.JsonDocument.Parse(body).RootElement.GetProperty("error").GetString()!;
        Assert.Contains("not in canonical form", error, StringComparison.Ordinal);
        Assert.Contains(reason, error, StringComparison.Ordinal);
        Assert.Empty(Catalog.QueryAudit(new AuditQuery(null, null, null, null, null, null, 100))); // no endpoint ran
    }

    [Theory]
    [InlineData("/api/v1/sessions/A/recordings/00")]
    [InlineData("/api/v1/sessions/A/recordings/0000000")]
    public async Task ASegmentIndexHasOneSpellingLeadingZerosAre400(string target)
    {
        var (status, head, body) = await RawAsync(target);

        Assert.True(status == 400, head);
        Assert.Contains("without leading zeros", System.Text.Json.JsonDocument.Parse(body).RootElement.GetProperty("error").GetString()!, StringComparison.Ordinal);
        Assert.Empty(Catalog.QueryAudit(new AuditQuery(null, null, null, null, null, null, 100)));
    }

    [Fact]
    public async Task TheCanonicalPathsStillServeTheirSessionAndAnEncodedSlashIsPartOfTheId()
    {
        var a = await RawAsync("/api/v1/sessions/A/recordings/0");
        var slash = await RawAsync("/api/v1/sessions/a%2Fb/recordings/0?purpose=download");
        var anonymous = await s.Server.Anonymous.GetAsync("/api/v1/sessions/A/recordings/0");

        Assert.Equal(200, a.Status);
        Assert.Equal(VideoA, a.Body);
        Assert.Equal(200, slash.Status);
        Assert.Equal(VideoB, slash.Body);
        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        Assert.Equal(["a/b", "A"], (await AuditAsync(null, 2)).Select(e => e.Session));
    }

    [Theory]
    [InlineData("items=0-9")]
    [InlineData("pages=1")]
    [InlineData("bytes0-9")]
    public async Task ARangeOfAnotherUnitIsIgnoredAndTheWholeSegmentServed(string range)
    {
        using var response = await GetAsync("/api/v1/sessions/A/recordings/0", ("Range", range));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Null(response.Content.Headers.ContentRange);
        Assert.Equal(VideoA, await response.Content.ReadAsByteArrayAsync());
        var audit = Assert.Single(await AuditAsync("A", 1));
        Assert.Equal((range, 200), (audit.Range, audit.Status)); // audited as sent
    }

    [Theory]
    [InlineData("bytes=0-9")]
    [InlineData("Bytes=0-9")]
    public async Task AByteRangeInAnyCaseIsServed(string range)
    {
        using var response = await GetAsync("/api/v1/sessions/A/recordings/0", ("Range", range));

        Assert.Equal(HttpStatusCode.PartialContent, response.StatusCode);
        Assert.Equal(VideoA[..10], await response.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task AnIfRangeDateMatchesOnlyTheExactStrongLastModified()
    {
        var path = s.SegmentPath("A", 0);
        var hourAgo = DateTime.UtcNow.AddHours(-1);
        var written = new DateTime(hourAgo.Ticks - (hourAgo.Ticks % TimeSpan.TicksPerSecond), DateTimeKind.Utc);
        File.SetLastWriteTimeUtc(path, written.AddMilliseconds(700)); // Last-Modified is sent in whole seconds
        var lastModified = written.ToString("R", CultureInfo.InvariantCulture);
        const string Segment = "/api/v1/sessions/A/recordings/0";

        using var plain = await GetAsync(Segment);
        using var exact = await GetAsync(Segment, ("Range", "bytes=0-9"), ("If-Range", lastModified));
        using var later = await GetAsync(Segment, ("Range", "bytes=0-9"), ("If-Range", DateTime.UtcNow.ToString("R", CultureInfo.InvariantCulture)));
        using var earlier = await GetAsync(Segment, ("Range", "bytes=0-9"), ("If-Range", written.AddSeconds(-1).ToString("R", CultureInfo.InvariantCulture)));
        using var garbage = await GetAsync(Segment, ("Range", "bytes=0-9"), ("If-Range", "yesterday"));
        using var alone = await GetAsync(Segment, ("If-Range", lastModified));

        Assert.Equal(written, plain.Content.Headers.LastModified?.UtcDateTime);
        Assert.Equal(HttpStatusCode.PartialContent, exact.StatusCode);
        Assert.Equal(VideoA[..10], await exact.Content.ReadAsByteArrayAsync());
        foreach (var whole in new[] { later, earlier, garbage, alone })
        {
            Assert.Equal(HttpStatusCode.OK, whole.StatusCode);
            Assert.Equal(VideoA, await whole.Content.ReadAsByteArrayAsync());
        }

        // Written in the future (a clock step): the date is not at least 1 s before the response's Date, so it is weak.
        var future = DateTime.UtcNow.AddMinutes(10);
        File.SetLastWriteTimeUtc(path, future);
        using var weak = await GetAsync(Segment, ("Range", "bytes=0-9"), ("If-Range", future.ToString("R", CultureInfo.InvariantCulture)));
        Assert.Equal(HttpStatusCode.OK, weak.StatusCode);
        Assert.Equal(VideoA, await weak.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task AnIfRangeDateNeverMatchesAGrowingSegment()
    {
        await s.Bytes.AppendAsync("live", 0, 0, new MemoryStream(VideoA, 0, 1000), CancellationToken.None);

        using var response = await GetAsync(
            "/api/v1/sessions/live/recordings/0", ("Range", "bytes=0-9"), ("If-Range", DateTime.UtcNow.AddDays(1).ToString("R", CultureInfo.InvariantCulture)));
        using var ranged = await GetAsync("/api/v1/sessions/live/recordings/0", ("Range", "bytes=0-9"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(VideoA[..1000], await response.Content.ReadAsByteArrayAsync());
        Assert.Equal(HttpStatusCode.PartialContent, ranged.StatusCode); // a plain Range still works while it grows
    }

    [Fact]
    public async Task AnIfRangeEntityTagMatchesOnlyByStrongComparison()
    {
        var etag = "\"" + Seg.Sha(VideoA) + "\"";
        const string Segment = "/api/v1/sessions/A/recordings/0";

        using var strong = await GetAsync(Segment, ("Range", "bytes=0-9"), ("If-Range", etag));
        using var weak = await GetAsync(Segment, ("Range", "bytes=0-9"), ("If-Range", "W/" + etag));
        using var other = await GetAsync(Segment, ("Range", "bytes=0-9"), ("If-Range", "\"" + Seg.Sha(VideoB) + "\""));

        Assert.Equal(HttpStatusCode.PartialContent, strong.StatusCode);
        Assert.Equal(VideoA[..10], await strong.Content.ReadAsByteArrayAsync());
        Assert.Equal(HttpStatusCode.OK, weak.StatusCode);
        Assert.Equal(HttpStatusCode.OK, other.StatusCode);
        Assert.Equal(VideoA, await other.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task HeadAnswersAsGetWouldWithoutTheBodyAndIsAuditedAsHead()
    {
        using var get = await GetAsync("/api/v1/sessions/A/recordings/0?purpose=download");
        using var head = await s.Client.SendAsync(new HttpRequestMessage(HttpMethod.Head, "/api/v1/sessions/A/recordings/0?purpose=download"));
        using var rangedRequest = new HttpRequestMessage(HttpMethod.Head, "/api/v1/sessions/A/recordings/0");
        rangedRequest.Headers.TryAddWithoutValidation("Range", "bytes=10-19");
        using var ranged = await s.Client.SendAsync(rangedRequest);
        using var missing = await s.Client.SendAsync(new HttpRequestMessage(HttpMethod.Head, "/api/v1/sessions/A/recordings/7"));
        var raw = await RawAsync("/api/v1/sessions/A/recordings/0", "HEAD");

        Assert.Equal(HttpStatusCode.OK, head.StatusCode);
        Assert.Equal(VideoA.Length, head.Content.Headers.ContentLength);
        Assert.Equal(get.Content.Headers.ContentLength, head.Content.Headers.ContentLength);
        Assert.Equal(get.Headers.ETag, head.Headers.ETag);
        Assert.Equal(["bytes"], head.Headers.AcceptRanges);
        Assert.Equal(get.Content.Headers.LastModified, head.Content.Headers.LastModified);
        Assert.Equal(get.Content.Headers.ContentType, head.Content.Headers.ContentType);
        Assert.Equal(get.Content.Headers.ContentDisposition, head.Content.Headers.ContentDisposition);
        Assert.Equal(HttpStatusCode.PartialContent, ranged.StatusCode);
        Assert.Equal("bytes 10-19/4000", ranged.Content.Headers.ContentRange?.ToString());
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        Assert.Equal(200, raw.Status);
        Assert.Empty(raw.Body); // nothing after the head, the connection closed

        var audit = await AuditAsync("A", 5);
        Assert.Equal(
            [(AuditActions.Head, 200), (AuditActions.Head, 404), (AuditActions.Head, 206), (AuditActions.Head, 200), (AuditActions.Download, 200)],
            audit.Select(e => (e.Action, e.Status ?? 0)));
    }

    [Fact]
    public async Task HeadNeedsTheSameRoleAsGet()
    {
        using var viewer = s.Server.TokenClient("viewer");

        using var head = await viewer.SendAsync(new HttpRequestMessage(HttpMethod.Head, "/api/v1/sessions/A/recordings/0"));
        using var get = await viewer.GetAsync("/api/v1/sessions/A/recordings/0");

        Assert.Equal(HttpStatusCode.Forbidden, get.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, head.StatusCode);
    }
}
