using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using SessionTrail.Agent.Sinks;
using SessionTrail.Core.Records;

namespace SessionTrail.Agent.Recording.Upload;

/// <summary>
/// The server's resumable upload protocol (docs/recording.md "Recording upload"): GET …/upload for the offset the server
/// holds, PATCH chunks from there (read from the spool file as they go: nothing is buffered whole), POST
/// …/complete with the sidecar's size and SHA-256. The held offset is remembered between calls and asked
/// again after any failure, so an interrupted upload continues where the server stopped.
/// A 422 (hash mismatch; the server discarded its copy) restarts the segment from 0 once; a second one fails it.
/// Failures are classed for the uploader: no answer, a timeout, a refused token, 404, 408, 429, 502, 503, 504 or
/// 507 mean the server is away for every segment (<see cref="RecordingUploadException"/>); any other refusal, and
/// a spool file that cannot be read as it goes, are this segment's (<see cref="SegmentFailedException"/>).
/// </summary>
public sealed class ServerRecordingTarget : IRecordingTarget
{
    /// <summary>The server's largest chunk.</summary>
    public const int MaxChunkBytes = 16 * 1024 * 1024;

    private readonly HttpClient _http;
    private readonly Uri _api;
    private readonly AuthenticationHeaderValue _authorization;
    private readonly int _chunkBytes;
    private readonly ConcurrentDictionary<(string, int), long> _offsets = new();
    private readonly ConcurrentDictionary<(string, int), bool> _restarted = new();

    /// <param name="handler">For tests (counting, cutting); default a <see cref="SocketsHttpHandler"/>.</param>
    public ServerRecordingTarget(Uri server, string token, int chunkBytes, HttpMessageHandler? handler = null, TimeSpan? timeout = null)
    {
        ArgumentNullException.ThrowIfNull(server);
        ArgumentException.ThrowIfNullOrWhiteSpace(token);
        _api = new Uri(server.AbsoluteUri.EndsWith('/') ? server : new Uri(server.AbsoluteUri + "/"), "api/v1/");
        _authorization = new AuthenticationHeaderValue("Bearer", token);
        _chunkBytes = Math.Clamp(chunkBytes, 64 * 1024, MaxChunkBytes);
        _http = new HttpClient(handler ?? new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5), ConnectTimeout = TimeSpan.FromSeconds(15) })
        {
            Timeout = timeout ?? TimeSpan.FromMinutes(2),
        };
    }

    public string Name => "server";

    public bool Live => true;

    /// <summary>The server's answer to GET …/upload.</summary>
    public sealed record ServerState(long Offset, bool Complete, string? Sha256);

    public async Task<long> SendOpenAsync(SpoolSegment segment, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(segment);
        var length = segment.VideoLength();
        var key = (segment.Session.Id, segment.Index);
        if (!_offsets.TryGetValue(key, out var offset))
        {
            var state = await GetStateAsync(segment, ct);
            if (state.Complete)
            {
                return state.Offset; // completed elsewhere (should not happen for an open segment): nothing to add
            }

            offset = state.Offset;
        }

        return offset >= length ? offset : await SendRangeAsync(segment, offset, length, ct);
    }

    public async Task<long> FinishAsync(SpoolSegment segment, RecordingSegmentRecord sidecar, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(segment);
        ArgumentNullException.ThrowIfNull(sidecar);
        var key = (segment.Session.Id, segment.Index);
        var onDisk = segment.VideoLength();
        if (onDisk < sidecar.Bytes)
        {
            throw new SegmentFailedException($"{segment.VideoPath} holds {onDisk} bytes but its sidecar says {sidecar.Bytes}");
        }

        long sent = 0;
        var state = await GetStateAsync(segment, ct);
        if (state.Complete)
        {
            return string.Equals(state.Sha256, sidecar.Sha256, StringComparison.OrdinalIgnoreCase) && state.Offset == sidecar.Bytes
                ? 0
                : throw new SegmentFailedException($"the server already holds segment {segment.Key} complete with {state.Offset} bytes and SHA-256 {state.Sha256}, not {sidecar.Bytes} bytes and {sidecar.Sha256}");
        }

        var offset = state.Offset;
        for (var round = 0; round < 5; round++)
        {
            if (offset > sidecar.Bytes)
            {
                offset = 0; // the server holds more than the segment: completion discards it (422) and we start again
            }

            if (offset < sidecar.Bytes)
            {
                var before = offset;
                offset = await SendRangeAsync(segment, offset, sidecar.Bytes, ct);
                sent += offset - before;
            }

            var (status, body, held, retryAfter) = await PostCompleteAsync(segment, sidecar, ct);
            switch (status)
            {
                case HttpStatusCode.OK:
                    _offsets.TryRemove(key, out _);
                    _restarted.TryRemove(key, out _);
                    return sent;
                case HttpStatusCode.Conflict:
                    offset = held ?? (await GetStateAsync(segment, ct)).Offset;
                    _offsets[key] = offset;
                    continue;
                case HttpStatusCode.UnprocessableEntity when _restarted.TryAdd(key, true):
                    offset = 0;
                    _offsets[key] = 0;
                    continue;
                case HttpStatusCode.UnprocessableEntity:
                    _offsets.TryRemove(key, out _);
                    _restarted.TryRemove(key, out _); // a later retry may restart from 0 once again
                    throw new SegmentFailedException($"the server refused segment {segment.Key} twice (422): {body}");
                default:
                    throw Unexpected(status, body, "POST complete", retryAfter); // 507 (server disk full), 503: retried after Retry-After
            }
        }

        throw new SegmentFailedException($"the server's offset of segment {segment.Key} kept moving during completion (5 rounds of 409)");
    }

    public void Dispose() => _http.Dispose();

    /// <summary>GET …/upload; remembers the offset.</summary>
    public async Task<ServerState> GetStateAsync(SpoolSegment segment, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(segment);
        using var request = new HttpRequestMessage(HttpMethod.Get, Url(segment, "upload"));
        using var response = await SendAsync(request, ct);
        var body = await SinkHttp.ReadBodyAsync(response, ct);
        if (response.StatusCode != HttpStatusCode.OK)
        {
            throw Unexpected(response.StatusCode, body, "GET upload", SinkHttp.RetryAfter(response, TimeProvider.System));
        }

        ServerState? state;
        try
        {
            state = JsonSerializer.Deserialize<ServerState>(body, JsonOptions);
        }
        catch (JsonException e)
        {
            throw new RecordingUploadException($"the server's answer to GET upload is not the expected JSON: {Shorten(body)}", inner: e);
        }

        if (state is null || state.Offset < 0)
        {
            throw new RecordingUploadException($"the server's answer to GET upload is not the expected JSON: {Shorten(body)}");
        }

        _offsets[(segment.Session.Id, segment.Index)] = state.Offset;
        return state;
    }

    private static readonly JsonSerializerOptions JsonOptions = new(JsonSerializerDefaults.Web);

    /// <summary>PATCHes [offset, end) in chunks; returns the offset the server holds after the last one.</summary>
    private async Task<long> SendRangeAsync(SpoolSegment segment, long offset, long end, CancellationToken ct)
    {
        var key = (segment.Session.Id, segment.Index);
        while (offset < end)
        {
            var length = (int)Math.Min(_chunkBytes, end - offset);
            using var request = new HttpRequestMessage(HttpMethod.Patch, Url(segment, "upload"));
            request.Headers.TryAddWithoutValidation("Upload-Offset", offset.ToString(CultureInfo.InvariantCulture));
            request.Content = new FileRangeContent(segment.VideoPath, offset, length);
            HttpResponseMessage response;
            try
            {
                response = await SendAsync(request, ct);
            }
            catch
            {
                _offsets.TryRemove(key, out _); // the server may hold part of the chunk: ask it next time
                throw;
            }

            using (response)
            {
                var held = OffsetHeader(response);
                if (response.StatusCode == HttpStatusCode.NoContent && held is { } next)
                {
                    offset = next;
                    _offsets[key] = offset;
                    continue;
                }

                var body = await SinkHttp.ReadBodyAsync(response, ct);
                if (response.StatusCode == HttpStatusCode.Conflict && held is { } at)
                {
                    if (response.Headers.TryGetValues("Upload-Complete", out var c) && c.Contains("?1"))
                    {
                        _offsets.TryRemove(key, out _);
                        return at;
                    }

                    offset = at; // someone else (an earlier run) sent more: continue from the server's offset
                    _offsets[key] = offset;
                    continue;
                }

                _offsets.TryRemove(key, out _);
                throw Unexpected(response.StatusCode, body, "PATCH upload", SinkHttp.RetryAfter(response, TimeProvider.System));
            }
        }

        return offset;
    }

    private async Task<(HttpStatusCode Status, string Body, long? Held, TimeSpan? RetryAfter)> PostCompleteAsync(SpoolSegment segment, RecordingSegmentRecord sidecar, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, Url(segment, "complete"))
        {
            Content = new StringContent(
                string.Create(CultureInfo.InvariantCulture, $"{{\"bytes\":{sidecar.Bytes},\"sha256\":\"{sidecar.Sha256.ToLowerInvariant()}\"}}"),
                Encoding.UTF8,
                "application/json"),
        };
        using var response = await SendAsync(request, ct);
        return (response.StatusCode, await SinkHttp.ReadBodyAsync(response, ct), OffsetHeader(response), SinkHttp.RetryAfter(response, TimeProvider.System));
    }

    private async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken ct)
    {
        request.Headers.Authorization = _authorization;
        try
        {
            return await _http.SendAsync(request, ct);
        }
        catch (Exception e) when (SpoolProblem(e) is { } spool)
        {
            throw new SegmentFailedException(spool.Message, spool); // reading the segment's own file failed: not the server's doing
        }
        catch (HttpRequestException e)
        {
            throw new RecordingUploadException($"server unreachable ({e.Message})", inner: e);
        }
        catch (IOException e)
        {
            throw new RecordingUploadException($"connection to the server failed ({e.Message})", inner: e);
        }
        catch (TaskCanceledException e) when (!ct.IsCancellationRequested)
        {
            throw new RecordingUploadException("the server did not answer in time", inner: e);
        }
    }

    /// <summary>The <see cref="SpoolFileException"/> behind <paramref name="e"/> (HttpClient wraps what the request content threw), or null.</summary>
    private static SpoolFileException? SpoolProblem(Exception? e)
    {
        for (; e is not null; e = e.InnerException)
        {
            if (e is SpoolFileException spool)
            {
                return spool;
            }
        }

        return null;
    }

    private Uri Url(SpoolSegment segment, string what) =>
        new(_api, $"sessions/{EscapeSegment(segment.Session.Id)}/recordings/{segment.Index.ToString(CultureInfo.InvariantCulture)}/{what}");

    /// <summary>Percent-encodes a path segment. "." and ".." cannot be sent (URLs and the server drop them as dot segments, even encoded).</summary>
    private static string EscapeSegment(string value) => value is "." or ".."
        ? throw new SegmentFailedException($"the session id '{value}' cannot be named in a URL; start sessions with another id")
        : Uri.EscapeDataString(value);

    private static Exception Unexpected(HttpStatusCode status, string body, string what, TimeSpan? retryAfter = null)
    {
        var code = (int)status;
        var message = $"{what}: the server answered {code} {Shorten(body)}";
        return status switch
        {
            HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden => new RecordingUploadException($"{what}: token rejected ({code}); check the agent's Token", retryAfter),
            HttpStatusCode.RequestTimeout or HttpStatusCode.TooManyRequests or HttpStatusCode.NotFound => new RecordingUploadException(message, retryAfter),
            HttpStatusCode.BadGateway or HttpStatusCode.ServiceUnavailable or HttpStatusCode.GatewayTimeout or HttpStatusCode.InsufficientStorage => new RecordingUploadException(message, retryAfter),
            _ => new SegmentFailedException(message), // 500 and any other refusal: about this segment; the others still go
        };
    }

    private static long? OffsetHeader(HttpResponseMessage response) =>
        response.Headers.TryGetValues("Upload-Offset", out var values)
        && long.TryParse(values.FirstOrDefault(), NumberStyles.None, CultureInfo.InvariantCulture, out var v) ? v : null;

    private static string Shorten(string body) => body.Length > 300 ? body[..300] + "…" : body;
}
