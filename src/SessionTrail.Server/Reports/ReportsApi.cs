using System.Globalization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using SessionTrail.Server.Auth;

namespace SessionTrail.Server.Reports;

/// <summary>
/// <c>GET /api/v1/reports/{name}?from=&amp;to=&amp;user=&amp;fleet=&amp;stack=&amp;by=&amp;days=</c>: the report as a JSON array. 404 naming the
/// valid reports for an unknown name; 400 naming the parameter for a date that is not ISO-8601, a
/// <c>by</c> other than day|month (concurrency), or a missing or bad <c>days</c> (inactive). 422
/// <c>{"error","rows","maxRows"}</c> when the report would answer more rows than the server's cap
/// (<see cref="ServerOptions.ReportMaxRows"/>): the request is well-formed, its answer too large to build.
/// </summary>
public static class ReportsApi
{
    public sealed record UnknownReportError(string Error, IReadOnlyList<string> Reports);

    public sealed record ParameterError(string Error, string Parameter);

    /// <summary>The 422 body past the row cap: the message (report, rows, cap, how to narrow) and the two numbers.</summary>
    public sealed record TooLargeError(string Error, long Rows, int MaxRows);

    /// <summary>The answer to a report past its row cap: 422 with <see cref="TooLargeError"/>.</summary>
    public static IResult TooLarge(ReportTooLargeException e)
    {
        ArgumentNullException.ThrowIfNull(e);
        return TypedResults.Json(new TooLargeError(e.Message, e.Rows, e.MaxRows), statusCode: StatusCodes.Status422UnprocessableEntity);
    }

    public static RouteGroupBuilder MapReports(this RouteGroupBuilder api)
    {
        api.MapGet("/reports/{name}", Handle).RequireRole(Role.Viewer);
        return api;
    }

    private static IResult Handle(string name, string? from, string? to, string? user, string? fleet, string? stack, string? by, string? days, ReportService reports)
    {
        if (!ReportService.ReportNames.Contains(name))
        {
            return TypedResults.NotFound(new UnknownReportError(
                $"unknown report '{name}'; valid reports: {string.Join(", ", ReportService.ReportNames)}", ReportService.ReportNames));
        }

        if (!TryParseTime(from, out var fromTime))
        {
            return BadTime("from", from!);
        }

        if (!TryParseTime(to, out var toTime))
        {
            return BadTime("to", to!);
        }

        if (!TryParsePeriod(by, out var period))
        {
            return TypedResults.BadRequest(new ParameterError($"parameter 'by': expected day or month, got '{by}'", "by"));
        }

        int? dayCount = null;
        if (name == "inactive" || !string.IsNullOrEmpty(days))
        {
            if (!int.TryParse(days, NumberStyles.None, CultureInfo.InvariantCulture, out var n) || n < 1)
            {
                return TypedResults.BadRequest(new ParameterError(
                    $"parameter 'days': expected a whole number of days, 1 or more (inactive: no run in the last N days), got '{days}'", "days"));
            }

            dayCount = n;
        }

        static string? Opt(string? s) => string.IsNullOrEmpty(s) ? null : s;
        try
        {
            var table = reports.Run(name, new ReportFilter(fromTime, toTime, Opt(user), period, dayCount, Opt(fleet), Opt(stack)));
            return TypedResults.Json(table.RowsAsObjects);
        }
        catch (ReportTooLargeException e)
        {
            return TooLarge(e);
        }
    }

    /// <summary>day (also when empty or absent) or month, any case.</summary>
    public static bool TryParsePeriod(string? text, out ReportPeriod period)
    {
        period = ReportPeriod.Day;
        if (string.IsNullOrWhiteSpace(text) || text.Trim().Equals("day", StringComparison.OrdinalIgnoreCase))
        {
            return true;
        }

        if (text.Trim().Equals("month", StringComparison.OrdinalIgnoreCase))
        {
            period = ReportPeriod.Month;
            return true;
        }

        return false;
    }

    /// <summary>ISO-8601 date or time; without a zone it is UTC. Empty or absent means no bound.</summary>
    public static bool TryParseTime(string? text, out DateTimeOffset? time)
    {
        time = null;
        if (string.IsNullOrWhiteSpace(text))
        {
            return true;
        }

        string[] formats =
        [
            "yyyy-MM-dd", "yyyy-MM-dd'T'HH:mm", "yyyy-MM-dd'T'HH:mm:ss", "yyyy-MM-dd'T'HH:mm:ss.FFFFFFF",
            "yyyy-MM-dd'T'HH:mmK", "yyyy-MM-dd'T'HH:mm:ssK", "yyyy-MM-dd'T'HH:mm:ss.FFFFFFFK",
        ];
        if (DateTimeOffset.TryParseExact(
            text.Trim(), formats, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var parsed))
        {
            time = parsed;
            return true;
        }

        return false;
    }

    private static Microsoft.AspNetCore.Http.HttpResults.BadRequest<ParameterError> BadTime(string parameter, string value) => TypedResults.BadRequest(new ParameterError(
        $"parameter '{parameter}': expected an ISO-8601 date or time (e.g. 2026-11-01 or 2026-11-01T08:00:00Z), got '{value}'", parameter));
}
