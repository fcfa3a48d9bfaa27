using System.Collections.Frozen;
using System.Reflection;
using System.Security.Cryptography;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Net.Http.Headers;
using SessionTrail.Server.Auth;

namespace SessionTrail.Server.Web;

/// <summary>
/// Serves the web front end (<c>Web/wwwroot/</c>, embedded in this assembly) at <c>/</c>: correct content types,
/// a strong ETag per file (304 on <c>If-None-Match</c>), security headers with a strict Content-Security-Policy,
/// and <c>index.html</c> for page routes (<c>/sessions/…</c>, <c>/logs</c>, …) so the browser's history routing works.
/// Nothing under <c>/api</c> ever falls back to the page: an unknown API path answers 404 JSON.
/// </summary>
public static class WebUi
{
    /// <summary>No inline script or style, nothing from another origin, never framed.</summary>
    public const string ContentSecurityPolicy =
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; media-src 'self'; " +
        "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

    private const string ResourcePrefix = "wwwroot/";

    private static readonly FrozenDictionary<string, string> ContentTypes = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase)
    {
        [".html"] = "text/html; charset=utf-8",
        [".js"] = "text/javascript; charset=utf-8",
        [".css"] = "text/css; charset=utf-8",
        [".svg"] = "image/svg+xml",
        [".png"] = "image/png",
        [".ico"] = "image/x-icon",
        [".json"] = "application/json; charset=utf-8",
        [".txt"] = "text/plain; charset=utf-8",
    }.ToFrozenDictionary(StringComparer.OrdinalIgnoreCase);

    private static readonly Lazy<FrozenDictionary<string, WebFile>> Files = new(Load);

    /// <summary>One embedded file: bytes, content type and ETag (a prefix of its SHA-256).</summary>
    internal sealed record WebFile(byte[] Bytes, string ContentType, string ETag);

    /// <summary>The embedded files by URL path (<c>/index.html</c>, <c>/js/app.js</c>, …).</summary>
    internal static IReadOnlyDictionary<string, WebFile> All => Files.Value;

    /// <summary>
    /// Adds the security headers to every response — API ones and the auth middleware's 401/403 too, so this goes
    /// before routing and authentication.
    /// </summary>
    public static WebApplication UseSecurityHeaders(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.Use(static (http, next) =>
        {
            // Every response (API ones too) tells the browser not to sniff types and not to be framed.
            http.Response.OnStarting(static state =>
            {
                var headers = ((HttpContext)state).Response.Headers;
                headers.XContentTypeOptions = "nosniff";
                headers.XFrameOptions = "DENY";
                headers["Referrer-Policy"] = "no-referrer";
                return Task.CompletedTask;
            }, http);
            return next(http);
        });
        return app;
    }

    /// <summary>Maps <c>GET|HEAD /</c> and <c>/{**path}</c> (the lowest-precedence routes).</summary>
    public static WebApplication MapWebUi(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.MapMethods("/", [HttpMethods.Get, HttpMethods.Head], Serve);
        // Under /api/v1 the auth middleware gates every endpoint (fail closed: admin); an unknown API path should be a
        // 404 to anyone signed in, not "needs admin". Elsewhere the gate does not apply: the pages are public files.
        app.MapMethods("/{**path}", [HttpMethods.Get, HttpMethods.Head], Serve).RequireRole(Role.Viewer);
        return app;
    }

    private static IResult Serve(HttpContext http)
    {
        var path = http.Request.Path.Value ?? "/";
        if (path.StartsWith("/api/", StringComparison.OrdinalIgnoreCase) || path.Equals("/api", StringComparison.OrdinalIgnoreCase))
        {
            return TypedResults.Json(new ErrorResponse($"no API endpoint {http.Request.Method} {path}"), statusCode: StatusCodes.Status404NotFound);
        }

        if (!All.TryGetValue(path, out var file))
        {
            // A page route (no file extension in its last segment) gets the page; a missing asset is a plain 404.
            var last = path[(path.LastIndexOf('/') + 1)..];
            if (last.Contains('.', StringComparison.Ordinal) || !All.TryGetValue("/index.html", out file))
            {
                return TypedResults.Text($"not found: {path}\n", "text/plain", statusCode: StatusCodes.Status404NotFound);
            }
        }

        var headers = http.Response.Headers;
        headers.ContentSecurityPolicy = ContentSecurityPolicy;
        headers.CacheControl = "no-cache";
        headers.ETag = file.ETag;
        var ifNoneMatch = http.Request.Headers.IfNoneMatch.ToString();
        if (ifNoneMatch.Length > 0 && EntityTagHeaderValue.TryParseList([ifNoneMatch], out var tags)
            && tags.Any(t => t.Equals(EntityTagHeaderValue.Any) || t.Tag.Equals(file.ETag, StringComparison.Ordinal)))
        {
            return TypedResults.StatusCode(StatusCodes.Status304NotModified);
        }

        return TypedResults.Bytes(file.Bytes, file.ContentType);
    }

    private static FrozenDictionary<string, WebFile> Load()
    {
        var assembly = typeof(WebUi).Assembly;
        var files = new Dictionary<string, WebFile>(StringComparer.Ordinal);
        foreach (var name in assembly.GetManifestResourceNames().Where(n => n.StartsWith(ResourcePrefix, StringComparison.Ordinal)))
        {
            using var stream = assembly.GetManifestResourceStream(name)!;
            using var copy = new MemoryStream();
            stream.CopyTo(copy);
            var bytes = copy.ToArray();
            var type = ContentTypes.GetValueOrDefault(Path.GetExtension(name), "application/octet-stream");
            var etag = "\"" + Convert.ToHexStringLower(SHA256.HashData(bytes))[..32] + "\"";
            files["/" + name[ResourcePrefix.Length..]] = new WebFile(bytes, type, etag);
        }

        return files.ToFrozenDictionary(StringComparer.Ordinal);
    }
}
