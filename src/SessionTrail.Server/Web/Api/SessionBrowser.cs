using System.Text;
using Microsoft.Data.Sqlite;
using SessionTrail.Core.Formats;
using SessionTrail.Server.Store;

namespace SessionTrail.Server.Web.Api;

/// <summary>
/// The sessions of the <see cref="SqliteStore"/> as the web UI reads them: a filtered, sorted page with the
/// total (indexes of schema migration 5 keep it fast on 100,000 sessions), one session with its runs, the
/// sessions open now, and the filter values. Each call opens its own read connection.
/// A session overlaps [from, to) when it started before <c>to</c> and had not ended by <c>from</c> (open: until now).
/// </summary>
public sealed class SessionBrowser(SqliteStore store, TimeProvider clock)
{
    public const int DefaultLimit = 50;
    public const int MaxLimit = 500;

    /// <summary>Most program names per list row.</summary>
    public const int AppsPerSession = 5;

    /// <summary>The sort orders of the list: by start (default newest first), duration, user; "-" for descending.</summary>
    public static readonly IReadOnlyList<string> Sorts = ["-start", "start", "duration", "-duration", "user", "-user"];

    private const string Duration = "(COALESCE(s.end, $now) - s.start)";

    /// <summary>One page of the sessions matching <paramref name="query"/>.</summary>
    public SessionPage List(SessionListQuery query)
    {
        ArgumentNullException.ThrowIfNull(query);
        using var connection = store.OpenConnection();
        using var cmd = connection.CreateCommand();
        var where = new StringBuilder("1");
        void Where(string condition, string name, object? value)
        {
            if (value is not null)
            {
                where.Append(" AND ").Append(condition);
                cmd.Parameters.AddWithValue(name, value);
            }
        }

        cmd.Parameters.AddWithValue("$now", clock.GetUtcNow().ToUnixTimeMilliseconds());
        Where(@"(s.id LIKE $q ESCAPE '\' OR s.user LIKE $q ESCAPE '\' OR s.host LIKE $q ESCAPE '\')", "$q", query.Q is null ? null : "%" + EscapeLike(query.Q) + "%");
        Where("s.user = $user", "$user", query.User);
        Where("s.host = $host", "$host", query.Host);
        Where("s.stack = $stack", "$stack", query.Stack);
        Where("s.fleet = $fleet", "$fleet", query.Fleet);
        Where("COALESCE(s.start, s.end) < $to", "$to", query.To?.ToUnixTimeMilliseconds());
        Where("(COALESCE(s.end, $now) > $from OR COALESCE(s.start, s.end) >= $from)", "$from", query.From?.ToUnixTimeMilliseconds());
        if (query.Recorded is { } recorded)
        {
            where.Append(recorded ? " AND " : " AND NOT ").Append("EXISTS (SELECT 1 FROM recording_segments g WHERE g.session = s.id)");
        }

        cmd.CommandText = $"SELECT COUNT(*) FROM sessions s WHERE {where}";
        var total = (long)cmd.ExecuteScalar()!;
        var order = query.Sort switch
        {
            "start" => "s.start, s.id",
            "duration" => $"s.start IS NULL, {Duration}, s.id",
            "-duration" => $"s.start IS NULL, {Duration} DESC, s.id DESC",
            "user" => "s.user, s.start, s.id",
            "-user" => "s.user DESC, s.start DESC, s.id DESC",
            _ => "s.start DESC, s.id DESC",
        };
        cmd.CommandText =
            $"""
            SELECT s.id, s.user, s.host, s.stack, s.fleet, s.start, s.end,
                   (SELECT COUNT(*) FROM runs r WHERE r.session = s.id),
                   EXISTS (SELECT 1 FROM recording_segments g WHERE g.session = s.id)
            FROM sessions s WHERE {where}
            ORDER BY {order} LIMIT $limit OFFSET $offset
            """;
        cmd.Parameters.AddWithValue("$limit", Math.Clamp(query.Limit, 1, MaxLimit));
        cmd.Parameters.AddWithValue("$offset", Math.Max(0, query.Offset));
        var now = clock.GetUtcNow().ToUnixTimeMilliseconds();
        var rows = new List<(string Id, string? User, string? Host, string? Stack, string? Fleet, long? Start, long? End, long Runs, bool Recording)>();
        using (var r = cmd.ExecuteReader())
        {
            while (r.Read())
            {
                rows.Add((r.GetString(0), Str(r, 1), Str(r, 2), Str(r, 3), Str(r, 4), Long(r, 5), Long(r, 6), r.GetInt64(7), r.GetInt64(8) != 0));
            }
        }

        var apps = RecentApps(connection, rows.Where(x => x.Runs > 0).Select(x => x.Id));
        var items = rows.Select(x => new SessionItem(
            x.Id, x.User, x.Host, x.Stack, x.Fleet, Time(x.Start), Time(x.End), Seconds(x.Start, x.End, now), x.Runs,
            apps.TryGetValue(x.Id, out var names) ? names : [], x.Recording)).ToList();
        return new SessionPage(total, query.Offset, query.Limit, items);
    }

    /// <summary>The session <paramref name="id"/> with its runs (by start) and its log record count; null when unknown. The recording is added by the caller.</summary>
    public SessionDetail? Detail(string id)
    {
        ArgumentNullException.ThrowIfNull(id);
        var now = clock.GetUtcNow().ToUnixTimeMilliseconds();
        using var connection = store.OpenConnection();
        using var cmd = connection.CreateCommand();
        cmd.Parameters.AddWithValue("$id", id);
        cmd.Parameters.AddWithValue("$now", now);
        cmd.CommandText =
            """
            SELECT id, user, host, stack, fleet, access_mode, instance_type, region, image_arn, start, end,
                   (SELECT COUNT(*) FROM logs l WHERE l.session = sessions.id)
            FROM sessions WHERE id = $id
            """;
        SessionInfo info;
        long logCount;
        using (var r = cmd.ExecuteReader())
        {
            if (!r.Read())
            {
                return null;
            }

            info = new SessionInfo(
                r.GetString(0), Str(r, 1), Str(r, 2), Str(r, 3), Str(r, 4), Str(r, 5), Str(r, 6), Str(r, 7), Str(r, 8),
                Time(Long(r, 9)), Time(Long(r, 10)), Seconds(Long(r, 9), Long(r, 10), now));
            logCount = r.GetInt64(11);
        }

        cmd.CommandText =
            """
            SELECT a.path, r.pid, u.name, r.start, r.end, r.ended_by, x.exit_code
            FROM runs r JOIN apps a ON a.id = r.app_id LEFT JOIN users u ON u.id = r.user_id
                 LEFT JOIN process_events x ON x.seq = r.exit_seq
            WHERE r.session = $id
            ORDER BY r.start, r.start_seq
            """;
        var runs = new List<SessionRun>();
        using (var r = cmd.ExecuteReader())
        {
            while (r.Read())
            {
                var start = r.GetInt64(3);
                var end = Long(r, 4);
                runs.Add(new SessionRun(
                    r.GetString(0), AppName(r.GetString(0)), r.GetInt64(1), Str(r, 2), Time(start)!, Time(end), Seconds(start, end, now) ?? 0,
                    r.GetInt64(5) switch { 1 => "exit", 2 => "session-end", _ => "open" }, Long(r, 6)));
            }
        }

        return new SessionDetail(info, runs, logCount, null);
    }

    /// <summary>Sessions open now (a start, no end) matching the user / fleet / stack, and their distinct users.</summary>
    public (long Sessions, long Users) Active(string? user, string? fleet, string? stack)
    {
        using var connection = store.OpenConnection();
        using var cmd = connection.CreateCommand();
        cmd.CommandText =
            """
            SELECT COUNT(*), COUNT(DISTINCT s.user) FROM sessions s
            WHERE s.end IS NULL AND s.start <= $now
              AND ($user IS NULL OR s.user = $user) AND ($fleet IS NULL OR s.fleet = $fleet) AND ($stack IS NULL OR s.stack = $stack)
            """;
        cmd.Parameters.AddWithValue("$now", clock.GetUtcNow().ToUnixTimeMilliseconds());
        cmd.Parameters.AddWithValue("$user", (object?)user ?? DBNull.Value);
        cmd.Parameters.AddWithValue("$fleet", (object?)fleet ?? DBNull.Value);
        cmd.Parameters.AddWithValue("$stack", (object?)stack ?? DBNull.Value);
        using var r = cmd.ExecuteReader();
        r.Read();
        return (r.GetInt64(0), r.GetInt64(1));
    }

    /// <summary>
    /// Changes whenever a process or session record is stored (the only records that change runs and sessions):
    /// the newest process event and session event, each one step down its table's rowid.
    /// </summary>
    public string DataVersion()
    {
        using var connection = store.OpenConnection();
        using var cmd = connection.CreateCommand();
        cmd.CommandText = "SELECT (SELECT COALESCE(MAX(seq), 0) FROM process_events) || ':' || (SELECT COALESCE(MAX(rowid), 0) FROM session_events)";
        return (string)cmd.ExecuteScalar()!;
    }

    /// <summary>The users, fleets and stacks with the most sessions (<paramref name="top"/> each), sorted by name.</summary>
    public Facets Facets(int top = 200)
    {
        using var connection = store.OpenConnection();
        List<string> Top(string column)
        {
            using var cmd = connection.CreateCommand();
            cmd.CommandText = $"SELECT {column} FROM sessions WHERE {column} IS NOT NULL GROUP BY {column} ORDER BY COUNT(*) DESC, {column} LIMIT $top";
            cmd.Parameters.AddWithValue("$top", top);
            using var r = cmd.ExecuteReader();
            var values = new List<string>();
            while (r.Read())
            {
                values.Add(r.GetString(0));
            }

            values.Sort(StringComparer.Ordinal);
            return values;
        }

        return new Facets(Top("user"), Top("fleet"), Top("stack"));
    }

    /// <summary>The file name of an executable path (Windows or POSIX separators).</summary>
    public static string AppName(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        var cut = path.LastIndexOfAny(['\\', '/']);
        return cut < 0 ? path : path[(cut + 1)..];
    }

    /// <summary>Per session: up to <see cref="AppsPerSession"/> distinct program names, the latest started first.</summary>
    private static Dictionary<string, List<string>> RecentApps(SqliteConnection connection, IEnumerable<string> sessions)
    {
        var ids = sessions.ToList();
        var result = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        if (ids.Count == 0)
        {
            return result;
        }

        using var cmd = connection.CreateCommand();
        cmd.CommandText =
            """
            SELECT g.session, a.path FROM (
                SELECT r.session, r.app_id, MAX(r.start) AS last FROM runs r
                WHERE r.session IN (SELECT value FROM json_each($ids)) GROUP BY r.session, r.app_id) g
            JOIN apps a ON a.id = g.app_id
            ORDER BY g.session, g.last DESC, a.path
            """;
        cmd.Parameters.AddWithValue("$ids", System.Text.Json.JsonSerializer.Serialize(ids));
        using var r = cmd.ExecuteReader();
        while (r.Read())
        {
            var session = r.GetString(0);
            if (!result.TryGetValue(session, out var names))
            {
                result[session] = names = [];
            }

            var name = AppName(r.GetString(1));
            if (names.Count < AppsPerSession && !names.Contains(name, StringComparer.OrdinalIgnoreCase))
            {
                names.Add(name);
            }
        }

        return result;
    }

    private static string EscapeLike(string text) => text.Replace(@"\", @"\\", StringComparison.Ordinal)
        .Replace("%", @"\%", StringComparison.Ordinal).Replace("_", @"\_", StringComparison.Ordinal);

    private static string? Str(SqliteDataReader r, int i) => r.IsDBNull(i) ? null : r.GetString(i);

    private static long? Long(SqliteDataReader r, int i) => r.IsDBNull(i) ? null : r.GetInt64(i);

    private static string? Time(long? millis) => millis is { } m ? NdjsonWriter.FormatTime(DateTimeOffset.FromUnixTimeMilliseconds(m)) : null;

    private static double? Seconds(long? start, long? end, long now) => start is { } s ? Math.Max(0, (end ?? now) - s) / 1000.0 : null;
}
