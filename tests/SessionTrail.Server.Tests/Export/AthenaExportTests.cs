using System.Text;
using System.Text.Json;
using SessionTrail.Core.Formats;
using SessionTrail.Server.Export;
using SessionTrail.Server.Reports;

namespace SessionTrail.Server.Tests.Export;

/// <summary>
/// The export read by an independent engine (DuckDB) through the seed's DDL and its five queries,
/// unchanged, and the reports compared with them (issue 3 item 9). Worked example, 2026-11-01 (UTC):
///   session s1, alice, host h1, 08:00–10:00:
///     notepad pid 100  08:10–08:40 exit           1800 s
///     excel   pid 200  08:20–(10:00) session end  6000 s
///     notepad pid 100  09:00–09:20 exit           1200 s   (pid 100 reused in the session)
///   session s2, bob, host h2, 09:00–11:00:
///     cmd     pid 100  09:30–09:50 exit           1200 s   (pid 100 again, same day, other session)
/// Truth (SessionTrail): 4 runs; notepad 2 runs 3000 s, excel 1 run 6000 s, cmd 1 run 1200 s.
/// The seed's queries, derived by hand:
///   e (top 10 by time) joins each notepad start of s1 with both pid-100 exits of s1:
///     08:10→08:40 1800, 08:10→09:20 4200, 09:00→08:40 -1200, 09:00→09:20 1200; plus excel 6000 and
///     cmd 1200 (its own session only) = 6 rows; notepad sums to 6000 s instead of 3000.
///   a (rows of a day) joins on pid and day only: each of the 3 pid-100 starts with the 3 pid-100 exits
///     of the day (9 rows) + excel with no exit (1 row) = 10 rows for 4 runs.
///   b (count per process) counts every row: notepad 2 starts + 2 exits = 4, cmd 2, excel 1, session_end 2.
///   c (user 'ali%'): s1's 3 starts + 2 exits + session_end = 6 rows. d (2026/11): 6 + 3 = 9 rows.
/// </summary>
public sealed class AthenaExportTests : IDisposable
{
    private const string Notepad = @"C:\Windows\notepad.exe";
    private const string Excel = @"C:\Program Files\Microsoft Office\root\Office16\EXCEL.EXE";
    private const string Cmd = @"C:\Tools\cmd.exe";
    private const string CsvDdl = "appstream_applications.ddl.sql";
    private const string JsonlDdl = "appstream_applications_jsonl.ddl.sql";

    private readonly StoreFixture s = new(nowMinutes: 24 * 60);
    private readonly TempDataDir outDir = new();

    public AthenaExportTests()
    {
        s.Ingest(
            R.SessionStart("s1a", "s1", 0, "alice"),
            R.SessionStart("s2a", "s2", 60, "bob", host: "h2"),
            R.Start("a", 100, 10, Notepad, user: null, session: "s1"),
            R.Start("b", 200, 20, Excel, user: null, session: "s1"),
            R.Exit("c", 100, 40),
            R.Start("d", 100, 60, Notepad, user: null, session: "s1"),
            R.Exit("e", 100, 80),
            R.Start("f", 100, 90, Cmd, user: null, session: "s2", host: "h2"),
            R.Exit("g", 100, 110, host: "h2"),
            R.SessionEnd("s1e", "s1", 120),
            R.SessionEnd("s2e", "s2", 180, host: "h2"));
    }

    public void Dispose()
    {
        s.Dispose();
        outDir.Dispose();
    }

    private AthenaExportSummary Export(AthenaFormat format, List<string>? warnings = null, bool includeOpen = false, DateTimeOffset? from = null, DateTimeOffset? to = null) =>
        new AthenaExporter(s.Store).Export(new AthenaExportRequest(format, outDir.Path, from, to, includeOpen, Now: s.Clock.Now), w => warnings?.Add(w));

    private static (string Process, long Seconds) ProcessSeconds(JsonElement row, string seconds) =>
        (row.GetProperty("process").GetString()!, row.GetProperty(seconds).GetInt64());

    [Fact]
    public void Seed_query_e_multiplies_a_reused_pid_where_SessionTrail_pairs_it()
    {
        Export(AthenaFormat.Csv);
        var seed = AthenaDuckDb.Query(CsvDdl, outDir.Path, "queries/csv/5-top10-time.sql")
            .Select(r => ProcessSeconds(r, "total_process_time")).Order().ToList();
        Assert.Equal(
            [(Excel, 6000), (Cmd, 1200), (Notepad, -1200), (Notepad, 1200), (Notepad, 1800), (Notepad, 4200)],
            seed);

        var runs = s.Report<RunRow>("runs").Select(r => (r.App, (long)r.Seconds)).Order().ToList();
        Assert.Equal([(Excel, 6000), (Cmd, 1200), (Notepad, 1200), (Notepad, 1800)], runs);

        // Where the pid is not reused (excel, cmd) the seed's query is right and the two agree.
        Assert.Equal(runs.Where(r => r.App != Notepad), seed.Where(r => r.Process != Notepad));
        Assert.Equal(6000, seed.Where(r => r.Process == Notepad).Sum(r => r.Seconds));
        Assert.Equal(
            [new TopAppRow(Excel, 1, 1, 6000), new TopAppRow(Notepad, 2, 1, 3000), new TopAppRow(Cmd, 1, 1, 1200)],
            s.Report<TopAppRow>("top-apps"));
    }

    [Fact]
    public void Seed_queries_a_to_d_on_the_worked_example()
    {
        Export(AthenaFormat.Csv);
        var a = AthenaDuckDb.Query(CsvDdl, outDir.Path, "queries/csv/1-runs-of-day.sql", "'?'='01'");
        Assert.Equal(10, a.Count);
        Assert.Equal(9, a.Count(r => r.GetProperty("pid").GetInt64() == 100));
        Assert.Single(a, r => r.GetProperty("process").GetString() == Excel && r.GetProperty("endtime").ValueKind == JsonValueKind.Null);

        var b = AthenaDuckDb.Query(CsvDdl, outDir.Path, "queries/csv/2-process-counts.sql")
            .Select(r => (r.GetProperty("process").GetString(), r.GetProperty("count(process)").GetInt64())).Order().ToList();
        Assert.Equal([(Excel, 1), (Cmd, 2), (Notepad, 4), ("session_end", 2)], b);

        // SessionTrail's launches = the seed's count of 4688 rows only (query b also counts exits and session_end rows).
        Assert.Equal([new LaunchRow(Notepad, 2, 1), new LaunchRow(Excel, 1, 1), new LaunchRow(Cmd, 1, 1)], s.Report<LaunchRow>("launches"));

        var c = AthenaDuckDb.Query(CsvDdl, outDir.Path, "queries/csv/3-user-processes.sql", "'?%'='ali%'");
        Assert.Equal(6, c.Count);
        Assert.All(c, r => Assert.Equal("s1", r.GetProperty("session").GetString()));
        var d = AthenaDuckDb.Query(CsvDdl, outDir.Path, "queries/csv/4-month.sql", "'??'='11'", "'?'='2026'");
        Assert.Equal(9, d.Count);
        Assert.Empty(AthenaDuckDb.Query(CsvDdl, outDir.Path, "queries/csv/4-month.sql", "'??'='12'", "'?'='2026'"));

        // The DDL's columns read the exported fields where the seed's script puts them.
        var end = Assert.Single(d, r => r.GetProperty("pid").GetInt64() == -1 && r.GetProperty("session").GetString() == "s2");
        Assert.Equal("2026-11-01T11:00:00Z", end.GetProperty("process_time").GetString());
        Assert.Equal("11/1/2026", end.GetProperty("date").GetString());
        Assert.Equal("bob", end.GetProperty("username").GetString());
        Assert.Equal("stack", end.GetProperty("stack").GetString());
        Assert.Equal("fleet", end.GetProperty("fleet").GetString());
        Assert.Equal(4689, end.GetProperty("event_type").GetInt64());
    }

    [Fact]
    public void Rewritten_jsonl_queries_give_the_reports_answers()
    {
        Export(AthenaFormat.Jsonl);
        var top = AthenaDuckDb.Query(JsonlDdl, outDir.Path, "queries/jsonl/5-top10-time.sql")
            .Select(r => ProcessSeconds(r, "total_process_time")).Order().ToList();
        Assert.Equal(s.Report<RunRow>("runs").Select(r => (r.App, (long)r.Seconds)).Order(), top);

        var counts = AthenaDuckDb.Query(JsonlDdl, outDir.Path, "queries/jsonl/2-process-counts.sql")
            .Select(r => (r.GetProperty("process").GetString(), r.GetProperty("runs").GetInt64())).Order().ToList();
        Assert.Equal(s.Report<LaunchRow>("launches").Select(l => ((string?)l.App, l.Launches)).Order(), counts);

        Assert.Equal(4, AthenaDuckDb.Query(JsonlDdl, outDir.Path, "queries/jsonl/1-runs-of-day.sql", "'?'='01'").Count);
        Assert.Equal(3, AthenaDuckDb.Query(JsonlDdl, outDir.Path, "queries/jsonl/3-user-processes.sql", "'?%'='ali%'").Count);
        Assert.Equal(9, AthenaDuckDb.Query(JsonlDdl, outDir.Path, "queries/jsonl/4-month.sql", "'??'='11'", "'?'='2026'").Count);
    }

    [Fact]
    public void A_comma_in_a_path_breaks_the_seed_table_and_is_warned_but_jsonl_keeps_it()
    {
        const string Odd = @"C:\Apps\Smith, Jones\tool.exe";
        s.Ingest(
            R.SessionStart("s3a", "s3", 200, "carol"),
            R.Start("h", 300, 210, Odd, user: null, session: "s3"),
            R.SessionEnd("s3e", "s3", 230));
        var warnings = new List<string>();
        var summary = Export(AthenaFormat.Csv, warnings);
        Assert.Equal(1, summary.Warnings);
        var warning = Assert.Single(warnings);
        Assert.StartsWith("appstream_applications/year=2026/month=11/day=01/s3.csv line 2: field 'process' contains a comma", warning, StringComparison.Ordinal);

        // Athena (LazySimpleSerDe) splits the path and shifts the rest: the user's query loses the run...
        var seed = AthenaDuckDb.Query(CsvDdl, outDir.Path, "queries/csv/3-user-processes.sql", "'?%'='carol%'");
        Assert.Equal("session_end", Assert.Single(seed).GetProperty("process").GetString());

        // ... which sits in the month with half the path as process, the rest as host, no pid, the session id as user.
        var month = AthenaDuckDb.Query(CsvDdl, outDir.Path, "queries/csv/4-month.sql", "'??'='11'", "'?'='2026'");
        var start = Assert.Single(month, r => r.GetProperty("process").GetString() == @"C:\Apps\Smith");
        Assert.Equal(@" Jones\tool.exe", start.GetProperty("host").GetString());
        Assert.Equal(JsonValueKind.Null, start.GetProperty("pid").ValueKind); // "h1" is not a bigint
        Assert.Equal("s3", start.GetProperty("username").GetString());

        Export(AthenaFormat.Jsonl);
        var json = AthenaDuckDb.Query(JsonlDdl, outDir.Path, "queries/jsonl/3-user-processes.sql", "'?%'='carol%'");
        Assert.Equal(Odd, Assert.Single(json).GetProperty("process").GetString());
    }

    [Fact]
    public void Export_writes_one_object_per_ended_session_and_is_repeatable()
    {
        s.Ingest(R.SessionStart("s4a", "s4", 300, "dave"), R.Start("i", 400, 310, Cmd, user: null, session: "s4"));
        var summary = Export(AthenaFormat.Csv);
        Assert.Equal(2, summary.Sessions);
        Assert.Equal(1, summary.OpenSkipped);
        Assert.Equal(9, summary.Rows);
        var day = Path.Combine(outDir.Path, "appstream_applications", "year=2026", "month=11", "day=01");
        Assert.Equal(["s1.csv", "s2.csv"], Directory.GetFiles(day).Select(Path.GetFileName).Order());
        var first = File.ReadAllBytes(Path.Combine(day, "s1.csv"));
        Assert.Equal(first, AthenaCsvWriter.Write(
            new AthenaSession { Id = "s1", End = R.At(120), Fields = new() { User = "alice", Stack = "stack", Fleet = "fleet" } },
            [
                R.Start("a", 100, 10, Notepad, user: null),
                R.Start("b", 200, 20, Excel, user: null),
                R.Exit("c", 100, 40),
                R.Start("d", 100, 60, Notepad, user: null),
                R.Exit("e", 100, 80),
            ]).Content);
        Assert.Contains("\r\n4689,11/1/2026,08:40:00,C:\\Windows\\notepad.exe,h1,100,stack,s1,alice,", Encoding.UTF8.GetString(first), StringComparison.Ordinal);

        Export(AthenaFormat.Csv);
        Assert.Equal(first, File.ReadAllBytes(Path.Combine(day, "s1.csv")));

        // --include-open: s4 written as ending now (2026-11-02 08:00); --from/--to select by session end.
        var open = Export(AthenaFormat.Csv, includeOpen: true, from: R.At(24 * 60), to: R.At(48 * 60));
        Assert.Equal((1, 0), (open.Sessions, open.OpenSkipped));
        var s4 = File.ReadAllText(Path.Combine(outDir.Path, "appstream_applications", "year=2026", "month=11", "day=02", "s4.csv"));
        Assert.EndsWith(",session_end,2026-11-02T08:00:00Z\r\n", s4, StringComparison.Ordinal);
    }
}
