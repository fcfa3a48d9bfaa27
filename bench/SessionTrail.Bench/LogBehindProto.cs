using System.Diagnostics;
using System.Globalization;
using Microsoft.Data.Sqlite;
using SessionTrail.Server.Store;

namespace SessionTrail.Bench;

/// <summary>
/// Prototype of a log index kept behind the writer (issue 14 item 5), to measure the design before building it
/// (docs/performance.md, "Log store"): ingest keeps only what dedup needs on <c>logs</c> (the primary key and the unique
/// id; the five secondary indexes and the FTS step are dropped from the bench's store), and an indexer on a second
/// connection fills a contentless FTS5 index and five lookup tables (time, host, source, session, user) from a
/// high-water mark kept in the same transaction, in chunks of up to <c>--chunk</c> records. <c>attached</c>: the index
/// lives in a second database file (DATABASE.ix, its own WAL, synchronous=NORMAL) so its commits do not take the
/// ingest's write lock; <c>main</c>: the same tables in the store's own file. The searches are the SQL a search would
/// run over the index (raw rows read, no tail merge, no LogEntry built), not LogSearch.
/// </summary>
internal static class LogBehindProto
{
    public static void Prepare(SqliteStore store, string mode)
    {
        store.Write((connection, tx) =>
        {
            using var cmd = connection.CreateCommand();
            cmd.Transaction = tx;
            cmd.CommandText =
                """
                DROP INDEX logs_time; DROP INDEX logs_session; DROP INDEX logs_user; DROP INDEX logs_host; DROP INDEX logs_source;
                DROP TABLE logs_fts; DROP VIEW logs_search;
                CREATE VIEW logs_search(seq, message, fields) AS SELECT 0, '', '' WHERE 0;
                CREATE TABLE logs_fts(message, fields);
                """;
            return cmd.ExecuteNonQuery();
        });
        using var c = Open(store, mode);
    }

    public static string IndexPath(SqliteStore store) => store.DatabasePath + ".ix";

    private static SqliteConnection Open(SqliteStore store, string mode)
    {
        var c = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = store.DatabasePath, Pooling = false, DefaultTimeout = 30 }.ToString());
        c.Open();
        Exec(c, "PRAGMA busy_timeout=10000; PRAGMA cache_size=-65536; PRAGMA mmap_size=268435456;");
        var ix = mode == "attached" ? "ix." : "";
        if (mode == "attached")
        {
            Exec(c, $"ATTACH '{IndexPath(store)}' AS ix; PRAGMA ix.journal_mode=WAL;");
        }

        Exec(c, $"PRAGMA synchronous=NORMAL; PRAGMA {(mode == "attached" ? "ix." : "")}synchronous=NORMAL;");
        Exec(c, $"""
            CREATE VIRTUAL TABLE IF NOT EXISTS {ix}lx_fts USING fts5(message, fields, content='', contentless_delete=1);
            CREATE TABLE IF NOT EXISTS {ix}lx_time(time INTEGER, seq INTEGER, PRIMARY KEY(time, seq)) WITHOUT ROWID;
            CREATE TABLE IF NOT EXISTS {ix}lx_host(host TEXT, time INTEGER, seq INTEGER, PRIMARY KEY(host, time, seq)) WITHOUT ROWID;
            CREATE TABLE IF NOT EXISTS {ix}lx_source(source TEXT, time INTEGER, seq INTEGER, PRIMARY KEY(source, time, seq)) WITHOUT ROWID;
            CREATE TABLE IF NOT EXISTS {ix}lx_session(session TEXT, time INTEGER, seq INTEGER, PRIMARY KEY(session, time, seq)) WITHOUT ROWID;
            CREATE TABLE IF NOT EXISTS {ix}lx_user(user TEXT, time INTEGER, seq INTEGER, PRIMARY KEY(user, time, seq)) WITHOUT ROWID;
            CREATE TABLE IF NOT EXISTS {ix}lx_mark(seq INTEGER NOT NULL);
            INSERT INTO {ix}lx_mark SELECT 0 WHERE NOT EXISTS (SELECT 1 FROM {ix}lx_mark);
            """);
        return c;
    }

    /// <summary>Runs the indexer until the mark reaches <paramref name="last"/>; returns the chunks done and prints the time of each step.</summary>
    public static int Index(SqliteStore store, string mode, long last, int chunk)
    {
        using var c = Open(store, mode);
        var ix = mode == "attached" ? "ix." : "";
        var chunks = 0;
        var parts = new[]
        {
            $"INSERT INTO {ix}lx_fts(rowid, message, fields) SELECT seq, message, (SELECT group_concat(value, ' ') FROM json_each(l.fields)) FROM main.logs l WHERE seq > $m AND seq <= $hi",
            $"INSERT INTO {ix}lx_time SELECT time, seq FROM main.logs WHERE seq > $m AND seq <= $hi ORDER BY 1, 2",
            $"INSERT INTO {ix}lx_host SELECT host, time, seq FROM main.logs WHERE seq > $m AND seq <= $hi ORDER BY 1, 2, 3",
            $"INSERT INTO {ix}lx_source SELECT source, time, seq FROM main.logs WHERE seq > $m AND seq <= $hi ORDER BY 1, 2, 3",
            $"INSERT INTO {ix}lx_session SELECT session, time, seq FROM main.logs WHERE seq > $m AND seq <= $hi AND session IS NOT NULL ORDER BY 1, 2, 3",
            $"INSERT INTO {ix}lx_user SELECT user, time, seq FROM main.logs WHERE seq > $m AND seq <= $hi AND user IS NOT NULL ORDER BY 1, 2, 3",
            $"UPDATE {ix}lx_mark SET seq = $hi",
        };
        var spent = new double[parts.Length + 1];
        var steps = parts.Select(sql =>
        {
            var cmd = c.CreateCommand();
            cmd.CommandText = sql;
            cmd.Parameters.Add("$m", SqliteType.Integer);
            cmd.Parameters.Add("$hi", SqliteType.Integer);
            return cmd;
        }).ToArray();
        try
        {
            return Loop();
        }
        finally
        {
            foreach (var step in steps)
            {
                step.Dispose();
            }
        }

        int Loop()
        {
            while (true)
            {
                long mark, max;
                using (var q = c.CreateCommand())
                {
                    q.CommandText = $"SELECT (SELECT seq FROM {ix}lx_mark), (SELECT COALESCE(MAX(seq), 0) FROM main.logs)";
                    using var r = q.ExecuteReader();
                    r.Read();
                    mark = r.GetInt64(0);
                    max = r.GetInt64(1);
                }

                if (mark >= last)
                {
                    Console.WriteLine("indexer seconds per step (fts, time, host, source, session, user, mark, commit): " + string.Join(", ", spent.Select(x => x.ToString("F1", CultureInfo.InvariantCulture))));
                    return chunks;
                }

                if (max == mark)
                {
                    Thread.Sleep(20);
                    continue;
                }

                using var tx = c.BeginTransaction();
                for (var i = 0; i < steps.Length; i++)
                {
                    var w = Stopwatch.StartNew();
                    steps[i].Transaction = tx;
                    steps[i].Parameters[0].Value = mark;
                    steps[i].Parameters[1].Value = Math.Min(max, mark + chunk);
                    steps[i].ExecuteNonQuery();
                    spent[i] += w.Elapsed.TotalSeconds;
                }

                var wc = Stopwatch.StartNew();
                tx.Commit();
                spent[^1] += wc.Elapsed.TotalSeconds;
                chunks++;
            }
        }
    }

    public static void Searches(SqliteStore store, string mode, int repeat)
    {
        using var c = Open(store, mode);
        var ix = mode == "attached" ? "ix." : "";
        foreach (var (label, sql) in new (string, string)[]
        {
            ("newest 100", $"SELECT l.* FROM {ix}lx_time t JOIN logs l ON l.seq = t.seq ORDER BY t.time DESC, t.seq DESC LIMIT 101"),
            ("rare word w1990", $"SELECT l.* FROM logs l WHERE l.seq IN (SELECT rowid FROM {ix}lx_fts WHERE lx_fts MATCH 'w1990') ORDER BY l.time DESC, l.seq DESC LIMIT 101"),
            ("field value app17.exe", $"SELECT l.* FROM logs l WHERE l.seq IN (SELECT rowid FROM {ix}lx_fts WHERE lx_fts MATCH '\"app17.exe\"') ORDER BY l.time DESC, l.seq DESC LIMIT 101"),
            ("common word w0", $"SELECT l.* FROM logs l WHERE l.seq IN (SELECT rowid FROM {ix}lx_fts WHERE lx_fts MATCH 'w0') ORDER BY l.time DESC, l.seq DESC LIMIT 101"),
            ("host page", $"SELECT l.* FROM {ix}lx_host t JOIN logs l ON l.seq = t.seq WHERE t.host = 'host7' ORDER BY t.time DESC, t.seq DESC LIMIT 101"),
            ("session page", $"SELECT l.* FROM {ix}lx_session t JOIN logs l ON l.seq = t.seq WHERE t.session = 'sess-42' ORDER BY t.time DESC, t.seq DESC LIMIT 101"),
        })
        {
            var times = new List<double>();
            var rows = 0;
            for (var i = 0; i < repeat; i++)
            {
                var w = Stopwatch.StartNew();
                using var cmd = c.CreateCommand();
                cmd.CommandText = sql;
                using var r = cmd.ExecuteReader();
                rows = 0;
                while (r.Read())
                {
                    rows++;
                }

                times.Add(w.Elapsed.TotalMilliseconds);
            }

            times.Sort();
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"proto search {label,-24} median {times[times.Count / 2],8:F1} ms ({rows} rows)"));
        }
    }

    private static void Exec(SqliteConnection c, string sql)
    {
        using var cmd = c.CreateCommand();
        cmd.CommandText = sql;
        cmd.ExecuteNonQuery();
    }
}
