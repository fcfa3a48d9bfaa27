using Amazon.Runtime;
using SessionTrail.Core.Records;
using SessionTrail.Server.Export;
using SessionTrail.Server.Reports;

namespace SessionTrail.Server.Tests.Export;

/// <summary>
/// The Parquet lake (<c>export --format parquet</c>) read back by DuckDB in process: the reports computed there with SQL
/// equal ReportService's on the same store, first and after incremental exports, to a folder and to S3 (s3rver).
/// The fleet: 3 hosts over 75 days from 2026-11-01 (month and year boundaries), pids reused, a run over midnight
/// every week, runs ended by their session's end, a host whose user is unknown (null), and open runs on the last day.
/// </summary>
public sealed class LakeExportTests : IDisposable
{
    private const int Days = 75;
    private static readonly string[] Apps = [@"C:\Windows\notepad.exe", @"C:\Program Files\Office\EXCEL.EXE", "/usr/bin/vim", @"C:\Tools\cmd.exe"];

    private readonly StoreFixture s = new(nowMinutes: (Days + 2) * 1440);
    private readonly TempDataDir lake = new();

    public LakeExportTests() => s.IngestInBatches(Fleet(new Random(14)), new Random(4), 200);

    public void Dispose()
    {
        s.Dispose();
        lake.Dispose();
    }

    /// <summary>Minute <paramref name="minute"/> of day <paramref name="day"/> (day 0 is 2026-11-01), as minutes after R.T0 (08:00).</summary>
    private static double At(int day, double minute) => (day * 1440) + minute - (8 * 60);

    private static List<TrailRecord> Fleet(Random random)
    {
        var records = new List<TrailRecord>();
        var n = 0;
        string Id() => $"r{n++}";
        for (var day = 0; day < Days; day++)
        {
            foreach (var host in new[] { "h1", "h2", "h3" })
            {
                var session = $"{host}-{day}";
                string? user = host == "h3" ? null : (day % 2 == 0 ? "alice" : "bob") + host;
                var open = day == Days - 1 && host != "h1"; // the last day's sessions on h2 and h3 have not ended
                var sessionStart = At(day, 9 * 60 + random.Next(60));
                records.Add(R.SessionStart(Id(), session, sessionStart, user, host));
                var last = sessionStart;
                var runs = 2 + random.Next(5);
                for (var i = 0; i < runs; i++)
                {
                    var pid = 100 + random.Next(3); // reused within the session
                    var start = last + 1 + random.Next(30);
                    records.Add(R.Start(Id(), pid, start, Apps[random.Next(Apps.Length)], user, session, host));
                    var length = 1 + random.Next(90);
                    if (random.Next(6) > 0 || open)
                    {
                        records.Add(R.Exit(Id(), pid, start + length, host));
                    }

                    last = start + length;
                }

                if (host == "h1" && day % 7 == 3)
                {
                    // 23:50 to 00:20: a run over midnight (its session ends after it, the next day).
                    records.Add(R.Start(Id(), 999, At(day, (23 * 60) + 50), Apps[0], user, session, host));
                    records.Add(R.Exit(Id(), 999, At(day, (24 * 60) + 20), host));
                    last = At(day, (24 * 60) + 20);
                }

                if (open)
                {
                    records.Add(R.Start(Id(), 500, last + 5, Apps[1], user, session, host)); // open: no exit, no session end
                }
                else
                {
                    records.Add(R.SessionEnd(Id(), session, last + random.Next(20), host));
                }
            }
        }

        return records;
    }

    private static ReportFilter[] Windows =>
    [
        ReportFilter.None,
        new(From: new DateTimeOffset(2026, 11, 20, 12, 0, 0, TimeSpan.Zero), To: new DateTimeOffset(2027, 1, 1, 0, 10, 0, TimeSpan.Zero)),
        new(From: new DateTimeOffset(2027, 1, 14, 0, 0, 0, TimeSpan.Zero)),
    ];

    /// <summary>Every report's rows over the lake equal ReportService's, for each window.</summary>
    private void AssertLakeEqualsReports(string root)
    {
        using var duck = new LakeDuckDb(root, s.Clock.GetUtcNow());
        foreach (var f in Windows)
        {
            Assert.Equal(s.Reports.Run("top-apps", f).Rows, duck.TopApps(f));
            Assert.Equal(s.Reports.Run("launches", f).Rows, duck.Launches(f));
            Assert.Equal(s.Reports.Run("last-used", f).Rows, duck.LastUsed(f));
            Assert.Equal(s.Reports.Run("runs", f).Rows, duck.Runs(f));
        }

        Assert.Equal(s.Reports.Run("sessions", ReportFilter.None).Rows, duck.Sessions());
    }

    private async Task<LakeExportSummary> ExportAsync(string target, AWSCredentials? credentials = null, string? endpoint = null)
    {
        using var destination = LakeDestination.Open(target, endpoint, "us-east-1", credentials);
        return await new LakeExporter(s.Store).ExportAsync(destination, logs: false);
    }

    private Dictionary<string, DateTime> Files() => Directory.GetFiles(lake.Path, "*", SearchOption.AllDirectories)
        .ToDictionary(f => Path.GetRelativePath(lake.Path, f).Replace('\\', '/'), File.GetLastWriteTimeUtc);

    private static long Day(int day) => new DateTimeOffset(2026, 11, 1, 0, 0, 0, TimeSpan.Zero).AddDays(day).ToUnixTimeMilliseconds() / 86_400_000;

    [Fact]
    public async Task TheLakeHoldsEveryRunAndSessionByDayAndItsReportsEqualTheStores()
    {
        var summary = await ExportAsync(lake.Path);

        Assert.True(summary.First);
        var files = Files().Keys.ToHashSet();
        Assert.Equal(Days * 2, files.Count); // a runs and a sessions file per day, nothing else (no temporary file left)
        Assert.Contains("runs/year=2026/month=12/day=31/runs.parquet", files);
        Assert.Contains("sessions/year=2027/month=01/day=14/sessions.parquet", files);
        Assert.Equal(s.Runs().Count, summary.Tables.Single(t => t.Table == "runs").Rows);
        AssertLakeEqualsReports(lake.Path);

        using var duck = new LakeDuckDb(lake.Path, s.Clock.GetUtcNow());
        // The run over midnight is filed under the day it started; hive partitions are typed columns.
        Assert.Equal(1, duck.Scalar("SELECT COUNT(*) FROM runs WHERE pid = 999 AND year = 2026 AND month = 11 AND day = 4 AND day(\"end\") = 5"));
        Assert.Equal(2, duck.Scalar("SELECT COUNT(*) FROM runs WHERE ended_by = 'open'"));
        Assert.Equal(0, duck.Scalar("SELECT COUNT(*) FROM runs WHERE ended_by = 'open' AND seconds IS NOT NULL"));
        Assert.True(duck.Scalar("SELECT COUNT(*) FROM runs WHERE \"user\" IS NULL") > 0);
        Assert.Equal(
            duck.Scalar("SELECT COUNT(*) FROM runs"),
            duck.Scalar("SELECT COUNT(*) FROM runs WHERE make_date(year, month::BIGINT, day::BIGINT) = CAST(start AT TIME ZONE 'UTC' AS DATE)"));
    }

    [Fact]
    public async Task AnExportAfterMoreIngestRewritesOnlyTheChangedDays()
    {
        await ExportAsync(lake.Path);
        var before = Files();
        Assert.Equal(0, (await ExportAsync(lake.Path)).Tables.Sum(t => t.Days)); // nothing new: nothing rewritten
        Assert.Equal(before, Files());

        // Day 12 (2026-11-13) gets a run of a session of that day (its runs file and the session's day are rewritten), then
        // the run's exit, late (its day again), and a new day (day 80) a new session with a run.
        s.Ingest(R.Start("late-start", 4242, At(12, 10 * 60), Apps[2], "carol", "h1-12", "h1"));
        await ExportAsync(lake.Path);
        var afterStart = Files();
        s.Ingest(
            R.Exit("late-exit", 4242, At(12, 10 * 60 + 3)),
            R.SessionEnd("late-end", $"h3-{Days - 1}", At(Days - 1, 23 * 60), "h3"), // closes the open run of the last day
            R.SessionStart("new-s", "h2-80", At(80, 9 * 60), "dave", "h2"),
            R.Start("new-r", 7777, At(80, 9 * 60 + 1), Apps[3], "dave", "h2-80", "h2"));
        var summary = await ExportAsync(lake.Path);
        var after = Files();

        Assert.False(summary.First);
        var rewritten = after.Where(f => !afterStart.TryGetValue(f.Key, out var t) || t != f.Value).Select(f => f.Key).Order(StringComparer.Ordinal);
        Assert.Equal(
            [
                LakeExporter.Key("runs", Day(12)), LakeExporter.Key("runs", Day(Days - 1)), LakeExporter.Key("runs", Day(80)),
                LakeExporter.Key("sessions", Day(Days - 1)), LakeExporter.Key("sessions", Day(80)),
            ],
            rewritten);
        var changedByStart = afterStart.Where(f => before[f.Key] != f.Value).Select(f => f.Key).Order(StringComparer.Ordinal).ToList();
        Assert.Equal([LakeExporter.Key("runs", Day(12)), LakeExporter.Key("sessions", Day(12))], changedByStart);
        AssertLakeEqualsReports(lake.Path);
        Assert.Equal("exit", s.Runs().Single(r => r.Pid == 4242).EndedBy);
        Assert.DoesNotContain(s.Runs(), r => r.Session == $"h3-{Days - 1}" && r.EndedBy == "open");
    }

    [Fact]
    public async Task AnExportToS3IsTheSameLakeAndRewritesOnlyTheChangedDaysObjects()
    {
        await using var s3 = await S3rverServer.StartAsync("lake");
        var credentials = new BasicAWSCredentials(S3rverServer.AccessKey, S3rverServer.SecretKey);
        await ExportAsync("s3://lake/fleet/", credentials, s3.Url);
        var keys = await s3.KeysAsync("lake");
        Assert.Equal(Days * 2, keys.Count);
        Assert.All(keys, k => Assert.StartsWith("fleet/", k, StringComparison.Ordinal));
        await DownloadAsync(s3, keys);
        AssertLakeEqualsReports(lake.Path);
        var before = await ModifiedAsync(s3);

        await Task.Delay(1100); // object times are in seconds
        s.Ingest(R.Exit("late-exit", 500, At(Days - 1, 23 * 60), "h2"));
        var summary = await ExportAsync("s3://lake/fleet", credentials, s3.Url);
        var after = await ModifiedAsync(s3);

        Assert.Equal(1, summary.Tables.Single(t => t.Table == "runs").Days);
        Assert.Equal([$"fleet/{LakeExporter.Key("runs", Day(Days - 1))}"], after.Where(o => before[o.Key] != o.Value).Select(o => o.Key));
        await DownloadAsync(s3, await s3.KeysAsync("lake"));
        AssertLakeEqualsReports(lake.Path);
    }

    private async Task DownloadAsync(S3rverServer s3, List<string> keys)
    {
        foreach (var key in keys)
        {
            var path = Path.Combine(lake.Path, key["fleet/".Length..]);
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            await File.WriteAllBytesAsync(path, await s3.GetAsync("lake", key));
        }
    }

    private static async Task<Dictionary<string, DateTime?>> ModifiedAsync(S3rverServer s3)
    {
        using var client = s3.Client();
        var page = await client.ListObjectsV2Async(new Amazon.S3.Model.ListObjectsV2Request { BucketName = "lake" });
        return page.S3Objects.ToDictionary(o => o.Key, o => o.LastModified);
    }

    [Fact]
    public async Task LogRecordsGoToTheDayOfTheirTimeWithLogsAndOnlyNewDaysAfter()
    {
        LogRecord Log(string id, int day, double minute, string message) => new()
        {
            Id = id, Time = R.At(At(day, minute)), Host = "h1", Session = $"h1-{day}", Source = "winlog", Channel = "System",
            Provider = "Service Control Manager", EventId = 7036, Level = "Information", Message = message,
            Fields = new Dictionary<string, string> { ["param1"] = "Spooler, \"quoted\"" },
        };
        s.Ingest(Log("l1", 30, 600, "first"), Log("l2", 30, 1439.9, "last of the day"), Log("l3", 31, 0.1, "next day, ünïcode"));
        using (var destination = LakeDestination.Open(lake.Path, null, "us-east-1"))
        {
            await new LakeExporter(s.Store).ExportAsync(destination, logs: false);
        }

        Assert.DoesNotContain(Files().Keys, k => k.StartsWith("logs/", StringComparison.Ordinal));
        using (var destination = LakeDestination.Open(lake.Path, null, "us-east-1"))
        {
            var summary = await new LakeExporter(s.Store).ExportAsync(destination, logs: true);
            Assert.Equal(new LakeTableSummary("logs", 2, 3), summary.Tables.Single(t => t.Table == "logs"));
            Assert.Equal(0, summary.Tables.Single(t => t.Table == "runs").Days); // runs and sessions were exported already
        }

        s.Ingest(Log("l4", 31, 60, "later"));
        using (var destination = LakeDestination.Open(lake.Path, null, "us-east-1"))
        {
            Assert.Equal(new LakeTableSummary("logs", 1, 2), (await new LakeExporter(s.Store).ExportAsync(destination, logs: true)).Tables.Single(t => t.Table == "logs"));
        }

        using var duck = new LakeDuckDb(lake.Path, s.Clock.GetUtcNow());
        duck.Execute($"CREATE VIEW logs AS SELECT * FROM read_parquet('{lake.Path}/logs/**/*.parquet', hive_partitioning = true)");
        Assert.Equal(
            ["l1 01 first", "l2 01 last of the day", "l3 02 next day, ünïcode", "l4 02 later"],
            duck.Rows("SELECT id, day, message FROM logs ORDER BY time", r => $"{r.GetString(0)} {r.GetValue(1)} {r.GetString(2)}"));
        Assert.Equal(
            "{\"param1\":\"Spooler, \\\"quoted\\\"\"}",
            duck.Rows("SELECT fields FROM logs WHERE id = 'l1'", r => r.GetString(0)).Single());
    }

    /// <summary>deploy/athena/TABLE.parquet.ddl.sql declares the lake's columns, in the files' order and types, and projects the days.</summary>
    [Theory]
    [InlineData("runs")]
    [InlineData("sessions")]
    [InlineData("logs")]
    public void TheAthenaDdlDeclaresTheFilesColumnsAndProjectsTheDays(string name)
    {
        var table = new[] { LakeTable.Runs, LakeTable.Sessions, LakeTable.Logs }.Single(t => t.Name == name);
        var ddl = File.ReadAllText(AthenaDuckDb.Deploy($"{name}.parquet.ddl.sql"));
        var body = ddl[(ddl.IndexOf($"`sessiontrail_{name}`(", StringComparison.Ordinal) + name.Length + 16)..ddl.IndexOf("PARTITIONED BY", StringComparison.Ordinal)];
        var declared = body.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(l => l.TrimEnd(',', ')')).ToList();
        Assert.Equal(
            table.Columns.Select(c => $"`{c.Name}` " + c.Type switch { LakeType.Text => "string", LakeType.Long => "bigint", LakeType.Double => "double", _ => "timestamp" }),
            declared);
        Assert.Contains("STORED AS PARQUET", ddl, StringComparison.Ordinal);
        Assert.Contains("'projection.enabled'='true'", ddl, StringComparison.Ordinal);
        Assert.Contains($"'storage.location.template'='s3://DOC-EXAMPLE-BUCKET/sessiontrail/{name}/year=${{year}}/month=${{month}}/day=${{day}}/'", ddl, StringComparison.Ordinal);
        foreach (var part in new[] { "year", "month", "day" })
        {
            Assert.Contains($"'projection.{part}.type'='integer'", ddl, StringComparison.Ordinal);
            Assert.Contains($"'projection.{part}.digits'='{(part == "year" ? 4 : 2)}'", ddl, StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData("s3://", "'' is not an S3 bucket name")]
    [InlineData("s3://My_Bucket/x", "'My_Bucket' is not an S3 bucket name")]
    [InlineData("S3://bucket/x", "is not an S3 URL")]
    [InlineData("s3://bucket//x", "has an empty path segment")]
    public void ABadS3UrlIsRefusedBeforeAnythingIsRead(string url, string message)
    {
        var e = Assert.Throws<ArgumentException>(() => LakeDestination.Open(url, null, "us-east-1"));
        Assert.Contains(message, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AFolderIsNamedByItsFullPathWithoutATrailingSlashAndTakesNoEndpoint()
    {
        using (var destination = LakeDestination.Open(lake.Path + "/./", null, "us-east-1"))
        {
            Assert.Equal(lake.Path, destination.Name); // the same marks whichever way the folder is written
        }

        var e = Assert.Throws<ArgumentException>(() => LakeDestination.Open(lake.Path, "http://127.0.0.1:9", "us-east-1"));
        Assert.Contains("--s3-endpoint goes with --out s3://", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AnUnwritableFolderIsRefusedAndNothingIsWrittenOrMarked()
    {
        var file = Path.Combine(lake.Path, "a-file");
        await File.WriteAllTextAsync(file, "x");
        Assert.ThrowsAny<IOException>(() => LakeDestination.Open(Path.Combine(file, "lake"), null, "us-east-1"));
        Assert.Equal(["a-file"], Files().Keys);

        // A bucket that does not exist: the first PUT fails, naming it; no mark is kept, so the next export starts over.
        await using var s3 = await S3rverServer.StartAsync("other");
        var credentials = new BasicAWSCredentials(S3rverServer.AccessKey, S3rverServer.SecretKey);
        var e = await Assert.ThrowsAsync<IOException>(() => ExportAsync("s3://missing/x", credentials, s3.Url));
        Assert.Contains("s3://missing/x/", e.Message, StringComparison.Ordinal);
        using (var client = s3.Client())
        {
            await client.PutBucketAsync("missing");
        }

        Assert.True((await ExportAsync("s3://missing/x", credentials, s3.Url)).First);
    }
}
