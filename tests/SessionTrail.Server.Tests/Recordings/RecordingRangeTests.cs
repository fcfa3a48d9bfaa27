using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;

namespace SessionTrail.Server.Tests.Recordings;

/// <summary>GET /sessions/{session}/recordings/{index}: HTTP Range on complete and growing objects, and the access audit of every request.</summary>
public sealed class RecordingRangeTests
{
    private static readonly byte[] Video = Seg.Bytes(10_000, 7);

    private static async Task<(HttpStatusCode Status, byte[] Body, HttpResponseMessage Response)> GetAsync(HttpClient client, string url, string? range = null, string? ifRange = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        if (range is not null)
        {
            request.Headers.TryAddWithoutValidation("Range", range);
        }

        if (ifRange is not null)
        {
            request.Headers.TryAddWithoutValidation("If-Range", ifRange);
        }

        var response = await client.SendAsync(request);
        return (response.StatusCode, await response.Content.ReadAsByteArrayAsync(), response);
    }

    [Fact]
    public async Task RangesOfACompleteSegment()
    {
        await using var s = await RecordingServer.StartAsync();
        await s.PutChainAsync("s1", Video);
        const string Url = "/api/v1/sessions/s1/recordings/0";

        var full = await GetAsync(s.Client, Url);
        Assert.Equal(HttpStatusCode.OK, full.Status);
        Assert.Equal(Video, full.Body);
        Assert.Equal("bytes", string.Join(",", full.Response.Headers.AcceptRanges));
        Assert.Equal($"\"{Seg.Sha(Video)}\"", full.Response.Headers.ETag!.Tag);
        Assert.Equal("video/mp4", full.Response.Content.Headers.ContentType!.MediaType);

        var first = await GetAsync(s.Client, Url, "bytes=0-99");
        Assert.Equal(HttpStatusCode.PartialContent, first.Status);
        Assert.Equal(Video[..100], first.Body);
        Assert.Equal("bytes 0-99/10000", first.Response.Content.Headers.ContentRange!.ToString());

        var middle = await GetAsync(s.Client, Url, "bytes=4000-4999");
        Assert.Equal(Video[4000..5000], middle.Body);
        Assert.Equal("bytes 4000-4999/10000", middle.Response.Content.Headers.ContentRange!.ToString());

        var suffix = await GetAsync(s.Client, Url, "bytes=-100");
        Assert.Equal(HttpStatusCode.PartialContent, suffix.Status);
        Assert.Equal(Video[^100..], suffix.Body);

        var open = await GetAsync(s.Client, Url, "bytes=9990-");
        Assert.Equal(Video[9990..], open.Body);

        var past = await GetAsync(s.Client, Url, "bytes=10000-10100");
        Assert.Equal(HttpStatusCode.RequestedRangeNotSatisfiable, past.Status);
        Assert.Equal("bytes */10000", past.Response.Content.Headers.ContentRange!.ToString());

        var sameTag = await GetAsync(s.Client, Url, "bytes=0-9", $"\"{Seg.Sha(Video)}\"");
        Assert.Equal(HttpStatusCode.PartialContent, sameTag.Status);
        var otherTag = await GetAsync(s.Client, Url, "bytes=0-9", "\"0000\"");
        Assert.Equal(HttpStatusCode.OK, otherTag.Status);
        Assert.Equal(Video.Length, otherTag.Body.Length);

        var download = await GetAsync(s.Client, Url + "?purpose=download");
        Assert.Equal("000000.mp4", download.Response.Content.Headers.ContentDisposition!.FileNameStar ?? download.Response.Content.Headers.ContentDisposition.FileName);
    }

    [Fact]
    public async Task AGrowingPartialObjectIsServedAsFarAsItIsHeld()
    {
        await using var s = await RecordingServer.StartAsync();
        const string Url = "/api/v1/sessions/live/recordings/0";
        await s.Bytes.AppendAsync("live", 0, 0, new MemoryStream(Video, 0, 4000), CancellationToken.None);

        var whole = await GetAsync(s.Client, Url);
        Assert.Equal((HttpStatusCode.OK, 4000), (whole.Status, whole.Body.Length));
        Assert.Null(whole.Response.Headers.ETag); // not final: no strong validator
        Assert.Equal(Video[..4000], whole.Body);

        var tail = await GetAsync(s.Client, Url, "bytes=3900-");
        Assert.Equal("bytes 3900-3999/4000", tail.Response.Content.Headers.ContentRange!.ToString());

        await s.Bytes.AppendAsync("live", 0, 4000, new MemoryStream(Video, 4000, 3000), CancellationToken.None);

        var grown = await GetAsync(s.Client, Url, "bytes=3900-");
        Assert.Equal(HttpStatusCode.PartialContent, grown.Status);
        Assert.Equal("bytes 3900-6999/7000", grown.Response.Content.Headers.ContentRange!.ToString());
        Assert.Equal(Video[3900..7000], grown.Body);
        Assert.Equal(HttpStatusCode.RequestedRangeNotSatisfiable, (await GetAsync(s.Client, Url, "bytes=7000-")).Status);
    }

    [Fact]
    public async Task ServingWhileTheObjectGrowsSendsExactlyTheAnnouncedLength()
    {
        await using var s = await RecordingServer.StartAsync();
        const string Url = "/api/v1/sessions/live/recordings/0";
        var big = Seg.Bytes(24 << 20, 3);
        await s.Bytes.AppendAsync("live", 0, 0, new MemoryStream(big, 0, 16 << 20), CancellationToken.None);

        // The server starts sending 16 MiB; the client reads nothing until the object has grown to 24 MiB.
        using var response = await s.Client.GetAsync(Url, HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(16 << 20, response.Content.Headers.ContentLength);
        await s.Bytes.AppendAsync("live", 0, 16 << 20, new MemoryStream(big, 16 << 20, 8 << 20), CancellationToken.None);
        var body = await response.Content.ReadAsByteArrayAsync();

        Assert.Equal(16 << 20, body.Length);
        Assert.True(big.AsSpan(0, 16 << 20).SequenceEqual(body));
        Assert.Equal(24 << 20, (await s.Client.GetByteArrayAsync(Url)).Length);
    }

    [Fact]
    public async Task TheBoundedStreamStopsAtItsSnapshotWhileTheFileGrows()
    {
        using var dir = new TempDataDir();
        var path = Path.Combine(dir.Path, "grow");
        await File.WriteAllBytesAsync(path, Video[..1000]);
        await using var inner = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        await using var bounded = new SessionTrail.Server.Recordings.BoundedReadStream(inner, inner.Length);
        await using (var append = new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.ReadWrite))
        {
            await append.WriteAsync(Video.AsMemory(1000, 500));
        }

        bounded.Seek(900, SeekOrigin.Begin);
        using var copy = new MemoryStream();
        await bounded.CopyToAsync(copy);

        Assert.Equal(1500, new FileInfo(path).Length);
        Assert.Equal(Video[900..1000], copy.ToArray());
        Assert.Equal(1000, bounded.Length);
        Assert.Equal(990, bounded.Seek(-10, SeekOrigin.End));
    }

    [Fact]
    public async Task EveryByteRequestIsAuditedWithWhoWhatAndWhere()
    {
        await using var s = await RecordingServer.StartAsync();
        await s.PutChainAsync("s1", Video);
        await GetAsync(s.Client, "/api/v1/sessions/s1/recordings/0", "bytes=0-99");
        await GetAsync(s.Client, "/api/v1/sessions/s1/recordings/0?purpose=download");
        await GetAsync(s.Client, "/api/v1/sessions/s1/recordings/0?purpose=export", "bytes=20000-");
        await GetAsync(s.Client, "/api/v1/sessions/s1/recordings/5");
        await s.Client.GetStringAsync("/api/v1/sessions/s1/recordings/manifest");
        await s.Client.PutAsync("/api/v1/sessions/s1/recordings/hold", null);
        await s.Client.DeleteAsync("/api/v1/sessions/s1/recordings/hold");
        await s.Client.GetAsync("/api/v1/sessions/s1/recordings"); // a listing reads no bytes: not audited

        var entries = (await s.Client.GetFromJsonAsync<JsonElement>("/api/v1/audit/access?session=s1"))!.EnumerateArray().Reverse().ToList();

        Assert.Equal(
            ["play|0|bytes=0-99|206", "download|0||200", "export|0|bytes=20000-|416", "play|5||404", "manifest|||200", "hold|||200", "release|||200"],
            entries.Select(e => $"{e.GetProperty("action").GetString()}|{(e.GetProperty("index").ValueKind == JsonValueKind.Null ? "" : e.GetProperty("index").GetInt32())}|{e.GetProperty("range").GetString()}|{e.GetProperty("status").GetInt32()}"));
        Assert.All(entries, e => Assert.Equal("test", e.GetProperty("who").GetString()));
        Assert.All(entries, e => Assert.Equal("127.0.0.1", e.GetProperty("remote").GetString()));
        Assert.All(entries, e => Assert.Equal(JsonValueKind.Number, e.GetProperty("tokenId").ValueKind));
    }

    [Fact]
    public async Task TheAuditLogPagesAndFilters()
    {
        await using var s = await RecordingServer.StartAsync();
        await s.PutChainAsync("s1", Video);
        for (var i = 0; i < 5; i++)
        {
            await GetAsync(s.Client, "/api/v1/sessions/s1/recordings/0", $"bytes={i}-{i}");
        }

        var page = await s.Client.GetAsync("/api/v1/audit/access?limit=2&action=play");
        var first = (await page.Content.ReadFromJsonAsync<JsonElement>())!;
        var cursor = page.Headers.GetValues("X-Next-Cursor").Single();
        var rest = (await s.Client.GetFromJsonAsync<JsonElement>($"/api/v1/audit/access?limit=10&action=play&before={cursor}"))!;

        Assert.Equal(["bytes=4-4", "bytes=3-3"], first.EnumerateArray().Select(e => e.GetProperty("range").GetString()));
        Assert.Equal(["bytes=2-2", "bytes=1-1", "bytes=0-0"], rest.EnumerateArray().Select(e => e.GetProperty("range").GetString()));
        Assert.Empty((await s.Client.GetFromJsonAsync<JsonElement>("/api/v1/audit/access?who=someone-else"))!.EnumerateArray());
        Assert.Empty((await s.Client.GetFromJsonAsync<JsonElement>("/api/v1/audit/access?to=2000-01-01"))!.EnumerateArray());
        Assert.Equal(HttpStatusCode.BadRequest, (await s.Client.GetAsync("/api/v1/audit/access?limit=0")).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await s.Client.GetAsync("/api/v1/audit/access?from=yesterday")).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await s.Client.GetAsync("/api/v1/audit/access?before=x")).StatusCode);
    }

    [Fact]
    public async Task FuzzedRangeHeadersGetAConsistentAnswerAndNeverAnError()
    {
        await using var s = await RecordingServer.StartAsync();
        await s.PutChainAsync("s1", Video);
        var random = new Random(11);
        string[] parts = ["bytes", "=", "-", ",", " ", "0", "1", "99", "9999", "10000", "4294967296", "99999999999999999999", "items", ";", "\t", "a", "--", "=-"];
        for (var i = 0; i < 400; i++)
        {
            var range = string.Concat(Enumerable.Range(0, random.Next(1, 8)).Select(_ => parts[random.Next(parts.Length)]));
            if (random.Next(3) == 0)
            {
                range = $"bytes={random.Next(-5, 11000)}-{random.Next(-5, 11000)}";
            }

            var (status, body, response) = await GetAsync(s.Client, "/api/v1/sessions/s1/recordings/0", range);

            Assert.True(status is HttpStatusCode.OK or HttpStatusCode.PartialContent or HttpStatusCode.RequestedRangeNotSatisfiable, $"{range}: {status}");
            if (status == HttpStatusCode.OK)
            {
                Assert.Equal(Video, body);
            }
            else if (status == HttpStatusCode.PartialContent)
            {
                var r = response.Content.Headers.ContentRange!;
                Assert.Equal(Video[(int)r.From!.Value..((int)r.To!.Value + 1)], body);
            }
        }
    }

    [Fact]
    public async Task ARealFragmentedMp4PlaysThroughRangeRequests()
    {
        using var dir = new TempDataDir();
        var mp4 = Path.Combine(dir.Path, "out.mp4");
        await RunAsync("ffmpeg", ["-v", "error", "-f", "lavfi", "-i", "testsrc=size=320x240:rate=5", "-t", "4", "-c:v", "libx264", "-pix_fmt", "yuv420p",
            "-movflags", "+frag_keyframe+empty_moov+default_base_moof", mp4]);
        await using var s = await RecordingServer.StartAsync();
        await s.PutChainAsync("s1", File.ReadAllBytes(mp4));

        var url = $"{s.Client.BaseAddress}api/v1/sessions/s1/recordings/0";
        var probe = await RunAsync("ffprobe", ["-v", "error", "-headers", $"Authorization: Bearer {s.Server.Token}\r\n", "-show_entries", "stream=codec_name,width,height,pix_fmt", "-of", "csv=p=0", url]);

        Assert.Equal("h264,320,240,yuv420p", probe.Trim());
        var audit = (await s.Client.GetFromJsonAsync<JsonElement>("/api/v1/audit/access?session=s1"))!;
        Assert.NotEmpty(audit.EnumerateArray());
    }

    private static async Task<string> RunAsync(string file, string[] args)
    {
        using var process = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo(file, args)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        })!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        Assert.True(process.ExitCode == 0, $"{file} exited {process.ExitCode}: {error}");
        return await output;
    }
}
