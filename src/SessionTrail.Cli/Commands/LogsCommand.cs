using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using SessionTrail.Cli.Output;
using SessionTrail.Server.Logs;
using SessionTrail.Server.Store;

namespace SessionTrail.Cli.Commands;

/// <summary>`sessiontrail logs search [QUERY]`: full-text search of stored log records, from a data directory or a server.</summary>
internal static class LogsCommand
{
    private static readonly JsonSerializerOptions Web = new(JsonSerializerDefaults.Web);

    public static Command Create()
    {
        var query = new Argument<string?>("QUERY")
        {
            Description = "SQLite FTS5 query over the message and the fields: words (all must match), \"a phrase\", pre*, a OR b, NOT c.",
            Arity = ArgumentArity.ZeroOrOne,
        };
        var limit = new Option<int>("--limit") { Description = $"Records per page (1-{LogSearch.MaxLimit}).", DefaultValueFactory = _ => LogSearch.DefaultLimit, HelpName = "N" };
        var session = new Option<string?>("--session") { Description = "Only records of this session.", HelpName = "S" };
        var user = new Option<string?>("--user") { Description = "Only records of this user.", HelpName = "U" };
        var host = new Option<string?>("--host") { Description = "Only records from this host.", HelpName = "H" };
        var source = new Option<string?>("--source") { Description = "Only records from this agent source id.", HelpName = "ID" };
        var from = new Option<string?>("--from") { Description = "Only records at or after this date/time (UTC).", HelpName = "D" };
        var to = new Option<string?>("--to") { Description = "Only records before this date/time (UTC).", HelpName = "D" };
        var field = new Option<string[]>("--field") { Description = "Only records whose field (or decoration) NAME is VALUE; repeatable.", HelpName = "NAME=VALUE", Arity = ArgumentArity.ZeroOrMore };
        var before = new Option<string?>("--before") { Description = "Next page: the cursor the previous page printed.", HelpName = "CURSOR" };
        var format = new Option<string>("--format") { Description = "table (for people) or json (exactly the API's JSON).", DefaultValueFactory = _ => "table", HelpName = "table|json" };
        format.AcceptOnlyFromAmong("table", "json");
        var data = CommonOptions.Data();
        var server = CommonOptions.Server();
        var token = CommonOptions.Token();
        var search = new Command(
            "search",
            """
            Search stored log records, newest first. When more match than --limit, the cursor of the
            next page is printed on stderr ("next page: --before CURSOR"). Reads DIR/sessiontrail.db
            directly (also while the server runs), or asks a server with --server URL --token T.
            """)
        {
            query, limit, session, user, host, source, from, to, field, before, format, data, server, token,
        };
        search.SetAction((parse, ct) => Failure.GuardAsync("logs search", async () =>
        {
            var size = parse.GetValue(limit);
            if (size is < 1 or > LogSearch.MaxLimit)
            {
                throw new ArgumentException($"--limit must be between 1 and {LogSearch.MaxLimit}, got {size}");
            }

            var cursorText = parse.GetValue(before);
            LogCursor? cursor = null;
            if (!string.IsNullOrEmpty(cursorText))
            {
                cursor = LogCursor.TryParse(cursorText, out var c) ? c : throw new ArgumentException($"--before '{cursorText}' is not a cursor printed by a previous page");
            }

            var q = new LogQuery(
                parse.GetValue(query),
                parse.GetValue(session),
                parse.GetValue(user),
                parse.GetValue(host),
                parse.GetValue(source),
                ReportCommand.ParseTime("--from", parse.GetValue(from)),
                ReportCommand.ParseTime("--to", parse.GetValue(to)),
                size,
                cursor,
                [.. (parse.GetValue(field) ?? []).Select(ParseField)]);
            JsonElement records;
            string? next;
            if (parse.GetValue(server) is { } url)
            {
                (records, next) = await FromServerAsync(url, parse.GetValue(token), q, parse.GetValue(from), parse.GetValue(to), cursorText, ct);
            }
            else
            {
                var dir = CommonOptions.FullData(parse.GetValue(data)!);
                if (!File.Exists(Core.DataDirectory.DatabasePath(dir)))
                {
                    throw new FileNotFoundException($"no SessionTrail database in {dir}: run `sessiontrail up` (or `server`) first, or give --data DIR or --server URL");
                }

                using var store = SqliteStore.OpenReadOnly(dir);
                var page = new LogSearch(store).Search(q);
                records = JsonSerializer.SerializeToElement(page.Records, Web);
                next = page.Next?.ToString();
            }

            Render(records, parse.GetValue(format) == "json", Console.Out);
            if (next is not null)
            {
                await Console.Error.WriteLineAsync($"next page: --before {next}");
            }

            return 0;
        }));
        return new Command("logs", "Log records shipped by the agents (full-text search).") { search };
    }

    private static KeyValuePair<string, string> ParseField(string text)
    {
        var eq = text.IndexOf('=', StringComparison.Ordinal);
        return eq > 0 ? KeyValuePair.Create(text[..eq], text[(eq + 1)..]) : throw new ArgumentException($"--field '{text}': expected NAME=VALUE");
    }

    /// <summary>json: the API's array as is; table: time, host, user, session, source, level, message (one line each).</summary>
    internal static void Render(JsonElement records, bool json, TextWriter output)
    {
        if (json)
        {
            ReportRenderer.Render(records, [], ReportFormat.Json, output);
            return;
        }

        string[] columns = ["time", "host", "user", "session", "source", "level", "message"];
        var rows = records.EnumerateArray().Select(r => columns.ToDictionary(
            c => c,
            c => r.TryGetProperty(c, out var v) && v.ValueKind == JsonValueKind.String
                ? c == "message" ? v.GetString()!.ReplaceLineEndings(" ") : v.GetString()
                : null)).ToList();
        ReportRenderer.Render(JsonSerializer.SerializeToElement(rows, Web), columns, ReportFormat.Table, output);
    }

    private static async Task<(JsonElement Records, string? Next)> FromServerAsync(
        string url, string? token, LogQuery q, string? from, string? to, string? before, CancellationToken ct)
    {
        List<KeyValuePair<string, string?>> query =
        [
            new("q", q.Query), new("session", q.Session), new("user", q.User), new("host", q.Host), new("source", q.Source),
            new("from", from), new("to", to), new("limit", q.Limit.ToString(CultureInfo.InvariantCulture)), new("before", before),
        ];
        query.AddRange((q.FieldEquals ?? []).Select(f => KeyValuePair.Create(LogsApi.FieldPrefix + f.Key, (string?)f.Value)));
        var (body, headers) = await ServerGet.JsonAsync(url, token, "logs", query, ct);
        return (body, headers.TryGetValues(LogsApi.NextCursorHeader, out var values) ? values.FirstOrDefault() : null);
    }
}
