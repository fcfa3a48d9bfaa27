using System.Globalization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using SessionTrail.Server.Auth;
using SessionTrail.Server.Reports;

namespace SessionTrail.Server.Logs;

/// <summary>
/// <c>GET /api/v1/logs?q=&amp;session=&amp;user=&amp;host=&amp;source=&amp;from=&amp;to=&amp;limit=&amp;before=&amp;field.NAME=</c>: a JSON array of
/// log records, newest first. When more records match, the <c>X-Next-Cursor</c> header holds the value
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

    private static IResult Handle(HttpContext http, string? q, string? session, string? user, string? host, string? source, string? from, string? to, string? limit, string? before, LogSearch search)
    {
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

        var fields = new List<KeyValuePair<string, string>>();
        foreach (var (key, values) in http.Request.Query)
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

        static string? Opt(string? s) => string.IsNullOrEmpty(s) ? null : s;
        LogPage page;
        try
        {
            page = search.Search(new LogQuery(Opt(q), Opt(session), Opt(user), Opt(host), Opt(source), fromTime, toTime, count, cursor, fields));
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

    private static Microsoft.AspNetCore.Http.HttpResults.BadRequest<ReportsApi.ParameterError> Bad(string parameter, string problem) =>
        TypedResults.BadRequest(new ReportsApi.ParameterError($"parameter '{parameter}': {problem}", parameter));
}
