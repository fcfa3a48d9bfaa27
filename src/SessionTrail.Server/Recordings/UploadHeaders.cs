using System.Globalization;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Primitives;

namespace SessionTrail.Server.Recordings;

/// <summary>
/// Parsing of what an upload request names: the <c>Upload-Offset</c> header (a non-negative integer of at
/// most 15 digits, as a Structured Field Integer of the IETF resumable-upload draft), the session (from the
/// raw request target, so that an encoded '/' in a session id survives) and the segment index. Each parser
/// answers with a clear error instead of throwing, for any input.
/// </summary>
public static class UploadHeaders
{
    /// <summary>The request/response header carrying the offset.</summary>
    public const string OffsetHeader = "Upload-Offset";

    /// <summary>Set (<c>?1</c>) on a 409 when the segment is already complete.</summary>
    public const string CompleteHeader = "Upload-Complete";

    /// <summary>The only Content-Type a PATCH may carry.</summary>
    public const string ChunkContentType = "application/offset+octet-stream";

    /// <summary>Longest session id accepted, in characters.</summary>
    public const int MaxSessionLength = 256;

    /// <summary>Highest segment index accepted.</summary>
    public const int MaxIndex = 999_999;

    /// <summary>The <c>Upload-Offset</c> value; null with an error when it is missing, repeated or not a non-negative integer.</summary>
    public static long? ParseOffset(StringValues values, out string? error)
    {
        error = null;
        if (values.Count == 0)
        {
            error = $"the {OffsetHeader} header is required (the byte offset this chunk starts at)";
            return null;
        }

        if (values.Count > 1)
        {
            error = $"the {OffsetHeader} header must appear once, got {values.Count} values";
            return null;
        }

        var text = (values[0] ?? "").Trim(' ', '\t');
        if (text.Length == 0 || text.Length > 15 || !text.All(char.IsAsciiDigit))
        {
            error = $"the {OffsetHeader} header must be a non-negative integer of at most 15 digits, got '{Printable(text)}'";
            return null;
        }

        return long.Parse(text, NumberStyles.None, CultureInfo.InvariantCulture);
    }

    /// <summary>The segment index from its route value: 0 … <see cref="MaxIndex"/>, digits only, no leading zero (one spelling per segment).</summary>
    public static int? ParseIndex(string? value, out string? error)
    {
        error = null;
        if (string.IsNullOrEmpty(value) || value.Length > 7 || !value.All(char.IsAsciiDigit) || (value.Length > 1 && value[0] == '0')
            || !int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var index) || index > MaxIndex)
        {
            error = $"the segment index must be an integer from 0 to {MaxIndex} without leading zeros, got '{Printable(value ?? "")}'";
            return null;
        }

        return index;
    }

    /// <summary>
    /// The session id, percent-decoded exactly once. Kestrel decodes the path except "%2F", so a route value that
    /// still holds a '%' is taken from the raw request target instead. Null with an error when it is empty,
    /// longer than <see cref="MaxSessionLength"/> characters, or holds control characters.
    /// </summary>
    public static string? ParseSession(HttpContext http, string? routeValue, out string? error)
    {
        ArgumentNullException.ThrowIfNull(http);
        var session = routeValue ?? "";
        if (session.Contains('%', StringComparison.Ordinal)
            && SessionFromRawTarget(http.Features.Get<IHttpRequestFeature>()?.RawTarget) is { } raw)
        {
            session = raw;
        }

        return ValidateSession(session, out error);
    }

    /// <summary>Checks a decoded session id (non-empty, ≤ 256 characters, no control characters).</summary>
    public static string? ValidateSession(string session, out string? error)
    {
        ArgumentNullException.ThrowIfNull(session);
        error = null;
        if (session.Length == 0)
        {
            error = "the session id is empty";
        }
        else if (session.Length > MaxSessionLength)
        {
            error = $"the session id is {session.Length} characters long; at most {MaxSessionLength} are allowed";
        }
        else if (session.Any(char.IsControl))
        {
            error = "the session id holds a control character";
        }

        return error is null ? session : null;
    }

    /// <summary>The segment after "/sessions/" in a raw request target, percent-decoded; null when there is none or it does not decode.</summary>
    public static string? SessionFromRawTarget(string? rawTarget)
    {
        if (string.IsNullOrEmpty(rawTarget))
        {
            return null;
        }

        var query = rawTarget.IndexOf('?', StringComparison.Ordinal);
        var path = query >= 0 ? rawTarget[..query] : rawTarget;
        const string marker = "/sessions/";
        var start = path.IndexOf(marker, StringComparison.Ordinal);
        if (start < 0)
        {
            return null;
        }

        start += marker.Length;
        var end = path.IndexOf('/', start);
        var encoded = end < 0 ? path[start..] : path[start..end];
        try
        {
            var decoded = Uri.UnescapeDataString(encoded);
            return decoded.Contains('\uFFFD', StringComparison.Ordinal) && !encoded.Contains('\uFFFD', StringComparison.Ordinal) ? null : decoded;
        }
        catch (UriFormatException)
        {
            return null;
        }
    }

    private static string Printable(string text)
    {
        var shown = text.Length > 40 ? text[..40] + "…" : text;
        return new string([.. shown.Select(c => char.IsControl(c) ? '?' : c)]);
    }
}
