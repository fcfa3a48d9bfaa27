using SessionTrail.EndToEnd.Tests.Infrastructure;

namespace SessionTrail.EndToEnd.Tests;

/// <summary>What a user sees from the real executable when something is wrong or when asking for help.</summary>
public sealed class CliEndToEndTests : IDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);
    private readonly string _dir = Directory.CreateTempSubdirectory("st-cli-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task HelpListsEveryCommand()
    {
        var (code, stdout, _) = await TrailProcess.RunAsync(Timeout, "--help");
        Assert.Equal(0, code);
        foreach (var command in new[] { "up", "server", "agent", "session", "report", "token", "user", "import", "export", "appstream", "logs" })
        {
            Assert.Contains("  " + command, stdout, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task ReportHelpNamesTheReportsAndFormats()
    {
        var (code, stdout, _) = await TrailProcess.RunAsync(Timeout, "report", "--help");
        Assert.Equal(0, code);
        Assert.Contains("top-apps", stdout, StringComparison.Ordinal);
        Assert.Contains("--format", stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AReportWithoutADatabaseSaysWhatToDo()
    {
        var (code, _, stderr) = await TrailProcess.RunAsync(Timeout, "report", "top-apps", "--data", _dir);
        Assert.Equal(1, code);
        Assert.Contains("no SessionTrail database in " + _dir, stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", stderr, StringComparison.Ordinal); // no stack trace
    }

    [Fact]
    public async Task AnUnknownReportIsRefusedWithTheValidNames()
    {
        var (code, _, stderr) = await TrailProcess.RunAsync(Timeout, "report", "top-ap", "--data", _dir);
        Assert.NotEqual(0, code);
        Assert.Contains("top-apps", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ABadDateNamesTheOption()
    {
        await TrailProcess.RunAsync(Timeout, "token", "create", "--data", _dir);
        var (code, _, stderr) = await TrailProcess.RunAsync(Timeout, "report", "runs", "--data", _dir, "--from", "yesterday-ish");
        Assert.Equal(1, code);
        Assert.Contains("--from", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TokenCreatePrintsTheTokenAloneOnItsLastLineAndTheReportsReadTheSameData()
    {
        var (code, stdout, _) = await TrailProcess.RunAsync(Timeout, "token", "create", "--data", _dir, "--name", "ci");
        Assert.Equal(0, code);
        var last = stdout.TrimEnd().Split('\n')[^1];
        Assert.Matches("^st_[A-Za-z0-9_-]{40,}$", last);

        var (reportCode, table, _) = await TrailProcess.RunAsync(Timeout, "report", "top-apps", "--data", _dir);
        Assert.Equal(0, reportCode);
        Assert.Contains("(no rows)", table, StringComparison.Ordinal);
        var (csvCode, csv, _) = await TrailProcess.RunAsync(Timeout, "report", "launches", "--data", _dir, "--format", "csv");
        Assert.Equal(0, csvCode);
        Assert.Equal("app,launches,users", csv.Trim());
    }

    [Fact]
    public async Task ReportsFilterByFleetAndStack()
    {
        var records = Path.Combine(_dir, "records.ndjson");
        Core.Records.TrailRecord[] batch =
        [
            new Core.Records.SessionRecord { Id = "s1", Type = Core.Records.SessionEventType.Start, Session = "as2-1", Time = DateTimeOffset.Parse("2026-11-01T08:00:00Z", System.Globalization.CultureInfo.InvariantCulture), Host = "h1", User = "alice", Fleet = "fleet-a", Stack = "stack-x" },
            new Core.Records.SessionRecord { Id = "s2", Type = Core.Records.SessionEventType.Start, Session = "as2-2", Time = DateTimeOffset.Parse("2026-11-01T08:00:00Z", System.Globalization.CultureInfo.InvariantCulture), Host = "h2", User = "bob", Fleet = "fleet-b", Stack = "stack-x" },
            new Core.Records.ProcessRecord { Id = "p1", Type = Core.Records.ProcessEventType.Start, Pid = 1, Session = "as2-1", Time = DateTimeOffset.Parse("2026-11-01T08:01:00Z", System.Globalization.CultureInfo.InvariantCulture), Host = "h1", User = "alice", Executable = @"C:\Apps\word.exe" },
            new Core.Records.ProcessRecord { Id = "p2", Type = Core.Records.ProcessEventType.Start, Pid = 2, Session = "as2-2", Time = DateTimeOffset.Parse("2026-11-01T08:02:00Z", System.Globalization.CultureInfo.InvariantCulture), Host = "h2", User = "bob", Executable = @"C:\Apps\excel.exe" },
        ];
        await File.WriteAllTextAsync(records, string.Concat(batch.Select(r => System.Text.Encoding.UTF8.GetString(Core.Formats.NdjsonWriter.ToLine(r)))));
        var (importCode, _, importErr) = await TrailProcess.RunAsync(Timeout, "import", records, "--data", _dir);
        Assert.True(importCode == 0, importErr);

        var (code, csv, _) = await TrailProcess.RunAsync(Timeout, "report", "launches", "--data", _dir, "--fleet", "fleet-b", "--format", "csv");
        var (stackCode, both, _) = await TrailProcess.RunAsync(Timeout, "report", "launches", "--data", _dir, "--stack", "stack-x", "--format", "csv");
        var (noneCode, none, _) = await TrailProcess.RunAsync(Timeout, "report", "sessions", "--data", _dir, "--fleet", "fleet-a", "--stack", "stack-y", "--format", "csv");

        Assert.Equal((0, 0, 0), (code, stackCode, noneCode));
        Assert.Equal(["app,launches,users", @"C:\Apps\excel.exe,1,1"], csv.Trim().Split('\n').Select(l => l.TrimEnd('\r')));
        Assert.Equal(3, both.Trim().Split('\n').Length);
        Assert.Equal("session,user,host,start,end,runs", none.Trim());
    }

    /// <summary>
    /// A store holding a run from year 1 to year 9999 (written before ingest refused such times): `report concurrency`
    /// ran 28 s at 4 GB and printed 168 MB. Now it stops at once naming the rows it would have printed and how to
    /// narrow; a window answers the clipped rows; --max-rows raises the cap.
    /// </summary>
    [Fact]
    public async Task AReportPastItsCapStopsWithTheCountAndHowToNarrow()
    {
        var (createCode, _, createErr) = await TrailProcess.RunAsync(Timeout, "token", "create", "--data", _dir);
        Assert.True(createCode == 0, createErr);
        await using (var db = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={Core.DataDirectory.DatabasePath(_dir)};Pooling=False"))
        {
            await db.OpenAsync();
            await using var insert = db.CreateCommand();
            insert.CommandText = """
                INSERT INTO apps(path) VALUES('/usr/bin/vim');
                INSERT INTO users(name) VALUES('alice');
                INSERT INTO runs(start_seq, exit_seq, app_id, user_id, host, pid, session, start, end, ended_by)
                VALUES(1, NULL, (SELECT id FROM apps), (SELECT id FROM users), 'ws-1', 4242, NULL, -62135596800000, 253402300799999, 1);
                """;
            await insert.ExecuteNonQueryAsync();
        }

        var (code, stdout, stderr) = await TrailProcess.RunAsync(Timeout, "report", "concurrency", "--data", _dir);
        Assert.Equal(1, code);
        Assert.Equal("", stdout);
        Assert.StartsWith("sessiontrail report: concurrency would answer 3,652,059 rows, more than the cap of 100,000: narrow it with from/to (--from/--to)", stderr, StringComparison.Ordinal);
        Assert.Contains("0001-01-01T00:00:00.000Z to 9999-12-31T23:59:59.999Z", stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", stderr, StringComparison.Ordinal);

        var (windowCode, csv, _) = await TrailProcess.RunAsync(Timeout, "report", "concurrency", "--data", _dir, "--from", "2026-11-01", "--to", "2026-11-03", "--format", "csv");
        Assert.Equal(0, windowCode);
        Assert.Equal(["app,day,peakUsers,peakRuns", "/usr/bin/vim,2026-11-01,1,1", "/usr/bin/vim,2026-11-02,1,1"], csv.Trim().Split('\n').Select(l => l.TrimEnd('\r')));

        var (monthCode, months, _) = await TrailProcess.RunAsync(Timeout, "report", "concurrency", "--data", _dir, "--by", "month", "--max-rows", "120000", "--format", "csv");
        Assert.Equal(0, monthCode);
        Assert.Equal(1 + (9999 * 12), months.Trim().Split('\n').Length);

        var (badCode, _, badErr) = await TrailProcess.RunAsync(Timeout, "report", "runs", "--data", _dir, "--max-rows", "0");
        Assert.Equal(1, badCode);
        Assert.Contains("--max-rows must be 1 or more", badErr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AMissingConfigFileIsNamed()
    {
        var missing = Path.Combine(_dir, "nope.json");
        var (code, _, stderr) = await TrailProcess.RunAsync(Timeout, "agent", "--data", _dir, "--config", missing, "--token", "t");
        Assert.Equal(1, code);
        Assert.Contains(missing, stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ABadConfigValueNamesTheSetting()
    {
        var config = Path.Combine(_dir, "agent.json");
        await File.WriteAllTextAsync(config, """{ "Agent": { "BatchMaxRecords": 0 } }""");
        var (code, _, stderr) = await TrailProcess.RunAsync(Timeout, "agent", "--data", _dir, "--config", config, "--token", "t");
        Assert.Equal(1, code);
        Assert.Contains("BatchMaxRecords", stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", stderr, StringComparison.Ordinal);

        await File.WriteAllTextAsync(config, """{ "Processes": { "MinUid": 5000, "MaxUid": 10 } }""");
        (code, _, stderr) = await TrailProcess.RunAsync(Timeout, "agent", "--data", _dir, "--config", config, "--token", "t");
        Assert.Equal(1, code);
        Assert.Contains("Processes:MaxUid", stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", stderr, StringComparison.Ordinal);

        await File.WriteAllTextAsync(config, """{ "Agent": { "BatchMaxRecord": 10 } }""");
        (code, _, stderr) = await TrailProcess.RunAsync(Timeout, "agent", "--data", _dir, "--config", config, "--token", "t");
        Assert.Equal(1, code);
        Assert.Contains("BatchMaxRecord", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AnAgentWithoutATokenSaysHowToGetOne()
    {
        var (code, _, stderr) = await TrailProcess.RunAsync(Timeout, "agent", "--data", _dir);
        Assert.Equal(1, code);
        Assert.Contains("token create", stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AServerOnAPortInUseSaysSo()
    {
        var port = TrailProcess.FreePort();
        using var blocker = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, port);
        blocker.Start();
        var (code, _, stderr) = await TrailProcess.RunAsync(Timeout, "server", "--data", _dir, "--urls", $"http://127.0.0.1:{port}");
        Assert.Equal(1, code);
        Assert.Contains("address already in use", stderr, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task SessionEndWithoutASessionIsAnError()
    {
        var (code, _, stderr) = await TrailProcess.RunAsync(Timeout, "session", "end", "--data", _dir);
        Assert.Equal(1, code);
        Assert.Contains("no active session", stderr, StringComparison.Ordinal);
    }
}
