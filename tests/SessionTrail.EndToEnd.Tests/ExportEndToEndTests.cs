using SessionTrail.Core.Records;
using SessionTrail.EndToEnd.Tests.Infrastructure;
using SessionTrail.Server.Store;
using SessionTrail.TestKit;

namespace SessionTrail.EndToEnd.Tests;

/// <summary>`sessiontrail export` and the licence reports from the real executable.</summary>
public sealed class ExportEndToEndTests : IDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);
    private static readonly DateTimeOffset T0 = new(2026, 11, 1, 8, 0, 0, TimeSpan.Zero);
    private readonly string _dir = Directory.CreateTempSubdirectory("st-export-").FullName;

    public ExportEndToEndTests()
    {
        using var store = SqliteStore.Open(_dir);
        store.Ingest(
        [
            new SessionRecord { Id = "s1", Type = SessionEventType.Start, Session = "sess-1", Time = T0, Host = "h", User = "alice" },
            new ProcessRecord { Id = "p1", Type = ProcessEventType.Start, Pid = 4660, Time = T0.AddMinutes(1), Host = "h", Session = "sess-1", Executable = @"C:\A, B\x.exe", User = "S-1-5-21-1" },
            new ProcessRecord { Id = "p2", Type = ProcessEventType.Exit, Pid = 4660, Time = T0.AddMinutes(2), Host = "h", Session = "sess-1" },
            new SessionRecord { Id = "s2", Type = SessionEventType.End, Session = "sess-1", Time = T0.AddMinutes(3), Host = "h" },
            new SessionRecord { Id = "s3", Type = SessionEventType.Start, Session = "sess-2", Time = T0, Host = "h", User = "bob" },
        ]);
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task ExportWritesTheSeedLayoutWarnsAboutTheCommaAndNotesOpenSessions()
    {
        var outDir = Path.Combine(_dir, "lake");
        var (code, stdout, stderr) = await TrailProcess.RunAsync(Timeout, "export", "--format", "athena-csv", "--out", outDir, "--data", _dir);
        Assert.Equal(0, code);
        Assert.StartsWith("exported 1 sessions, 3 rows,", stdout, StringComparison.Ordinal);
        Assert.Contains("warning: appstream_applications/year=2026/month=11/day=01/sess-1.csv line 2: field 'process' contains a comma", stderr, StringComparison.Ordinal);
        Assert.Contains("note: 1 sessions have not ended", stderr, StringComparison.Ordinal);
        var bytes = File.ReadAllBytes(Path.Combine(outDir, "appstream_applications", "year=2026", "month=11", "day=01", "sess-1.csv"));
        Assert.Equal([0xEF, 0xBB, 0xBF], bytes[..3]);

        var (jsonCode, _, _) = await TrailProcess.RunAsync(Timeout, "export", "--format", "athena-jsonl", "--out", outDir, "--data", _dir, "--include-open");
        Assert.Equal(0, jsonCode);
        Assert.Equal(2, Directory.GetFiles(Path.Combine(outDir, "appstream_applications_jsonl"), "*.jsonl", SearchOption.AllDirectories).Length);
    }

    [Fact]
    public async Task ParquetGoesToAFolderOrS3AndASecondExportWritesOnlyWhatChanged()
    {
        var outDir = Path.Combine(_dir, "parquet");
        var (code, stdout, stderr) = await TrailProcess.RunAsync(Timeout, "export", "--format", "parquet", "--out", outDir, "--data", _dir);
        Assert.True(code == 0, stderr);
        Assert.StartsWith("exported every day: runs 1 days 1 rows, sessions 1 days 2 rows, ", stdout, StringComparison.Ordinal);
        Assert.Equal(
            ["runs/year=2026/month=11/day=01/runs.parquet", "sessions/year=2026/month=11/day=01/sessions.parquet"],
            Directory.GetFiles(outDir, "*", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(outDir, f)).Order(StringComparer.Ordinal));
        (code, stdout, _) = await TrailProcess.RunAsync(Timeout, "export", "--format", "parquet", "--out", outDir, "--data", _dir, "--logs");
        Assert.Equal(0, code);
        Assert.StartsWith("exported the days changed since the last export: runs 0 days 0 rows, sessions 0 days 0 rows, logs 0 days 0 rows, 0 bytes", stdout, StringComparison.Ordinal);

        await using var s3 = await S3rverServer.StartAsync("lake");
        (code, stdout, stderr) = await TrailProcess.RunAsync(Timeout, S3SinkEndToEndTests.Credentials, "export", "--format", "parquet", "--out", "s3://lake/st", "--s3-endpoint", s3.Url, "--data", _dir);
        Assert.True(code == 0, stderr);
        Assert.Contains("to s3://lake/st/ in ", stdout, StringComparison.Ordinal);
        Assert.Equal(["st/runs/year=2026/month=11/day=01/runs.parquet", "st/sessions/year=2026/month=11/day=01/sessions.parquet"], await s3.KeysAsync("lake"));
    }

    [Theory]
    [InlineData("s3://Lake_1/x", "sessiontrail export: --out 's3://Lake_1/x': 'Lake_1' is not an S3 bucket name")]
    [InlineData("FILE/lake", "sessiontrail export: --out ")]
    [InlineData("lake --from 2026-11-01", "sessiontrail export: --format parquet writes every day that changed")]
    public async Task ABadParquetDestinationIsOneClearLineAndWritesNothing(string target, string message)
    {
        var file = Path.Combine(_dir, "FILE");
        await File.WriteAllTextAsync(file, "not a folder");
        var words = target.Replace("FILE", file, StringComparison.Ordinal).Replace("lake ", Path.Combine(_dir, "lake") + " ", StringComparison.Ordinal).Split(' ');
        var (code, stdout, stderr) = await TrailProcess.RunAsync(Timeout, ["export", "--format", "parquet", "--out", .. words, "--data", _dir]);
        Assert.Equal(1, code);
        Assert.Equal("", stdout);
        Assert.StartsWith(message, stderr, StringComparison.Ordinal);
        Assert.Single(stderr.TrimEnd().Split('\n'));
        Assert.DoesNotContain("   at ", stderr, StringComparison.Ordinal);
        using var store = SqliteStore.OpenReadOnly(_dir);
        using var connection = store.OpenConnection();
        using var cmd = connection.CreateCommand();
        cmd.CommandText = "SELECT COUNT(*) FROM lake_exports";
        Assert.Equal(0L, cmd.ExecuteScalar()); // nothing marked as exported
    }

    [Theory]
    [InlineData("--date-format", "M,d,yyyy", "--date-format 'M,d,yyyy'")]
    [InlineData("--time-zone", "Mars/Olympus", "--time-zone 'Mars/Olympus' is not a known time zone")]
    [InlineData("--from", "soon", "--from 'soon' is not a date")]
    public async Task ABadOptionIsOneClearLine(string option, string value, string message)
    {
        var (code, _, stderr) = await TrailProcess.RunAsync(Timeout, "export", "--format", "athena-csv", "--out", Path.Combine(_dir, "o"), "--data", _dir, option, value);
        Assert.Equal(1, code);
        Assert.Contains(message, stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task InactiveNeedsDaysAndConcurrencyTakesBy()
    {
        var (code, _, stderr) = await TrailProcess.RunAsync(Timeout, "report", "inactive", "--data", _dir);
        Assert.Equal(1, code);
        Assert.Contains("--days", stderr, StringComparison.Ordinal);

        var (okCode, csv, _) = await TrailProcess.RunAsync(Timeout, "report", "inactive", "--days", "1", "--to", "2026-11-05", "--data", _dir, "--format", "csv");
        Assert.Equal(0, okCode);
        Assert.Equal("user,app,lastUsed,lastEnd,runs,idleDays", csv.Split('\n')[0].Trim());
        Assert.Contains("S-1-5-21-1,\"C:\\A, B\\x.exe\",2026-11-01T08:01:00.000Z,2026-11-01T08:02:00.000Z,1,3", csv, StringComparison.Ordinal);

        var (monthCode, months, _) = await TrailProcess.RunAsync(Timeout, "report", "concurrency", "--by", "month", "--data", _dir, "--format", "csv");
        Assert.Equal(0, monthCode);
        Assert.Equal("app,month,peakUsers,peakRuns", months.Split('\n')[0].Trim());
    }
}
