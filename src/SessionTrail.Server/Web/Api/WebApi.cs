using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using SessionTrail.Server.Auth;
using SessionTrail.Server.Logs;
using SessionTrail.Server.Recordings;
using SessionTrail.Server.Reports;
using SessionTrail.Server.Store;

namespace SessionTrail.Server.Web.Api;

/// <summary>
/// The JSON API of the web UI (under /api/v1; see docs/reports-and-api.md "Web UI API"):
/// <list type="bullet">
/// <item><c>GET /sessions?q=&amp;user=&amp;host=&amp;stack=&amp;fleet=&amp;from=&amp;to=&amp;recorded=&amp;sort=&amp;offset=&amp;limit=</c> → <see cref="SessionPage"/>.</item>
/// <item><c>GET /sessions/{id}</c> (id percent-encoded) → <see cref="SessionDetail"/>; 404 for an unknown session.</item>
/// <item><c>GET /dashboard?from=&amp;to=&amp;user=&amp;fleet=&amp;stack=&amp;top=</c> → <see cref="DashboardView"/>;
/// <c>GET /dashboard/{part}.csv</c> → that chart's table as CSV (attachment).</item>
/// <item><c>GET /logs/histogram?…/logs parameters…&amp;buckets=</c> → <see cref="LogHistogram"/>; <c>GET /logs/fields?…</c> → <see cref="LogFields"/>.</item>
/// <item><c>GET /facets</c> → <see cref="Facets"/>.</item>
/// </list>
/// Every one needs the role viewer (or above). A bad parameter is a 400 naming it (<c>{"error","parameter"}</c>); nothing in a query string makes a 500.
/// A dashboard chart past the reports' row cap (only <c>perDay</c> can be: the others keep <c>top</c> rows) is the reports' 422.
/// </summary>
public static class WebApi
{
    public static RouteGroupBuilder MapWebApi(this RouteGroupBuilder api)
    {
        ArgumentNullException.ThrowIfNull(api);
        api.MapGet("/sessions", ListSessions).RequireRole(Role.Viewer);
        api.MapGet("/sessions/{session}", SessionAsync).RequireRole(Role.Viewer);
        api.MapGet("/dashboard", GetDashboardAsync).RequireRole(Role.Viewer);
        api.MapGet("/dashboard/{part}.csv", DashboardCsv).RequireRole(Role.Viewer);
        api.MapGet("/logs/histogram", Histogram).RequireRole(Role.Viewer);
        api.MapGet("/logs/fields", Fields).RequireRole(Role.Viewer);
        api.MapGet("/facets", (SqliteStore store, TimeProvider clock) => TypedResults.Json(new SessionBrowser(store, clock).Facets())).RequireRole(Role.Viewer);
        return api;
    }

    private static IResult ListSessions(HttpContext http, SqliteStore store, TimeProvider clock)
    {
        var p = new QueryParameters(http);
        var query = new SessionListQuery(
            p.Text("q"), p.Text("user"), p.Text("host"), p.Text("stack"), p.Text("fleet"), p.Time("from"), p.Time("to"), p.Bool("recorded"),
            p.Choice("sort", [.. SessionBrowser.Sorts]) ?? "-start",
            p.Int("offset", 0, 0, int.MaxValue),
            p.Int("limit", SessionBrowser.DefaultLimit, 1, SessionBrowser.MaxLimit));
        return p.Error ?? TypedResults.Json(new SessionBrowser(store, clock).List(query));
    }

    private static async Task<IResult> SessionAsync(HttpContext http, string session, SqliteStore store, TimeProvider clock, RecordingInspector inspector, CancellationToken ct)
    {
        if (UploadHeaders.ParseSession(http, session, out var error) is not { } id)
        {
            return TypedResults.Json(new ErrorResponse(error ?? "bad session id"), statusCode: StatusCodes.Status400BadRequest);
        }

        if (new SessionBrowser(store, clock).Detail(id) is not { } detail)
        {
            return TypedResults.Json(new ErrorResponse($"no session '{id}'"), statusCode: StatusCodes.Status404NotFound);
        }

        var listing = await inspector.ListAsync(id, rehash: false, ct);
        return TypedResults.Json(detail with { Recording = listing is null ? null : Summary(listing) });
    }

    /// <summary>The recording listing in brief: its segments, how many are complete, its chain problems, the span of the segment records.</summary>
    internal static RecordingSummary Summary(RecordingListing listing) => new(
        listing.Segments.Count,
        listing.Segments.Count(s => s.State == SegmentStates.Complete),
        listing.Chain.Problems.Count,
        listing.Segments.Select(s => s.Start).Where(t => t is not null).Min(StringComparer.Ordinal),
        listing.Segments.Select(s => s.End).Where(t => t is not null).Max(StringComparer.Ordinal));

    private static async Task<IResult> GetDashboardAsync(HttpContext http, ReportService reports, SqliteStore store, TimeProvider clock)
    {
        var p = new QueryParameters(http);
        var filter = p.Filter();
        var top = p.Int("top", Dashboard.DefaultTop, 1, Dashboard.MaxTop);
        if (p.Error is { } bad)
        {
            return bad;
        }

        try
        {
            return TypedResults.Json(await new Dashboard(reports, new SessionBrowser(store, clock), store).BuildAsync(filter, top));
        }
        catch (ReportTooLargeException e)
        {
            return ReportsApi.TooLarge(e);
        }
    }

    private static IResult DashboardCsv(HttpContext http, string part, ReportService reports, SqliteStore store, TimeProvider clock)
    {
        if (!Dashboard.Parts.Contains(part, StringComparer.Ordinal))
        {
            return TypedResults.Json(
                new ErrorResponse($"unknown dashboard part '{part}'; expected one of {string.Join(", ", Dashboard.Parts)}"),
                statusCode: StatusCodes.Status404NotFound);
        }

        var p = new QueryParameters(http);
        var filter = p.Filter();
        var top = p.Int("top", Dashboard.DefaultTop, 1, Dashboard.MaxTop);
        if (p.Error is { } bad)
        {
            return bad;
        }

        ReportTable table;
        try
        {
            table = new Dashboard(reports, new SessionBrowser(store, clock), store).Part(part, filter, top);
        }
        catch (ReportTooLargeException e)
        {
            return ReportsApi.TooLarge(e);
        }

        http.Response.Headers.ContentDisposition = $"attachment; filename=\"{part}.csv\"";
        return TypedResults.Text(CsvTable.Write(table), "text/csv; charset=utf-8; header=present", Encoding.UTF8);
    }

    private static IResult Histogram(HttpContext http, LogSearch search)
    {
        var p = new QueryParameters(http);
        var buckets = p.Int("buckets", LogStats.DefaultBuckets, 1, LogStats.MaxBuckets);
        return p.Error ?? LogCounts(http, search, (stats, query) => stats.Histogram(query, buckets));
    }

    private static IResult Fields(HttpContext http, LogSearch search) => LogCounts(http, search, (stats, query) => stats.Fields(query));

    /// <summary>Counts over the records the request's /logs parameters match; 400 for a bad parameter or full-text query.</summary>
    private static IResult LogCounts<T>(HttpContext http, LogSearch search, Func<LogStats, LogQuery, T> count)
    {
        if (LogsApi.ParseQuery(http, out var query) is { } bad)
        {
            return bad;
        }

        try
        {
            return TypedResults.Json(count(new LogStats(search), query));
        }
        catch (LogQueryException e)
        {
            return LogsApi.Bad("q", e.Message);
        }
    }
}
