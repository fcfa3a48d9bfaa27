using System.Collections.Concurrent;
using System.IO.Compression;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace SessionTrail.Agent.Tests.Sinks;

/// <summary>
/// A real Kestrel server on 127.0.0.1 with a minimal POST /api/v1/ingest that checks the wire format
/// strictly (bearer token, NDJSON content type, gzip, one JSON object with an id per line) and answers
/// with scripted status codes (200 once the script runs out).
/// </summary>
public sealed class FakeIngestServer : IAsyncDisposable
{
    public const string Token = "test-token";

    private readonly WebApplication _app;
    private readonly ConcurrentQueue<int> _script = new();
    private readonly ConcurrentDictionary<string, int> _stored = new();
    private readonly ConcurrentQueue<string> _violations = new();
    private int _requests;

    private FakeIngestServer(WebApplication app) => _app = app;

    public Uri Url { get; private set; } = null!;

    public int Requests => Volatile.Read(ref _requests);

    /// <summary>Record id → how many times it was received in an accepted batch.</summary>
    public IReadOnlyDictionary<string, int> Stored => _stored;

    public IReadOnlyCollection<string> Violations => _violations;

    public ConcurrentQueue<int> BatchSizes { get; } = new();

    /// <summary>Answers the next requests with these status codes, in order.</summary>
    public void Script(params int[] statuses)
    {
        foreach (var s in statuses)
        {
            _script.Enqueue(s);
        }
    }

    /// <summary>Largest batch (records) accepted; bigger ones get 413. Default unlimited.</summary>
    public int MaxRecords { get; set; } = int.MaxValue;

    public static async Task<FakeIngestServer> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var server = new FakeIngestServer(app);
        app.MapPost("/api/v1/ingest", (Delegate)server.HandleAsync);
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        server.Url = new Uri(address);
        return server;
    }

    private async Task<IResult> HandleAsync(HttpContext context)
    {
        Interlocked.Increment(ref _requests);
        var request = context.Request;
        if (request.Headers.Authorization.ToString() != "Bearer " + Token)
        {
            _violations.Enqueue("authorization: " + request.Headers.Authorization);
            return Results.Unauthorized();
        }

        if (request.ContentType != "application/x-ndjson")
        {
            _violations.Enqueue("content-type: " + request.ContentType);
        }

        if (request.Headers.ContentEncoding.ToString() != "gzip")
        {
            _violations.Enqueue("content-encoding: " + request.Headers.ContentEncoding);
        }

        using var body = new MemoryStream();
        await using (var gzip = new GZipStream(request.Body, CompressionMode.Decompress))
        {
            await gzip.CopyToAsync(body);
        }

        var text = System.Text.Encoding.UTF8.GetString(body.ToArray());
        if (!text.EndsWith('\n'))
        {
            _violations.Enqueue("body does not end with a newline");
        }

        var ids = new List<string>();
        foreach (var line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            using var doc = JsonDocument.Parse(line);
            ids.Add(doc.RootElement.GetProperty("id").GetString()!);
        }

        if (_script.TryDequeue(out var status) && status != 200)
        {
            return status == 400
                ? Results.Json(new { error = "line 1: field 'pid': expected a number", line = 1, field = "pid" }, statusCode: 400)
                : Results.StatusCode(status);
        }

        if (ids.Count > MaxRecords)
        {
            return Results.StatusCode(413);
        }

        BatchSizes.Enqueue(ids.Count);
        foreach (var id in ids)
        {
            _stored.AddOrUpdate(id, 1, (_, n) => n + 1);
        }

        return Results.Json(new { accepted = ids.Count, duplicates = 0 });
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
