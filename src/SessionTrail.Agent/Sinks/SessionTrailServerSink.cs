using System.IO.Compression;
using System.Net;
using System.Net.Http.Headers;
using Microsoft.Extensions.Logging;

namespace SessionTrail.Agent.Sinks;

/// <summary>
/// Sends batches to a SessionTrail server: POST {Url}/api/v1/ingest, gzip NDJSON, bearer token.
/// 200 → success; 400 → rejected (dead letter); 401/403 → retryable, logged as "token rejected";
/// 413 → too large (split); 408, 429, 5xx, connection errors and timeouts → retryable (Retry-After honoured).
/// </summary>
public sealed partial class SessionTrailServerSink : ISink, IDisposable
{
    public const string IngestPath = "api/v1/ingest";

    private readonly HttpClient _http;
    private readonly Uri _ingestUri;
    private readonly AuthenticationHeaderValue _authorization;
    private readonly ILogger _logger;

    /// <param name="handler">For tests; default a <see cref="SocketsHttpHandler"/>.</param>
    /// <param name="name">The sink's name (its queue folder): "server" for the agent's own server, a log sink's Id otherwise.</param>
    public SessionTrailServerSink(Uri serverUrl, string token, ILogger logger, HttpMessageHandler? handler = null, TimeSpan? timeout = null, string name = "server")
    {
        Name = name;
        ArgumentNullException.ThrowIfNull(serverUrl);
        ArgumentException.ThrowIfNullOrWhiteSpace(token);
        var baseUri = serverUrl.AbsoluteUri.EndsWith('/') ? serverUrl : new Uri(serverUrl.AbsoluteUri + "/");
        _ingestUri = new Uri(baseUri, IngestPath);
        _authorization = new AuthenticationHeaderValue("Bearer", token);
        _logger = logger;
        _http = new HttpClient(handler ?? new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5) })
        {
            Timeout = timeout ?? TimeSpan.FromSeconds(60),
        };
    }

    public string Name { get; }

    public async Task<SinkResult> SendAsync(IReadOnlyList<ReadOnlyMemory<byte>> lines, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(lines);
        using var request = new HttpRequestMessage(HttpMethod.Post, _ingestUri);
        request.Headers.Authorization = _authorization;
        var content = new ByteArrayContent(Gzip(lines));
        content.Headers.ContentType = new MediaTypeHeaderValue("application/x-ndjson");
        content.Headers.ContentEncoding.Add("gzip");
        request.Content = content;

        var call = await SinkHttp.SendAsync(_http, request, "server unreachable: ", "request timed out", cancellationToken);
        if (call.Response is not { } response)
        {
            return call.Failure!;
        }

        using (response)
        {
            var status = (int)response.StatusCode;
            if (response.IsSuccessStatusCode)
            {
                return SinkResult.Success;
            }

            var answer = await SinkHttp.ReadBodyAsync(response, cancellationToken);
            var body = answer.Length > 500 ? answer[..500] : answer;
            var retryAfter = SinkHttp.RetryAfter(response, TimeProvider.System);
            switch (SinkHttp.Classify(response.StatusCode))
            {
                case HttpRefusal.BadRequest when BadLine(answer) is { } line:
                    return SinkResult.RecordRejected("server rejected the batch (400): " + body, line);
                case HttpRefusal.BadRequest:
                    return SinkResult.Rejected("server rejected the batch (400): " + body);
                case HttpRefusal.Credentials:
                    LogTokenRejected(_logger, status, _ingestUri);
                    return SinkResult.Retryable($"token rejected ({status}): {body}; check the agent's Token and its role (agent or admin)", retryAfter);
                case HttpRefusal.TooLarge:
                    return SinkResult.TooLarge("413 " + body);
                default:
                    return SinkResult.Retryable($"server answered {status}: {body}", retryAfter);
            }
        }
    }

    public void Dispose() => _http.Dispose();

    /// <summary>The line a 400 names (<c>{"error","line","field"}</c>: a record of the batch is bad), or null (the body as a whole is).</summary>
    internal static int? BadLine(string body)
    {
        try
        {
            using var json = System.Text.Json.JsonDocument.Parse(body);
            return json.RootElement.ValueKind == System.Text.Json.JsonValueKind.Object
                && json.RootElement.TryGetProperty("line", out var line) && line.ValueKind == System.Text.Json.JsonValueKind.Number
                && line.TryGetInt32(out var n) && n >= 1 ? n : null;
        }
        catch (System.Text.Json.JsonException)
        {
            return null;
        }
    }

    internal static byte[] Gzip(IReadOnlyList<ReadOnlyMemory<byte>> lines)
    {
        using var buffer = new MemoryStream();
        using (var gzip = new GZipStream(buffer, CompressionLevel.Fastest, leaveOpen: true))
        {
            foreach (var line in lines)
            {
                gzip.Write(line.Span);
            }
        }

        return buffer.ToArray();
    }

    [LoggerMessage(EventId = 1610, Level = LogLevel.Error, Message = "TOKEN REJECTED by the server ({Status}) at {Url}; records stay queued until a valid token is configured")]
    private static partial void LogTokenRejected(ILogger logger, int status, Uri url);
}
