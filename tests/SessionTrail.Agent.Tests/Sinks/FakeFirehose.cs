using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using SessionTrail.Agent.Sinks;
using SessionTrail.Agent.Tests.Sources;

namespace SessionTrail.Agent.Tests.Sinks;

/// <summary>
/// A strict fake of Kinesis Data Firehose's PutRecordBatch (JSON 1.1) on a real local HTTP server. It
/// checks: POST /, the content type and X-Amz-Target, the SigV4 Authorization header (credential scope,
/// signed headers, and the signature recomputed from the request as received with the known secret key),
/// the body (only DeliveryStreamName and Records of {"Data": base64}), the limits (1–500 records, 4 MiB of
/// data, 1,000 KiB per record) and that each record is JSON lines ending in "\n". Accepted lines are kept;
/// failures are scripted per call or per record.
/// </summary>
public sealed class FakeFirehose : IAsyncDisposable
{
    public const string AccessKey = "AKIDFAKEFIREHOSE";
    public const string SecretKey = "fake/secret+key/for/the/tests";
    public const string Region = "eu-west-1";
    public const string Stream = "appstream-logs";

    private readonly ConcurrentQueue<(int Status, string Type)> _script = new();
    private readonly ConcurrentQueue<string> _violations = new();
    private readonly Lock _lock = new();
    private readonly List<string> _lines = [];
    private readonly Dictionary<string, int> _attempts = new(StringComparer.Ordinal);
    private LocalHttpServer _server = null!;

    public LocalHttpServer Server => _server;

    public Uri Url => _server.Url;

    public string? SessionToken { get; set; }

    /// <summary>Per Firehose record: (its first line's SessionTrailId, times sent before) → an ErrorCode, or null to accept it.</summary>
    public Func<string, int, string?> RecordFailure { get; set; } = (_, _) => null;

    public IReadOnlyCollection<string> Violations => _violations;

    /// <summary>Per request number (1 = the first): a status and error type to answer with, or null.</summary>
    public Func<int, (int Status, string Type)?> CallFailure { get; set; } = _ => null;

    private int _requests;

    /// <summary>Per call: how many Firehose records it carried.</summary>
    public ConcurrentQueue<int> Calls { get; } = new();

    /// <summary>Per accepted Firehose record: how many lines it held.</summary>
    public ConcurrentQueue<int> LinesPerRecord { get; } = new();

    /// <summary>The accepted lines (without "\n"), in order.</summary>
    public List<string> Lines
    {
        get
        {
            lock (_lock)
            {
                return [.. _lines];
            }
        }
    }

    /// <summary>SessionTrailId of every accepted line, in order (duplicates kept).</summary>
    public List<string> Ids => [.. Lines.Select(l => JsonDocument.Parse(l).RootElement.GetProperty("SessionTrailId").GetString()!)];

    public static async Task<FakeFirehose> StartAsync()
    {
        var fake = new FakeFirehose();
        fake._server = await LocalHttpServer.StartAsync(fake.HandleAsync);
        return fake;
    }

    /// <summary>Answers the next call with this status and error type (__type).</summary>
    public void Script(int status, string type) => _script.Enqueue((status, type));

    public async ValueTask DisposeAsync() => await _server.DisposeAsync();

    private async Task HandleAsync(HttpContext context)
    {
        var request = context.Request;
        using var buffer = new MemoryStream();
        await request.Body.CopyToAsync(buffer);
        var body = buffer.ToArray();
        if (CallFailure(Interlocked.Increment(ref _requests)) is { } failure)
        {
            await ErrorAsync(context, failure.Status, failure.Type, "scripted " + failure.Type);
            return;
        }

        if (_script.TryDequeue(out var scripted))
        {
            await ErrorAsync(context, scripted.Status, scripted.Type, "scripted " + scripted.Type);
            return;
        }

        if (request.Method != "POST" || request.Path != "/" || request.QueryString.HasValue)
        {
            Violation($"request {request.Method} {request.Path}{request.QueryString}");
        }

        if (request.ContentType != "application/x-amz-json-1.1")
        {
            Violation("content-type: " + request.ContentType);
        }

        if (request.Headers["X-Amz-Target"] != "Firehose_20150804.PutRecordBatch")
        {
            Violation("x-amz-target: " + request.Headers["X-Amz-Target"]);
        }

        if (!CheckSignature(request, body, out var signatureProblem))
        {
            Violation("signature: " + signatureProblem);
            await ErrorAsync(context, 400, "InvalidSignatureException", signatureProblem);
            return;
        }

        var records = ReadBody(body, out var stream);
        if (stream != Stream)
        {
            await ErrorAsync(context, 400, "ResourceNotFoundException", $"Firehose {stream} under account 123456789012 not found.");
            return;
        }

        Calls.Enqueue(records.Count);
        using var response = new MemoryStream();
        using (var json = new Utf8JsonWriter(response))
        {
            var failed = 0;
            json.WriteStartObject();
            json.WriteStartArray("RequestResponses");
            foreach (var lines in records)
            {
                var id = lines.Count > 0 ? Id(lines[0]) : "";
                string? error;
                lock (_lock)
                {
                    var attempt = _attempts.GetValueOrDefault(id);
                    _attempts[id] = attempt + 1;
                    error = RecordFailure(id, attempt);
                    if (error is null)
                    {
                        _lines.AddRange(lines);
                        LinesPerRecord.Enqueue(lines.Count);
                    }
                }

                json.WriteStartObject();
                if (error is null)
                {
                    json.WriteString("RecordId", Guid.NewGuid().ToString("N"));
                }
                else
                {
                    failed++;
                    json.WriteString("ErrorCode", error);
                    json.WriteString("ErrorMessage", "scripted " + error);
                }

                json.WriteEndObject();
            }

            json.WriteEndArray();
            json.WriteNumber("FailedPutCount", failed);
            json.WriteBoolean("Encrypted", false);
            json.WriteEndObject();
        }

        context.Response.ContentType = "application/x-amz-json-1.1";
        await context.Response.Body.WriteAsync(response.ToArray());
    }

    private static async Task ErrorAsync(HttpContext context, int status, string type, string message)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/x-amz-json-1.1";
        await context.Response.WriteAsync(JsonSerializer.Serialize(new Dictionary<string, string> { ["__type"] = type, ["message"] = message }));
    }

    /// <summary>Recomputes the signature from the request as received.</summary>
    private bool CheckSignature(HttpRequest request, byte[] body, out string problem)
    {
        problem = "";
        var authorization = request.Headers.Authorization.ToString();
        var amzDate = request.Headers["X-Amz-Date"].ToString();
        const string prefix = "AWS4-HMAC-SHA256 Credential=";
        if (!authorization.StartsWith(prefix, StringComparison.Ordinal))
        {
            problem = "not AWS4-HMAC-SHA256: " + authorization;
            return false;
        }

        var parts = authorization[prefix.Length..].Split(", ");
        if (parts.Length != 3 || !parts[1].StartsWith("SignedHeaders=", StringComparison.Ordinal) || !parts[2].StartsWith("Signature=", StringComparison.Ordinal))
        {
            problem = "malformed: " + authorization;
            return false;
        }

        if (!DateTime.TryParseExact(amzDate, "yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out var date)
            || Math.Abs((DateTime.UtcNow - date).TotalMinutes) > 5)
        {
            problem = "x-amz-date missing or not within 5 minutes: " + amzDate;
            return false;
        }

        var expectedScope = $"{AccessKey}/{amzDate[..8]}/{Region}/firehose/aws4_request";
        if (parts[0] != expectedScope)
        {
            problem = $"credential {parts[0]}, expected {expectedScope}";
            return false;
        }

        var signed = parts[1]["SignedHeaders=".Length..].Split(';');
        var required = new List<string> { "content-type", "host", "x-amz-date", "x-amz-target" };
        if (SessionToken is not null)
        {
            required.Add("x-amz-security-token");
            if (request.Headers["X-Amz-Security-Token"] != SessionToken)
            {
                problem = "x-amz-security-token missing or wrong";
                return false;
            }
        }

        if (!required.All(signed.Contains))
        {
            problem = "signed headers " + parts[1];
            return false;
        }

        var headers = signed.Select(name => new KeyValuePair<string, string>(name, request.Headers[name].ToString())).ToList();
        var uri = new Uri($"http://{request.Host}{request.Path}{request.QueryString}");
        var canonical = SigV4.CanonicalRequest(request.Method, uri, headers, body, out _);
        var signature = SigV4.Signature(SecretKey, amzDate, Region, "firehose", SigV4.StringToSign(amzDate, SigV4.Scope(amzDate, Region, "firehose"), canonical));
        if (parts[2] != "Signature=" + signature)
        {
            problem = $"{parts[2]} does not match the recomputed {signature}";
            return false;
        }

        return true;
    }

    /// <summary>The lines of each record; checks the body's shape and the limits.</summary>
    private List<List<string>> ReadBody(byte[] body, out string? stream)
    {
        stream = null;
        var records = new List<List<string>>();
        using var json = JsonDocument.Parse(body);
        var root = json.RootElement;
        var names = root.EnumerateObject().Select(p => p.Name).ToList();
        if (!names.Order().SequenceEqual(["DeliveryStreamName", "Records"]))
        {
            Violation("body keys: " + string.Join(",", names));
        }

        stream = root.GetProperty("DeliveryStreamName").GetString();
        var items = root.GetProperty("Records").EnumerateArray().ToList();
        if (items.Count is < 1 or > 500)
        {
            Violation($"{items.Count} records in one call");
        }

        long total = 0;
        foreach (var item in items)
        {
            if (item.EnumerateObject().Select(p => p.Name).SingleOrDefault() != "Data")
            {
                Violation("record keys: " + item);
            }

            var data = Convert.FromBase64String(item.GetProperty("Data").GetString()!);
            total += data.Length;
            if (data.Length > 1000 * 1024)
            {
                Violation($"a record of {data.Length} bytes");
            }

            var text = Encoding.UTF8.GetString(data);
            if (!text.EndsWith('\n'))
            {
                Violation("a record not ending in a newline");
            }

            var lines = text.TrimEnd('\n').Split('\n').ToList();
            foreach (var line in lines)
            {
                Id(line);
            }

            records.Add(lines);
        }

        if (total > 4 << 20)
        {
            Violation($"{total} bytes of data in one call");
        }

        return records;
    }

    private string Id(string line)
    {
        try
        {
            using var doc = JsonDocument.Parse(line);
            return doc.RootElement.GetProperty("SessionTrailId").GetString()!;
        }
        catch (Exception ex) when (ex is JsonException or KeyNotFoundException)
        {
            Violation("a line that is not a document with SessionTrailId: " + line[..Math.Min(line.Length, 100)]);
            return "";
        }
    }

    private void Violation(string what) => _violations.Enqueue(what);
}
