using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using SessionTrail.Agent.Config;
using SessionTrail.Agent.Delivery;
using SessionTrail.Agent.Ids;
using SessionTrail.Agent.Sinks;
using SessionTrail.Agent.Sources;

namespace SessionTrail.Agent.Sinks.Firehose;

/// <summary>
/// Sends records to a Kinesis Data Firehose delivery stream with <c>PutRecordBatch</c> (JSON 1.1 protocol,
/// SigV4-signed by <see cref="SigV4"/>): each record's data is its <see cref="LogDocument"/> (or message
/// line) plus "\n"; at most 500 records and 4 MiB of data per call; a record over 1,000 KiB goes to the
/// dead-letter file instead of blocking the batch.
/// </summary>
/// <remarks>
/// Firehose has no ids: to avoid sending a record twice, the sink remembers which records of the batch in
/// hand were accepted (until the batch succeeds), and a resend of that batch or of its halves (after a
/// retryable failure or a split) skips them. Only
/// a restart between a partial success and the batch's acknowledgement can repeat records (at least once).
/// A call answered with <c>FailedPutCount</c> &gt; 0 resends only the failed records, with back-off and
/// jitter. Whole-call failures are retried by the sender: throttling and 5xx as outages; a missing stream,
/// refused credentials or a validation error with a clear message in status (records are kept); 413 splits.
/// </remarks>
public sealed partial class FirehoseSink : ISink, ISinkBatching, IDisposable
{
    public const string Target = "Firehose_20150804.PutRecordBatch";
    public const string ContentType = "application/x-amz-json-1.1";
    private static readonly MediaTypeHeaderValue JsonContentType = new(ContentType);
    private static readonly HashSet<string> Outages = new(StringComparer.Ordinal)
    {
        "ThrottlingException", "ServiceUnavailableException", "LimitExceededException", "InternalFailure", "InternalFailureException", "RequestTimeout", "RequestTimeoutException",
    };

    private readonly FirehoseSinkOptions _options;
    private readonly HttpClient _http;
    private readonly DeadLetterFile _deadLetter;
    private readonly Backoff _backoff;
    private readonly RateLimiter _records;
    private readonly RateLimiter _bytes;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly HashSet<string> _accepted = new(StringComparer.Ordinal);

    public FirehoseSink(FirehoseSinkOptions options, LogSinkContext context, HttpMessageHandler? handler = null, Func<double>? random = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(context);
        _options = options;
        Name = context.Id;
        _time = context.Time;
        _logger = context.Logs.CreateLogger("SessionTrail.Agent.Logs.Sinks.Firehose");
        _http = new HttpClient(handler ?? new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5) }) { Timeout = options.RequestTimeout };
        _deadLetter = DeadLetterFile.InSinkDirectory(context.SinkDirectory, Name, context.Time);
        _backoff = new Backoff(options.RetryInitialDelay, options.RetryMaxDelay, 0.5, random);
        _records = new RateLimiter(options.RecordsPerSecond, context.Time);
        _bytes = new RateLimiter(options.BytesPerSecond, context.Time);
    }

    public string Name { get; }

    public int MaxRecords => _options.BufferSize;

    public long MaxBytes => FirehoseSinkOptions.MaxBytesPerCall;

    public TimeSpan MaxLinger => _options.BufferInterval;

    public DeadLetterFile DeadLetter => _deadLetter;

    public async Task<SinkResult> SendAsync(IReadOnlyList<ReadOnlyMemory<byte>> lines, CancellationToken cancellationToken)
    {
        var deadLetters = new List<DeadLetter>();
        var entries = LogBatch.Parse(lines, deadLetters);
        var records = Pack(entries, deadLetters);
        foreach (var call in Calls(records))
        {
            var result = await PutAllAsync(call, deadLetters, cancellationToken);
            if (result is not null)
            {
                return result;
            }
        }

        if (deadLetters.Count > 0)
        {
            try
            {
                _deadLetter.Append(deadLetters);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                return SinkResult.Retryable($"cannot write the dead-letter file {_deadLetter.Path}: {ex.Message}");
            }

            LogDeadLettered(_logger, Name, deadLetters.Count, deadLetters[0].Reason, _deadLetter.Path);
        }

        // Forget only this batch's records: after a split (413), the other half may still hold accepted ones.
        foreach (var entry in entries)
        {
            _accepted.Remove(Key(entry));
        }

        return SinkResult.Success;
    }

    public void Dispose() => _http.Dispose();

    /// <summary>The Firehose records of the entries not accepted yet: one per entry, or packed with CombineRecords.</summary>
    private List<FirehoseRecord> Pack(List<LogEntry> entries, List<DeadLetter> deadLetters)
    {
        var records = new List<FirehoseRecord>();
        FirehoseRecord? open = null;
        foreach (var entry in entries)
        {
            var key = Key(entry);
            if (_accepted.Contains(key))
            {
                continue;
            }

            var data = LogDocument.Render(entry.Record, _options.Format);
            if (data.Length + 1 > FirehoseSinkOptions.MaxRecordBytes)
            {
                deadLetters.Add(new DeadLetter($"the record is {data.Length + 1} bytes as sent; Firehose takes at most {FirehoseSinkOptions.MaxRecordBytes} bytes (1,000 KiB) per record", entry.Line));
                continue;
            }

            if (open is not null && _options.CombineRecords && open.Length + data.Length + 1 <= FirehoseSinkOptions.MaxRecordBytes)
            {
                open.Add(entry, key, data);
                continue;
            }

            open = new FirehoseRecord();
            open.Add(entry, key, data);
            records.Add(open);
        }

        return records;
    }

    /// <summary>Splits the records into calls of at most 500 records and 4 MiB of data.</summary>
    private static IEnumerable<List<FirehoseRecord>> Calls(List<FirehoseRecord> records)
    {
        var call = new List<FirehoseRecord>();
        long bytes = 0;
        foreach (var record in records)
        {
            if (call.Count > 0 && (call.Count == FirehoseSinkOptions.MaxRecordsPerCall || bytes + record.Length > FirehoseSinkOptions.MaxBytesPerCall))
            {
                yield return call;
                call = [];
                bytes = 0;
            }

            call.Add(record);
            bytes += record.Length;
        }

        if (call.Count > 0)
        {
            yield return call;
        }
    }

    /// <summary>Puts the records of one call, resending failed records; null when all are accepted or dead-lettered.</summary>
    private async Task<SinkResult?> PutAllAsync(List<FirehoseRecord> call, List<DeadLetter> deadLetters, CancellationToken cancellationToken)
    {
        var pending = call;
        var attempt = 0;
        while (pending.Count > 0)
        {
            attempt++;
            await _records.WaitAsync(pending.Count, cancellationToken);
            await _bytes.WaitAsync(pending.Sum(r => r.Length), cancellationToken);
            var (result, failed, reason) = await PutAsync(pending, cancellationToken);
            if (result is not null)
            {
                return result;
            }

            foreach (var record in pending.Except(failed))
            {
                _accepted.UnionWith(record.Keys);
            }

            pending = failed;
            if (pending.Count == 0)
            {
                break;
            }

            if (_options.MaxAttempts is { } max && attempt >= max)
            {
                // Not marked accepted: if a later call of this batch fails, the resend tries them again.
                deadLetters.AddRange(pending.SelectMany(r => r.Entries).Select(e => new DeadLetter($"gave up after {attempt} attempts: {reason}", e.Line)));
                break;
            }

            var delay = _backoff.Delay(attempt);
            LogRecordsRetried(_logger, Name, pending.Count, call.Count, reason, delay);
            await Task.Delay(delay, _time, cancellationToken);
        }

        return null;
    }

    /// <summary>One PutRecordBatch: a whole-call result, or the records that failed (empty when all were accepted).</summary>
    private async Task<(SinkResult? Result, List<FirehoseRecord> Failed, string Reason)> PutAsync(List<FirehoseRecord> records, CancellationToken cancellationToken)
    {
        var body = Body(records);
        using var request = new HttpRequestMessage(HttpMethod.Post, _options.Endpoint);
        Sign(request, body);
        var content = new ByteArrayContent(body);
        content.Headers.ContentType = JsonContentType;
        request.Content = content;
        var call = await SinkHttp.SendAsync(_http, request, $"Firehose at {_options.Endpoint} unreachable: ", $"Firehose at {_options.Endpoint}: request timed out", cancellationToken);
        if (call.Response is not { } response)
        {
            return (call.Failure!, [], "");
        }

        using (response)
        {
            if (!response.IsSuccessStatusCode)
            {
                return (CallFailed(response, await SinkHttp.BodyStartAsync(response, cancellationToken)), [], "");
            }

            return ParseResponse(await response.Content.ReadAsStringAsync(cancellationToken), records);
        }
    }

    private (SinkResult? Result, List<FirehoseRecord> Failed, string Reason) ParseResponse(string text, List<FirehoseRecord> records)
    {
        try
        {
            using var json = JsonDocument.Parse(text);
            var root = json.RootElement;
            var failedCount = root.TryGetProperty("FailedPutCount", out var fc) && fc.TryGetInt32(out var n) ? n : 0;
            if (failedCount == 0)
            {
                return (null, [], "");
            }

            if (!root.TryGetProperty("RequestResponses", out var responses) || responses.ValueKind != JsonValueKind.Array || responses.GetArrayLength() != records.Count)
            {
                return (SinkResult.Retryable($"Firehose: FailedPutCount {failedCount} without one RequestResponses entry per record ({records.Count})"), [], "");
            }

            var failed = new List<FirehoseRecord>();
            var reason = "";
            var i = 0;
            foreach (var entry in responses.EnumerateArray())
            {
                var record = records[i++];
                if (entry.TryGetProperty("ErrorCode", out var code) && code.ValueKind == JsonValueKind.String)
                {
                    failed.Add(record);
                    reason = code.GetString() + (entry.TryGetProperty("ErrorMessage", out var message) ? ": " + message.GetString() : "");
                }
            }

            return (null, failed, reason);
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException)
        {
            return (SinkResult.Retryable($"Firehose: unreadable PutRecordBatch response ({ex.Message})"), [], "");
        }
    }

    private SinkResult CallFailed(HttpResponseMessage response, string body)
    {
        var type = ErrorType(response, body);
        var status = (int)response.StatusCode;
        var what = $"Firehose stream '{_options.StreamName}' at {_options.Endpoint} answered {SinkHttp.Describe(response)} {type}: {body}";
        var retryAfter = SinkHttp.RetryAfter(response, _time);
        if (SinkHttp.Classify(response.StatusCode) == HttpRefusal.TooLarge)
        {
            return SinkResult.TooLarge(what);
        }

        if (status >= 500 || Outages.Contains(type))
        {
            return SinkResult.Retryable(what, retryAfter);
        }

        var advice = type switch
        {
            "ResourceNotFoundException" => "the delivery stream does not exist in this region; check StreamName and Region",
            "AccessDeniedException" or "UnrecognizedClientException" or "InvalidSignatureException" or "SignatureDoesNotMatch"
                or "IncompleteSignature" or "MissingAuthenticationToken" or "ExpiredTokenException" or "InvalidClientTokenId" =>
                "credentials refused; check AccessKey/SecretKey/ProfileName and the firehose:PutRecordBatch permission",
            _ => "the request was refused",
        };
        LogCallRefused(_logger, Name, status, type, advice);
        return SinkResult.Retryable($"{advice} — records are kept and retried. {what}", retryAfter);
    }

    /// <summary>The error type from x-amzn-ErrorType or the body's __type ("prefix#Name" → "Name").</summary>
    private static string ErrorType(HttpResponseMessage response, string body)
    {
        string? type = null;
        if (response.Headers.TryGetValues("x-amzn-ErrorType", out var values))
        {
            type = values.FirstOrDefault();
        }

        if (type is null)
        {
            try
            {
                using var json = JsonDocument.Parse(body);
                if (json.RootElement.ValueKind == JsonValueKind.Object && json.RootElement.TryGetProperty("__type", out var t))
                {
                    type = t.GetString();
                }
            }
            catch (Exception ex) when (ex is JsonException or InvalidOperationException)
            {
            }
        }

        type ??= "";
        var colon = type.IndexOf(':', StringComparison.Ordinal);
        if (colon >= 0)
        {
            type = type[..colon];
        }

        var hash = type.LastIndexOf('#');
        return hash >= 0 ? type[(hash + 1)..] : type;
    }

    private void Sign(HttpRequestMessage request, byte[] body)
    {
        var amzDate = SigV4.AmzDate(_time.GetUtcNow());
        var headers = new List<KeyValuePair<string, string>>
        {
            new("content-type", ContentType),
            new("host", _options.Endpoint.Authority),
            new("x-amz-date", amzDate),
            new("x-amz-target", Target),
        };
        var credentials = _options.Credentials;
        if (credentials.SessionToken is { } token)
        {
            headers.Add(new("x-amz-security-token", token));
            request.Headers.TryAddWithoutValidation("X-Amz-Security-Token", token);
        }

        request.Headers.TryAddWithoutValidation("X-Amz-Date", amzDate);
        request.Headers.TryAddWithoutValidation("X-Amz-Target", Target);
        request.Headers.TryAddWithoutValidation("Authorization", SigV4.Authorization(
            "POST", _options.Endpoint, headers, body, credentials.AccessKey, credentials.SecretKey, _options.Region, "firehose", amzDate));
    }

    private byte[] Body(List<FirehoseRecord> records)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("DeliveryStreamName", _options.StreamName);
            json.WriteStartArray("Records");
            foreach (var record in records)
            {
                json.WriteStartObject();
                json.WriteBase64String("Data", record.Data());
                json.WriteEndObject();
            }

            json.WriteEndArray();
            json.WriteEndObject();
        }

        return buffer.ToArray();
    }

    private static string Key(LogEntry entry) => entry.Record.Id.Length > 0 ? entry.Record.Id : Encoding.UTF8.GetString(entry.Line.Span);

    /// <summary>One Firehose record: the data of one or (CombineRecords) several log records, each ending in "\n".</summary>
    private sealed class FirehoseRecord
    {
        private readonly List<byte[]> _parts = [];

        public List<LogEntry> Entries { get; } = [];

        public List<string> Keys { get; } = [];

        public int Length { get; private set; }

        public void Add(LogEntry entry, string key, byte[] data)
        {
            Entries.Add(entry);
            Keys.Add(key);
            _parts.Add(data);
            Length += data.Length + 1;
        }

        public byte[] Data()
        {
            var data = new byte[Length];
            var at = 0;
            foreach (var part in _parts)
            {
                part.CopyTo(data, at);
                at += part.Length;
                data[at++] = (byte)'\n';
            }

            return data;
        }
    }

    [LoggerMessage(EventId = 1421, Level = LogLevel.Warning, Message = "Sink {Sink}: Firehose failed {Failed} of {Records} records ({Reason}); resending only those in {Delay}")]
    private static partial void LogRecordsRetried(ILogger logger, string sink, int failed, int records, string reason, TimeSpan delay);

    [LoggerMessage(EventId = 1422, Level = LogLevel.Error, Message = "Sink {Sink}: {Records} records written to dead-letter file {Path} (first: {Reason})")]
    private static partial void LogDeadLettered(ILogger logger, string sink, int records, string reason, string path);

    [LoggerMessage(EventId = 1423, Level = LogLevel.Error, Message = "Sink {Sink}: Firehose refused the call ({Status} {Type}): {Advice}; records are kept")]
    private static partial void LogCallRefused(ILogger logger, string sink, int status, string type, string advice);
}
