using System.Globalization;
using Microsoft.Data.Sqlite;
using SessionTrail.Core.Formats;
using SessionTrail.Server.Store;

namespace SessionTrail.Server.Reports;

/// <summary>
/// Report filters. A run counts when it overlaps [<see cref="From"/>, <see cref="To"/>) — it started
/// before To and was still running at or after From (an open run runs until now); <c>launches</c>
/// counts runs that started inside the window; <c>top-apps</c> seconds are clipped to the window.
/// <see cref="User"/> is an exact user name. <see cref="By"/> is the period of <c>concurrency</c>;
/// <see cref="Days"/> the idle time of <c>inactive</c> (required there). <see cref="Fleet"/> and
/// <see cref="Stack"/> keep the runs (and sessions) of sessions with exactly that fleet / stack.
/// </summary>
public sealed record ReportFilter(
    DateTimeOffset? From = null, DateTimeOffset? To = null, string? User = null, ReportPeriod By = ReportPeriod.Day, int? Days = null,
    string? Fleet = null, string? Stack = null)
{
    public static readonly ReportFilter None = new();
}

/// <summary>The period of the <c>concurrency</c> report: one row per app and UTC day, or per app and month.</summary>
public enum ReportPeriod
{
    Day,
    Month,
}

/// <summary>
/// Computes the usage reports from the store (SQL over the materialized runs; <c>concurrency</c> is a
/// sweep over the runs SQL returns sorted). Callable without HTTP (the CLI opens the store read-only).
/// Throws <see cref="UnknownReportException"/> for an unknown name; database errors propagate.
/// </summary>
public sealed class ReportService(SqliteStore store, TimeProvider? time = null)
{
    private const long DayMillis = 86_400_000;

    /// <summary>The report names, in the order they are documented.</summary>
    public static readonly IReadOnlyList<string> ReportNames = ["top-apps", "launches", "runs", "concurrency", "last-used", "inactive", "sessions"];

    private readonly TimeProvider clock = time ?? TimeProvider.System;

    /// <summary>Runs report <paramref name="name"/> (one of <see cref="ReportNames"/>).</summary>
    public ReportTable Run(string name, ReportFilter filter)
    {
        ArgumentNullException.ThrowIfNull(filter);
        using var connection = store.OpenConnection();
        var q = new Query(connection, filter, clock.GetUtcNow().ToUnixTimeMilliseconds());
        return name switch
        {
            "top-apps" => new(name, TopAppRow.Columns, TopApps(q)),
            "launches" => new(name, LaunchRow.Columns, Launches(q)),
            "runs" => new(name, RunRow.Columns, Runs(q)),
            "concurrency" when filter.By == ReportPeriod.Month => new(name, ConcurrencyMonthRow.Columns, ConcurrencyByMonth(Concurrency(q))),
            "concurrency" => new(name, ConcurrencyRow.Columns, Concurrency(q)),
            "last-used" => new(name, LastUsedRow.Columns, LastUsed(q)),
            "inactive" => new(name, InactiveRow.Columns, Inactive(q, filter)),
            "sessions" => new(name, SessionRow.Columns, Sessions(q)),
            _ => throw new UnknownReportException(name),
        };
    }

    /// <summary>
    /// Usage per UTC day: the runs launched that day in the window (the <c>launches</c> filter), by how many
    /// distinct users, their run time in seconds clipped to the window (all of a run's time counts on the day it
    /// started), and the sessions that started that day in the window (with the same user, fleet and stack).
    /// Oldest day first. The runs are grouped on the expression index runs_day (schema migration 5), which holds
    /// them in day order: no sort of every run.
    /// </summary>
    public ReportTable PerDay(ReportFilter filter)
    {
        ArgumentNullException.ThrowIfNull(filter);
        using var connection = store.OpenConnection();
        var q = new Query(connection, filter, clock.GetUtcNow().ToUnixTimeMilliseconds());
        var days = new SortedDictionary<long, DayUsageRow>();
        var window = (filter.From is null ? "" : $" AND r.start / {DayMillis} >= $from / {DayMillis}") + (filter.To is null ? "" : $" AND r.start / {DayMillis} <= $to / {DayMillis}");
        foreach (var (day, users, runs, millis) in q.Rows(
            $"""
            SELECT r.start / {DayMillis}, COUNT(DISTINCT r.user_id), COUNT(*), SUM(MAX(0, MIN({RunEnd}, $to) - MAX(r.start, $from)))
            FROM runs r WHERE {q.LaunchFilter}{window}
            GROUP BY r.start / {DayMillis}
            """,
            r => (r.GetInt64(0), r.GetInt64(1), r.GetInt64(2), r.GetInt64(3))))
        {
            days[day] = new DayUsageRow(Day(day * DayMillis), 0, users, runs, Seconds(millis));
        }

        foreach (var (day, sessions) in q.Rows(
            $"""
            SELECT s.start / {DayMillis}, COUNT(*) FROM sessions s
            WHERE s.start >= $from AND s.start < $to AND ($user IS NULL OR s.user = $user)
              AND ($fleet IS NULL OR s.fleet = $fleet) AND ($stack IS NULL OR s.stack = $stack)
            GROUP BY s.start / {DayMillis}
            """,
            r => (r.GetInt64(0), r.GetInt64(1))))
        {
            days[day] = (days.TryGetValue(day, out var row) ? row : new DayUsageRow(Day(day * DayMillis), 0, 0, 0, 0)) with { Sessions = sessions };
        }

        return new("per-day", DayUsageRow.Columns, [.. days.Values]);
    }

    private const string RunEnd = "COALESCE(r.end, $now)";

    private static List<IReportRow> TopApps(Query q) => q.Rows<IReportRow>(
        $"""
        SELECT a.path, g.runs, g.users, g.ms
        FROM (SELECT r.app_id, COUNT(*) AS runs, COUNT(DISTINCT r.user_id) AS users,
                     SUM(MAX(0, MIN({RunEnd}, $to) - MAX(r.start, $from))) AS ms
              FROM runs r WHERE {q.RunFilter} GROUP BY r.app_id) g
        JOIN apps a ON a.id = g.app_id
        ORDER BY g.ms DESC, a.path
        """,
        r => new TopAppRow(r.GetString(0), r.GetInt64(1), r.GetInt64(2), Seconds(r.GetInt64(3))));

    private static List<IReportRow> Launches(Query q) => q.Rows<IReportRow>(
        $"""
        SELECT a.path, g.launches, g.users
        FROM (SELECT r.app_id, COUNT(*) AS launches, COUNT(DISTINCT r.user_id) AS users
              FROM runs r WHERE {q.LaunchFilter} GROUP BY r.app_id) g
        JOIN apps a ON a.id = g.app_id
        ORDER BY g.launches DESC, a.path
        """,
        r => new LaunchRow(r.GetString(0), r.GetInt64(1), r.GetInt64(2)));

    private static List<IReportRow> Runs(Query q) => q.Rows<IReportRow>(
        $"""
        SELECT a.path, r.pid, r.host, u.name, r.session, r.start, r.end, {RunEnd} - r.start, r.ended_by
        FROM runs r JOIN apps a ON a.id = r.app_id LEFT JOIN users u ON u.id = r.user_id
        WHERE {q.RunFilter}
        ORDER BY r.start, r.start_seq
        """,
        r => new RunRow(
            r.GetString(0),
            r.GetInt64(1),
            r.GetString(2),
            NullableString(r, 3),
            NullableString(r, 4),
            Time(r.GetInt64(5)),
            r.IsDBNull(6) ? null : Time(r.GetInt64(6)),
            Seconds(r.GetInt64(7)),
            r.GetInt64(8) switch { 1 => "exit", 2 => "session_end", _ => "open" }));

    private static List<IReportRow> LastUsed(Query q) => q.Rows<IReportRow>(
        $"""
        SELECT u.name, a.path, g.last, g.runs
        FROM (SELECT r.user_id, r.app_id, MAX(r.start) AS last, COUNT(*) AS runs
              FROM runs r WHERE {q.RunFilter} GROUP BY r.app_id, r.user_id) g
        JOIN apps a ON a.id = g.app_id LEFT JOIN users u ON u.id = g.user_id
        ORDER BY g.last, u.name, a.path
        """,
        r => new LastUsedRow(NullableString(r, 0), r.GetString(1), Time(r.GetInt64(2)), r.GetInt64(3)));

    /// <summary>
    /// User and app pairs with runs before the reference time (--to, else now) but none running in the
    /// <see cref="ReportFilter.Days"/> days before it: licences to reclaim. A run still open counts as
    /// running now. Oldest use first.
    /// </summary>
    private static List<IReportRow> Inactive(Query q, ReportFilter filter)
    {
        if (filter.Days is not ({ } days and > 0))
        {
            throw new ArgumentException("the inactive report needs days N (a whole number of days, 1 or more): pairs with no run in the last N days");
        }

        var reference = q.Reference;
        var cutoff = reference - (days * DayMillis);
        return q.Rows<IReportRow>(
            $"""
            SELECT u.name, a.path, g.last, g.last_end, g.runs
            FROM (SELECT r.user_id, r.app_id, MAX(r.start) AS last, MAX({RunEnd}) AS last_end, COUNT(*) AS runs
                  FROM runs r WHERE {q.RunFilter} AND r.start < $ref GROUP BY r.app_id, r.user_id
                  HAVING MAX({RunEnd}) <= $cutoff) g
            JOIN apps a ON a.id = g.app_id LEFT JOIN users u ON u.id = g.user_id
            ORDER BY g.last_end, u.name, a.path
            """,
            r => new InactiveRow(
                NullableString(r, 0),
                r.GetString(1),
                Time(r.GetInt64(2)),
                Time(r.GetInt64(3)),
                r.GetInt64(4),
                (reference - r.GetInt64(3)) / DayMillis),
            ("$cutoff", cutoff));
    }

    /// <summary>Per app and UTC month: the highest daily peaks (a moment belongs to exactly one day).</summary>
    private static List<IReportRow> ConcurrencyByMonth(List<IReportRow> days) =>
        [.. days.Cast<ConcurrencyRow>()
            .GroupBy(d => (d.App, Month: d.Day[..7]))
            .Select(g => new ConcurrencyMonthRow(g.Key.App, g.Key.Month, g.Max(d => d.PeakUsers), g.Max(d => d.PeakRuns)))];

    private static List<IReportRow> Sessions(Query q) => q.Rows<IReportRow>(
        """
        SELECT s.id, s.user, s.host, s.start, s.end, (SELECT COUNT(*) FROM runs r WHERE r.session = s.id) AS runs,
               COALESCE(s.start, (SELECT MIN(r.start) FROM runs r WHERE r.session = s.id), s.end) AS first
        FROM sessions s
        WHERE ($user IS NULL OR s.user = $user) AND ($fleet IS NULL OR s.fleet = $fleet) AND ($stack IS NULL OR s.stack = $stack)
          AND COALESCE(s.start, (SELECT MIN(r.start) FROM runs r WHERE r.session = s.id), s.end, 0) < $to
          AND (COALESCE(s.end, $now) > $from OR COALESCE(s.start, s.end, 0) >= $from)
        ORDER BY first, s.id
        """,
        r => new SessionRow(
            r.GetString(0),
            NullableString(r, 1),
            NullableString(r, 2),
            r.IsDBNull(3) ? null : Time(r.GetInt64(3)),
            r.IsDBNull(4) ? null : Time(r.GetInt64(4)),
            r.GetInt64(5)));

    /// <summary>
    /// Per app and UTC day: the most runs, and the most distinct users, running at the same moment.
    /// Runs are clipped to the window and cut at day boundaries; at one instant, ends count before starts
    /// (a run ending at 10:00 and one starting at 10:00 never overlap).
    /// </summary>
    private static List<IReportRow> Concurrency(Query q)
    {
        var rows = new List<IReportRow>();
        var paths = new Dictionary<long, string>();
        using (var apps = q.Command("SELECT id, path FROM apps"))
        using (var appReader = apps.ExecuteReader())
        {
            while (appReader.Read())
            {
                paths[appReader.GetInt64(0)] = appReader.GetString(1);
            }
        }

        // Ordered by app_id so that SQLite walks the covering index runs_app without sorting.
        using var cmd = q.Command(
            $"""
            SELECT r.app_id, r.user_id, MAX(r.start, $from), MIN({RunEnd}, $to)
            FROM runs r
            WHERE {q.RunFilter}
            ORDER BY r.app_id
            """);
        using var reader = cmd.ExecuteReader();
        long? app = null;
        var pieces = new List<(long Day, long Start, long End, long User)>();
        while (reader.Read())
        {
            var appId = reader.GetInt64(0);
            if (app is { } current && appId != current)
            {
                Sweep(paths[current], pieces, rows);
                pieces.Clear();
            }

            app = appId;
            var user = reader.IsDBNull(1) ? -1 : reader.GetInt64(1);
            var start = reader.GetInt64(2);
            var end = Math.Max(reader.GetInt64(3), start + 1);
            for (var day = FloorDay(start); day < end; day += DayMillis)
            {
                pieces.Add((day, Math.Max(start, day), Math.Min(end, day + DayMillis), user));
            }
        }

        if (app is { } last)
        {
            Sweep(paths[last], pieces, rows);
        }

        rows.Sort((a, b) =>
        {
            var x = (ConcurrencyRow)a;
            var y = (ConcurrencyRow)b;
            var byApp = string.CompareOrdinal(x.App, y.App);
            return byApp != 0 ? byApp : string.CompareOrdinal(x.Day, y.Day);
        });
        return rows;
    }

    /// <summary>
    /// The daily peaks of one app's pieces (each inside one UTC day). Events are sorted on one key, time × 2 plus
    /// 1 for a start, so that at one instant ends come before starts; the pieces of a day all end by its last
    /// instant, so the events come grouped by day.
    /// </summary>
    private static void Sweep(string app, List<(long Day, long Start, long End, long User)> pieces, List<IReportRow> rows)
    {
        var keys = new long[pieces.Count * 2];
        var users = new long[pieces.Count * 2];
        for (var i = 0; i < pieces.Count; i++)
        {
            var p = pieces[i];
            (keys[2 * i], users[2 * i]) = ((p.Start * 2) + 1, p.User);
            (keys[(2 * i) + 1], users[(2 * i) + 1]) = (p.End * 2, p.User);
        }

        Array.Sort(keys, users);
        var perUser = new Dictionary<long, int>();
        long? day = null;
        long running = 0, active = 0, peakRuns = 0, peakUsers = 0;
        for (var i = 0; i < keys.Length; i++)
        {
            var start = (keys[i] & 1) == 1;
            var time = keys[i] >> 1;
            var eventDay = FloorDay(start ? time : time - 1); // a piece's end may be its day's last instant + 1
            if (day != eventDay)
            {
                if (day is { } done)
                {
                    rows.Add(new ConcurrencyRow(app, Day(done), peakUsers, peakRuns));
                }

                (day, peakRuns, peakUsers) = (eventDay, 0, 0);
            }

            var user = users[i];
            running += start ? 1 : -1;
            perUser.TryGetValue(user, out var count);
            var after = count + (start ? 1 : -1);
            perUser[user] = after;
            if (user >= 0 && count == 0 && after > 0)
            {
                active++;
            }
            else if (user >= 0 && count > 0 && after == 0)
            {
                active--;
            }

            peakRuns = Math.Max(peakRuns, running);
            peakUsers = Math.Max(peakUsers, active);
        }

        if (day is { } last)
        {
            rows.Add(new ConcurrencyRow(app, Day(last), peakUsers, peakRuns));
        }
    }

    private static string Day(long millis) => DateTimeOffset.FromUnixTimeMilliseconds(millis).UtcDateTime.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    private static long FloorDay(long millis) => millis - (((millis % DayMillis) + DayMillis) % DayMillis);

    private static double Seconds(long millis) => millis / 1000.0;

    private static string Time(long millis) => NdjsonWriter.FormatTime(DateTimeOffset.FromUnixTimeMilliseconds(millis));

    private static string? NullableString(SqliteDataReader r, int i) => r.IsDBNull(i) ? null : r.GetString(i);

    /// <summary>A read connection with the filter bound as $from, $to, $user, $now.</summary>
    private sealed class Query(SqliteConnection connection, ReportFilter filter, long now)
    {
        /// <summary>
        /// The WHERE clause for runs overlapping the window, with only the conditions the filter uses
        /// (an "x IS NULL OR ..." condition would keep SQLite from using an index).
        /// </summary>
        public string RunFilter => Conditions(
            filter.To is null ? null : "r.start < $to",
            filter.From is null ? null : $"({RunEnd} > $from OR r.start >= $from)",
            UserCondition,
            SessionCondition);

        /// <summary>The WHERE clause for runs that started inside the window.</summary>
        public string LaunchFilter => Conditions(
            filter.From is null ? null : "r.start >= $from",
            filter.To is null ? null : "r.start < $to",
            UserCondition,
            SessionCondition);

        /// <summary>The reference time of <c>inactive</c>: To, else now (bound as $ref).</summary>
        public long Reference => filter.To is { } t ? t.ToUnixTimeMilliseconds() : now;

        private string? UserCondition => filter.User is null ? null : "r.user_id = (SELECT id FROM users WHERE name = $user)";

        /// <summary>Runs of sessions with the fleet / stack asked for (SQLite looks each session's runs up in runs_session).</summary>
        private string? SessionCondition => filter.Fleet is null && filter.Stack is null ? null
            : "r.session IN (SELECT s.id FROM sessions s WHERE " + Conditions(
                filter.Fleet is null ? null : "s.fleet = $fleet",
                filter.Stack is null ? null : "s.stack = $stack") + ")";

        private static string Conditions(params string?[] conditions)
        {
            var used = conditions.Where(c => c is not null).ToArray();
            return used.Length == 0 ? "1" : string.Join(" AND ", used);
        }

        public SqliteCommand Command(string sql)
        {
            var cmd = connection.CreateCommand();
            cmd.CommandText = sql;
            cmd.Parameters.AddWithValue("$from", filter.From is { } f ? f.ToUnixTimeMilliseconds() : long.MinValue);
            cmd.Parameters.AddWithValue("$to", filter.To is { } t ? t.ToUnixTimeMilliseconds() : long.MaxValue);
            cmd.Parameters.AddWithValue("$user", (object?)filter.User ?? DBNull.Value);
            cmd.Parameters.AddWithValue("$fleet", (object?)filter.Fleet ?? DBNull.Value);
            cmd.Parameters.AddWithValue("$stack", (object?)filter.Stack ?? DBNull.Value);
            cmd.Parameters.AddWithValue("$now", now);
            cmd.Parameters.AddWithValue("$ref", Reference);
            return cmd;
        }

        public List<T> Rows<T>(string sql, Func<SqliteDataReader, T> map, params (string Name, object Value)[] parameters)
        {
            using var cmd = Command(sql);
            foreach (var (parameterName, value) in parameters)
            {
                cmd.Parameters.AddWithValue(parameterName, value);
            }

            using var reader = cmd.ExecuteReader();
            var rows = new List<T>();
            while (reader.Read())
            {
                rows.Add(map(reader));
            }

            return rows;
        }
    }
}

/// <summary>Thrown for a report name that is not one of <see cref="ReportService.ReportNames"/>.</summary>
public sealed class UnknownReportException : ArgumentException
{
    public UnknownReportException(string name)
        : base($"Unknown report '{name}'. Valid reports: {string.Join(", ", ReportService.ReportNames)}.")
    {
        ReportName = name;
    }

    public UnknownReportException()
    {
        ReportName = "";
    }

    public UnknownReportException(string message, Exception innerException)
        : base(message, innerException)
    {
        ReportName = "";
    }

    public string ReportName { get; }
}
