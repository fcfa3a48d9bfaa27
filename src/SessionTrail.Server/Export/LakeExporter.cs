using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Microsoft.Data.Sqlite;
using SessionTrail.Server.Store;

namespace SessionTrail.Server.Export;

/// <summary>What one lake export wrote: per table, the days rewritten (files written or removed) and rows.</summary>
public sealed record LakeExportSummary(bool First, IReadOnlyList<LakeTableSummary> Tables, long Bytes, TimeSpan Elapsed);

/// <summary>One table's part of a <see cref="LakeExportSummary"/>: <paramref name="Days"/> the files rewritten (a removed one counts).</summary>
public sealed record LakeTableSummary(string Table, int Days, long Rows);

/// <summary>
/// Writes the store as a Parquet lake: <c>runs/</c>, <c>sessions/</c> and (asked for) <c>logs/</c>, each
/// Hive-partitioned <c>year=YYYY/month=MM/day=DD/TABLE.parquet</c> by UTC day (a run's start, a session's start,
/// a log record's time), one file per day.
///
/// Incremental: the store's table lake_exports (schema migration 11) keeps, per destination, the highest
/// process_events seq, session_events rowid and logs seq the last export covered. Rows are only ever added to those
/// three tables, and every change to a run or session comes with one of them, so the days to rewrite are found from the
/// rows after the marks: a run changes when an event of its pid arrives (pairing re-reads a pid's events from its last
/// start before the new ones on: those starts' days) or a record of its session arrives (a session end ends it, a start
/// names its user); a session changes with its records and its runs, and may move to an earlier day (its start is the
/// earliest start record, or else its first run) — so all the days of its records and runs are rewritten. A changed
/// day's file is rewritten whole (see <see cref="LakeDestination"/>: never half-written); a day left empty loses its file.
///
/// Everything is read in one read transaction (a snapshot: a server ingesting meanwhile changes nothing this export sees),
/// and the marks are stored only after every file is written — an export that fails part-way leaves the marks as they
/// were, so the next one rewrites those days again. The marks are the one thing written to the database, on a
/// connection of their own; the data is read on a read-only one.
/// </summary>
public sealed class LakeExporter(SqliteStore store, ILakeFileWriter? writer = null)
{
    private const long DayMillis = LakeTable.DayMillis;

    /// <summary><see cref="DayMillis"/> as text, for the constant SQL below.</summary>
    private const string DayText = "86400000";

    private readonly ILakeFileWriter fileWriter = writer ?? new ParquetLakeWriter();

    /// <summary>Exports the days changed since the last export to <paramref name="destination"/> (every day the first time).</summary>
    public async Task<LakeExportSummary> ExportAsync(LakeDestination destination, bool logs, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(destination);
        var watch = Stopwatch.StartNew();
        using var connection = store.OpenConnection();
        using var snapshot = connection.BeginTransaction(deferred: true);
        var marks = Marks.Read(connection, destination.Name);
        var now = new Marks(
            Scalar(connection, "SELECT COALESCE(MAX(seq), 0) FROM process_events"),
            Scalar(connection, "SELECT COALESCE(MAX(rowid), 0) FROM session_events"),
            logs ? Scalar(connection, "SELECT COALESCE(MAX(seq), 0) FROM logs") : marks?.Logs);

        var plan = new List<(LakeTable Table, SortedSet<long> Days)>
        {
            (LakeTable.Runs, Days(connection, marks is null ? AllRunDays : ChangedRunDays, marks)),
            (LakeTable.Sessions, Days(connection, marks is null ? AllSessionDays : ChangedSessionDays, marks)),
        };
        if (logs)
        {
            plan.Add((LakeTable.Logs, Days(connection, marks?.Logs is null ? AllLogDays : ChangedLogDays, marks)));
        }

        var tables = new List<LakeTableSummary>();
        long bytes = 0;
        foreach (var (table, days) in plan)
        {
            var (rows, written) = await WriteDaysAsync(connection, table, days, destination, ct);
            tables.Add(new LakeTableSummary(table.Name, days.Count, rows));
            bytes += written;
        }

        snapshot.Rollback();
        now.Save(store.DatabasePath, destination.Name);
        return new LakeExportSummary(marks is null, tables, bytes, watch.Elapsed);
    }

    /// <summary>The key of <paramref name="table"/>'s file for <paramref name="day"/> (days since the epoch).</summary>
    public static string Key(string table, long day)
    {
        var date = DateTimeOffset.FromUnixTimeMilliseconds(day * DayMillis);
        return string.Create(CultureInfo.InvariantCulture, $"{table}/year={date.Year:D4}/month={date.Month:D2}/day={date.Day:D2}/{table}.parquet");
    }

    private async Task<(long Rows, long Bytes)> WriteDaysAsync(SqliteConnection connection, LakeTable table, SortedSet<long> days, LakeDestination destination, CancellationToken ct)
    {
        if (days.Count == 0)
        {
            return (0, 0);
        }

        long rows = 0, bytes = 0;
        var pending = new SortedSet<long>(days);
        async Task FlushAsync(LakeBatch batch)
        {
            using var buffer = new MemoryStream();
            await fileWriter.WriteAsync(batch, buffer, ct);
            await destination.PutAsync(Key(table.Name, batch.Day), buffer, ct);
            pending.Remove(batch.Day);
            rows += batch.Count;
            bytes += buffer.Length;
        }

        using (var cmd = connection.CreateCommand())
        {
            cmd.CommandText = table.DaysSql;
            cmd.Parameters.AddWithValue("$days", JsonSerializer.Serialize(days));
            using var reader = cmd.ExecuteReader();
            LakeBatch? batch = null;
            while (reader.Read())
            {
                var day = reader.GetInt64(0);
                if (batch is not null && batch.Day != day)
                {
                    await FlushAsync(batch);
                    batch = null;
                }

                batch ??= new LakeBatch(table, day);
                batch.Add(reader);
            }

            if (batch is not null)
            {
                await FlushAsync(batch);
            }
        }

        foreach (var empty in pending)
        {
            await destination.DeleteAsync(Key(table.Name, empty), ct); // every row of the day moved to another day
        }

        return (rows, bytes);
    }

    private const string AllRunDays = $"SELECT DISTINCT start / {DayText} FROM runs";

    /// <summary>
    /// The start days of the runs pairing re-reads for the events after $p (per pid: from its last start before the
    /// earliest new event on), and of the runs of sessions with records after $s.
    /// </summary>
    private const string ChangedRunDays =
        $"""
        WITH touched AS (SELECT host, pid, MIN(time) AS t FROM process_events WHERE seq > $p GROUP BY host, pid)
        SELECT e.time / {DayText} FROM touched t
        JOIN process_events e ON e.host = t.host AND e.pid = t.pid AND e.type = 0
            AND e.time >= COALESCE((SELECT MAX(b.time) FROM process_events b WHERE b.host = t.host AND b.pid = t.pid AND b.type = 0 AND b.time < t.t), t.t)
        UNION
        SELECT r.start / {DayText} FROM runs r WHERE r.session IN (SELECT session FROM session_events WHERE rowid > $s)
        """;

    private const string AllSessionDays = $"SELECT DISTINCT {LakeTable.SessionFirst} / {DayText} FROM sessions s WHERE {LakeTable.SessionFirst} IS NOT NULL";

    /// <summary>Every day a session with new records or new runs was or is filed under: the days of its records and its runs.</summary>
    private const string ChangedSessionDays =
        $"""
        WITH changed AS (SELECT session FROM session_events WHERE rowid > $s
                         UNION SELECT session FROM process_events WHERE seq > $p AND session IS NOT NULL)
        SELECT time / {DayText} FROM session_events WHERE session IN (SELECT session FROM changed)
        UNION
        SELECT start / {DayText} FROM runs WHERE session IN (SELECT session FROM changed)
        """;

    private const string AllLogDays = $"SELECT DISTINCT time / {DayText} FROM logs";

    private const string ChangedLogDays = $"SELECT DISTINCT time / {DayText} FROM logs WHERE seq > $l";

    private static SortedSet<long> Days(SqliteConnection connection, string sql, Marks? marks)
    {
        using var cmd = connection.CreateCommand();
        cmd.CommandText = sql;
        cmd.Parameters.AddWithValue("$p", marks?.Processes ?? 0);
        cmd.Parameters.AddWithValue("$s", marks?.Sessions ?? 0);
        cmd.Parameters.AddWithValue("$l", marks?.Logs ?? 0);
        using var reader = cmd.ExecuteReader();
        var days = new SortedSet<long>();
        while (reader.Read())
        {
            days.Add(reader.GetInt64(0));
        }

        return days;
    }

    private static long Scalar(SqliteConnection connection, string sql)
    {
        using var cmd = connection.CreateCommand();
        cmd.CommandText = sql;
        return Convert.ToInt64(cmd.ExecuteScalar(), CultureInfo.InvariantCulture);
    }

    /// <summary>How far an export got: the highest process_events seq, session_events rowid and logs seq (null: logs never exported).</summary>
    private sealed record Marks(long Processes, long Sessions, long? Logs)
    {
        public static Marks? Read(SqliteConnection connection, string destination)
        {
            using var cmd = connection.CreateCommand();
            cmd.CommandText = "SELECT process_seq, session_rowid, log_seq FROM lake_exports WHERE destination = $d";
            cmd.Parameters.AddWithValue("$d", destination);
            using var reader = cmd.ExecuteReader();
            return reader.Read() ? new Marks(reader.GetInt64(0), reader.GetInt64(1), reader.IsDBNull(2) ? null : reader.GetInt64(2)) : null;
        }

        /// <summary>
        /// Stores the marks on a read-write connection of its own (the CLI opens the store read-only; this row is the one
        /// thing an export writes to the database — safe beside a running server, SQLite's WAL locking serialises the writers).
        /// </summary>
        public void Save(string databasePath, string destination)
        {
            using var connection = new SqliteConnection(new SqliteConnectionStringBuilder
            {
                DataSource = databasePath,
                Mode = SqliteOpenMode.ReadWrite,
                Pooling = false,
                DefaultTimeout = 30,
            }.ToString());
            connection.Open();
            using var cmd = connection.CreateCommand();
            cmd.CommandText =
                """
                PRAGMA busy_timeout=10000;
                INSERT INTO lake_exports(destination, process_seq, session_rowid, log_seq, time) VALUES($d, $p, $s, $l, $t)
                ON CONFLICT(destination) DO UPDATE SET process_seq = excluded.process_seq, session_rowid = excluded.session_rowid,
                    log_seq = excluded.log_seq, time = excluded.time
                """;
            cmd.Parameters.AddWithValue("$d", destination);
            cmd.Parameters.AddWithValue("$p", Processes);
            cmd.Parameters.AddWithValue("$s", Sessions);
            cmd.Parameters.AddWithValue("$l", (object?)Logs ?? DBNull.Value);
            cmd.Parameters.AddWithValue("$t", DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
            cmd.ExecuteNonQuery();
        }
    }
}
