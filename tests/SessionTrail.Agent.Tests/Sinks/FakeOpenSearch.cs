using System.Collections.Concurrent;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using SessionTrail.Agent.Tests.Sources;

namespace SessionTrail.Agent.Tests.Sinks;

/// <summary>
/// A strict fake of OpenSearch's <c>POST /_bulk</c> on a real local HTTP server. It checks the wire
/// format (content type, NDJSON ending in a newline, action/document pairs, only <c>create</c> with
/// <c>_index</c> and <c>_id</c>, the document's SessionTrailId equal to the <c>_id</c>, the Authorization
/// header) and records violations; stores documents by index and _id with <c>create</c> semantics (an
/// existing _id → 409 version_conflict_engine_exception); and answers with scripted failures.
/// </summary>
public sealed class FakeOpenSearch : IAsyncDisposable
{
    private readonly ConcurrentQueue<Func<HttpContext, Task<bool>>> _script = new();
    private readonly ConcurrentQueue<string> _violations = new();
    private readonly Lock _lock = new();
    private readonly Dictionary<string, Dictionary<string, string>> _indices = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _attempts = new(StringComparer.Ordinal);
    private LocalHttpServer _server = null!;

    public LocalHttpServer Server => _server;

    public Uri Url => _server.Url;

    /// <summary>The Authorization header every request must carry (null: none).</summary>
    public string? ExpectedAuthorization { get; set; }

    /// <summary>Bodies larger than this get 413.</summary>
    public int MaxBodyBytes { get; set; } = int.MaxValue;

    /// <summary>Per document: (its _id, how many times it was sent before) → an item status and error type, or null to store it.</summary>
    public Func<string, int, (int Status, string Type)?> ItemFailure { get; set; } = (_, _) => null;

    public IReadOnlyCollection<string> Violations => _violations;

    /// <summary>The _ids of each request, in order.</summary>
    public ConcurrentQueue<IReadOnlyList<string>> Requests { get; } = new();

    private int _conflicts;

    /// <summary>Documents answered 409 (already stored).</summary>
    public int Conflicts => Volatile.Read(ref _conflicts);

    public static async Task<FakeOpenSearch> StartAsync()
    {
        var fake = new FakeOpenSearch();
        fake._server = await LocalHttpServer.StartAsync(fake.HandleAsync);
        return fake;
    }

    /// <summary>Answers the next request with this status (and Retry-After), before looking at it.</summary>
    public void ScriptStatus(int status, string? retryAfter = null, string body = "{\"error\":\"scripted\"}") => _script.Enqueue(async context =>
    {
        context.Response.StatusCode = status;
        if (retryAfter is not null)
        {
            context.Response.Headers.RetryAfter = retryAfter;
        }

        await context.Response.WriteAsync(body);
        return true;
    });

    /// <summary>The next request is processed (documents stored) but answered 502, as if the response were lost.</summary>
    public void ScriptLostResponse() => _script.Enqueue(_ => Task.FromResult(false));

    /// <summary>index → _id → document JSON.</summary>
    public Dictionary<string, Dictionary<string, string>> Indices
    {
        get
        {
            lock (_lock)
            {
                return _indices.ToDictionary(i => i.Key, i => new Dictionary<string, string>(i.Value));
            }
        }
    }

    /// <summary>Every stored _id (any index).</summary>
    public List<string> StoredIds => [.. Indices.Values.SelectMany(i => i.Keys)];

    public async ValueTask DisposeAsync() => await _server.DisposeAsync();

    private async Task HandleAsync(HttpContext context)
    {
        var request = context.Request;
        using var buffer = new MemoryStream();
        await request.Body.CopyToAsync(buffer);
        var body = buffer.ToArray();
        var lostResponse = false;
        if (_script.TryDequeue(out var scripted))
        {
            if (await scripted(context))
            {
                return;
            }

            lostResponse = true;
        }

        if (request.Method != "POST" || request.Path != "/_bulk" || request.QueryString.HasValue)
        {
            Violation($"request {request.Method} {request.Path}{request.QueryString}");
            context.Response.StatusCode = 404;
            return;
        }

        if (ExpectedAuthorization is { } auth && request.Headers.Authorization.ToString() != auth)
        {
            context.Response.StatusCode = 401;
            await context.Response.WriteAsync("{\"error\":{\"type\":\"security_exception\",\"reason\":\"unable to authenticate\"},\"status\":401}");
            return;
        }

        if (request.ContentType != "application/x-ndjson")
        {
            Violation("content-type: " + request.ContentType);
        }

        if (body.Length > MaxBodyBytes)
        {
            context.Response.StatusCode = 413;
            return;
        }

        var items = Process(body);
        if (lostResponse)
        {
            context.Response.StatusCode = 502;
            return;
        }

        context.Response.ContentType = "application/json";
        using var response = new MemoryStream();
        using var json = new Utf8JsonWriter(response);
        json.WriteStartObject();
        json.WriteNumber("took", 1);
        json.WriteBoolean("errors", items.Any(i => i.Status >= 300));
        json.WriteStartArray("items");
        foreach (var (index, id, status, type) in items)
        {
            json.WriteStartObject();
            json.WriteStartObject("create");
            json.WriteString("_index", index);
            json.WriteString("_id", id);
            json.WriteNumber("status", status);
            if (type is not null)
            {
                json.WriteStartObject("error");
                json.WriteString("type", type);
                json.WriteString("reason", $"scripted {type} for [{id}]");
                json.WriteEndObject();
            }
            else
            {
                json.WriteString("result", "created");
            }

            json.WriteEndObject();
            json.WriteEndObject();
        }

        json.WriteEndArray();
        json.WriteEndObject();
        await json.FlushAsync();
        await context.Response.Body.WriteAsync(response.ToArray());
    }

    private List<(string Index, string Id, int Status, string? Type)> Process(byte[] body)
    {
        var items = new List<(string, string, int, string?)>();
        if (body.Length == 0 || body[^1] != (byte)'\n')
        {
            Violation("the body does not end with a newline");
        }

        var lines = Encoding.UTF8.GetString(body).Split('\n');
        if (lines.Length % 2 != 1)
        {
            Violation($"the body has {lines.Length - 1} lines, not action/document pairs");
        }

        var ids = new List<string>();
        for (var i = 0; i + 1 < lines.Length; i += 2)
        {
            string index, id;
            using (var action = JsonDocument.Parse(lines[i]))
            {
                var props = action.RootElement.EnumerateObject().ToList();
                if (props.Count != 1 || props[0].Name != "create")
                {
                    Violation("action line " + lines[i]);
                    continue;
                }

                var meta = props[0].Value.EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString()!);
                if (meta.Count != 2 || !meta.TryGetValue("_index", out index!) || !meta.TryGetValue("_id", out id!))
                {
                    Violation("action metadata " + lines[i]);
                    continue;
                }
            }

            ids.Add(id);
            using (var doc = JsonDocument.Parse(lines[i + 1]))
            {
                if (doc.RootElement.ValueKind != JsonValueKind.Object || !doc.RootElement.TryGetProperty("SessionTrailId", out var sid) || sid.GetString() != id)
                {
                    Violation("document without SessionTrailId = _id: " + lines[i + 1]);
                }
            }

            lock (_lock)
            {
                var attempt = _attempts.GetValueOrDefault(id);
                _attempts[id] = attempt + 1;
                if (ItemFailure(id, attempt) is { } failure)
                {
                    items.Add((index, id, failure.Status, failure.Type));
                    continue;
                }

                if (!_indices.TryGetValue(index, out var docs))
                {
                    docs = new Dictionary<string, string>(StringComparer.Ordinal);
                    _indices[index] = docs;
                }

                if (!docs.TryAdd(id, lines[i + 1]))
                {
                    Interlocked.Increment(ref _conflicts);
                    items.Add((index, id, 409, "version_conflict_engine_exception"));
                    continue;
                }
            }

            items.Add((index, id, 201, null));
        }

        Requests.Enqueue(ids);
        return items;
    }

    private void Violation(string what) => _violations.Enqueue(what);
}
