using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using SessionTrail.Cli.Output;
using SessionTrail.Server.Reports;
using SessionTrail.Server.Store;

namespace SessionTrail.Cli.Commands;

/// <summary>`sessiontrail report NAME`: the usage reports, from a data directory or a server.</summary>
internal static class ReportCommand
{
    private static readonly JsonSerializerOptions Web = new(JsonSerializerDefaults.Web);

    public static Command Create()
    {
        var name = new Argument<string>("NAME")
        {
            Description = "top-apps | launches | runs | concurrency | last-used | inactive | sessions",
        };
        name.AcceptOnlyFromAmong([.. ReportService.ReportNames]);
        var from = new Option<string?>("--from") { Description = "Only runs that end at or after this date/time (2026-11-01 or ISO-8601; UTC).", HelpName = "D" };
        var to = new Option<string?>("--to") { Description = "Only runs that start before this date/time (UTC).", HelpName = "D" };
        var user = new Option<string?>("--user") { Description = "Only runs of this user.", HelpName = "U" };
        var fleet = new Option<string?>("--fleet") { Description = "Only runs (and sessions) of sessions in this fleet.", HelpName = "F" };
        var stack = new Option<string?>("--stack") { Description = "Only runs (and sessions) of sessions of this stack.", HelpName = "S" };
        var by = new Option<string>("--by") { Description = "concurrency: one row per app and day, or per app and month.", DefaultValueFactory = _ => "day", HelpName = "day|month" };
        by.AcceptOnlyFromAmong("day", "month");
        var days = new Option<int?>("--days") { Description = "inactive (required): pairs with no run in the last N days before --to (else now).", HelpName = "N" };
        var format = new Option<ReportFormat>("--format")
        {
            Description = "table (for people), csv, or json (exactly the API's JSON).",
            DefaultValueFactory = _ => ReportFormat.Table,
        };
        var maxRows = new Option<int>("--max-rows")
        {
            Description = $"With --data: the most rows a report may answer; past it the report stops with an error naming the count (narrow it with --from/--to, --user, --fleet, --stack). With --server the server's --report-max-rows holds. Default {ReportService.DefaultMaxRows:N0}.",
            DefaultValueFactory = _ => ReportService.DefaultMaxRows,
            HelpName = "N",
        };
        var data = CommonOptions.Data();
        var server = CommonOptions.Server();
        var token = CommonOptions.Token();
        var command = new Command(
            "report",
            """
            Answer a usage question. top-apps: total run time per program; launches: runs per program;
            runs: every run with start, end, duration and how it ended; concurrency: peak simultaneous
            users and runs per program per day (--by month: per month); last-used: per user and program;
            inactive --days N: user and program pairs with past runs but none in the last N days
            (licences to reclaim); sessions: every session with its run count. Reads DIR/sessiontrail.db directly
            (also while the server runs), or asks a server with --server URL --token T.
            """)
        {
            name, from, to, user, fleet, stack, by, days, format, maxRows, data, server, token,
        };
        command.SetAction((parse, ct) => Failure.GuardAsync("report", async () =>
        {
            var report = parse.GetValue(name)!;
            var filter = new ReportFilter(
                ParseTime("--from", parse.GetValue(from)),
                ParseTime("--to", parse.GetValue(to)),
                parse.GetValue(user),
                parse.GetValue(by) == "month" ? ReportPeriod.Month : ReportPeriod.Day,
                parse.GetValue(days),
                parse.GetValue(fleet),
                parse.GetValue(stack));
            if (parse.GetValue(maxRows) < 1)
            {
                throw new ArgumentException($"--max-rows must be 1 or more, got {parse.GetValue(maxRows)}");
            }

            if (report == "inactive" && filter.Days is not > 0)
            {
                throw new ArgumentException("report inactive needs --days N (1 or more): user and program pairs with no run in the last N days");
            }

            JsonElement rows;
            IReadOnlyList<string> columns;
            if (parse.GetValue(server) is { } url)
            {
                rows = await FromServerAsync(url, parse.GetValue(token), report, new ServerQuery(parse.GetValue(from), parse.GetValue(to), filter.User, parse.GetValue(by), filter.Days, filter.Fleet, filter.Stack), ct);
                columns = [];
            }
            else
            {
                (rows, columns) = FromData(CommonOptions.FullData(parse.GetValue(data)!), report, filter, parse.GetValue(maxRows));
            }

            ReportRenderer.Render(rows, columns, parse.GetValue(format), Console.Out);
            return 0;
        }));
        return command;
    }

    /// <summary>The report from DIR/sessiontrail.db, as the API's JSON rows and the report's columns; <paramref name="clock"/> is "now" for open runs.</summary>
    internal static (JsonElement Rows, IReadOnlyList<string> Columns) FromData(string dir, string report, ReportFilter filter, int maxRows, TimeProvider? clock = null)
    {
        if (!File.Exists(Core.DataDirectory.DatabasePath(dir)))
        {
            throw new FileNotFoundException($"no SessionTrail database in {dir}: run `sessiontrail up` (or `server`) first, or give --data DIR or --server URL");
        }

        using var store = SqliteStore.OpenReadOnly(dir);
        var table = new ReportService(store, clock, maxRows).Run(report, filter);
        return (JsonSerializer.SerializeToElement(table.RowsAsObjects, Web), table.Columns);
    }

    /// <summary>A date (midnight UTC) or an ISO-8601 time; an error names the option.</summary>
    internal static DateTimeOffset? ParseTime(string option, string? value)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            return null;
        }

        if (DateTimeOffset.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var t))
        {
            return t;
        }

        throw new FormatException($"{option} '{value}' is not a date or time; use 2026-11-01 or 2026-11-01T08:00:00Z");
    }

    private sealed record ServerQuery(string? From, string? To, string? User, string? By, int? Days, string? Fleet, string? Stack);

    private static async Task<JsonElement> FromServerAsync(string url, string? token, string report, ServerQuery q, CancellationToken ct)
    {
        var (body, _) = await ServerGet.JsonAsync(
            url,
            token,
            $"reports/{report}",
            [
                new("from", q.From), new("to", q.To), new("user", q.User), new("by", q.By == "day" ? null : q.By),
                new("days", q.Days?.ToString(CultureInfo.InvariantCulture)), new("fleet", q.Fleet), new("stack", q.Stack),
            ],
            ct);
        return body;
    }
}
