using DuckDB.NET.Data;
using SessionTrail.Server.Store;

namespace SessionTrail.Bench;

/// <summary>
/// The peer engine of <c>bench reports</c>: DuckDB in process (DuckDB.NET.Data.Full), holding the same runs, apps and
/// users as the store (copied with DuckDB's appender), answering the same report definitions over the raw runs —
/// what a user would get by pointing DuckDB (or Athena, or Trino) at the runs. Each query's rows are read into .NET,
/// as ours are.
/// </summary>
internal sealed class DuckDbPeer : IDisposable
{
    private readonly DuckDBConnection connection;

    private DuckDbPeer(DuckDBConnection connection) => this.connection = connection;

    /// <summary>Copies the runs, apps and users of <paramref name="store"/> into an in-memory DuckDB.</summary>
    public static DuckDbPeer Load(SqliteStore store)
    {
        var duck = new DuckDBConnection("DataSource=:memory:");
        duck.Open();
        using (var create = duck.CreateCommand())
        {
            create.CommandText = """
                CREATE TABLE apps(id BIGINT, path VARCHAR);
                CREATE TABLE users(id BIGINT, name VARCHAR);
                CREATE TABLE runs(app_id BIGINT, user_id BIGINT, start BIGINT, "end" BIGINT);
                """;
            create.ExecuteNonQuery();
        }

        using var sqlite = store.OpenConnection();
        Copy(sqlite, duck, "SELECT id, path FROM apps", "apps", 2);
        Copy(sqlite, duck, "SELECT id, name FROM users", "users", 2);
        Copy(sqlite, duck, "SELECT app_id, user_id, start, end FROM runs", "runs", 4);
        return new DuckDbPeer(duck);
    }

    private static void Copy(Microsoft.Data.Sqlite.SqliteConnection from, DuckDBConnection to, string select, string table, int columns)
    {
        using var cmd = from.CreateCommand();
        cmd.CommandText = select;
        using var reader = cmd.ExecuteReader();
        using var appender = to.CreateAppender(table);
        while (reader.Read())
        {
            var row = appender.CreateRow();
            for (var i = 0; i < columns; i++)
            {
                if (reader.IsDBNull(i))
                {
                    row.AppendNullValue();
                }
                else if (reader.GetFieldType(i) == typeof(string))
                {
                    row.AppendValue(reader.GetString(i));
                }
                else
                {
                    row.AppendValue((long?)reader.GetInt64(i));
                }
            }

            row.EndRow();
        }
    }

    /// <summary>
    /// The definition of report <paramref name="name"/> over all of history or [<paramref name="from"/>, <paramref name="to"/>)
    /// (top-apps and launches), optionally one user, at <paramref name="now"/>, as
    /// SessionTrail's reports define it (README "Reports"); null for a report this peer does not answer.
    /// </summary>
    public static string? Sql(string name, string? user, long now, int inactiveDays, long? from = null, long? to = null)
    {
        var where = user is null ? "true" : $"r.user_id = (SELECT id FROM users WHERE name = '{user}')";
        // No bound: a far date (DuckDB reads -9223372036854775808 as a negated literal past BIGINT).
        var (f, t) = (from ?? -62135596800000, to ?? 253402300799999);
        if ((from is not null || to is not null) && name is not ("top-apps" or "launches"))
        {
            return null;
        }

        return name switch
        {
            "top-apps" => $"""
                SELECT a.path, g.runs, g.users, g.ms FROM (
                    SELECT app_id, COUNT(*) AS runs, COUNT(DISTINCT user_id) AS users,
                           SUM(GREATEST(0, LEAST(COALESCE(r."end", {now}), {t}) - GREATEST(r.start, {f}))) AS ms
                    FROM runs r WHERE {where} AND r.start < {t} AND (COALESCE(r."end", {now}) > {f} OR r.start >= {f})
                    GROUP BY app_id) g JOIN apps a ON a.id = g.app_id
                ORDER BY g.ms DESC, a.path
                """,
            "launches" => $"""
                SELECT a.path, g.launches, g.users FROM (
                    SELECT app_id, COUNT(*) AS launches, COUNT(DISTINCT user_id) AS users FROM runs r
                    WHERE {where} AND r.start >= {f} AND r.start < {t} GROUP BY app_id) g
                JOIN apps a ON a.id = g.app_id ORDER BY g.launches DESC, a.path
                """,
            "last-used" => $"""
                SELECT u.name, a.path, g.last, g.runs FROM (
                    SELECT user_id, app_id, MAX(start) AS last, COUNT(*) AS runs FROM runs r WHERE {where} GROUP BY app_id, user_id) g
                JOIN apps a ON a.id = g.app_id LEFT JOIN users u ON u.id = g.user_id ORDER BY g.last, u.name, a.path
                """,
            "inactive" => $"""
                SELECT u.name, a.path, g.last, g.last_end, g.runs FROM (
                    SELECT user_id, app_id, MAX(start) AS last, MAX(COALESCE(r."end", {now})) AS last_end, COUNT(*) AS runs
                    FROM runs r WHERE {where} AND r.start < {now} GROUP BY app_id, user_id
                    HAVING MAX(COALESCE(r."end", {now})) <= {now - (inactiveDays * 86_400_000L)}) g
                JOIN apps a ON a.id = g.app_id LEFT JOIN users u ON u.id = g.user_id ORDER BY g.last_end, u.name, a.path
                """,
            _ => null,
        };
    }

    /// <summary>Runs <paramref name="sql"/> and reads every row; answers the number of rows.</summary>
    public int Rows(string sql)
    {
        using var cmd = connection.CreateCommand();
        cmd.CommandText = sql;
        using var reader = cmd.ExecuteReader();
        var rows = 0;
        var values = new object[reader.FieldCount];
        while (reader.Read())
        {
            reader.GetValues(values);
            rows++;
        }

        return rows;
    }

    public void Dispose() => connection.Dispose();
}
