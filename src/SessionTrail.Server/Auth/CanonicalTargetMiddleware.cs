using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.Routing.Patterns;
using Microsoft.Extensions.Logging;

namespace SessionTrail.Server.Auth;

/// <summary>
/// Refuses with 400 an <c>/api</c> request whose raw request target is not the one canonical spelling of the
/// resource it reaches, so that a proxy rule in front of the server (which matches the raw target) and the
/// server (which routes by Kestrel's normalised path, case-insensitively) can never disagree about which
/// resource a request names. Without it <c>/api/v1/sessions/A/../B/recordings/0</c>,
/// <c>…/A/%2e%2e/B/…</c> or <c>/api/v1/Sessions/B/…</c> reach session B past a proxy rule on
/// <c>/api/v1/sessions/B</c>. Refused, each with the reason:
/// <list type="bullet">
/// <item>a dot segment: a path segment that is "." or "..", literally or percent-encoded, also between encoded
/// slashes (<c>%2F</c>) or backslashes (a proxy that decodes them would resolve it);</item>
/// <item>an empty segment (<c>//</c>, or a trailing <c>/</c>);</item>
/// <item>a percent-encoded unreserved character (<c>A–Z a–z 0–9 - . _ ~</c>), which no client needs to encode;</item>
/// <item>a percent-encoding in lowercase hex (<c>%2f</c>): RFC 3986 §2.1 asks for uppercase, which every client sends;</item>
/// <item>a fixed word of the matched route in another case than the route's (<c>/API/v1</c>, <c>/api/v1/Sessions</c>).</item>
/// </list>
/// Runs after routing (it needs the matched route for the case check) and before the auth gate and every
/// endpoint. An encoded slash inside a segment stays valid: on this server it is data (a session id may hold
/// a '/'), never a separator. A reserved character may be sent as it is or percent-encoded (<c>a:b</c>,
/// <c>a%3Ab</c>): clients differ there (.NET encodes every reserved character, a browser's encodeURIComponent
/// leaves <c>!'()*</c>), so both name the same session and a proxy rule must match the decoded path (as nginx's
/// <c>location</c> does). Other paths (the web UI's files) are not checked.
/// </summary>
internal sealed partial class CanonicalTargetMiddleware(RequestDelegate next, ILogger<CanonicalTargetMiddleware> logger)
{
    public async Task InvokeAsync(HttpContext http)
    {
        if (http.Request.Path.StartsWithSegments("/api", StringComparison.OrdinalIgnoreCase)
            && Problem(RawPath(http), http.GetEndpoint() as RouteEndpoint) is { } problem)
        {
            Refused(logger, http.Request.Method, Shorten(RawPath(http)), problem);
            http.Response.StatusCode = StatusCodes.Status400BadRequest;
            http.Response.Headers.CacheControl = "no-store";
            await http.Response.WriteAsJsonAsync(new ErrorResponse($"the request path is not in canonical form: {problem}; send the path without it"));
            return;
        }

        await next(http);
    }

    /// <summary>What makes <paramref name="rawPath"/> non-canonical, or null when it is canonical.</summary>
    internal static string? Problem(string rawPath, RouteEndpoint? endpoint)
    {
        var segments = rawPath.Split('/');
        for (var i = 1; i < segments.Length; i++)
        {
            var raw = segments[i];
            if (raw.Length == 0)
            {
                return i == segments.Length - 1 ? "a trailing '/'" : "an empty segment ('//')";
            }

            var decoded = Unescape(raw);
            if (decoded.Split('/', '\\').Any(part => part is "." or ".."))
            {
                return $"the dot segment '{Shorten(raw)}'";
            }

            if (EncodedUnreserved(raw) is { } encoded)
            {
                return $"'{encoded}' in segment '{Shorten(raw)}' encodes '{Unescape(encoded)}', which is sent as it is";
            }

            if (LowercaseHex(raw) is { } lowercase)
            {
                return $"'{lowercase}' in segment '{Shorten(raw)}' is spelt '{lowercase.ToUpperInvariant()}' (uppercase hex)";
            }
        }

        if (endpoint is null)
        {
            return null;
        }

        // The route's fixed words, compared with what was sent: routing ignores case, a proxy rule may not.
        var pattern = endpoint.RoutePattern.PathSegments;
        for (var i = 0; i < pattern.Count && i + 1 < segments.Length; i++)
        {
            if (pattern[i].Parts.Any(p => p is RoutePatternParameterPart { IsCatchAll: true }))
            {
                break;
            }

            if (pattern[i].Parts is [RoutePatternLiteralPart literal] && !string.Equals(literal.Content, segments[i + 1], StringComparison.Ordinal))
            {
                return $"'{Shorten(segments[i + 1])}' is spelt '{literal.Content}'";
            }
        }

        return null;
    }

    /// <summary>The path of the request target as the client sent it (query cut off; absolute-form reduced to its path).</summary>
    private static string RawPath(HttpContext http)
    {
        var raw = http.Features.Get<IHttpRequestFeature>()?.RawTarget;
        if (string.IsNullOrEmpty(raw))
        {
            return http.Request.PathBase.Add(http.Request.Path).ToUriComponent();
        }

        var query = raw.IndexOf('?', StringComparison.Ordinal);
        var path = query >= 0 ? raw[..query] : raw;
        var scheme = path.IndexOf("://", StringComparison.Ordinal);
        if (!path.StartsWith('/') && scheme > 0)
        {
            var slash = path.IndexOf('/', scheme + 3);
            path = slash < 0 ? "/" : path[slash..];
        }

        return path;
    }

    /// <summary>The first "%XX" in <paramref name="raw"/> that encodes an unreserved character, or null.</summary>
    private static string? EncodedUnreserved(string raw)
    {
        for (var at = raw.IndexOf('%', StringComparison.Ordinal); at >= 0 && at + 2 < raw.Length; at = raw.IndexOf('%', at + 1))
        {
            if (char.IsAsciiHexDigit(raw[at + 1]) && char.IsAsciiHexDigit(raw[at + 2]))
            {
                var c = (char)Convert.ToByte(raw.Substring(at + 1, 2), 16);
                if (char.IsAsciiLetterOrDigit(c) || c is '-' or '.' or '_' or '~')
                {
                    return raw.Substring(at, 3);
                }
            }
        }

        return null;
    }

    /// <summary>The first "%xx" in <paramref name="raw"/> with a lowercase hex digit, or null.</summary>
    private static string? LowercaseHex(string raw)
    {
        for (var at = raw.IndexOf('%', StringComparison.Ordinal); at >= 0 && at + 2 < raw.Length; at = raw.IndexOf('%', at + 1))
        {
            if (char.IsAsciiHexDigit(raw[at + 1]) && char.IsAsciiHexDigit(raw[at + 2]) && (char.IsAsciiLetterLower(raw[at + 1]) || char.IsAsciiLetterLower(raw[at + 2])))
            {
                return raw.Substring(at, 3);
            }
        }

        return null;
    }

    private static string Unescape(string raw)
    {
        try
        {
            return Uri.UnescapeDataString(raw);
        }
        catch (UriFormatException)
        {
            return raw;
        }
    }

    private static string Shorten(string text)
    {
        var shown = text.Length > 60 ? text[..60] + "…" : text;
        return new string([.. shown.Select(c => char.IsControl(c) ? '?' : c)]);
    }

    [LoggerMessage(EventId = 120, Level = LogLevel.Warning, Message = "Refused {Method} {Target}: not in canonical form ({Problem})")]
    private static partial void Refused(ILogger logger, string method, string target, string problem);
}
