using System.Globalization;
using System.IO.Compression;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using SessionTrail.Core.Formats;
using SessionTrail.Core.Records;
using SessionTrail.EndToEnd.Tests.Infrastructure;

namespace SessionTrail.EndToEnd.Tests;

/// <summary>`sessiontrail import` of a seed-format S3 tree and of NDJSON, run as the real executable.</summary>
public sealed partial class ImportEndToEndTests : IAsyncLifetime, IAsyncDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(3);
    private static readonly DateTimeOffset T0 = new(2026, 3, 4, 22, 15, 7, TimeSpan.Zero);
    private const string Firefox = SeedCsvGenerator.Firefox;
    private const string Excel = SeedCsvGenerator.Excel;

    private readonly Trail trail = new();
    private readonly List<SeedSession> sessions = [];

    private string Bucket => Path.Combine(trail.Root, "bucket");

    /// <summary>The generator's known session plus a second use of pid 4242 by a program with a comma in its path.</summary>
    private SeedSession Known { get; } = SeedCsvGenerator.Known(T0, new SeedProcess(@"C:\Program Files\Vendor, Inc\tool.exe", 4242, T0.AddMinutes(40), T0.AddMinutes(41)));

    // IAsyncLifetime, not IAsyncDisposable: xunit 2 never calls IAsyncDisposable on a test class, so the
    // servers a test started would outlive the run.
    public Task InitializeAsync() => Task.CompletedTask;

    public Task DisposeAsync() => trail.DisposeAsync().AsTask();

    ValueTask IAsyncDisposable.DisposeAsync() => trail.DisposeAsync();

    /// <summary>Writes the tree; one extra file has one bad row. Returns the number of 4688 rows that are good.</summary>
    private int WriteTree()
    {
        var random = new Random(3);
        sessions.Add(Known);
        void Put(SeedSession s, SeedCulture c)
        {
            var path = Path.Combine(Bucket, SeedCsvGenerator.RelativePath(s, c));
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            File.WriteAllBytes(path, SeedCsvGenerator.Write(s, c));
        }

        Put(Known, SeedCulture.EnUs);
        for (var i = 0; i < 12; i++)
        {
            var s = SeedCsvGenerator.Random(random, i, 20, T0.AddDays(-i));
            // Unique pids per session, so that every start's pairing is known.
            s = s with { Processes = [.. s.Processes.Select((p, k) => p with { Pid = 1000 + (4 * k) })] };
            sessions.Add(s);
            Put(s, SeedCulture.All[i % SeedCulture.All.Length]);
        }

        var bad = Path.Combine(Bucket, "appstream_applications", "year=2026", "month=03", "day=05", "broken.csv");
        File.WriteAllText(
            bad,
            "\uFEFF" + SeedCsvReader.Header + "\r\n"
            + "4688,3/5/2026,10:00:00,C:\\x.exe,PhotonUser,12,st,broken,bob,2026-03-05T09:59:00Z,t,r,arn,f,userpool,S-1-5-21-9,2026-03-05T10:00:00Z\r\n"
            + "4688,3/5/2026,10:00:01,C:\\y.exe,PhotonUser,1x2,st,broken,bob,2026-03-05T09:59:00Z,t,r,arn,f,userpool,S-1-5-21-9,2026-03-05T10:00:01Z\r\n");
        File.WriteAllText(Path.Combine(Bucket, "README.txt"), "not data");
        return sessions.Sum(s => s.Processes.Count(p => p.Start is not null)) + 1;
    }

    [Fact]
    public async Task ASeedTreeImportedTwiceIsStoredOnceAndReportsTheRuns()
    {
        var good4688 = WriteTree();
        var data = Path.Combine(trail.Root, "data");

        var first = await TrailProcess.RunAsync(Timeout, "import", Bucket, "--data", data);
        Assert.True(first.ExitCode == 2, $"exit {first.ExitCode}: {first.Stdout}{first.Stderr}");
        var records = Count(first.Stdout, "records");
        Assert.Equal(14, Count(first.Stdout, "files"));
        Assert.Equal(14, Count(first.Stdout, "sessions"));
        Assert.Equal(records, Count(first.Stdout, "stored"));
        Assert.Equal(0, Count(first.Stdout, "duplicates"));
        Assert.Equal(1, Count(first.Stdout, "rejected"));
        Assert.Equal(2, Count(first.Stdout, "rejoined"));
        Assert.Contains("broken.csv:3: pid '1x2' is not a number", first.Stdout, StringComparison.Ordinal);
        Assert.Contains("skipped:    1", first.Stdout, StringComparison.Ordinal);

        // The seed's key starts with '/': a path with an empty segment before appstream_applications.
        var second = await TrailProcess.RunAsync(Timeout, "import", Bucket + "//appstream_applications", "--data", data);
        Assert.True(second.ExitCode == 2, $"exit {second.ExitCode}: {second.Stdout}{second.Stderr}");
        Assert.Equal(0, Count(second.Stdout, "stored"));
        Assert.Equal(records, Count(second.Stdout, "duplicates"));

        var runs = await ReportAsync("runs", data);
        Assert.Equal(good4688, runs.Count);
        var known = runs.Where(r => r.GetProperty("session").GetString() == Known.Id).ToDictionary(r => r.GetProperty("app").GetString()!);
        Assert.Equal(3, known.Count);
        Assert.Equal(("exit", 1800.0), (known[Firefox].GetProperty("endedBy").GetString(), known[Firefox].GetProperty("seconds").GetDouble()));
        Assert.Equal("session_end", known[Excel].GetProperty("endedBy").GetString());
        Assert.Equal(NdjsonWriter.FormatTime(Known.End), known[Excel].GetProperty("end").GetString());
        Assert.Equal(60.0, known[@"C:\Program Files\Vendor, Inc\tool.exe"].GetProperty("seconds").GetDouble());
        Assert.All(known.Values, r => Assert.Equal("appstream:" + Known.Id, r.GetProperty("host").GetString()));
        Assert.All(known.Values, r => Assert.Equal("alice@example.com", r.GetProperty("user").GetString()));

        // Every random session: one run per 4688, ended by its exit or by the session end.
        foreach (var s in sessions.Skip(1))
        {
            var mine = runs.Where(r => r.GetProperty("session").GetString() == s.Id).ToList();
            Assert.Equal(s.Processes.Count(p => p.Start is not null), mine.Count);
            Assert.Equal(
                s.Processes.Count(p => p.Start is not null && p.Exit is null),
                mine.Count(r => r.GetProperty("endedBy").GetString() == "session_end"));
        }

        var sessionRows = await ReportAsync("sessions", data);
        var row = Assert.Single(sessionRows, r => r.GetProperty("session").GetString() == Known.Id);
        Assert.Equal(NdjsonWriter.FormatTime(Known.Reservation), row.GetProperty("start").GetString());
        Assert.Equal(NdjsonWriter.FormatTime(Known.End), row.GetProperty("end").GetString());
    }

    [Fact]
    public async Task ImportIntoARunningServerByApiAndByDataDirectoryAndNdjson()
    {
        WriteTree();
        await trail.StartServerAsync();

        var viaApi = await TrailProcess.RunAsync(Timeout, "import", Bucket, "--server", trail.Url, "--token", trail.Token!);
        Assert.True(viaApi.ExitCode == 2, $"exit {viaApi.ExitCode}: {viaApi.Stdout}{viaApi.Stderr}");
        var records = Count(viaApi.Stdout, "records");
        Assert.Equal(records, Count(viaApi.Stdout, "stored"));

        // The same files straight into the running server's database (WAL): nothing new.
        var viaData = await TrailProcess.RunAsync(Timeout, "import", Bucket, "--data", trail.ServerData);
        Assert.Equal(0, Count(viaData.Stdout, "stored"));
        Assert.Equal(records, Count(viaData.Stdout, "duplicates"));

        // The agent's own NDJSON, gzip-compressed, with one bad line.
        var ndjson = Path.Combine(trail.Root, "agent-export.ndjson.gz");
        using (var file = File.Create(ndjson))
        using (var gzip = new GZipStream(file, CompressionLevel.Fastest))
        {
            var start = new ProcessRecord { Id = "agentX:1", Time = T0, Host = "desk-7", Type = ProcessEventType.Start, Pid = 9, Executable = "/usr/bin/vim", User = "carol" };
            gzip.Write(NdjsonWriter.ToLine(start));
            gzip.Write(Encoding.UTF8.GetBytes("{\"id\":\"agentX:2\",\"kind\":\"process\"}\n"));
            gzip.Write(NdjsonWriter.ToLine(start with { Id = "agentX:3", Type = ProcessEventType.Exit, Time = T0.AddSeconds(90) }));
        }

        for (var pass = 0; pass < 2; pass++)
        {
            var result = await TrailProcess.RunAsync(Timeout, "import", ndjson, "--server", trail.Url, "--token", trail.Token!);
            Assert.True(result.ExitCode == 2, $"exit {result.ExitCode}: {result.Stdout}{result.Stderr}");
            Assert.Equal(3, Count(result.Stdout, "rows"));
            Assert.Equal(pass == 0 ? 2 : 0, Count(result.Stdout, "stored"));
            Assert.Contains("agent-export.ndjson.gz:2: field 'time': required", result.Stdout, StringComparison.Ordinal);
        }

        var runs = (await trail.ReportAsync("runs")).EnumerateArray().ToList();
        var vim = Assert.Single(runs, r => r.GetProperty("app").GetString() == "/usr/bin/vim");
        Assert.Equal(90.0, vim.GetProperty("seconds").GetDouble());
        Assert.Contains(runs, r => r.GetProperty("session").GetString() == Known.Id);
    }

    /// <summary>
    /// docs/import.md "Import": the server's time window applies to import too, by data directory and by server.
    /// The issue's process from year 1 to year 9999 is refused with its file:line:field, a 2015 seed session
    /// imports, and the good records are stored either way.
    /// </summary>
    [Fact]
    public async Task RecordsOutsideTheTimeWindowAreRejectedWithTheirPlaceAndOldHistoryImports()
    {
        var folder = Path.Combine(trail.Root, "in");
        Directory.CreateDirectory(folder);
        var old = new DateTimeOffset(2015, 6, 1, 10, 0, 0, TimeSpan.Zero);
        var history = new SeedSession("as2-2015", "alice@example.com", old.AddMinutes(-1), old.AddHours(1), [new SeedProcess(Firefox, 400, old, old.AddMinutes(30))]);
        var seed = SeedCsvGenerator.Write(history, SeedCulture.EnUs);
        var lines = Encoding.UTF8.GetString(seed).Split("\r\n").ToList();
        lines.Insert(2, lines[1].Replace(",400,", ",401,", StringComparison.Ordinal).Replace("2015-06-01T10:00:00Z", "1999-12-31T23:59:59Z", StringComparison.Ordinal));
        var csv = Path.Combine(folder, "as2-2015.csv");
        await File.WriteAllTextAsync(csv, string.Join("\r\n", lines), new UTF8Encoding(false));
        var future = NdjsonWriter.FormatTime(DateTimeOffset.UtcNow.AddDays(2));
        var ndjson = Path.Combine(folder, "agent.ndjson");
        await File.WriteAllTextAsync(ndjson, string.Join("\n",
            """{"id":"ok:1","kind":"process","time":"2026-03-04T22:15:07Z","host":"desk-7","type":"start","pid":9,"exe":"/usr/bin/vim","user":"carol"}""",
            """{"id":"bad:1","kind":"process","time":"0001-01-01T00:00:00Z","host":"desk-7","type":"start","pid":10,"exe":"/usr/bin/top","user":"carol"}""",
            """{"id":"bad:2","kind":"process","time":"9999-12-31T23:59:59.999Z","host":"desk-7","type":"exit","pid":10}""",
            $$"""{"id":"bad:3","kind":"log","time":"{{future}}","host":"desk-7","source":"applog","message":"from a fast clock"}""") + "\n");

        await trail.StartServerAsync();
        var byData = await TrailProcess.RunAsync(Timeout, "import", folder, "--data", Path.Combine(trail.Root, "data"));
        var byServer = await TrailProcess.RunAsync(Timeout, "import", folder, "--server", trail.Url, "--token", trail.Token!);

        foreach (var result in new[] { byData, byServer })
        {
            Assert.True(result.ExitCode == 2, $"exit {result.ExitCode}: {result.Stdout}{result.Stderr}");
            Assert.Equal(4, Count(result.Stdout, "rejected"));
            Assert.Contains($"{csv}:3: process_time '1999-12-31T23:59:59.000Z' is before 2000-01-01T00:00:00.000Z", result.Stdout, StringComparison.Ordinal);
            Assert.Contains($"{ndjson}:2: field 'time': '0001-01-01T00:00:00.000Z' is before 2000-01-01", result.Stdout, StringComparison.Ordinal);
            Assert.Contains($"{ndjson}:3: field 'time': '9999-12-31T23:59:59.999Z' is more than 24 h ahead", result.Stdout, StringComparison.Ordinal);
            Assert.Contains($"{ndjson}:4: field 'time': '{future}' is more than 24 h ahead", result.Stdout, StringComparison.Ordinal);
            Assert.Equal(Count(result.Stdout, "records"), Count(result.Stdout, "stored")); // every record read is stored, the refused ones are not records
        }

        var runs = (await trail.ReportAsync("runs")).EnumerateArray().ToList();
        Assert.Equal(["/usr/bin/vim", Firefox], runs.Select(r => r.GetProperty("app").GetString()).Order(StringComparer.Ordinal));
        var firefox = Assert.Single(runs, r => r.GetProperty("app").GetString() == Firefox);
        Assert.Equal((NdjsonWriter.FormatTime(old), 1800.0), (firefox.GetProperty("start").GetString(), firefox.GetProperty("seconds").GetDouble()));
        Assert.Equal(2, (await ReportAsync("runs", Path.Combine(trail.Root, "data"))).Count);
    }

    [Fact]
    public async Task RealWindowsEventFilesImportWithTheirCountsAndTheEvtxAndItsXmlRenderingAreStoredOnce()
    {
        var data = Path.Combine(trail.Root, "data");
        var compact = WindowsSamples.PathOf(WindowsSamples.CompactFile);
        var libevtx = WindowsSamples.PathOf(WindowsSamples.LibevtxFile);
        var evtx = WindowsSamples.PathOf("EVTX-to-MITRE-Attack__ID4688-Tchopper.evtx");

        // Counted here from the text, independently of the reader: 1,200 + 915 and 1,200.
        var (starts, exits) = await ImportTwiceAsync(compact, data);
        Assert.Equal((1200, 915), (starts, exits));
        var runs = await ReportAsync("runs", data);
        Assert.Equal(starts, runs.Count);
        Assert.Equal(900, runs.Count(r => r.GetProperty("endedBy").GetString() == "exit")); // 15 exits have no captured start

        // The .evtx file, then the libevtx XML rendering that holds those 735 events too: same ids (computer, channel, record id).
        var other = Path.Combine(trail.Root, "data-evtx");
        var binary = await TrailProcess.RunAsync(Timeout, "import", evtx, "--data", other);
        Assert.True(binary.ExitCode == 0, binary.Stdout + binary.Stderr);
        Assert.Equal(735, Count(binary.Stdout, "stored"));
        var xml = await TrailProcess.RunAsync(Timeout, "import", libevtx, "--data", other);
        Assert.True(xml.ExitCode == 0, xml.Stdout + xml.Stderr);
        var libevtxStarts = Regex.Count(await File.ReadAllTextAsync(libevtx), "<EventID>4688</EventID>");
        Assert.Equal((1200 - 735, 735L), (Count(xml.Stdout, "stored"), Count(xml.Stdout, "duplicates")));
        var launches = await ReportAsync("launches", other);
        Assert.Equal(libevtxStarts, launches.Sum(r => r.GetProperty("launches").GetInt64()));
    }

    [OtrfFact]
    public async Task TheRealOtrfCaptureImportsWithItsCountsAndPairs()
    {
        var data = Path.Combine(trail.Root, "data");
        var (starts, exits) = await ImportTwiceAsync(WindowsSamples.PathOf(WindowsSamples.OtrfFile), data);
        Assert.Equal((342, 270), (starts, exits));
        var launches = await ReportAsync("launches", data);
        Assert.Equal(starts, launches.Sum(r => r.GetProperty("launches").GetInt64()));
        var runs = await ReportAsync("runs", data);
        Assert.Equal(starts, runs.Count);
        Assert.Contains(runs, r => r.GetProperty("endedBy").GetString() == "exit");
    }

    /// <summary>Imports an event XML file twice (the second stores nothing) and gives its 4688 and 4689 counts from the raw text.</summary>
    private static async Task<(int Starts, int Exits)> ImportTwiceAsync(string file, string data)
    {
        var text = await File.ReadAllTextAsync(file);
        var starts = Regex.Count(text, "<EventID>4688</EventID>");
        var exits = Regex.Count(text, "<EventID>4689</EventID>");
        for (var pass = 0; pass < 2; pass++)
        {
            var result = await TrailProcess.RunAsync(Timeout, "import", file, "--data", data);
            Assert.True(result.ExitCode == 0, $"exit {result.ExitCode}: {result.Stdout}{result.Stderr}");
            Assert.Equal(Regex.Count(text, "<Event[ >]"), Count(result.Stdout, "rows"));
            Assert.Equal(starts + exits, Count(result.Stdout, "records"));
            Assert.Equal(pass == 0 ? starts + exits : 0, Count(result.Stdout, "stored"));
        }

        return (starts, exits);
    }

    [Fact]
    public async Task AMissingPathIsAUsageErrorAndNothingIsImported()
    {
        var data = Path.Combine(trail.Root, "data");
        var result = await TrailProcess.RunAsync(Timeout, "import", Path.Combine(trail.Root, "nope"), "--data", data);
        Assert.Equal(1, result.ExitCode);
        Assert.Contains("no such file or directory", result.Stderr, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(data, "sessiontrail.db")));
    }

    [Fact]
    public async Task AServerThatDoesNotAnswerStopsTheImportWithExitCode1AndTheSummarySoFar()
    {
        WriteTree();
        var url = $"http://127.0.0.1:{TrailProcess.FreePort()}";
        var result = await TrailProcess.RunAsync(Timeout, "import", Bucket, "--server", url, "--token", "st_x");
        Assert.Equal(1, result.ExitCode);
        Assert.Contains("gave up after 5 attempts", result.Stderr, StringComparison.Ordinal);
        Assert.Contains("run the same import again", result.Stderr, StringComparison.Ordinal);
        Assert.Equal(0, Count(result.Stdout, "stored"));

        var both = await TrailProcess.RunAsync(Timeout, "import", Bucket, "--server", url, "--token", "t", "--data", trail.Root);
        Assert.Equal(1, both.ExitCode);
        Assert.Contains("not both", both.Stderr, StringComparison.Ordinal);
    }

    private static async Task<List<JsonElement>> ReportAsync(string name, string data)
    {
        var (code, stdout, stderr) = await TrailProcess.RunAsync(Timeout, "report", name, "--format", "json", "--data", data);
        Assert.True(code == 0, stderr);
        return [.. JsonDocument.Parse(stdout).RootElement.EnumerateArray()];
    }

    private static long Count(string summary, string name)
    {
        var match = Regex.Match(summary, $"^{name}:\\s+(\\d+)", RegexOptions.Multiline);
        Assert.True(match.Success, $"no '{name}:' in:\n{summary}");
        return long.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture);
    }
}
