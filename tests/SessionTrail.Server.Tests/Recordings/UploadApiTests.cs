using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using SessionTrail.Server.Recordings;
using SessionTrail.Server.Tests.Http;

namespace SessionTrail.Server.Tests.Recordings;

/// <summary>The resumable upload endpoints on a real Kestrel server over the real filesystem store.</summary>
public sealed class UploadApiTests
{
    private static readonly byte[] Segment = MakeBytes(300_000, 7);

    internal static byte[] MakeBytes(int length, int seed)
    {
        var bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    internal static string Url(string session, int index, string what = "upload") =>
        $"/api/v1/sessions/{Uri.EscapeDataString(session)}/recordings/{index.ToString(CultureInfo.InvariantCulture)}/{what}";

    internal static async Task<HttpResponseMessage> PatchAsync(HttpClient client, string url, long offset, ReadOnlyMemory<byte> body)
    {
        using var request = new HttpRequestMessage(HttpMethod.Patch, url);
        request.Headers.TryAddWithoutValidation("Upload-Offset", offset.ToString(CultureInfo.InvariantCulture));
        request.Content = new ReadOnlyMemoryContent(body);
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/offset+octet-stream");
        return await client.SendAsync(request);
    }

    internal static async Task<HttpResponseMessage> CompleteAsync(HttpClient client, string url, long bytes, string sha256) =>
        await client.PostAsync(url, new StringContent($$"""{"bytes":{{bytes}},"sha256":"{{sha256}}"}""", Encoding.UTF8, "application/json"));

    internal static async Task<JsonElement> Json(HttpResponseMessage response) =>
        JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;

    internal static long OffsetHeader(HttpResponseMessage response) =>
        long.Parse(response.Headers.GetValues("Upload-Offset").Single(), CultureInfo.InvariantCulture);

    /// <summary>Sends a PATCH's head (offset 0) on a raw socket; the caller sends (part of) the body or reads the answer.</summary>
    private static async Task<NetworkStream> RawPatchAsync(TcpClient socket, Uri uri, string token, long contentLength)
    {
        await socket.ConnectAsync(uri.Host, uri.Port);
        var stream = socket.GetStream();
        var head = $"PATCH {uri.PathAndQuery} HTTP/1.1\r\nHost: {uri.Authority}\r\nAuthorization: Bearer {token}\r\n" +
                   $"Content-Type: application/offset+octet-stream\r\nUpload-Offset: 0\r\nContent-Length: {contentLength}\r\n\r\n";
        await stream.WriteAsync(Encoding.ASCII.GetBytes(head));
        return stream;
    }

    private static string Sha(ReadOnlySpan<byte> bytes) => Convert.ToHexStringLower(SHA256.HashData(bytes));

    [Fact]
    public async Task ChunksAppendAtTheHeldOffsetAndAnUploadResumesFromWhatTheServerHolds()
    {
        await using var server = await RunningServer.StartAsync();
        var url = Url("s-1", 0);

        var empty = await Json(await server.Client.GetAsync(url));
        var first = await PatchAsync(server.Client, url, 0, Segment.AsMemory(0, 100_000));
        var afterFirst = await Json(await server.Client.GetAsync(url));
        var second = await PatchAsync(server.Client, url, 100_000, Segment.AsMemory(100_000));

        Assert.Equal(0, empty.GetProperty("offset").GetInt64());
        Assert.False(empty.GetProperty("complete").GetBoolean());
        Assert.Equal(HttpStatusCode.NoContent, first.StatusCode);
        Assert.Equal(100_000, OffsetHeader(first));
        Assert.Equal(100_000, afterFirst.GetProperty("offset").GetInt64());
        Assert.Equal(HttpStatusCode.NoContent, second.StatusCode);
        Assert.Equal(Segment.Length, OffsetHeader(second));
        var store = server.App.Services.GetRequiredService<IRecordingStore>();
        await using var held = (await store.OpenReadAsync("s-1", 0, default))!;
        using var copy = new MemoryStream();
        await held.CopyToAsync(copy);
        Assert.Equal(Segment, copy.ToArray());
    }

    [Theory]
    [InlineData(0)]
    [InlineData(50)]
    [InlineData(1000)]
    public async Task AChunkAtAnOtherOffsetIsRefusedWith409AndTheHeldOffset(long wrong)
    {
        await using var server = await RunningServer.StartAsync();
        var url = Url("s-1", 3);
        await PatchAsync(server.Client, url, 0, Segment.AsMemory(0, 100));

        var response = await PatchAsync(server.Client, url, wrong, Segment.AsMemory(0, 10));

        Assert.Equal(HttpStatusCode.Conflict, response.StatusCode);
        Assert.Equal(100, OffsetHeader(response));
        Assert.Contains("send from 100", (await Json(response)).GetProperty("error").GetString(), StringComparison.Ordinal);
        Assert.Equal(100, (await Json(await server.Client.GetAsync(url))).GetProperty("offset").GetInt64());
    }

    [Fact]
    public async Task AChunkForANewSegmentNotAtZeroCreatesNothing()
    {
        await using var server = await RunningServer.StartAsync();

        var response = await PatchAsync(server.Client, Url("s-new", 0), 5, Segment.AsMemory(0, 10));

        Assert.Equal(HttpStatusCode.Conflict, response.StatusCode);
        Assert.Equal(0, OffsetHeader(response));
        Assert.Empty(await server.App.Services.GetRequiredService<IRecordingStore>().ListAsync("s-new", default));
    }

    [Fact]
    public async Task CompleteVerifiesIsIdempotentAndClosesTheSegmentToMoreChunks()
    {
        await using var server = await RunningServer.StartAsync();
        var url = Url("s-1", 0);
        await PatchAsync(server.Client, url, 0, Segment);

        var complete = await CompleteAsync(server.Client, Url("s-1", 0, "complete"), Segment.Length, Sha(Segment).ToUpperInvariant());
        var again = await CompleteAsync(server.Client, Url("s-1", 0, "complete"), Segment.Length, Sha(Segment));
        var state = await Json(await server.Client.GetAsync(url));
        var late = await PatchAsync(server.Client, url, Segment.Length, Segment.AsMemory(0, 10));

        Assert.Equal(HttpStatusCode.OK, complete.StatusCode);
        var body = await Json(complete);
        Assert.True(body.GetProperty("complete").GetBoolean());
        Assert.Equal(Sha(Segment), body.GetProperty("sha256").GetString());
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        Assert.True(state.GetProperty("complete").GetBoolean());
        Assert.Equal(Segment.Length, state.GetProperty("offset").GetInt64());
        Assert.Equal(Sha(Segment), state.GetProperty("sha256").GetString());
        Assert.Equal(HttpStatusCode.Conflict, late.StatusCode);
        Assert.Equal("?1", late.Headers.GetValues("Upload-Complete").Single());
        Assert.Equal(Segment.Length, OffsetHeader(late));
    }

    [Fact]
    public async Task AHashMismatchIs422NamingBothHashesAndDiscardsThePartialUpload()
    {
        await using var server = await RunningServer.StartAsync();
        var url = Url("s-1", 0);
        await PatchAsync(server.Client, url, 0, Segment);
        var wrong = Sha(Segment.AsSpan(1));

        var response = await CompleteAsync(server.Client, Url("s-1", 0, "complete"), Segment.Length, wrong);
        var state = await Json(await server.Client.GetAsync(url));

        Assert.Equal(HttpStatusCode.UnprocessableEntity, response.StatusCode);
        var error = (await Json(response)).GetProperty("error").GetString()!;
        Assert.Contains(wrong, error, StringComparison.Ordinal);
        Assert.Contains(Sha(Segment), error, StringComparison.Ordinal);
        Assert.Equal(0, state.GetProperty("offset").GetInt64());
        Assert.False(state.GetProperty("complete").GetBoolean());
    }

    [Fact]
    public async Task MoreBytesThanDeclaredIs422AndACompleteSegmentRefusesAnotherHash()
    {
        await using var server = await RunningServer.StartAsync();
        await PatchAsync(server.Client, Url("s-1", 0), 0, Segment);
        await PatchAsync(server.Client, Url("s-1", 1), 0, Segment);
        await CompleteAsync(server.Client, Url("s-1", 1, "complete"), Segment.Length, Sha(Segment));

        var tooMany = await CompleteAsync(server.Client, Url("s-1", 0, "complete"), 10, Sha(Segment.AsSpan(0, 10)));
        var otherHash = await CompleteAsync(server.Client, Url("s-1", 1, "complete"), 10, Sha(Segment.AsSpan(0, 10)));

        Assert.Equal(HttpStatusCode.UnprocessableEntity, tooMany.StatusCode);
        Assert.Contains("more than the 10 declared", (await Json(tooMany)).GetProperty("error").GetString(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, otherHash.StatusCode);
        Assert.Contains("already complete", (await Json(otherHash)).GetProperty("error").GetString(), StringComparison.Ordinal);
        Assert.True((await Json(await server.Client.GetAsync(Url("s-1", 1)))).GetProperty("complete").GetBoolean());
    }

    [Fact]
    public async Task CompletingAnIncompleteSegmentIs409WithTheHeldOffset()
    {
        await using var server = await RunningServer.StartAsync();
        await PatchAsync(server.Client, Url("s-1", 0), 0, Segment.AsMemory(0, 1000));

        var partial = await CompleteAsync(server.Client, Url("s-1", 0, "complete"), Segment.Length, Sha(Segment));
        var nothing = await CompleteAsync(server.Client, Url("s-1", 9, "complete"), Segment.Length, Sha(Segment));

        Assert.Equal(HttpStatusCode.Conflict, partial.StatusCode);
        Assert.Equal(1000, OffsetHeader(partial));
        Assert.Equal(HttpStatusCode.Conflict, nothing.StatusCode);
        Assert.Equal(0, OffsetHeader(nothing));
        Assert.Equal(1000, (await Json(await server.Client.GetAsync(Url("s-1", 0)))).GetProperty("offset").GetInt64());
    }

    [Fact]
    public async Task ConcurrentChunksAtTheSameOffsetAppendOnceTheOtherGets409()
    {
        await using var server = await RunningServer.StartAsync();
        var url = Url("s-1", 0);
        for (var round = 0; round < 5; round++)
        {
            var offset = (await Json(await server.Client.GetAsync(url))).GetProperty("offset").GetInt64();
            var a = Segment.AsMemory(0, 40_000);
            var b = Segment.AsMemory(100_000, 25_000);

            var responses = await Task.WhenAll(PatchAsync(server.Client, url, offset, a), PatchAsync(server.Client, url, offset, b));

            var won = Assert.Single(responses, r => r.StatusCode == HttpStatusCode.NoContent);
            var lost = Assert.Single(responses, r => r.StatusCode == HttpStatusCode.Conflict);
            Assert.Equal(OffsetHeader(won), OffsetHeader(lost));
            var held = (await Json(await server.Client.GetAsync(url))).GetProperty("offset").GetInt64();
            Assert.Equal(OffsetHeader(won), held);
            Assert.Contains(held - offset, new long[] { a.Length, b.Length });
        }
    }

    [Fact]
    public async Task AConnectionDroppedMidBodyKeepsTheBytesThatArrived()
    {
        await using var server = await RunningServer.StartAsync();
        var uri = new Uri(server.Client.BaseAddress!, Url("s-drop", 0));
        long before;
        using (var socket = new TcpClient())
        {
            var stream = await RawPatchAsync(socket, uri, server.Token, 200_000);
            await stream.WriteAsync(Segment.AsMemory(0, 70_000));
            await stream.FlushAsync();
            // Cut once the server has read and written most of what was sent: a reset throws away whatever still
            // waits unread in the server's socket buffer (under load a fixed delay was not always enough). While
            // the request lasts, the last few KB may sit in the server's file buffer, not yet in the file.
            before = await OffsetOnceAsync(server, "s-drop", o => o >= 70_000 - 4096);
            Assert.True(before >= 70_000 - 4096, $"the server wrote {before} of 70000 bytes in 30 s");
            socket.Client.LingerState = new LingerOption(true, 0); // RST: the connection is cut, not closed politely
        }

        // After the reset what arrived is kept (the file buffer is flushed too: all 70,000 once they were read),
        // and the upload resumes from the offset the server names.
        await Task.Delay(200);
        var offset = await OffsetOnceAsync(server, "s-drop", o => o == 70_000);
        Assert.InRange(offset, before, 70_000);
        var resumed = await PatchAsync(server.Client, Url("s-drop", 0), offset, Segment.AsMemory((int)offset));
        var complete = await CompleteAsync(server.Client, Url("s-drop", 0, "complete"), Segment.Length, Sha(Segment));
        Assert.Equal(HttpStatusCode.NoContent, resumed.StatusCode);
        Assert.Equal(HttpStatusCode.OK, complete.StatusCode);
    }

    /// <summary>The segment's offset once it satisfies <paramref name="done"/>, or what it is after 30 s.</summary>
    private static async Task<long> OffsetOnceAsync(RunningServer server, string session, Func<long, bool> done)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            var offset = (await Json(await server.Client.GetAsync(Url(session, 0)))).GetProperty("offset").GetInt64();
            if (done(offset) || DateTime.UtcNow > deadline)
            {
                return offset;
            }

            await Task.Delay(50);
        }
    }

    [Fact]
    public async Task AChunkOver16MiBIs413WhetherDeclaredOrStreamed()
    {
        await using var server = await RunningServer.StartAsync();
        var uri = new Uri(server.Client.BaseAddress!, Url("s-big", 0));

        // Declared: refused from the headers, before a byte of body is read.
        string declared;
        using (var socket = new TcpClient())
        {
            var stream = await RawPatchAsync(socket, uri, server.Token, UploadApi.MaxChunkBytes + 1);
            var buffer = new byte[4096];
            var read = await stream.ReadAsync(buffer).AsTask().WaitAsync(TimeSpan.FromSeconds(10));
            declared = Encoding.ASCII.GetString(buffer, 0, read);
        }

        // Streamed (chunked transfer encoding, no Content-Length): cut at the limit.
        using var request = new HttpRequestMessage(HttpMethod.Patch, Url("s-big", 1));
        request.Headers.TryAddWithoutValidation("Upload-Offset", "0");
        request.Content = new StreamContent(new UnknownLengthStream((int)UploadApi.MaxChunkBytes + 1_000_000));
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/offset+octet-stream");
        HttpResponseMessage? streamed = null;
        try
        {
            streamed = await server.Client.SendAsync(request);
        }
        catch (HttpRequestException)
        {
            // Kestrel may answer 413 and close before the client finished sending: the client then sees a reset.
        }


        Assert.StartsWith("HTTP/1.1 413", declared, StringComparison.Ordinal);
        Assert.DoesNotContain(0, await server.App.Services.GetRequiredService<IRecordingStore>().ListAsync("s-big", default));
        if (streamed is not null)
        {
            Assert.Equal(HttpStatusCode.RequestEntityTooLarge, streamed.StatusCode);
        }

        var held = (await Json(await server.Client.GetAsync(Url("s-big", 1)))).GetProperty("offset").GetInt64();
        Assert.InRange(held, 0, UploadApi.MaxChunkBytes);
    }

    [Theory]
    [InlineData("/api/v1/sessions/s/recordings/abc/upload", "segment index")]
    [InlineData("/api/v1/sessions/s/recordings/1000000/upload", "segment index")]
    [InlineData("/api/v1/sessions/s/recordings/-1/upload", "segment index")]
    [InlineData("/api/v1/sessions/s/recordings/+1/upload", "segment index")]
    [InlineData("/api/v1/sessions/%20%0A/recordings/1/upload", "control character")]
    public async Task ABadAddressIs400NamingWhatIsWrong(string path, string expected)
    {
        await using var server = await RunningServer.StartAsync();

        var get = await server.Client.GetAsync(path);
        var patch = await PatchAsync(server.Client, path, 0, Segment.AsMemory(0, 10));
        var complete = await CompleteAsync(server.Client, path.Replace("/upload", "/complete", StringComparison.Ordinal), 10, Sha(Segment.AsSpan(0, 10)));

        foreach (var response in new[] { get, patch, complete })
        {
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            Assert.Contains(expected, (await Json(response)).GetProperty("error").GetString(), StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task ASessionIdOf257CharactersIs400AndOf256NonAsciiCharactersIsStored()
    {
        await using var server = await RunningServer.StartAsync();
        var tooLong = new string('a', 257);
        var longest = string.Concat(Enumerable.Repeat("é/€", 86))[..256];

        var refused = await PatchAsync(server.Client, Url(tooLong, 0), 0, Segment.AsMemory(0, 10));
        var stored = await PatchAsync(server.Client, Url(longest, 0), 0, Segment.AsMemory(0, 10));

        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        Assert.Contains("257 characters", (await Json(refused)).GetProperty("error").GetString(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.NoContent, stored.StatusCode);
        Assert.Equal([0], await server.App.Services.GetRequiredService<IRecordingStore>().ListAsync(longest, default));
    }

    [Theory]
    [InlineData("a/b")]
    [InlineData("a%2Fb")]
    [InlineData("a%b c?d#e")]
    [InlineData("ünï/cödé")]
    [InlineData(".x.")]
    public async Task ASessionIdIsDecodedExactlyOnce(string session)
    {
        await using var server = await RunningServer.StartAsync();

        var response = await PatchAsync(server.Client, Url(session, 2), 0, Segment.AsMemory(0, 10));

        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        Assert.Equal([2], await server.App.Services.GetRequiredService<IRecordingStore>().ListAsync(session, default));
        Assert.Equal(10, (await Json(await server.Client.GetAsync(Url(session, 2)))).GetProperty("offset").GetInt64());
    }

    [Theory]
    [InlineData(null, "required")]
    [InlineData("", "non-negative integer")]
    [InlineData("-1", "non-negative integer")]
    [InlineData("1.0", "non-negative integer")]
    [InlineData("1, 2", "non-negative integer")]
    [InlineData("1234567890123456", "non-negative integer")]
    public async Task ABadUploadOffsetIs400(string? header, string expected)
    {
        await using var server = await RunningServer.StartAsync();
        using var request = new HttpRequestMessage(HttpMethod.Patch, Url("s", 0));
        if (header is not null)
        {
            request.Headers.TryAddWithoutValidation("Upload-Offset", header);
        }

        request.Content = new ByteArrayContent(Segment[..10]);
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/offset+octet-stream");

        var response = await server.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains(expected, (await Json(response)).GetProperty("error").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task AChunkOfAnotherContentTypeIs415AndAMissingTokenIs401()
    {
        await using var server = await RunningServer.StartAsync();
        using var request = new HttpRequestMessage(HttpMethod.Patch, Url("s", 0));
        request.Headers.TryAddWithoutValidation("Upload-Offset", "0");
        request.Content = new ByteArrayContent(Segment[..10]);
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("video/mp4");

        var wrongType = await server.Client.SendAsync(request);
        var anonymous = await PatchAsync(server.Anonymous, Url("s", 0), 0, Segment.AsMemory(0, 10));

        Assert.Equal(HttpStatusCode.UnsupportedMediaType, wrongType.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        Assert.Empty(await server.App.Services.GetRequiredService<IRecordingStore>().ListAsync("s", default));
    }

    [Theory]
    [InlineData("{\"bytes\":-1,\"sha256\":\"00\"}", "bytes")]
    [InlineData("{\"bytes\":10}", "sha256")]
    [InlineData("{\"bytes\":10,\"sha256\":\"zz\"}", "sha256")]
    [InlineData("{\"bytes\":\"ten\"}", "field 'bytes': expected a number, got a string")]
    [InlineData("not json", "not valid JSON")]
    [InlineData("", "empty body")]
    public async Task ABadCompletionBodyIs400(string body, string expected)
    {
        await using var server = await RunningServer.StartAsync();

        var response = await server.Client.PostAsync(Url("s", 0, "complete"), new StringContent(body, Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains(expected, (await Json(response)).GetProperty("error").GetString(), StringComparison.Ordinal);
    }

    /// <summary>A body whose length is not known up front (sent chunked).</summary>
    private sealed class UnknownLengthStream(int length) : Stream
    {
        private int _left = length;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count)
        {
            var n = Math.Min(count, _left);
            Array.Fill(buffer, (byte)'x', offset, n);
            _left -= n;
            return n;
        }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
