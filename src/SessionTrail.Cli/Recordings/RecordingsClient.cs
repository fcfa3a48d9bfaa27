using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text.Json;

namespace SessionTrail.Cli.Recordings;

/// <summary>
/// The recordings API of a SessionTrail server (bearer token). Every segment download goes through the audited
/// <c>GET /sessions/{session}/recordings/{index}</c> with its purpose (download or export). An answer other
/// than 2xx is an <see cref="HttpRequestException"/> naming the URL, the status and the server's error.
/// </summary>
internal sealed class RecordingsClient : IDisposable
{
    private readonly HttpClient http;

    public RecordingsClient(string url, string? token)
    {
        if (string.IsNullOrEmpty(token))
        {
            throw new ArgumentException("--server needs --token (or $SESSIONTRAIL_TOKEN)");
        }

        http = new HttpClient { BaseAddress = new Uri(url.TrimEnd('/') + "/api/v1/"), Timeout = Timeout.InfiniteTimeSpan };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
    }

    /// <summary>The API path (relative to /api/v1/) of the session's recordings.</summary>
    public static string SessionPath(string session) => "sessions/" + Uri.EscapeDataString(session) + "/recordings";

    /// <summary>The listing (the API's JSON); null when the server knows no recording of the session.</summary>
    public async Task<JsonElement?> ListAsync(string session, CancellationToken ct)
    {
        using var response = await http.GetAsync(SessionPath(session), ct);
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }

        var body = await EnsureAsync(response, ct);
        return JsonDocument.Parse(body).RootElement.Clone();
    }

    /// <summary>A text resource (manifest, signature, public key).</summary>
    public async Task<string> TextAsync(string path, CancellationToken ct)
    {
        using var response = await http.GetAsync(path, ct);
        return await EnsureAsync(response, ct);
    }

    /// <summary>
    /// Streams segment <paramref name="index"/> into <paramref name="destination"/> (when not null) and returns its
    /// SHA-256 (lowercase hex) and length. <paramref name="purpose"/> is what the audit log records.
    /// </summary>
    public async Task<(string Sha256, long Length)> DownloadAsync(string session, int index, string purpose, Stream? destination, CancellationToken ct)
    {
        var path = $"{SessionPath(session)}/{index.ToString(CultureInfo.InvariantCulture)}?purpose={purpose}";
        using var response = await http.GetAsync(path, HttpCompletionOption.ResponseHeadersRead, ct);
        if (!response.IsSuccessStatusCode)
        {
            await EnsureAsync(response, ct);
        }

        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        await using var body = await response.Content.ReadAsStreamAsync(ct);
        var buffer = new byte[1 << 16];
        long length = 0;
        int read;
        while ((read = await body.ReadAsync(buffer, ct)) > 0)
        {
            hash.AppendData(buffer, 0, read);
            if (destination is not null)
            {
                await destination.WriteAsync(buffer.AsMemory(0, read), ct);
            }

            length += read;
        }

        return (Convert.ToHexStringLower(hash.GetHashAndReset()), length);
    }

    /// <summary>Puts (<paramref name="on"/>) or lifts the legal hold; the API's JSON answer.</summary>
    public async Task<JsonElement> HoldAsync(string session, bool on, CancellationToken ct)
    {
        var path = SessionPath(session) + "/hold";
        using var response = on ? await http.PutAsync(path, null, ct) : await http.DeleteAsync(path, ct);
        return JsonDocument.Parse(await EnsureAsync(response, ct)).RootElement.Clone();
    }

    private async Task<string> EnsureAsync(HttpResponseMessage response, CancellationToken ct)
    {
        var body = await response.Content.ReadAsStringAsync(ct);
        if (!response.IsSuccessStatusCode)
        {
            throw new HttpRequestException($"{new Uri(http.BaseAddress!, response.RequestMessage?.RequestUri?.PathAndQuery ?? "")} answered {(int)response.StatusCode} {response.ReasonPhrase}: {body}");
        }

        return body;
    }

    public void Dispose() => http.Dispose();
}
