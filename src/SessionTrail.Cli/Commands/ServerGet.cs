using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;

namespace SessionTrail.Cli.Commands;

/// <summary>A GET of the server's API with the bearer token, for the commands that read from --server.</summary>
internal static class ServerGet
{
    /// <summary>
    /// GET <c>URL/api/v1/PATH?QUERY</c> (entries whose value is null are left out): the JSON body and the
    /// response headers. No token is an <see cref="ArgumentException"/>; an answer other than 200 is an
    /// <see cref="HttpRequestException"/> with the status and the body.
    /// </summary>
    public static async Task<(JsonElement Body, HttpResponseHeaders Headers)> JsonAsync(
        string url, string? token, string path, IEnumerable<KeyValuePair<string, string?>> query, CancellationToken ct)
    {
        if (string.IsNullOrEmpty(token))
        {
            throw new ArgumentException("--server needs --token (or $SESSIONTRAIL_TOKEN)");
        }

        var parts = query.Where(p => p.Value is not null).Select(p => Uri.EscapeDataString(p.Key) + "=" + Uri.EscapeDataString(p.Value!)).ToList();
        using var http = new HttpClient { Timeout = TimeSpan.FromMinutes(5) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        var uri = new Uri($"{url.TrimEnd('/')}/api/v1/{path}{(parts.Count > 0 ? "?" + string.Join('&', parts) : "")}");
        using var response = await http.GetAsync(uri, ct);
        var body = await response.Content.ReadAsStringAsync(ct);
        if (response.StatusCode != HttpStatusCode.OK)
        {
            throw new HttpRequestException($"{uri} answered {(int)response.StatusCode} {response.ReasonPhrase}: {body}");
        }

        return (JsonDocument.Parse(body).RootElement.Clone(), response.Headers);
    }
}
