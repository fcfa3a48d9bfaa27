using System.Globalization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using SessionTrail.Server.Auth;
using SessionTrail.Server.Reports;

namespace SessionTrail.Server.Logs;

/// <summary>
/// <c>GET /api/v1/logs?q=&amp;session=&amp;user=&amp;host=&amp;source=&amp;level=&amp;provider=&amp;eventId=&amp;from=&amp;to=&amp;limit=&amp;before=&amp;order=&amp;field.NAME=</c>: a JSON array of
/// log records, newest first (<c>order=asc</c>: oldest first). When more records match, the <c>X-Next-Cursor</c> header holds the value
/// to pass as <c>before</c> for the next page. 400 naming the parameter for a bad time, limit, cursor or
/// full-text query.
/// </summary>
public static class LogsApi
{
    /// <summary>Response header carrying the next page's cursor.</summary>
    public const string NextCursorHeader = "X-Next-Cursor";

    /// <summary>Query parameters <c>field.NAME=VALUE</c> keep records whose field (or decoration) NAME is VALUE.</summary>
    public const string FieldPrefix = "field.";

    public static RouteGroupBuilder MapLogs(this RouteGroupBuilder api)
    {
        api.MapGet("/logs", Handle).RequireRole(Role.Viewer);
        return api;
    }

    private static IResult Handle(HttpContext http, LogSearch search)
    {
        if (ParseQuery(http, out var query) is { } bad)
        {
            return bad;
        }

        LogPage page;
        try
        {
            page = search.Search(query);
        }
        catch (LogQueryException e)
        {
            return Bad("q", e.Message);
        }

        if (page.Next is { } next)
        {
            http.Response.Headers[NextCursorHeader] = next.ToString();
        }

        return TypedResults.Json(page.Records);
    }

    /// <summary>
    /// The <see cref="LogQuery"/> of the request's query string (q, session, user, host, source, level, provider, eventId, from, to, limit,
    /// before, order=asc|desc, field.NAME); null, or a 400 naming the first bad parameter. Shared by the
    /// log pages, the histogram and the field facets.
    /// </summary>
    internal static IResult? ParseQuery(HttpContext http, out LogQuery query)
    {
        query = new LogQuery();
        var p = http.Request.Query;
        string? One(string name) => p.TryGetValue(name, out var v) && v.Count > 0 ? v[^1] : null;
        string? from = One("from"), to = One("to"), limit = One("limit"), before = One("before"), order = One("order");
        if (!ReportsApi.TryParseTime(from, out var fromTime))
        {
            return Bad("from", $"expected an ISO-8601 date or time, got '{from}'");
        }

        if (!ReportsApi.TryParseTime(to, out var toTime))
        {
            return Bad("to", $"expected an ISO-8601 date or time, got '{to}'");
        }

        var count = LogSearch.DefaultLimit;
        if (!string.IsNullOrEmpty(limit)
            && (!int.TryParse(limit, NumberStyles.None, CultureInfo.InvariantCulture, out count) || count is < 1 or > LogSearch.MaxLimit))
        {
            return Bad("limit", $"expected a whole number from 1 to {LogSearch.MaxLimit}, got '{limit}'");
        }

        LogCursor? cursor = null;
        if (!string.IsNullOrEmpty(before))
        {
            if (!LogCursor.TryParse(before, out var c))
            {
                return Bad("before", $"expected a cursor from the {NextCursorHeader} header, got '{before}'");
            }

            cursor = c;
        }

        if (order is not (null or "" or "asc" or "desc"))
        {
            return Bad("order", $"expected asc (oldest first) or desc (newest first), got '{order}'");
        }

        var fields = new List<KeyValuePair<string, string>>();
        foreach (var (key, values) in p)
        {
            if (key.StartsWith(FieldPrefix, StringComparison.Ordinal))
            {
                if (key.Length == FieldPrefix.Length)
                {
                    return Bad(FieldPrefix + "NAME", "expected a field name after 'field.'");
                }

                fields.AddRange(values.Select(v => KeyValuePair.Create(key[FieldPrefix.Length..], v ?? "")));
            }
        }

        string? Opt(string name) => One(name) is { Length: > 0 } s ? s : null;
        int? eventId = null;
        if (Opt("eventId") is { } id)
        {
            if (!int.TryParse(id, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var n))
            {
                return Bad("eventId", $"expected a whole number (a Windows event id), got '{id}'");
            }

            eventId = n;
        }

        query = new LogQuery(Opt("q"), Opt("session"), Opt("user"), Opt("host"), Opt("source"), fromTime, toTime, count, cursor, fields, order == "asc",
            Opt("level"), Opt("provider"), eventId);
        return null;
    }

    internal static Microsoft.AspNetCore.Http.HttpResults.BadRequest<ReportsApi.ParameterError> Bad(string parameter, string problem) =>
        TypedResults.BadRequest(new ReportsApi.ParameterError($"parameter '{parameter}': {problem}", parameter));
}
