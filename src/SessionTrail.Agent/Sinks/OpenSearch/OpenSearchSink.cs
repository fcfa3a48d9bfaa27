using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using SessionTrail.Agent.Config;
using SessionTrail.Agent.Delivery;
using SessionTrail.Agent.Ids;
using SessionTrail.Agent.Sinks;
using SessionTrail.Agent.Sources;

namespace SessionTrail.Agent.Sinks.OpenSearch;

/// <summary>
/// Indexes records in OpenSearch or Elasticsearch with <c>POST /_bulk</c>: per record a
/// <c>{"create":{"_index":…,"_id":RECORD-ID}}</c> line and its <see cref="LogDocument"/>. The <c>_id</c>
/// is the record id, so a resent document is refused with 409 (already there) instead of stored twice.
/// </summary>
/// <remarks>
/// Per document: 2xx and 409 are delivered; 429 and 5xx are resent (only those, with back-off and jitter,
/// until done, <see cref="OpenSearchSinkOptions.MaxAttempts"/> or a stop); any other status (a mapping
/// error, 400) goes to DIR/agent/sinks/ID/dead-letter.ndjson with its error type and reason. Whole
/// requests: 413 → too large (the sender splits the batch); 401/403 → retried with "credentials refused"
/// in status (records are kept); 429, 5xx, timeouts and connection errors → retried (Retry-After honoured);
/// 400 → the batch to the dead-letter file; anything else (404: a wrong Url) → retried with the answer in status.
/// </remarks>
public sealed partial class OpenSearchSink : ISink, ISinkBatching, IDisposable
{
    private static readonly MediaTypeHeaderValue Ndjson = new("application/x-ndjson");
    private readonly OpenSearchSinkOptions _options;
    private readonly HttpClient _http;
    private readonly Uri _bulkUri;
    private readonly AuthenticationHeaderValue? _authorization;
    private readonly DeadLetterFile _deadLetter;
    private readonly Backoff _backoff;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;

    public OpenSearchSink(OpenSearchSinkOptions options, LogSinkContext context, HttpMessageHandler? handler = null, Func<double>? random = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(context);
        _options = options;
        Name = context.Id;
        _time = context.Time;
        _logger = context.Logs.CreateLogger("SessionTrail.Agent.Logs.Sinks.OpenSearch");
        var baseUri = options.Url.AbsoluteUri.EndsWith('/') ? options.Url : new Uri(options.Url.AbsoluteUri + "/");
        _bulkUri = new Uri(baseUri, "_bulk");
        _authorization = options.ApiKey is { } apiKey ? new AuthenticationHeaderValue("ApiKey", apiKey)
            : options.Username is { } user ? SinkHttp.Basic(user, options.Password ?? "")
            : null;
        _http = new HttpClient(handler ?? new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5) }) { Timeout = options.RequestTimeout };
        _deadLetter = DeadLetterFile.InSinkDirectory(context.SinkDirectory, Name, context.Time);
        _backoff = new Backoff(options.RetryInitialDelay, options.RetryMaxDelay, 0.5, random);
    }

    public string Name { get; }

    public int MaxRecords => _options.BufferSize;

    public long MaxBytes => _options.MaxBytes;

    public TimeSpan MaxLinger => _options.BufferInterval;

    public DeadLetterFile DeadLetter => _deadLetter;

    public async Task<SinkResult> SendAsync(IReadOnlyList<ReadOnlyMemory<byte>> lines, CancellationToken cancellationToken)
    {
        var deadLetters = new List<DeadLetter>();
        var pending = LogBatch.Parse(lines, deadLetters)
            .Select(e => new Document(e, _options.Index.Format(e.Record.Time, e.Record.Host), DocumentId(e), LogDocument.ToJson(e.Record)))
            .ToList();
        var attempt = 0;
        while (pending.Count > 0)
        {
            attempt++;
            var (result, retry, lastReason) = await BulkAsync(pending, deadLetters, cancellationToken);
            if (result is not null)
            {
                return result;
            }

            pending = retry;
            if (pending.Count == 0)
            {
                break;
            }

            if (_options.MaxAttempts is { } max && attempt >= max)
            {
                deadLetters.AddRange(pending.Select(d => new DeadLetter($"gave up after {attempt} attempts: {lastReason}", d.Entry.Line)));
                break;
            }

            var delay = _backoff.Delay(attempt);
            LogItemsRetried(_logger, Name, pending.Count, lastReason, delay);
            await Task.Delay(delay, _time, cancellationToken);
        }

        return WriteDeadLetters(deadLetters);
    }

    public void Dispose() => _http.Dispose();

    /// <summary>
    /// One bulk request. Returns a result for the whole batch (retry it, split it, …), or null with the
    /// documents to resend; documents refused for good are added to <paramref name="deadLetters"/>.
    /// </summary>
    private async Task<(SinkResult? Result, List<Document> Retry, string LastReason)> BulkAsync(List<Document> documents, List<DeadLetter> deadLetters, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, _bulkUri);
        request.Headers.Authorization = _authorization;
        var content = new ByteArrayContent(Body(documents));
        content.Headers.ContentType = Ndjson;
        request.Content = content;
        var call = await SinkHttp.SendAsync(_http, request, $"OpenSearch at {_options.Url} unreachable: ", $"OpenSearch at {_options.Url}: request timed out", cancellationToken);
        if (call.Response is not { } response)
        {
            return (call.Failure!, [], "");
        }

        using (response)
        {
            var status = (int)response.StatusCode;
            if (!response.IsSuccessStatusCode)
            {
                var body = await SinkHttp.BodyStartAsync(response, cancellationToken);
                var what = $"OpenSearch {_bulkUri} answered {SinkHttp.Describe(response)}: {body}";
                var retryAfter = SinkHttp.RetryAfter(response, _time);
                return (SinkHttp.Classify(response.StatusCode) switch
                {
                    HttpRefusal.TooLarge => SinkResult.TooLarge(what),
                    HttpRefusal.Credentials => Credentials(status, what, retryAfter),
                    HttpRefusal.BadRequest => SinkResult.Rejected(what),
                    _ => SinkResult.Retryable(what, retryAfter),
                }, [], "");
            }

            JsonDocument json;
            try
            {
                json = JsonDocument.Parse(await response.Content.ReadAsByteArrayAsync(cancellationToken));
            }
            catch (JsonException ex)
            {
                return (SinkResult.Retryable($"OpenSearch {_bulkUri}: the bulk response is not JSON ({ex.Message})"), [], "");
            }

            using (json)
            {
                var before = deadLetters.Count;
                try
                {
                    return Classify(json.RootElement, documents, deadLetters);
                }
                catch (InvalidOperationException ex)
                {
                    // A value of the wrong kind or text that is not UTF-8: nothing of it can be trusted.
                    deadLetters.RemoveRange(before, deadLetters.Count - before);
                    return (SinkResult.Retryable($"OpenSearch {_bulkUri}: unreadable bulk response ({ex.Message})"), [], "");
                }
            }
        }
    }

    private (SinkResult? Result, List<Document> Retry, string LastReason) Classify(JsonElement root, List<Document> documents, List<DeadLetter> deadLetters)
    {
        if (root.ValueKind == JsonValueKind.Object && root.TryGetProperty("errors", out var errors) && errors.ValueKind == JsonValueKind.False)
        {
            return (null, [], "");
        }

        if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("items", out var items) || items.ValueKind != JsonValueKind.Array || items.GetArrayLength() != documents.Count)
        {
            return (SinkResult.Retryable($"OpenSearch {_bulkUri}: the bulk response does not have one item per document ({documents.Count})"), [], "");
        }

        var retry = new List<Document>();
        var lastReason = "";
        var i = 0;
        foreach (var item in items.EnumerateArray())
        {
            var document = documents[i++];
            var result = item.ValueKind == JsonValueKind.Object ? item.EnumerateObject().FirstOrDefault().Value : default;
            var status = result.ValueKind == JsonValueKind.Object && result.TryGetProperty("status", out var s) && s.TryGetInt32(out var code) ? code : 0;
            if (status is >= 200 and < 300 or 409)
            {
                continue;
            }

            var reason = ItemReason(status, result);
            if (status is 429 or >= 500 or 0)
            {
                retry.Add(document);
                lastReason = reason;
            }
            else
            {
                deadLetters.Add(new DeadLetter($"OpenSearch refused the document (index {document.Index}, _id {document.Id}): {reason}", document.Entry.Line));
            }
        }

        return (null, retry, lastReason);
    }

    private static string ItemReason(int status, JsonElement result)
    {
        var text = new StringBuilder().Append(status);
        if (result.ValueKind == JsonValueKind.Object && result.TryGetProperty("error", out var error))
        {
            if (error.ValueKind == JsonValueKind.Object)
            {
                if (error.TryGetProperty("type", out var type))
                {
                    text.Append(' ').Append(type.ToString());
                }

                if (error.TryGetProperty("reason", out var reason))
                {
                    text.Append(": ").Append(reason.ToString());
                }
            }
            else
            {
                text.Append(' ').Append(error.ToString());
            }
        }

        return text.ToString();
    }

    private SinkResult Credentials(int status, string what, TimeSpan? retryAfter)
    {
        LogCredentialsRefused(_logger, Name, status, _options.Url);
        return SinkResult.Retryable($"credentials refused ({status}); check Username/Password or ApiKey — records are kept and retried. {what}", retryAfter);
    }

    private SinkResult WriteDeadLetters(List<DeadLetter> deadLetters)
    {
        if (deadLetters.Count == 0)
        {
            return SinkResult.Success;
        }

        try
        {
            _deadLetter.Append(deadLetters);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return SinkResult.Retryable($"cannot write the dead-letter file {_deadLetter.Path}: {ex.Message}");
        }

        LogDeadLettered(_logger, Name, deadLetters.Count, deadLetters[0].Reason, _deadLetter.Path);
        return SinkResult.Success;
    }

    private static byte[] Body(List<Document> documents)
    {
        using var body = new MemoryStream();
        foreach (var d in documents)
        {
            using (var json = new Utf8JsonWriter(body))
            {
                json.WriteStartObject();
                json.WriteStartObject("create");
                json.WriteString("_index", d.Index);
                json.WriteString("_id", d.Id);
                json.WriteEndObject();
                json.WriteEndObject();
            }

            body.WriteByte((byte)'\n');
            body.Write(d.Json);
            body.WriteByte((byte)'\n');
        }

        return body.ToArray();
    }

    /// <summary>The record id; a record without one (never from the agent's pump) gets a hash of its line.</summary>
    private static string DocumentId(LogEntry entry) =>
        entry.Record.Id.Length > 0 ? entry.Record.Id : "line-" + Convert.ToHexStringLower(SHA256.HashData(entry.Line.Span)[..16]);

    private sealed record Document(LogEntry Entry, string Index, string Id, byte[] Json);

    [LoggerMessage(EventId = 1411, Level = LogLevel.Warning, Message = "Sink {Sink}: OpenSearch throttled or failed {Documents} documents ({Reason}); resending only those in {Delay}")]
    private static partial void LogItemsRetried(ILogger logger, string sink, int documents, string reason, TimeSpan delay);

    [LoggerMessage(EventId = 1412, Level = LogLevel.Error, Message = "Sink {Sink}: {Documents} documents refused by OpenSearch (first: {Reason}); written to dead-letter file {Path}")]
    private static partial void LogDeadLettered(ILogger logger, string sink, int documents, string reason, string path);

    [LoggerMessage(EventId = 1413, Level = LogLevel.Error, Message = "Sink {Sink}: OpenSearch at {Url} refused the credentials ({Status}); records are kept until they are fixed")]
    private static partial void LogCredentialsRefused(ILogger logger, string sink, int status, Uri url);
}
