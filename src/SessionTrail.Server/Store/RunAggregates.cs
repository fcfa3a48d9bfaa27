using System.Globalization;
using System.Text.Json;
using Microsoft.Data.Sqlite;

namespace SessionTrail.Server.Store;

/// <summary>
/// The per (user, app) aggregate of the runs (table <c>user_app</c>, schema migration 9), kept by ingest in the same
/// transaction as the runs: every run ingest inserts is handed over, every run it changes as it was before and as it is
/// after, and <see cref="Flush"/> adds the batch's net change in one upsert.
///
/// Invariant after every batch, for each (app, user) — user 0 standing for runs without a user — with runs:
/// <c>runs</c> = its runs (open ones too), <c>last_start</c> = their latest start, <c>closed_ms</c> = Σ MAX(0, end − start)
/// over its closed runs, <c>last_end</c> = their latest end (NULL when none is closed), <c>open_runs</c> and
/// <c>open_start_sum</c> = how many of its runs are open and the sum of their starts; and no row for a pair without runs.
/// The sums are additive, so a change is a subtraction and an addition. The two maxima are not: when a run leaves its
/// pair (its user filled in) or its end moves earlier, and what it had equals the pair's maximum, that maximum is read
/// again from the runs (index runs_app: the latest start is one seek, the latest end reads the pair's runs). A run's
/// start and app never change, and runs are never deleted.
/// RunAggregateTests checks the invariant against the runs after random fleets in random orders and batchings.
///
/// Why per pair: every report over all of history (the default) is then a read of pairs, not of runs — top-apps,
/// launches and last-used are sums and maxima of the pairs, inactive reads the pairs' latest ends. An open run's
/// time is now − start, computed at read time from the count and the sum of starts.
/// </summary>
internal sealed class RunAggregates
{
    private readonly Dictionary<(long App, long User), Change> changes = [];
    private readonly Dictionary<long, Run> before = [];
    private readonly Dictionary<string, (long Runs, long FirstStart)> sessions = new(StringComparer.Ordinal);
    private readonly SqliteCommand applySessions;
    private readonly SqliteCommand apply;
    private readonly SqliteCommand refreshMaxima;
    private readonly SqliteCommand applyApps;
    private readonly PeriodSums days;
    private readonly PeriodSums months;
    private readonly PeriodSums userDays;

    public RunAggregates(Func<string, string[], SqliteCommand> cmd)
    {
        // [app, user, runs, last_start, closed_ms, last_end, open_runs, open_start_sum]: the net change of each pair.
        apply = cmd(
            """
            INSERT INTO user_app(app_id, user_id, runs, last_start, closed_ms, last_end, open_runs, open_start_sum)
            SELECT value->>0, value->>1, value->>2, value->>3, value->>4, value->>5, value->>6, value->>7 FROM json_each($pairs) WHERE true
            ON CONFLICT(app_id, user_id) DO UPDATE SET
                runs = runs + excluded.runs,
                last_start = MAX(last_start, excluded.last_start),
                closed_ms = closed_ms + excluded.closed_ms,
                last_end = COALESCE(MAX(last_end, excluded.last_end), last_end, excluded.last_end),
                open_runs = open_runs + excluded.open_runs,
                open_start_sum = open_start_sum + excluded.open_start_sum
            RETURNING app_id, user_id, runs
            """,
            ["$pairs"]);

        // [app, runs, closed_ms, open_runs, open_start_sum, users]: the net change of each app.
        applyApps = cmd(
            """
            INSERT INTO app_total(app_id, runs, closed_ms, open_runs, open_start_sum, users)
            SELECT value->>0, value->>1, value->>2, value->>3, value->>4, value->>5 FROM json_each($apps) WHERE true
            ON CONFLICT(app_id) DO UPDATE SET
                runs = runs + excluded.runs,
                closed_ms = closed_ms + excluded.closed_ms,
                open_runs = open_runs + excluded.open_runs,
                open_start_sum = open_start_sum + excluded.open_start_sum,
                users = users + excluded.users
            """,
            ["$apps"]);

        // [session, runs, first start]: the batch's new runs per session.
        applySessions = cmd(
            """
            INSERT INTO session_runs(session, runs, first_start)
            SELECT value->>0, value->>1, value->>2 FROM json_each($sessions) WHERE true
            ON CONFLICT(session) DO UPDATE SET runs = runs + excluded.runs, first_start = MIN(first_start, excluded.first_start)
            """,
            ["$sessions"]);
        days = new PeriodSums("user_app_day", "day", perApp: true, cmd);
        months = new PeriodSums("user_app_month", "month", perApp: true, cmd);
        userDays = new PeriodSums("user_day", "day", perApp: false, cmd);

        // [app, user, lost start, lost end]: pairs that lost a run (its user filled in) or a run's end (it moved earlier). A
        // maximum is read again from the runs only when what was lost equals it (runs_app: the latest start is one seek, the
        // latest end reads the pair's runs); pairs left without runs are deleted.
        refreshMaxima = cmd(
            """
            UPDATE user_app SET
                last_start = CASE WHEN c.start >= user_app.last_start
                    THEN (SELECT MAX(r.start) FROM runs r WHERE r.app_id = user_app.app_id AND r.user_id IS NULLIF(user_app.user_id, 0))
                    ELSE last_start END,
                last_end = CASE WHEN c.end >= user_app.last_end
                    THEN (SELECT MAX(r.end) FROM runs r WHERE r.app_id = user_app.app_id AND r.user_id IS NULLIF(user_app.user_id, 0))
                    ELSE last_end END
            FROM (SELECT value->>0 AS app, value->>1 AS user, value->>2 AS start, value->>3 AS end FROM json_each($pairs)) c
            WHERE user_app.app_id = c.app AND user_app.user_id = c.user AND user_app.runs > 0;
            DELETE FROM user_app WHERE (app_id, user_id) IN (SELECT value->>0, value->>1 FROM json_each($pairs)) AND runs = 0
            RETURNING app_id, user_id;
            """,
            ["$pairs"]);
    }

    /// <summary>Forgets the changes of a batch that rolled back.</summary>
    public void Clear()
    {
        changes.Clear();
        before.Clear();
        sessions.Clear();
        days.Clear();
        months.Clear();
        userDays.Clear();
    }

    /// <summary>
    /// Adds each run <paramref name="runs"/> reads — (start_seq, app_id, user_id, start, end, session) — as a new run, and
    /// counts it in its session's row of <c>session_runs</c>.
    /// </summary>
    public void Added(SqliteCommand runs)
    {
        using var reader = runs.ExecuteReader();
        while (reader.Read())
        {
            var run = Run.Read(reader);
            Add(run, +1);
            if (!reader.IsDBNull(5))
            {
                ref var s = ref System.Runtime.InteropServices.CollectionsMarshal.GetValueRefOrAddDefault(sessions, reader.GetString(5), out var known);
                s = known ? (s.Runs + 1, Math.Min(s.FirstStart, run.Start)) : (1, run.Start);
            }
        }
    }

    /// <summary>Keeps the runs <paramref name="runs"/> reads, as they are before a statement changes them (<see cref="Changed"/>).</summary>
    public void Before(SqliteCommand runs)
    {
        before.Clear();
        using var reader = runs.ExecuteReader();
        while (reader.Read())
        {
            var run = Run.Read(reader);
            before[run.Seq] = run;
        }
    }

    /// <summary>The runs <paramref name="runs"/> reads (RETURNING of an UPDATE) as they are after it; <see cref="Before"/> had them before.</summary>
    public void Changed(SqliteCommand runs)
    {
        using var reader = runs.ExecuteReader();
        while (reader.Read())
        {
            var run = Run.Read(reader);
            if (before.Remove(run.Seq, out var old))
            {
                Changed(old, run);
            }
            else
            {
                Add(run, +1);
            }
        }

        before.Clear();
    }

    /// <summary>Run <paramref name="old"/> became <paramref name="run"/> (another end, or a user where it had none).</summary>
    public void Changed(Run old, Run run)
    {
        Add(old, -1);
        Add(run, +1);
        var left = (old.App, old.User) != (run.App, run.User);
        if (left || (old.End is { } e && (run.End is null || run.End < e)))
        {
            // The pair may have lost its latest end (and, when the run left it, its latest start): Flush reads the pair's
            // runs again when what it lost equals what it holds.
            var c = changes[(old.App, old.User)];
            c.LostEnd = Math.Max(c.LostEnd ?? long.MinValue, old.End ?? long.MinValue);
            if (left)
            {
                c.LostStart = Math.Max(c.LostStart ?? long.MinValue, old.Start);
            }
        }
    }

    private void Add(Run run, int sign)
    {
        var day = DayOf(run.Start);
        days.Add(day, run, sign);
        months.Add(MonthOfDay(day), run, sign);
        userDays.Add(day, run with { App = 0 }, sign);
        ref var c = ref System.Runtime.InteropServices.CollectionsMarshal.GetValueRefOrAddDefault(changes, (run.App, run.User), out _);
        c ??= new Change();
        c.Runs += sign;
        if (run.End is { } e)
        {
            c.ClosedMs += sign * Math.Max(0, e - run.Start);
        }
        else
        {
            c.OpenRuns += sign;
            c.OpenStartSum += sign * run.Start;
        }

        if (sign > 0)
        {
            c.LastStart = Math.Max(c.LastStart ?? long.MinValue, run.Start);
            if (run.End is { } added)
            {
                c.LastEnd = Math.Max(c.LastEnd ?? long.MinValue, added);
            }
        }
    }

    /// <summary>Writes the batch's change: one upsert, then the maxima of the pairs that lost a run.</summary>
    public void Flush()
    {
        if (changes.Count == 0)
        {
            return;
        }

        days.Flush();
        months.Flush();
        userDays.Flush();
        if (sessions.Count > 0)
        {
            applySessions.Parameters[0].Value = JsonSerializer.Serialize(sessions.OrderBy(s => s.Key, StringComparer.Ordinal).Select(s => new object[] { s.Key, s.Value.Runs, s.Value.FirstStart }));
            applySessions.ExecuteNonQuery();
            sessions.Clear();
        }

        var refresh = new List<(long App, long User, long? Start, long? End)>();
        var json = new System.Buffers.ArrayBufferWriter<byte>(changes.Count * 48);
        using (var writer = new Utf8JsonWriter(json))
        {
            writer.WriteStartArray();
            foreach (var ((app, user), c) in changes.OrderBy(c => c.Key)) // in key order: the upsert walks user_app forwards
            {
                if (c.LostStart is not null || c.LostEnd is not null)
                {
                    refresh.Add((app, user, c.LostStart, c.LostEnd));
                }

                writer.WriteStartArray();
                writer.WriteNumberValue(app);
                writer.WriteNumberValue(user);
                writer.WriteNumberValue(c.Runs);
                writer.WriteNumberValue(c.LastStart ?? long.MinValue); // MAX leaves last_start as it is
                writer.WriteNumberValue(c.ClosedMs);
                Nullable(writer, c.LastEnd);
                writer.WriteNumberValue(c.OpenRuns);
                writer.WriteNumberValue(c.OpenStartSum);
                writer.WriteEndArray();
            }

            writer.WriteEndArray();
        }

        // Per app: the sums of its pairs' changes, and its users: + each pair the upsert made (its runs are the change's:
        // there was no row, as a pair without runs has none), − each pair the refresh deletes. User 0 is no user.
        var apps = new Dictionary<long, Change>();
        foreach (var ((app, _), c) in changes)
        {
            ref var a = ref System.Runtime.InteropServices.CollectionsMarshal.GetValueRefOrAddDefault(apps, app, out _);
            a ??= new Change();
            (a.Runs, a.ClosedMs, a.OpenRuns, a.OpenStartSum) = (a.Runs + c.Runs, a.ClosedMs + c.ClosedMs, a.OpenRuns + c.OpenRuns, a.OpenStartSum + c.OpenStartSum);
        }

        apply.Parameters[0].Value = System.Text.Encoding.UTF8.GetString(json.WrittenSpan);
        using (var upserted = apply.ExecuteReader())
        {
            while (upserted.Read())
            {
                var (app, user, runs) = (upserted.GetInt64(0), upserted.GetInt64(1), upserted.GetInt64(2));
                if (user != 0 && runs == changes[(app, user)].Runs)
                {
                    apps[app].Users++;
                }
            }
        }

        changes.Clear();
        if (refresh.Count > 0)
        {
            refreshMaxima.Parameters[0].Value = JsonSerializer.Serialize(refresh.Select(p => new[] { p.App, p.User, p.Start, p.End }));
            using var deleted = refreshMaxima.ExecuteReader();
            do
            {
                while (deleted.Read())
                {
                    if (deleted.GetInt64(1) != 0)
                    {
                        apps[deleted.GetInt64(0)].Users--;
                    }
                }
            }
            while (deleted.NextResult());
        }

        applyApps.Parameters[0].Value = JsonSerializer.Serialize(apps.Select(a => new[] { a.Key, a.Value.Runs, a.Value.ClosedMs, a.Value.OpenRuns, a.Value.OpenStartSum, a.Value.Users }));
        applyApps.ExecuteNonQuery();
    }

    private static void Nullable(Utf8JsonWriter writer, long? value)
    {
        if (value is { } v)
        {
            writer.WriteNumberValue(v);
        }
        else
        {
            writer.WriteNullValue();
        }
    }

    /// <summary>
    /// Fills <c>user_app</c> from the runs of a store that has runs but no aggregates yet (schema migration 9 leaves a
    /// row in <c>aggregates_pending</c>): a few apps per transaction, so that a large store shows progress and an
    /// interrupted back-fill goes on where it stopped. Reports read the runs until it has finished.
    /// </summary>
    public static void BackFill(SqliteConnection connection, Action<string>? progress)
    {
        long? Scalar(string sql, SqliteTransaction? tx = null)
        {
            using var cmd = connection.CreateCommand();
            cmd.Transaction = tx;
            cmd.CommandText = sql;
            var value = cmd.ExecuteScalar();
            return value is null or DBNull ? null : Convert.ToInt64(value, CultureInfo.InvariantCulture);
        }

        if (Scalar("SELECT next_app_id FROM aggregates_pending") is not { } next)
        {
            return;
        }

        var lastApp = Scalar("SELECT MAX(app_id) FROM runs") ?? 0;
        var total = Scalar("SELECT COUNT(*) FROM runs WHERE app_id >= " + next.ToString(CultureInfo.InvariantCulture)) ?? 0;
        progress?.Invoke(string.Create(CultureInfo.InvariantCulture, $"back-filling the run aggregates: {total:N0} runs"));
        var watch = System.Diagnostics.Stopwatch.StartNew();
        var reported = watch.Elapsed;
        long done = 0;
        while (next <= lastApp)
        {
            using var tx = connection.BeginTransaction();
            var upTo = next;
            long runs = 0;

            // About 200,000 runs per transaction, whole apps (at least one).
            while (upTo <= lastApp && (runs == 0 || runs < 200_000))
            {
                runs += Scalar($"SELECT COUNT(*) FROM runs WHERE app_id = {upTo}", tx) ?? 0;
                upTo++;
            }

            using (var cmd = connection.CreateCommand())
            {
                cmd.Transaction = tx;
                cmd.CommandText =
                    $"""
                    INSERT INTO user_app(app_id, user_id, runs, last_start, closed_ms, last_end, open_runs, open_start_sum)
                    SELECT app_id, COALESCE(user_id, 0), COUNT(*), MAX(start), SUM(CASE WHEN end IS NULL THEN 0 ELSE MAX(0, end - start) END),
                           MAX(end), SUM(end IS NULL), SUM(CASE WHEN end IS NULL THEN start ELSE 0 END)
                    FROM runs WHERE app_id >= {next} AND app_id < {upTo}
                    GROUP BY app_id, COALESCE(user_id, 0);
                    INSERT INTO app_total(app_id, runs, closed_ms, open_runs, open_start_sum, users)
                    SELECT app_id, SUM(runs), SUM(closed_ms), SUM(open_runs), SUM(open_start_sum), COUNT(NULLIF(user_id, 0))
                    FROM user_app WHERE app_id >= {next} AND app_id < {upTo} GROUP BY app_id;
                    INSERT INTO user_app_day(day, app_id, user_id, runs, closed_ms, open_runs, open_start_sum)
                    SELECT (start / 86400000) - (start % 86400000 < 0), app_id, COALESCE(user_id, 0), COUNT(*),
                           SUM(CASE WHEN end IS NULL THEN 0 ELSE MAX(0, end - start) END), SUM(end IS NULL), SUM(CASE WHEN end IS NULL THEN start ELSE 0 END)
                    FROM runs WHERE app_id >= {next} AND app_id < {upTo}
                    GROUP BY 1, 2, 3;
                    INSERT INTO user_app_month(month, app_id, user_id, runs, closed_ms, open_runs, open_start_sum)
                    SELECT CAST(strftime('%Y', day * 86400, 'unixepoch') AS INTEGER) * 12 + CAST(strftime('%m', day * 86400, 'unixepoch') AS INTEGER) - 1,
                           app_id, user_id, SUM(runs), SUM(closed_ms), SUM(open_runs), SUM(open_start_sum)
                    FROM user_app_day WHERE app_id >= {next} AND app_id < {upTo}
                    GROUP BY 1, 2, 3;
                    INSERT INTO user_day(day, user_id, runs, closed_ms, open_runs, open_start_sum)
                    SELECT day, user_id, SUM(runs), SUM(closed_ms), SUM(open_runs), SUM(open_start_sum)
                    FROM user_app_day WHERE app_id >= {next} AND app_id < {upTo}
                    GROUP BY 1, 2
                    ON CONFLICT(day, user_id) DO UPDATE SET
                        runs = runs + excluded.runs,
                        closed_ms = closed_ms + excluded.closed_ms,
                        open_runs = open_runs + excluded.open_runs,
                        open_start_sum = open_start_sum + excluded.open_start_sum;
                    UPDATE aggregates_pending SET next_app_id = {upTo};
                    """;
                cmd.ExecuteNonQuery();
            }

            tx.Commit();
            done += runs;
            next = upTo;
            if (watch.Elapsed - reported > TimeSpan.FromSeconds(2) && next <= lastApp)
            {
                reported = watch.Elapsed;
                progress?.Invoke(string.Create(CultureInfo.InvariantCulture, $"back-filling the run aggregates: {done:N0} of {total:N0} runs ({100.0 * done / Math.Max(1, total):F0} %)"));
            }
        }

        SqliteStore.Execute(connection, "DELETE FROM aggregates_pending");
        progress?.Invoke(string.Create(CultureInfo.InvariantCulture, $"back-filled the run aggregates: {done:N0} runs in {watch.Elapsed.TotalSeconds:F1} s"));
    }

    /// <summary>True when the aggregates hold every run (no back-fill pending): reports may read them.</summary>
    public static bool Ready(SqliteConnection connection)
    {
        using var cmd = connection.CreateCommand();
        cmd.CommandText = "SELECT NOT EXISTS (SELECT 1 FROM aggregates_pending)";
        return Convert.ToInt64(cmd.ExecuteScalar(), CultureInfo.InvariantCulture) == 1;
    }

    /// <summary>The UTC day of <paramref name="millis"/> (days since 1970-01-01, negative before).</summary>
    public static long DayOf(long millis) => (millis / DayMillis) - (millis % DayMillis < 0 ? 1 : 0);

    /// <summary>The month of UTC day <paramref name="day"/>: year × 12 + month − 1.</summary>
    public static long MonthOfDay(long day)
    {
        var date = DateOnly.FromDayNumber(checked((int)(day + EpochDayNumber)));
        return (date.Year * 12L) + date.Month - 1;
    }

    /// <summary>The UTC day of the first day of <paramref name="month"/> (year × 12 + month − 1).</summary>
    public static long FirstDayOfMonth(long month) =>
        new DateOnly((int)(month / 12), (int)(month % 12) + 1, 1).DayNumber - EpochDayNumber;

    private const long DayMillis = 86_400_000;

    private static readonly long EpochDayNumber = new DateOnly(1970, 1, 1).DayNumber;

    /// <summary>
    /// The sums of the runs per (period, app, user) by the period of their start — table <c>user_app_day</c> (period: the
    /// UTC day) or <c>user_app_month</c> (year × 12 + month − 1), or per (day, user) over all apps — <c>user_day</c>
    /// (schema migration 11): runs, closed_ms, open_runs and open_start_sum as in <c>user_app</c>, no row for a key without
    /// runs. Sums only, so a change is an addition; a run leaves its key only when its user is filled in, and a key left
    /// without runs is deleted.
    /// </summary>
    private sealed class PeriodSums
    {
        private readonly Dictionary<(long Period, long App, long User), (long Runs, long ClosedMs, long OpenRuns, long OpenStartSum)> changes = [];
        private readonly SqliteCommand apply;
        private readonly SqliteCommand deleteEmpty;

        private readonly bool perApp;

        /// <param name="perApp">False: the key is (period, user), and the runs' apps (0 here) are left out.</param>
        public PeriodSums(string table, string period, bool perApp, Func<string, string[], SqliteCommand> cmd)
        {
            this.perApp = perApp;
            var key = perApp ? $"{period}, app_id, user_id" : $"{period}, user_id";
            var values = string.Join(", ", Enumerable.Range(0, perApp ? 7 : 6).Select(i => $"value->>{i}"));
            apply = cmd(
                $"""
                INSERT INTO {table}({key}, runs, closed_ms, open_runs, open_start_sum)
                SELECT {values} FROM json_each($rows) WHERE true
                ON CONFLICT({key}) DO UPDATE SET
                    runs = runs + excluded.runs,
                    closed_ms = closed_ms + excluded.closed_ms,
                    open_runs = open_runs + excluded.open_runs,
                    open_start_sum = open_start_sum + excluded.open_start_sum
                """,
                ["$rows"]);
            deleteEmpty = cmd(
                $"DELETE FROM {table} WHERE ({key}) IN (SELECT {string.Join(", ", values.Split(", ").Take(perApp ? 3 : 2))} FROM json_each($rows)) AND runs = 0",
                ["$rows"]);
        }

        public void Clear() => changes.Clear();

        public void Add(long period, Run run, int sign)
        {
            ref var c = ref System.Runtime.InteropServices.CollectionsMarshal.GetValueRefOrAddDefault(changes, (period, run.App, run.User), out _);
            c = run.End is { } e
                ? (c.Runs + sign, c.ClosedMs + (sign * Math.Max(0, e - run.Start)), c.OpenRuns, c.OpenStartSum)
                : (c.Runs + sign, c.ClosedMs, c.OpenRuns + sign, c.OpenStartSum + (sign * run.Start));
        }

        /// <summary>One upsert in key order; then the keys a run left, deleted when they hold no run any more.</summary>
        public void Flush()
        {
            var json = new System.Buffers.ArrayBufferWriter<byte>(changes.Count * 48);
            var left = new List<long[]>();
            using (var writer = new Utf8JsonWriter(json))
            {
                writer.WriteStartArray();
                foreach (var ((period, app, user), c) in changes.OrderBy(c => c.Key))
                {
                    if (c == default)
                    {
                        continue; // a run that changed nothing here (e.g. an exit that arrived twice)
                    }

                    if (c.Runs < 0)
                    {
                        left.Add(perApp ? [period, app, user] : [period, user]);
                    }

                    writer.WriteStartArray();
                    writer.WriteNumberValue(period);
                    if (perApp)
                    {
                        writer.WriteNumberValue(app);
                    }

                    foreach (var v in (ReadOnlySpan<long>)[user, c.Runs, c.ClosedMs, c.OpenRuns, c.OpenStartSum])
                    {
                        writer.WriteNumberValue(v);
                    }

                    writer.WriteEndArray();
                }

                writer.WriteEndArray();
            }

            changes.Clear();
            apply.Parameters[0].Value = System.Text.Encoding.UTF8.GetString(json.WrittenSpan);
            apply.ExecuteNonQuery();
            if (left.Count > 0)
            {
                deleteEmpty.Parameters[0].Value = JsonSerializer.Serialize(left);
                deleteEmpty.ExecuteNonQuery();
            }
        }
    }

    /// <summary>A run as the aggregates see it (user 0: none).</summary>
    public readonly record struct Run(long Seq, long App, long User, long Start, long? End)
    {
        /// <summary>Reads columns (start_seq, app_id, user_id, start, end).</summary>
        public static Run Read(SqliteDataReader r) =>
            new(r.GetInt64(0), r.GetInt64(1), r.IsDBNull(2) ? 0 : r.GetInt64(2), r.GetInt64(3), r.IsDBNull(4) ? null : r.GetInt64(4));
    }

    private sealed class Change
    {
        public long Runs;
        public long? LastStart;
        public long ClosedMs;
        public long? LastEnd;
        public long OpenRuns;
        public long OpenStartSum;
        public long? LostStart;
        public long? LostEnd;
        public long Users;
    }
}
