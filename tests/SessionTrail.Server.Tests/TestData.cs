using SessionTrail.Core.Records;
using SessionTrail.Server.Reports;
using SessionTrail.Server.Store;

namespace SessionTrail.Server.Tests;

/// <summary>Record builders; times are minutes after <see cref="T0"/> (2026-11-01 08:00 UTC).</summary>
public static class R
{
    public static readonly DateTimeOffset T0 = new(2026, 11, 1, 8, 0, 0, TimeSpan.Zero);

    public static DateTimeOffset At(double minutes) => T0.AddMinutes(minutes);

    public static string Iso(double minutes) => Core.Formats.NdjsonWriter.FormatTime(At(minutes));

    public static ProcessRecord Start(string id, int pid, double minutes, string exe = "/usr/bin/vim", string? user = "alice", string? session = null, string host = "h1") =>
        new() { Id = id, Type = ProcessEventType.Start, Pid = pid, Time = At(minutes), Executable = exe, User = user, Session = session, Host = host };

    public static ProcessRecord Exit(string id, int pid, double minutes, string host = "h1") =>
        new() { Id = id, Type = ProcessEventType.Exit, Pid = pid, Time = At(minutes), Host = host };

    public static SessionRecord SessionStart(string id, string session, double minutes, string? user = "alice", string host = "h1") =>
        new() { Id = id, Type = SessionEventType.Start, Session = session, Time = At(minutes), User = user, Host = host, Stack = "stack", Fleet = "fleet" };

    public static SessionRecord SessionEnd(string id, string session, double minutes, string host = "h1") =>
        new() { Id = id, Type = SessionEventType.End, Session = session, Time = At(minutes), Host = host };
}

/// <summary>A fresh store in a temp directory with a report service on a fixed clock.</summary>
public sealed class StoreFixture : IDisposable
{
    private readonly TempDataDir dir = new();

    public StoreFixture(double nowMinutes = 24 * 60, int maxRows = ReportService.DefaultMaxRows)
    {
        Clock = new FixedClock(R.At(nowMinutes));
        Store = SqliteStore.Open(dir.Path);
        Reports = new ReportService(Store, Clock, maxRows);
    }

    public string DataDir => dir.Path;

    public FixedClock Clock { get; }

    public SqliteStore Store { get; }

    public ReportService Reports { get; }

    public IngestResult Ingest(params TrailRecord[] records) => Store.Ingest(records);

    /// <summary>Ingests <paramref name="records"/> in order, cut into batches of 1 to <paramref name="batchLimit"/> records at random.</summary>
    public void IngestInBatches(List<TrailRecord> records, Random random, int batchLimit)
    {
        for (var i = 0; i < records.Count;)
        {
            var n = Math.Min(records.Count - i, 1 + random.Next(batchLimit));
            Ingest(records.Skip(i).Take(n).ToArray());
            i += n;
        }
    }

    public List<T> Report<T>(string name, ReportFilter? filter = null) =>
        Reports.Run(name, filter ?? ReportFilter.None).Rows.Cast<T>().ToList();

    public List<RunRow> Runs() => Report<RunRow>("runs");

    public void Dispose()
    {
        Store.Dispose();
        dir.Dispose();
    }
}

/// <summary>
/// Runs written straight into the runs table, as a store filled before ingest refused absurd times may hold them
/// (an older install, an import before the fix): reports must stay bounded over such a store whatever ingest accepts today.
/// </summary>
public static class LegacyRuns
{
    public static readonly DateTimeOffset YearOne = new(1, 1, 1, 0, 0, 0, TimeSpan.Zero);

    public static readonly DateTimeOffset YearNineThousand = new(9999, 12, 31, 23, 59, 59, 999, TimeSpan.Zero);

    /// <summary>A run of <paramref name="app"/> by <paramref name="user"/> from <paramref name="start"/> to <paramref name="end"/> (ended by its exit).</summary>
    public static void Insert(SqliteStore store, string app, string user, DateTimeOffset start, DateTimeOffset end, int pid = 4242)
    {
        store.Write((connection, tx) =>
        {
            using var cmd = connection.CreateCommand();
            cmd.Transaction = tx;
            cmd.CommandText = """
                INSERT OR IGNORE INTO apps(path) VALUES($app);
                INSERT OR IGNORE INTO users(name) VALUES($user);
                INSERT INTO runs(start_seq, exit_seq, app_id, user_id, host, pid, session, start, end, ended_by)
                VALUES((SELECT COALESCE(MAX(start_seq), 0) + 1000000 FROM runs), NULL, (SELECT id FROM apps WHERE path = $app),
                       (SELECT id FROM users WHERE name = $user), 'legacy-host', $pid, NULL, $start, $end, 1);
                """;
            cmd.Parameters.AddWithValue("$app", app);
            cmd.Parameters.AddWithValue("$user", user);
            cmd.Parameters.AddWithValue("$pid", pid);
            cmd.Parameters.AddWithValue("$start", start.ToUnixTimeMilliseconds());
            cmd.Parameters.AddWithValue("$end", end.ToUnixTimeMilliseconds());
            return cmd.ExecuteNonQuery();
        });
        store.RebuildAggregates(); // the runs came around ingest
    }
}
