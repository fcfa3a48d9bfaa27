using System.Buffers;
using System.IO.Compression;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using SessionTrail.Core.Formats;
using SessionTrail.Core.Records;
using SessionTrail.Server.Store;

namespace SessionTrail.Cli.Import;

/// <summary>
/// Posts batches to a server's <c>POST /api/v1/ingest</c> (gzip NDJSON, bearer token) and reads back
/// <c>{"accepted","duplicates"}</c>. 413 splits the batch in halves; 408/429/5xx and connection errors are
/// retried (up to 5 times, 1 s apart, doubling); 400/401/403 and anything else stop the import with the
/// server's answer.
/// </summary>
public sealed class ServerImportTarget : IImportTarget
{
    private const int Attempts = 5;
    private readonly HttpClient http;
    private readonly Uri ingest;

    public ServerImportTarget(string url, string token, HttpMessageHandler? handler = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(token);
        if (!Uri.TryCreate(url.TrimEnd('/') + "/api/v1/ingest", UriKind.Absolute, out var uri) || (uri.Scheme != "http" && uri.Scheme != "https"))
        {
            throw new ArgumentException($"--server '{url}' is not an http(s) URL");
        }

        ingest = uri;
        http = new HttpClient(handler ?? new SocketsHttpHandler()) { Timeout = TimeSpan.FromMinutes(2) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
    }

    public async Task<IngestResult> WriteAsync(IReadOnlyList<TrailRecord> batch, CancellationToken cancellationToken)
    {
        var delay = TimeSpan.FromSeconds(1);
        for (var attempt = 1; ; attempt++)
        {
            using var content = new ByteArrayContent(Gzip(batch));
            content.Headers.ContentType = new MediaTypeHeaderValue("application/x-ndjson");
            content.Headers.ContentEncoding.Add("gzip");
            string? retryWhy;
            try
            {
                using var response = await http.PostAsync(ingest, content, cancellationToken);
                var body = await response.Content.ReadAsStringAsync(cancellationToken);
                if (response.IsSuccessStatusCode)
                {
                    return ParseResult(body);
                }

                if (response.StatusCode == HttpStatusCode.RequestEntityTooLarge && batch.Count > 1)
                {
                    var half = batch.Count / 2;
                    var a = await WriteAsync(batch.Take(half).ToList(), cancellationToken);
                    var b = await WriteAsync(batch.Skip(half).ToList(), cancellationToken);
                    return new IngestResult(a.Accepted + b.Accepted, a.Duplicates + b.Duplicates);
                }

                var status = (int)response.StatusCode;
                if (status is not (408 or 429 or >= 500))
                {
                    throw new HttpRequestException($"{ingest} answered {status} {response.ReasonPhrase}: {Clip(body)}");
                }

                retryWhy = $"{status} {Clip(body)}";
            }
            catch (HttpRequestException e) when (e.StatusCode is null)
            {
                retryWhy = e.Message;
            }
            catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                retryWhy = "timed out";
            }

            if (attempt == Attempts)
            {
                throw new HttpRequestException($"{ingest}: {retryWhy} (gave up after {Attempts} attempts)");
            }

            await Task.Delay(delay, cancellationToken);
            delay *= 2;
        }
    }

    public ValueTask DisposeAsync()
    {
        http.Dispose();
        return ValueTask.CompletedTask;
    }

    internal static byte[] Gzip(IReadOnlyList<TrailRecord> batch)
    {
        var ndjson = new ArrayBufferWriter<byte>(batch.Count * 300);
        foreach (var record in batch)
        {
            NdjsonWriter.Write(record, ndjson);
        }

        using var buffer = new MemoryStream();
        using (var gzip = new GZipStream(buffer, CompressionLevel.Fastest, leaveOpen: true))
        {
            gzip.Write(ndjson.WrittenSpan);
        }

        return buffer.ToArray();
    }

    private IngestResult ParseResult(string body)
    {
        try
        {
            using var json = JsonDocument.Parse(body);
            return new IngestResult(json.RootElement.GetProperty("accepted").GetInt32(), json.RootElement.GetProperty("duplicates").GetInt32());
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
        {
            throw new HttpRequestException($"{ingest} answered 200 with an unexpected body: {Clip(body)}");
        }
    }

    private static string Clip(string s) => s.Length <= 300 ? s : s[..300] + "…";
}
