using Microsoft.AspNetCore.Http;
using Microsoft.Net.Http.Headers;

namespace SessionTrail.Server.Recordings;

/// <summary>
/// Decides, per RFC 9110, whether a segment request's <c>Range</c> is honoured, before ASP.NET's range
/// processing sees it (which honours any range unit and treats an If-Range date as "not modified since").
/// A Range that is not honoured is removed from the request, so the whole representation is served (200):
/// <list type="bullet">
/// <item>a unit other than <c>bytes</c> (compared case-insensitively) is ignored (§14.2);</item>
/// <item>an <c>If-Range</c> entity-tag matches only by strong comparison with the current ETag (§13.1.5): a weak
/// tag, another tag, or a segment without an ETag yet (still uploading) do not match;</item>
/// <item>an <c>If-Range</c> HTTP-date matches only when it is exactly the <c>Last-Modified</c> a 200 would
/// carry and that date is a strong validator (§13.1.5, §8.8.2.2): the segment is complete (its bytes no
/// longer change; a growing one has no Last-Modified) and was last written at least 1 s before the
/// response's Date. Anything else — later, earlier, unparseable — does not match.</item>
/// </list>
/// An If-Range without a Range is ignored. Once decided, If-Range is removed too, so that nothing evaluates it twice.
/// </summary>
internal static class RangeConditions
{
    /// <summary>Applies the rules above to <paramref name="request"/>; true when its Range (if any) stays.</summary>
    public static bool Apply(HttpRequest request, EntityTagHeaderValue? etag, DateTimeOffset? lastModified, DateTimeOffset now)
    {
        var headers = request.Headers;
        var honoured = headers.Range.Count > 0 && IsBytes(headers.Range.ToString())
            && (headers.IfRange.Count == 0 || Matches(headers.IfRange.ToString(), etag, lastModified, now));
        if (!honoured)
        {
            headers.Remove(HeaderNames.Range);
        }

        headers.Remove(HeaderNames.IfRange);
        return honoured;
    }

    /// <summary>The Last-Modified of a response as sent: whole seconds.</summary>
    public static DateTimeOffset ToSeconds(DateTimeOffset time) => new(time.UtcTicks - (time.UtcTicks % TimeSpan.TicksPerSecond), TimeSpan.Zero);

    private static bool IsBytes(string range)
    {
        var equals = range.IndexOf('=', StringComparison.Ordinal);
        return equals > 0 && range.AsSpan(0, equals).Trim().Equals("bytes", StringComparison.OrdinalIgnoreCase);
    }

    private static bool Matches(string ifRange, EntityTagHeaderValue? etag, DateTimeOffset? lastModified, DateTimeOffset now)
    {
        var value = ifRange.Trim();
        if (value.StartsWith('"') || value.StartsWith("W/", StringComparison.OrdinalIgnoreCase))
        {
            return etag is not null && EntityTagHeaderValue.TryParse(value, out var tag) && !tag.IsWeak && tag.Compare(etag, useStrongComparison: true);
        }

        return lastModified is { } modified
            && HeaderUtilities.TryParseDate(value, out var date)
            && ToSeconds(modified) == date
            && ToSeconds(now) - ToSeconds(modified) >= TimeSpan.FromSeconds(1);
    }
}
