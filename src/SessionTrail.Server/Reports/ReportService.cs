using System.Globalization;
using System.Runtime.InteropServices;
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
/// Every answer is bounded: a report (or <see cref="PerDay"/>) that would answer more than <see cref="MaxRows"/>
/// rows throws <see cref="ReportTooLargeException"/> with the number it would have answered, having held at most
/// <see cref="MaxRows"/> + 1 rows (SQL reports stop reading there, then count; <c>runs</c> counts first); the concurrency sweep never
/// enumerates days: a stretch of days without a start or an end is one span, counted, and rows are made only
/// while under the cap — so a run from year 1 to year 9999 costs what any other run costs.
/// </summary>
public sealed class ReportService
{
    /// <summary>The default of <see cref="MaxRows"/> (server <c>--report-max-rows</c>, <c>report --max-rows</c>).</summary>
    public const int DefaultMaxRows = 100_000;

    private const long DayMillis = 86_400_000;

    /// <summary>The report names, in the order they are documented.</summary>
    public static readonly IReadOnlyList<string> ReportNames = ["top-apps", "launches", "runs", "concurrency", "last-used", "inactive", "sessions"];

    private readonly SqliteStore store;
    private readonly TimeProvider clock;
    private readonly bool aggregates;

    /// <param name="store">The store to read.</param>
    /// <param name="time">"Now" for open runs; the system clock when null.</param>
    /// <param name="maxRows">The most rows a report answers (1 or more); <see cref="DefaultMaxRows"/> by default.</param>
    /// <param name="aggregates">
    /// False: every report reads the runs, as before schema 9 — the oracle the aggregates are tested against.
    /// </param>
    public ReportService(SqliteStore store, TimeProvider? time = null, int maxRows = DefaultMaxRows, bool aggregates = true)
    {
        this.aggregates = aggregates;
        ArgumentOutOfRangeException.ThrowIfLessThan(maxRows, 1);
        this.store = store;
        clock = time ?? TimeProvider.System;
        MaxRows = maxRows;
    }

    /// <summary>The most rows one report answers; past it the report throws <see cref="ReportTooLargeException"/>.</summary>
    public int MaxRows { get; }

    /// <summary>Runs report <paramref name="name"/> (one of <see cref="ReportNames"/>); more than <see cref="MaxRows"/> rows throw <see cref="ReportTooLargeException"/>.</summary>
    public ReportTable Run(string name, ReportFilter filter)
    {
        ArgumentNullException.ThrowIfNull(filter);
        using var connection = store.OpenConnection();
        var q = Open(connection, name, filter, first: null);
        return name switch
        {
            "top-apps" => new(name, TopAppRow.Columns, TopApps(q)),
            "launches" => new(name, LaunchRow.Columns, Launches(q)),
            "runs" => new(name, RunRow.Columns, Runs(q)),
            "concurrency" when filter.By == ReportPeriod.Month => new(name, ConcurrencyMonthRow.Columns, Concurrency(q, new MonthPeaks(name, MaxRows))),
            "concurrency" => new(name, ConcurrencyRow.Columns, Concurrency(q, new DayPeaks(name, MaxRows))),
            "last-used" => new(name, LastUsedRow.Columns, LastUsed(q)),
            "inactive" => new(name, InactiveRow.Columns, Inactive(q, filter)),
            "sessions" => new(name, SessionRow.Columns, Sessions(q)),
            _ => throw new UnknownReportException(name),
        };
    }

    /// <summary>
    /// The first <paramref name="count"/> rows of <c>top-apps</c> or <c>launches</c> (the dashboard's charts): SQL keeps only
    /// those rows while it sorts, so there is no cap to exceed.
    /// </summary>
    public ReportTable First(string name, ReportFilter filter, int count)
    {
        ArgumentNullException.ThrowIfNull(filter);
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        using var connection = store.OpenConnection();
        var q = Open(connection, name, filter, count);
        return name switch
        {
            "top-apps" => new(name, TopAppRow.Columns, TopApps(q)),
            "launches" => new(name, LaunchRow.Columns, Launches(q)),
            _ => throw new ArgumentException($"First takes top-apps or launches, not '{name}'", nameof(name)),
        };
    }

    /// <summary>
    /// Per app, the highest daily <c>peakUsers</c> of the <c>concurrency</c> report over the window, the first day it was reached
    /// and the highest <c>peakRuns</c>; the <paramref name="top"/> apps with the highest peaks. One row per app: no day rows
    /// are made, so any window costs only its runs.
    /// </summary>
    public ReportTable PeakConcurrency(ReportFilter filter, int top)
    {
        ArgumentNullException.ThrowIfNull(filter);
        using var connection = store.OpenConnection();
        var peaks = new AppPeaks();
        Concurrency(Open(connection, "peakConcurrency", filter, first: null), peaks);
        return new("peakConcurrency", PeakRow.Columns, [.. peaks.Rows
            .OrderByDescending(p => p.Peak).ThenByDescending(p => p.PeakRuns).ThenBy(p => p.App, StringComparer.Ordinal)
            .Take(top)]);
    }

    /// <param name="perDay">For <see cref="PerDay"/>: whole days are read from user_day (no user filter), with or without a window.</param>
    private Query Open(SqliteConnection connection, string report, ReportFilter filter, int? first, bool perDay = false)
    {
        var ready = aggregates && filter is { Fleet: null, Stack: null } && RunAggregates.Ready(connection);
        return new(connection, filter, clock.GetUtcNow().ToUnixTimeMilliseconds(), report, MaxRows, first)
        {
            // Over all of history the per (app, user) aggregates answer top-apps, launches, last-used and inactive; over a
            // window with a whole day in it and at most WholePeriods.MostDays whole days outside whole months, the per
            // (month | day, app, user) sums answer top-apps and launches (a day's rows are about as many as its runs in a
            // busy fleet, a month's are far fewer); the per (day, user) sums answer the dashboard's per-day chart for all users.
            Aggregated = ready && filter is { From: null, To: null },
            SessionSums = aggregates,
            Whole = !ready ? null
                : perDay ? (filter.User is null ? WholePeriods.Of(filter) : null) // one user's runs are few: runs_day finds them per day
                : filter is { User: null } && (filter.From is not null || filter.To is not null) && WholePeriods.Of(filter) is { DaysOutsideMonths: <= WholePeriods.MostDays } w ? w
                : null,
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
        var q = Open(connection, "perDay", filter, first: null, perDay: true);
        var days = new SortedDictionary<long, DayUsageRow>();
        var window = (filter.From is null ? "" : $" AND r.start / {DayMillis} >= $from / {DayMillis}") + (filter.To is null ? "" : $" AND r.start / {DayMillis} <= $to / {DayMillis}");
        var runSql = q.Whole is null
            ? $"""
            SELECT r.start / {DayMillis} AS day, COUNT(DISTINCT r.user_id), COUNT(*), SUM(MAX(0, MIN({RunEnd}, $to) - MAX(r.start, $from)))
            FROM runs r WHERE {q.LaunchFilter}{window}
            GROUP BY r.start / {DayMillis}
            """
            : $"""
            -- Whole days from user_day, less what their runs ran past the window's end (and an open run's time before its start
            -- when it starts after now: the sums count it below 0); partial days at the edges from their runs. A day is one or
            -- the other, so its distinct users are counted from one source.
            WITH parts(day, user_id, runs, ms) AS (
                SELECT day, user_id, runs, closed_ms + (open_runs * $now) - open_start_sum FROM user_day
                WHERE day >= $d0 AND day < $d1
                UNION ALL
                SELECT r.start / {DayMillis}, r.user_id, 0, $to - r.end FROM runs r INDEXED BY runs_day
                WHERE {StartsIn("$tc", "$w1")} AND {Short} AND r.end > $to
                UNION ALL
                SELECT r.start / {DayMillis}, r.user_id, 0,
                       MAX(0, MIN({RunEnd}, $to) - r.start) - CASE WHEN r.end IS NULL THEN $now - r.start ELSE MAX(0, r.end - r.start) END
                FROM runs r INDEXED BY runs_long
                WHERE {Long} AND r.start >= $w0 AND r.start < $w1
                UNION ALL
                SELECT r.start / {DayMillis}, r.user_id, 1, MAX(0, MIN({RunEnd}, $to) - r.start) FROM runs r INDEXED BY runs_day
                WHERE {StartsIn("$from", "$w0")}
                UNION ALL
                SELECT r.start / {DayMillis}, r.user_id, 1, MAX(0, MIN({RunEnd}, $to) - r.start) FROM runs r INDEXED BY runs_day
                WHERE {StartsIn("$w1", "$to")})
            SELECT day, COUNT(DISTINCT NULLIF(user_id, 0)), SUM(runs), SUM(ms) FROM parts GROUP BY day HAVING SUM(runs) > 0
            """;
        var sessionSql = $"""
            SELECT s.start / {DayMillis} AS day, COUNT(*) FROM sessions s
            WHERE s.start >= $from AND s.start < $to AND ($user IS NULL OR s.user = $user)
              AND ($fleet IS NULL OR s.fleet = $fleet) AND ($stack IS NULL OR s.stack = $stack)
            GROUP BY s.start / {DayMillis}
            """;
        var (runDays, moreRunDays) = q.Take(runSql, r => (r.GetInt64(0), r.GetInt64(1), r.GetInt64(2), r.GetInt64(3)), MaxRows);
        foreach (var (day, users, runs, millis) in runDays)
        {
            days[day] = new DayUsageRow(Day(day * DayMillis), 0, users, runs, Seconds(millis));
        }

        var (sessionDays, moreSessionDays) = q.Take(sessionSql, r => (r.GetInt64(0), r.GetInt64(1)), MaxRows);
        foreach (var (day, sessions) in sessionDays)
        {
            days[day] = (days.TryGetValue(day, out var row) ? row : new DayUsageRow(Day(day * DayMillis), 0, 0, 0, 0)) with { Sessions = sessions };
        }

        if (moreRunDays || moreSessionDays || days.Count > MaxRows)
        {
            throw q.TooLarge(q.Count($"SELECT day FROM ({runSql}) UNION SELECT day FROM ({sessionSql})"));
        }

        return new("per-day", DayUsageRow.Columns, [.. days.Values]);
    }

    private const string RunEnd = "COALESCE(r.end, $now)";

    /// <summary>
    /// Runs that start at or after <paramref name="time"/> (now, or inactive's reference time): the aggregates count an open run's time as now − start, which is negative for them
    /// (the runs' time is never below 0), and inactive counts only runs before its reference time. Read with INDEXED BY
    /// runs_day: the planner would otherwise walk runs_app for its app order, i.e. every run.
    /// </summary>
    private static string StartsFrom(string time) => $"r.start / 86400000 >= {time} / 86400000 AND r.start >= {time}";

    /// <summary>Runs that start in [<paramref name="from"/>, <paramref name="to"/>), found on runs_day's day column.</summary>
    private static string StartsIn(string from, string to) =>
        $"r.start / 86400000 BETWEEN {from} / 86400000 AND ({to} - 1) / 86400000 AND r.start >= {from} AND r.start < {to}";

    /// <summary>The runs of the partial index runs_long (schema 11): open, or closed a day or more after their start.</summary>
    private const string Long = "(r.end IS NULL OR r.end - r.start >= 86400000)";

    /// <summary>The other runs: closed less than a day after their start, so they end before the next day's same time.</summary>
    private const string Short = "r.end IS NOT NULL AND r.end - r.start < 86400000";

    /// <summary>
    /// (app_id, user_id, <paramref name="columns"/>) of the whole months and the whole days around them in the window
    /// (<see cref="WholePeriods"/>): the sums of the runs that started in them.
    /// </summary>
    private static string WholeSums(string columns) =>
        $"""
        SELECT app_id, user_id, {columns} FROM user_app_month WHERE month >= $m0 AND month < $m1
            UNION ALL
            SELECT app_id, user_id, {columns} FROM user_app_day WHERE day >= $d0 AND day < $dm0
            UNION ALL
            SELECT app_id, user_id, {columns} FROM user_app_day WHERE day >= $dm1 AND day < $d1
        """;

    private static List<IReportRow> TopApps(Query q) => q.Rows<IReportRow>(
        q.Whole is not null
        ? $"""
        WITH parts(app_id, user_id, runs, ms) AS (
            {WholeSums("runs, closed_ms + (open_runs * $now) - open_start_sum")}
            UNION ALL
            -- Runs that started in the window's partial days.
            SELECT r.app_id, r.user_id, 1, MAX(0, MIN({RunEnd}, $to) - MAX(r.start, $from)) FROM runs r INDEXED BY runs_day
            WHERE {StartsIn("$from", "$w0")}
            UNION ALL
            SELECT r.app_id, r.user_id, 1, MAX(0, MIN({RunEnd}, $to) - MAX(r.start, $from)) FROM runs r INDEXED BY runs_day
            WHERE {StartsIn("$w1", "$to")}
            UNION ALL
            -- Runs from before the window still running at its start: a short one started in the day before it.
            SELECT r.app_id, r.user_id, 1, MIN(r.end, $to) - $from FROM runs r INDEXED BY runs_day
            WHERE {StartsIn("$fc", "$from")} AND {Short} AND r.end > $from
            UNION ALL
            SELECT r.app_id, r.user_id, 1, MIN({RunEnd}, $to) - $from FROM runs r INDEXED BY runs_long
            WHERE {Long} AND r.start < $from AND {RunEnd} > $from
            UNION ALL
            -- What the sums of the whole periods count that the window does not: the time of their runs past its end
            -- (a short run started in the day before the end; or one of runs_long), and an open run's time before its
            -- start when it starts after now (the sums count it as now - start, below 0).
            SELECT r.app_id, r.user_id, 0, $to - r.end FROM runs r INDEXED BY runs_day
            WHERE {StartsIn("$tc", "$w1")} AND {Short} AND r.end > $to
            UNION ALL
            SELECT r.app_id, r.user_id, 0, MAX(0, MIN({RunEnd}, $to) - r.start) - CASE WHEN r.end IS NULL THEN $now - r.start ELSE MAX(0, r.end - r.start) END
            FROM runs r INDEXED BY runs_long
            WHERE {Long} AND r.start >= $w0 AND r.start < $w1)
        SELECT a.path, g.runs, g.users, g.ms
        FROM (SELECT app_id, SUM(runs) AS runs, COUNT(DISTINCT NULLIF(user_id, 0)) AS users, SUM(ms) AS ms FROM parts GROUP BY app_id) g
        JOIN apps a ON a.id = g.app_id
        ORDER BY g.ms DESC, a.path
        """
        : q.Aggregated
        ? $"""
        WITH future AS (
            SELECT r.app_id, SUM(r.start - $now) AS ms FROM runs r INDEXED BY runs_day
            WHERE {StartsFrom("$now")} AND r.end IS NULL AND {q.RunFilter} GROUP BY r.app_id)
        SELECT a.path, g.runs, g.users, g.ms + COALESCE(f.ms, 0) AS ms
        FROM ({q.AppSums}) g
        JOIN apps a ON a.id = g.app_id LEFT JOIN future f ON f.app_id = g.app_id
        ORDER BY ms DESC, a.path
        """
        : $"""
        SELECT a.path, g.runs, g.users, g.ms
        FROM (SELECT r.app_id, COUNT(*) AS runs, COUNT(DISTINCT r.user_id) AS users,
                     SUM(MAX(0, MIN({RunEnd}, $to) - MAX(r.start, $from))) AS ms
              FROM runs r WHERE {q.RunFilter} GROUP BY r.app_id) g
        JOIN apps a ON a.id = g.app_id
        ORDER BY g.ms DESC, a.path
        """,
        r => new TopAppRow(r.GetString(0), r.GetInt64(1), r.GetInt64(2), Seconds(r.GetInt64(3))));

    private static List<IReportRow> Launches(Query q) => q.Rows<IReportRow>(
        q.Whole is not null
        ? $"""
        WITH parts(app_id, user_id, runs) AS (
            {WholeSums("runs")}
            UNION ALL
            SELECT r.app_id, r.user_id, 1 FROM runs r INDEXED BY runs_day WHERE {StartsIn("$from", "$w0")}
            UNION ALL
            SELECT r.app_id, r.user_id, 1 FROM runs r INDEXED BY runs_day WHERE {StartsIn("$w1", "$to")})
        SELECT a.path, g.runs, g.users
        FROM (SELECT app_id, SUM(runs) AS runs, COUNT(DISTINCT NULLIF(user_id, 0)) AS users FROM parts GROUP BY app_id) g
        JOIN apps a ON a.id = g.app_id
        ORDER BY g.runs DESC, a.path
        """
        : q.Aggregated
        ? $"""
        SELECT a.path, g.runs, g.users
        FROM ({q.AppSums}) g
        JOIN apps a ON a.id = g.app_id
        ORDER BY g.runs DESC, a.path
        """
        : $"""
        SELECT a.path, g.launches, g.users
        FROM (SELECT r.app_id, COUNT(*) AS launches, COUNT(DISTINCT r.user_id) AS users
              FROM runs r WHERE {q.LaunchFilter} GROUP BY r.app_id) g
        JOIN apps a ON a.id = g.app_id
        ORDER BY g.launches DESC, a.path
        """,
        r => new LaunchRow(r.GetString(0), r.GetInt64(1), r.GetInt64(2)));

    /// <summary>Every run in the window; one row per run, so the runs are counted first (an index scan) and too many are refused before any sort.</summary>
    private static List<IReportRow> Runs(Query q)
    {
        q.Within($"SELECT COUNT(*) FROM runs r WHERE {q.RunFilter}");
        return q.Rows<IReportRow>(
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
    }

    private static List<IReportRow> LastUsed(Query q) => q.Aggregated
        ? PairRows(
            q,
            $"SELECT ua.app_id, ua.user_id, ua.last_start, ua.runs FROM user_app ua WHERE {q.PairFilter}",
            (p, user, app) => new LastUsedRow(user, app, Time(p.Start), p.Runs))
        : q.Rows<IReportRow>(
        $"""
        SELECT u.name, a.path, g.last, g.runs
        FROM (SELECT r.user_id, r.app_id, MAX(r.start) AS last, COUNT(*) AS runs
              FROM runs r WHERE {q.RunFilter} GROUP BY r.app_id, r.user_id) g
        JOIN apps a ON a.id = g.app_id LEFT JOIN users u ON u.id = g.user_id
        ORDER BY g.last, u.name, a.path
        """,
        r => new LastUsedRow(NullableString(r, 0), r.GetString(1), Time(r.GetInt64(2)), r.GetInt64(3)));

    /// <summary>A (user, app) pair of the aggregates: <see cref="Key"/> orders the rows (then the user's name, then the app's path).</summary>
    private readonly record struct Pair(long App, long User, long Key, long Start, long Runs);

    /// <summary>
    /// The rows of <paramref name="sql"/> — (app_id, user_id, key, runs[, start]: the key when absent) per pair — ordered as SQL's
    /// <c>ORDER BY key, u.name, a.path</c> would (names compared as SQLite compares TEXT: UTF-8 bytes, no user first), made by
    /// <paramref name="row"/>. The names are looked up in .NET: SQLite joined and sorted a million pairs 3 times slower.
    /// The rows are pairs, never runs, so they are counted once read; past the cap the report throws.
    /// </summary>
    private static List<IReportRow> PairRows(Query q, string sql, Func<Pair, string?, string, IReportRow> row, params (string Name, object Value)[] parameters)
    {
        var pairs = new List<Pair>();
        using (var cmd = q.Command(sql, parameters))
        using (var reader = cmd.ExecuteReader())
        {
            var withStart = reader.FieldCount == 5;
            while (reader.Read())
            {
                var key = reader.GetInt64(2);
                pairs.Add(new Pair(reader.GetInt64(0), reader.GetInt64(1), key, withStart ? reader.GetInt64(4) : key, reader.GetInt64(3)));
            }
        }

        var apps = Names(q, "apps", "path", pairs.Select(p => p.App));
        var users = Names(q, "users", "name", pairs.Select(p => p.User));

        if (pairs.Count > q.MaxRows)
        {
            throw q.TooLarge(pairs.Count);
        }

        pairs.Sort((x, y) =>
        {
            if (x.Key != y.Key)
            {
                return x.Key.CompareTo(y.Key);
            }

            var byUser = Bytes(users, x.User).AsSpan().SequenceCompareTo(Bytes(users, y.User));
            return byUser != 0 ? byUser : Bytes(apps, x.App).AsSpan().SequenceCompareTo(Bytes(apps, y.App));
        });
        var result = new List<IReportRow>(pairs.Count);
        foreach (var p in pairs)
        {
            result.Add(row(p, users.TryGetValue(p.User, out var user) ? user.Text : null, apps[p.App].Text));
        }

        return result;

        // No user (id 0) sorts first, as NULL does in SQL; an empty array does too, and no name is empty.
        static byte[] Bytes(Dictionary<long, (string Text, byte[] Utf8)> names, long id) => names.TryGetValue(id, out var n) ? n.Utf8 : [];
    }

    /// <summary>The names of <paramref name="ids"/> in <paramref name="table"/> (apps or users), as text and UTF-8.</summary>
    private static Dictionary<long, (string Text, byte[] Utf8)> Names(Query q, string table, string column, IEnumerable<long> ids)
    {
        var names = new Dictionary<long, (string, byte[])>();
        using var cmd = q.Command(
            $"SELECT id, {column} FROM {table} WHERE id IN (SELECT value FROM json_each($ids))",
            ("$ids", System.Text.Json.JsonSerializer.Serialize(ids.Distinct())));
        using var reader = cmd.ExecuteReader();
        while (reader.Read())
        {
            var text = reader.GetString(1);
            names[reader.GetInt64(0)] = (text, System.Text.Encoding.UTF8.GetBytes(text));
        }

        return names;
    }

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
        if (q.Aggregated)
        {
            return PairRows(
                q,
                $"""
                -- A pair with a run from $ref on is never in the first part (that run is open, or ended after $ref > $cutoff:
                -- runs end at or after their start), so the second part answers it from its runs before $ref alone.
                WITH future AS (
                    SELECT DISTINCT r.app_id, COALESCE(r.user_id, 0) AS user_id FROM runs r INDEXED BY runs_day
                    WHERE {StartsFrom("$ref")} AND {q.RunFilter})
                SELECT ua.app_id, ua.user_id, ua.last_end, ua.runs, ua.last_start FROM user_app ua
                WHERE {q.PairFilter} AND ua.open_runs = 0 AND ua.last_end <= $cutoff
                UNION ALL
                SELECT f.app_id, f.user_id, MAX({RunEnd}), COUNT(*), MAX(r.start)
                FROM future f JOIN runs r ON r.app_id = f.app_id AND r.user_id IS NULLIF(f.user_id, 0) AND r.start < $ref
                GROUP BY f.app_id, f.user_id HAVING MAX({RunEnd}) <= $cutoff
                """,
                (p, user, app) => new InactiveRow(user, app, Time(p.Start), Time(p.Key), p.Runs, (reference - p.Key) / DayMillis),
                ("$cutoff", cutoff));
        }

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

    private static List<IReportRow> Sessions(Query q) => q.Rows<IReportRow>(
        q.SessionSums
        ? """
        SELECT s.id, s.user, s.host, s.start, s.end, COALESCE(sr.runs, 0) AS runs, COALESCE(s.start, sr.first_start, s.end) AS first
        FROM sessions s LEFT JOIN session_runs sr ON sr.session = s.id
        WHERE ($user IS NULL OR s.user = $user) AND ($fleet IS NULL OR s.fleet = $fleet) AND ($stack IS NULL OR s.stack = $stack)
          AND COALESCE(s.start, sr.first_start, s.end, 0) < $to
          AND (COALESCE(s.end, $now) > $from OR COALESCE(s.start, s.end, 0) >= $from)
        ORDER BY first, s.id
        """
        : """
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
    /// Per app and UTC day: the most runs, and the most distinct users, running at the same moment, handed to
    /// <paramref name="peaks"/> (which makes the rows). Runs are clipped to the window; at one instant, ends count before
    /// starts (a run ending at 10:00 and one starting at 10:00 never overlap). Memory: two events per run of the app
    /// with the most runs in the window, whatever the runs' length.
    /// </summary>
    private static List<IReportRow> Concurrency(Query q, Peaks peaks)
    {
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
        var keys = new List<long>();
        var users = new List<long>();
        long first = long.MaxValue, last = long.MinValue;
        while (reader.Read())
        {
            var appId = reader.GetInt64(0);
            if (app is { } current && appId != current)
            {
                Sweep(paths[current], keys, users, peaks);
                keys.Clear();
                users.Clear();
            }

            app = appId;
            var user = reader.IsDBNull(1) ? -1 : reader.GetInt64(1);
            var start = reader.GetInt64(2);
            var end = Math.Max(reader.GetInt64(3), start + 1);
            (first, last) = (Math.Min(first, start), Math.Max(last, end));

            // One key per event, time × 2 plus 1 for a start: sorted, ends come before starts at one instant.
            keys.Add((start * 2) + 1);
            users.Add(user);
            keys.Add(end * 2);
            users.Add(user);
        }

        if (app is { } final)
        {
            Sweep(paths[final], keys, users, peaks);
        }

        return peaks.Finish(() => $"the runs in it span {Time(first)} to {Time(last)}");
    }

    /// <summary>
    /// The daily peaks of one app's events (see <see cref="Concurrency"/>). An event belongs to the UTC day of its
    /// instant — an end to the day of the instant before it, so that a run ending at midnight is not running on the
    /// next day. A day's peaks start from what is still running when it begins; the days between two events on which
    /// something runs all have that state as their peaks, handed on as one span (never one by one).
    /// </summary>
    private static void Sweep(string app, List<long> keyList, List<long> userList, Peaks peaks)
    {
        var keys = CollectionsMarshal.AsSpan(keyList);
        keys.Sort(CollectionsMarshal.AsSpan(userList));
        var users = CollectionsMarshal.AsSpan(userList);
        var perUser = new Dictionary<long, int>();
        long? day = null;
        long running = 0, active = 0, peakRuns = 0, peakUsers = 0;
        for (var i = 0; i < keys.Length; i++)
        {
            var start = (keys[i] & 1) == 1;
            var time = keys[i] >> 1;
            var eventDay = DayIndex(start ? time : time - 1);
            if (day != eventDay)
            {
                if (day is { } done)
                {
                    peaks.Add(app, done, 1, peakUsers, peakRuns);
                    if (running > 0 && eventDay - done > 1)
                    {
                        peaks.Add(app, done + 1, eventDay - done - 1, active, running);
                    }
                }

                (day, peakRuns, peakUsers) = (eventDay, running, active);
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

        if (day is { } lastDay)
        {
            peaks.Add(app, lastDay, 1, peakUsers, peakRuns);
        }
    }

    /// <summary>
    /// Receives the daily peaks of the sweep: for each app (apps one after another), spans of consecutive UTC days
    /// in day order, each day of a span with the same peaks. <see cref="Finish"/> gives the rows.
    /// </summary>
    private abstract class Peaks
    {
        /// <summary><paramref name="days"/> UTC days from day number <paramref name="day"/> (days since 1970-01-01) each had these peaks.</summary>
        public abstract void Add(string app, long day, long days, long peakUsers, long peakRuns);

        /// <summary>The rows; throws <see cref="ReportTooLargeException"/> when past the cap (<paramref name="span"/> says where the runs lie).</summary>
        public abstract List<IReportRow> Finish(Func<string> span);
    }

    /// <summary>
    /// Rows of a capped report made one at a time: every row is counted, but rows are kept only while the count is
    /// within the cap, so that past it the error can say how many rows there would have been. The rows come out
    /// sorted by app, then period (<paramref name="key"/>).
    /// </summary>
    private abstract class CappedPeaks(string report, int maxRows, string? instead, Func<IReportRow, (string App, string Period)> key) : Peaks
    {
        private readonly List<IReportRow> rows = [];
        private long total;

        protected void Emit(long count, Func<long, IReportRow> row)
        {
            total += count;
            if (total > maxRows)
            {
                rows.Clear();
                return;
            }

            for (var i = 0L; i < count; i++)
            {
                rows.Add(row(i));
            }
        }

        protected abstract void Flush();

        public sealed override List<IReportRow> Finish(Func<string> span)
        {
            Flush();
            if (total > maxRows)
            {
                throw new ReportTooLargeException(report, total, maxRows, instead + span());
            }

            rows.Sort((a, b) =>
            {
                var (x, y) = (key(a), key(b));
                var byApp = string.CompareOrdinal(x.App, y.App);
                return byApp != 0 ? byApp : string.CompareOrdinal(x.Period, y.Period);
            });
            return rows;
        }
    }

    /// <summary>One <see cref="ConcurrencyRow"/> per app and day, sorted by app, then day.</summary>
    private sealed class DayPeaks(string report, int maxRows)
        : CappedPeaks(report, maxRows, "or ask by=month (--by month); ", row => (((ConcurrencyRow)row).App, ((ConcurrencyRow)row).Day))
    {
        public override void Add(string app, long day, long days, long peakUsers, long peakRuns) =>
            Emit(days, i => new ConcurrencyRow(app, Day((day + i) * DayMillis), peakUsers, peakRuns));

        protected override void Flush()
        {
        }
    }

    /// <summary>
    /// One <see cref="ConcurrencyMonthRow"/> per app and UTC month: the highest daily peaks of the month (a moment
    /// belongs to exactly one day). Whole months inside a span are counted, not walked day by day.
    /// </summary>
    private sealed class MonthPeaks(string report, int maxRows)
        : CappedPeaks(report, maxRows, null, row => (((ConcurrencyMonthRow)row).App, ((ConcurrencyMonthRow)row).Month))
    {
        private (string App, long Month, long Users, long Runs)? open;

        public override void Add(string app, long day, long days, long peakUsers, long peakRuns)
        {
            var (first, last) = (Month(day), Month(day + days - 1));
            Fold(app, first, peakUsers, peakRuns);
            if (last > first)
            {
                Flush();
                Emit(last - first - 1, i => new ConcurrencyMonthRow(app, MonthText(first + 1 + i), peakUsers, peakRuns));
                open = (app, last, peakUsers, peakRuns);
            }
        }

        private void Fold(string app, long month, long users, long runs)
        {
            if (open is { } o && o.App == app && o.Month == month)
            {
                open = (app, month, Math.Max(o.Users, users), Math.Max(o.Runs, runs));
                return;
            }

            Flush();
            open = (app, month, users, runs);
        }

        protected override void Flush()
        {
            if (open is { } o)
            {
                open = null;
                Emit(1, _ => new ConcurrencyMonthRow(o.App, MonthText(o.Month), o.Users, o.Runs));
            }
        }

        /// <summary>Months since year 0: year × 12 + month − 1.</summary>
        private static long Month(long day)
        {
            var date = DateTime.UnixEpoch.AddDays(day);
            return (date.Year * 12L) + date.Month - 1;
        }

        private static string MonthText(long month) => string.Create(CultureInfo.InvariantCulture, $"{month / 12:D4}-{(month % 12) + 1:D2}");
    }

    /// <summary>Per app: the highest peakUsers and the first day it was reached, and the highest peakRuns (the dashboard's peakConcurrency).</summary>
    private sealed class AppPeaks : Peaks
    {
        private readonly Dictionary<string, (long Users, long Day, long Runs)> best = new(StringComparer.Ordinal);

        public IEnumerable<PeakRow> Rows => best.Select(b => new PeakRow(b.Key, b.Value.Users, Day(b.Value.Day * DayMillis), b.Value.Runs));

        public override void Add(string app, long day, long days, long peakUsers, long peakRuns)
        {
            if (!best.TryGetValue(app, out var b))
            {
                best[app] = (peakUsers, day, peakRuns);
                return;
            }

            // Spans come in day order: a later day only wins with a higher peak.
            best[app] = (Math.Max(b.Users, peakUsers), peakUsers > b.Users ? day : b.Day, Math.Max(b.Runs, peakRuns));
        }

        public override List<IReportRow> Finish(Func<string> span) => [];
    }

    private static string Day(long millis) => DateTimeOffset.FromUnixTimeMilliseconds(millis).UtcDateTime.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    /// <summary>The UTC day of an instant, as days since 1970-01-01 (rounded down, also before 1970).</summary>
    private static long DayIndex(long millis) => (millis / DayMillis) - (millis % DayMillis < 0 ? 1 : 0);

    private static double Seconds(long millis) => millis / 1000.0;

    private static string Time(long millis) => NdjsonWriter.FormatTime(DateTimeOffset.FromUnixTimeMilliseconds(millis));

    private static string? NullableString(SqliteDataReader r, int i) => r.IsDBNull(i) ? null : r.GetString(i);

    /// <summary>
    /// A read connection with the filter bound as $from, $to, $user, $now, for report <paramref name="report"/>: its
    /// <see cref="Rows"/> answer at most <paramref name="maxRows"/> rows (else <see cref="ReportTooLargeException"/>),
    /// or exactly the first <paramref name="first"/> rows when that is given.
    /// </summary>
    private sealed class Query(SqliteConnection connection, ReportFilter filter, long now, string report, int maxRows, int? first)
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

        /// <summary>True when the report reads the per (app, user) aggregates (table user_app, alias ua) instead of the runs.</summary>
        public bool Aggregated { get; init; }

        /// <summary>True when <c>sessions</c> reads each session's runs and first start from session_runs (schema 12).</summary>
        public bool SessionSums { get; init; }

        /// <summary>The window's whole months and days, when top-apps and launches read their sums (bound as $m0, $d0, …).</summary>
        public WholePeriods? Whole { get; init; }

        /// <summary>The WHERE clause for the aggregates' pairs: the user filter (Aggregated means there is no other).</summary>
        public string PairFilter => filter.User is null ? "1" : "ua.user_id = (SELECT id FROM users WHERE name = $user)";

        /// <summary>
        /// Per app (app_id): runs, users and ms — the closed runs' time plus the open runs' time up to now (runs from now on
        /// counted below 0: the caller adds them back). From app_total, or for one user from that user's pairs.
        /// </summary>
        public string AppSums => filter.User is null
            ? "SELECT t.app_id, t.runs, t.users, t.closed_ms + (t.open_runs * $now) - t.open_start_sum AS ms FROM app_total t"
            : $"""
              SELECT ua.app_id, ua.runs, 1 AS users, ua.closed_ms + (ua.open_runs * $now) - ua.open_start_sum AS ms
              FROM user_app ua WHERE {PairFilter}
              """;

        public int MaxRows => maxRows;

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

        public SqliteCommand Command(string sql, params (string Name, object Value)[] parameters)
        {
            var cmd = connection.CreateCommand();
            cmd.CommandText = sql;
            foreach (var (parameterName, value) in parameters)
            {
                cmd.Parameters.AddWithValue(parameterName, value);
            }

            cmd.Parameters.AddWithValue("$from", filter.From is { } f ? f.ToUnixTimeMilliseconds() : long.MinValue);
            cmd.Parameters.AddWithValue("$to", filter.To is { } t ? t.ToUnixTimeMilliseconds() : long.MaxValue);
            cmd.Parameters.AddWithValue("$user", (object?)filter.User ?? DBNull.Value);
            cmd.Parameters.AddWithValue("$fleet", (object?)filter.Fleet ?? DBNull.Value);
            cmd.Parameters.AddWithValue("$stack", (object?)filter.Stack ?? DBNull.Value);
            cmd.Parameters.AddWithValue("$now", now);
            cmd.Parameters.AddWithValue("$ref", Reference);
            if (Whole is { } w)
            {
                foreach (var (name, value) in w.Parameters)
                {
                    cmd.Parameters.AddWithValue(name, value);
                }
            }

            return cmd;
        }

        /// <summary>
        /// The rows of <paramref name="sql"/>: the first <c>first</c> rows (SQL LIMIT: SQLite keeps only those while it sorts),
        /// else all of them up to the cap — past it, the error with their count.
        /// </summary>
        public List<T> Rows<T>(string sql, Func<SqliteDataReader, T> map, params (string Name, object Value)[] parameters)
        {
            if (first is { } n)
            {
                return Take(sql + $"\nLIMIT {n}", map, n, parameters).Rows;
            }

            var (rows, more) = Take(sql, map, maxRows, parameters);
            return more ? throw TooLarge(Count(sql, parameters)) : rows;
        }

        /// <summary>
        /// At most <paramref name="limit"/> rows of <paramref name="sql"/>, and whether it had more: reading stops at the
        /// first row past the limit. (No SQL LIMIT: with one, SQLite sorts into a B-tree instead of its external sorter,
        /// which made a capped report over a million runs 2–3 times slower.)
        /// </summary>
        public (List<T> Rows, bool More) Take<T>(string sql, Func<SqliteDataReader, T> map, long limit, params (string Name, object Value)[] parameters)
        {
            using var cmd = Command(sql, parameters);
            using var reader = cmd.ExecuteReader();
            var rows = new List<T>();
            while (reader.Read())
            {
                if (rows.Count == limit)
                {
                    return (rows, true);
                }

                rows.Add(map(reader));
            }

            return (rows, false);
        }

        /// <summary>
        /// Throws the cap's error at once when <paramref name="countSql"/> (a cheap <c>SELECT COUNT(*)</c> of the rows a report
        /// will answer) is past the cap: the report then neither sorts nor reads them.
        /// </summary>
        public void Within(string countSql)
        {
            using var cmd = Command(countSql);
            var rows = Convert.ToInt64(cmd.ExecuteScalar(), CultureInfo.InvariantCulture);
            if (first is null && rows > maxRows)
            {
                throw TooLarge(rows);
            }
        }

        /// <summary>How many rows <paramref name="sql"/> has (SQLite counts them; nothing is kept).</summary>
        public long Count(string sql, params (string Name, object Value)[] parameters)
        {
            using var cmd = Command($"SELECT COUNT(*) FROM ({sql})", parameters);
            return Convert.ToInt64(cmd.ExecuteScalar(), CultureInfo.InvariantCulture);
        }

        /// <summary>The error for this report answering <paramref name="rows"/> rows, past the cap.</summary>
        public ReportTooLargeException TooLarge(long rows) => new(report, rows, maxRows);
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
