using System.Globalization;
using DuckDB.NET.Data;
using SessionTrail.Core.Formats;
using SessionTrail.Server.Reports;

namespace SessionTrail.Server.Tests.Export;

/// <summary>
/// Reads an exported Parquet lake with DuckDB (DuckDB.NET, in process) and computes the reports from it with SQL of its
/// own — the definitions of ReportService restated over the lake's columns, times as epoch milliseconds.
/// </summary>
public sealed class LakeDuckDb : IDisposable
{
    private readonly DuckDBConnection connection = new("DataSource=:memory:");
    private readonly long now;

    /// <param name="root">The lake's folder.</param>
    /// <param name="now">"Now" for open runs, as the reports were given it.</param>
    public LakeDuckDb(string root, DateTimeOffset now)
    {
        this.now = now.ToUnixTimeMilliseconds();
        connection.Open();
        foreach (var table in new[] { "runs", "sessions" })
        {
            Execute($"CREATE VIEW {table} AS SELECT * FROM read_parquet('{Path.Combine(root, table)}/**/*.parquet', hive_partitioning = true)");
        }
    }

    public void Dispose() => connection.Dispose();

    public void Execute(string sql)
    {
        using var cmd = connection.CreateCommand();
        cmd.CommandText = sql;
        cmd.ExecuteNonQuery();
    }

    public List<T> Rows<T>(string sql, Func<System.Data.Common.DbDataReader, T> map)
    {
        using var cmd = connection.CreateCommand();
        cmd.CommandText = sql;
        using var reader = cmd.ExecuteReader();
        var rows = new List<T>();
        while (reader.Read())
        {
            rows.Add(map(reader));
        }

        return rows;
    }

    public long Scalar(string sql) => Rows(sql, r => Convert.ToInt64(r.GetValue(0), CultureInfo.InvariantCulture)).Single();

    private string End => $"COALESCE(epoch_ms(\"end\"), {now})";

    private static string Window(ReportFilter f) =>
        (f.To is { } to ? $" AND epoch_ms(start) < {to.ToUnixTimeMilliseconds()}" : "") +
        (f.From is { } from ? $" AND (COALESCE(epoch_ms(\"end\"), $now) > {from.ToUnixTimeMilliseconds()} OR epoch_ms(start) >= {from.ToUnixTimeMilliseconds()})" : "");

    private string RunWindow(ReportFilter f) => Window(f).Replace("$now", now.ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal);

    private static string LaunchWindow(ReportFilter f) =>
        (f.From is { } from ? $" AND epoch_ms(start) >= {from.ToUnixTimeMilliseconds()}" : "") +
        (f.To is { } to ? $" AND epoch_ms(start) < {to.ToUnixTimeMilliseconds()}" : "");

    public List<IReportRow> TopApps(ReportFilter f)
    {
        var from = f.From?.ToUnixTimeMilliseconds() ?? long.MinValue;
        var to = f.To?.ToUnixTimeMilliseconds() ?? long.MaxValue;
        return Rows<IReportRow>(
            $"""
            SELECT app, COUNT(*), COUNT(DISTINCT "user"), SUM(GREATEST(0, LEAST({End}, {to}) - GREATEST(epoch_ms(start), {from})))::BIGINT AS ms
            FROM runs WHERE true{RunWindow(f)} GROUP BY app ORDER BY ms DESC, app
            """,
            r => new TopAppRow(r.GetString(0), r.GetInt64(1), r.GetInt64(2), r.GetInt64(3) / 1000.0));
    }

    public List<IReportRow> Launches(ReportFilter f) => Rows<IReportRow>(
        $"""
        SELECT app, COUNT(*) AS n, COUNT(DISTINCT "user") FROM runs WHERE true{LaunchWindow(f)} GROUP BY app ORDER BY n DESC, app
        """,
        r => new LaunchRow(r.GetString(0), r.GetInt64(1), r.GetInt64(2)));

    public List<IReportRow> LastUsed(ReportFilter f) => Rows<IReportRow>(
        $"""
        SELECT "user", app, MAX(epoch_ms(start)) AS last, COUNT(*) FROM runs WHERE true{RunWindow(f)}
        GROUP BY app, "user" ORDER BY last, "user" NULLS FIRST, app
        """,
        r => new LastUsedRow(r.IsDBNull(0) ? null : r.GetString(0), r.GetString(1), Time(r.GetInt64(2)), r.GetInt64(3)));

    public List<IReportRow> Runs(ReportFilter f) => Rows<IReportRow>(
        $"""
        SELECT app, pid, host, "user", session, epoch_ms(start), epoch_ms("end"), {End} - epoch_ms(start), ended_by
        FROM runs WHERE true{RunWindow(f)} ORDER BY start, run
        """,
        r => new RunRow(
            r.GetString(0),
            r.GetInt64(1),
            r.GetString(2),
            r.IsDBNull(3) ? null : r.GetString(3),
            r.IsDBNull(4) ? null : r.GetString(4),
            Time(r.GetInt64(5)),
            r.IsDBNull(6) ? null : Time(r.GetInt64(6)),
            r.GetInt64(7) / 1000.0,
            r.GetString(8)));

    /// <summary>The <c>sessions</c> report without a window: every session, by its first moment (start, else first run, else end).</summary>
    public List<IReportRow> Sessions() => Rows<IReportRow>(
        """
        SELECT s.session, s."user", s.host, epoch_ms(s.start), epoch_ms(s."end"), s.runs,
               COALESCE(s.start, (SELECT MIN(r.start) FROM runs r WHERE r.session = s.session), s."end") AS first
        FROM sessions s ORDER BY first, s.session
        """,
        r => new SessionRow(
            r.GetString(0),
            r.IsDBNull(1) ? null : r.GetString(1),
            r.IsDBNull(2) ? null : r.GetString(2),
            r.IsDBNull(3) ? null : Time(r.GetInt64(3)),
            r.IsDBNull(4) ? null : Time(r.GetInt64(4)),
            r.GetInt64(5)));

    private static string Time(long millis) => NdjsonWriter.FormatTime(DateTimeOffset.FromUnixTimeMilliseconds(millis));
}
