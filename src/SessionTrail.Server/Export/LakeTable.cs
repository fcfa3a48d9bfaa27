using Microsoft.Data.Sqlite;

namespace SessionTrail.Server.Export;

/// <summary>The Parquet type of a lake column.</summary>
public enum LakeType
{
    /// <summary>UTF-8 string (Parquet BYTE_ARRAY, STRING).</summary>
    Text,

    /// <summary>64-bit integer (INT64; Athena bigint).</summary>
    Long,

    /// <summary>Double (seconds).</summary>
    Double,

    /// <summary>Milliseconds since the epoch in the store; Parquet INT64 TIMESTAMP(MILLIS, UTC).</summary>
    Time,
}

/// <summary>One column of a lake table: its name, type and whether it can be null.</summary>
public sealed record LakeColumn(string Name, LakeType Type, bool Nullable);

/// <summary>
/// One table of the Parquet lake: its columns, and the SQL that reads the rows of a set of UTC days from the store —
/// column 0 is the row's day (days since the epoch), the next ones are <see cref="Columns"/> in order, rows in day order.
/// The SQL takes <c>$days</c>, a JSON array of day numbers.
/// </summary>
public sealed record LakeTable(string Name, IReadOnlyList<LakeColumn> Columns, string DaysSql)
{
    internal const long DayMillis = 86_400_000;

    /// <summary>
    /// One row per run, as the <c>runs</c> report has them (plus the session's fleet and stack, and the run's id, the
    /// start event's seq), by the UTC day of the start. <c>seconds</c> is null while the run is open (it grows until it ends).
    /// </summary>
    public static readonly LakeTable Runs = new(
        "runs",
        [
            new("run", LakeType.Long, false), new("app", LakeType.Text, false), new("pid", LakeType.Long, false),
            new("host", LakeType.Text, false), new("user", LakeType.Text, true), new("session", LakeType.Text, true),
            new("fleet", LakeType.Text, true), new("stack", LakeType.Text, true),
            new("start", LakeType.Time, false), new("end", LakeType.Time, true), new("seconds", LakeType.Double, true),
            new("ended_by", LakeType.Text, false),
        ],
        $"""
        SELECT d.value, r.start_seq, a.path, r.pid, r.host, u.name, r.session, s.fleet, s.stack, r.start, r.end,
               (r.end - r.start) / 1000.0, CASE r.ended_by WHEN 1 THEN 'exit' WHEN 2 THEN 'session_end' ELSE 'open' END
        FROM json_each($days) d
        JOIN runs r ON r.start / {DayMillis} = d.value
        JOIN apps a ON a.id = r.app_id
        LEFT JOIN users u ON u.id = r.user_id
        LEFT JOIN sessions s ON s.id = r.session
        ORDER BY d.value, r.start, r.start_seq
        """);

    /// <summary>The day a session is filed under: its start, else its first run's start, else its end (as the <c>sessions</c> report orders them).</summary>
    internal const string SessionFirst = "COALESCE(s.start, (SELECT MIN(r.start) FROM runs r WHERE r.session = s.id), s.end)";

    /// <summary>One row per session, by the UTC day it started (<see cref="SessionFirst"/>), with its number of runs.</summary>
    public static readonly LakeTable Sessions = new(
        "sessions",
        [
            new("session", LakeType.Text, false), new("user", LakeType.Text, true), new("host", LakeType.Text, true),
            new("stack", LakeType.Text, true), new("fleet", LakeType.Text, true), new("access_mode", LakeType.Text, true),
            new("reservation_time", LakeType.Text, true), new("instance_type", LakeType.Text, true), new("region", LakeType.Text, true),
            new("image_arn", LakeType.Text, true), new("start", LakeType.Time, true), new("end", LakeType.Time, true),
            new("runs", LakeType.Long, false),
        ],
        $"""
        SELECT day, id, user, host, stack, fleet, access_mode, reservation_time, instance_type, region, image_arn, start, end,
               (SELECT COUNT(*) FROM runs r WHERE r.session = x.id)
        FROM (SELECT d.value AS day, s.* FROM json_each($days) d
              JOIN sessions s ON s.start >= d.value * {DayMillis} AND s.start < (d.value + 1) * {DayMillis}
              UNION ALL
              SELECT {SessionFirst} / {DayMillis} AS day, s.* FROM sessions s
              WHERE s.start IS NULL AND {SessionFirst} / {DayMillis} IN (SELECT value FROM json_each($days))) x
        ORDER BY day, COALESCE(start, end), id
        """);

    /// <summary>One row per log record, by the UTC day of its time; fields and decoration as JSON text.</summary>
    public static readonly LakeTable Logs = new(
        "logs",
        [
            new("seq", LakeType.Long, false), new("id", LakeType.Text, false), new("time", LakeType.Time, false),
            new("host", LakeType.Text, false), new("session", LakeType.Text, true), new("source", LakeType.Text, false),
            new("channel", LakeType.Text, true), new("provider", LakeType.Text, true), new("event_id", LakeType.Long, true),
            new("level", LakeType.Text, true), new("message", LakeType.Text, false), new("fields", LakeType.Text, true),
            new("decoration", LakeType.Text, true), new("user", LakeType.Text, true),
        ],
        $"""
        SELECT d.value, l.seq, l.id, l.time, l.host, l.session, l.source, l.channel, l.provider, l.event_id, l.level, l.message,
               l.fields, l.decoration, l.user
        FROM json_each($days) d
        JOIN logs l ON l.time >= d.value * {DayMillis} AND l.time < (d.value + 1) * {DayMillis}
        ORDER BY d.value, l.time, l.seq
        """);
}

/// <summary>The rows of one lake table for one UTC day, column by column (what a <see cref="ILakeFileWriter"/> writes).</summary>
public sealed class LakeBatch
{
    private readonly object[] columns;

    public LakeBatch(LakeTable table, long day)
    {
        ArgumentNullException.ThrowIfNull(table);
        Table = table;
        Day = day;
        columns = [.. table.Columns.Select(c => c.Type switch
        {
            LakeType.Text => (object)new List<string?>(),
            LakeType.Double => new List<double?>(),
            _ => new List<long?>(),
        })];
    }

    public LakeTable Table { get; }

    /// <summary>Days since the epoch (UTC).</summary>
    public long Day { get; }

    public int Count { get; private set; }

    /// <summary>The values of a <see cref="LakeType.Text"/> column.</summary>
    public List<string?> Texts(int column) => (List<string?>)columns[column];

    /// <summary>The values of a <see cref="LakeType.Long"/> or <see cref="LakeType.Time"/> (milliseconds) column.</summary>
    public List<long?> Longs(int column) => (List<long?>)columns[column];

    /// <summary>The values of a <see cref="LakeType.Double"/> column.</summary>
    public List<double?> Doubles(int column) => (List<double?>)columns[column];

    /// <summary>Appends the row at <paramref name="reader"/>, whose columns from 1 on are the table's.</summary>
    internal void Add(SqliteDataReader reader)
    {
        for (var i = 0; i < columns.Length; i++)
        {
            var null_ = reader.IsDBNull(i + 1);
            switch (columns[i])
            {
                case List<string?> texts:
                    texts.Add(null_ ? null : reader.GetString(i + 1));
                    break;
                case List<double?> doubles:
                    doubles.Add(null_ ? null : reader.GetDouble(i + 1));
                    break;
                case List<long?> longs:
                    longs.Add(null_ ? null : reader.GetInt64(i + 1));
                    break;
            }
        }

        Count++;
    }
}

/// <summary>Writes one day's rows of a lake table as one file.</summary>
public interface ILakeFileWriter
{
    /// <summary>Writes <paramref name="batch"/> to <paramref name="output"/> (seekable, left open).</summary>
    Task WriteAsync(LakeBatch batch, Stream output, CancellationToken ct);
}
