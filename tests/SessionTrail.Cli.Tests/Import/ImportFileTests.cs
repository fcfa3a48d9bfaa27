using System.IO.Compression;
using System.Text;
using SessionTrail.Cli.Import;
using SessionTrail.Core.Formats;
using SessionTrail.Core.Records;

namespace SessionTrail.Cli.Tests.Import;

/// <summary>Files as import meets them: recognised by content, gzip or not, damaged or not.</summary>
public sealed class ImportFileTests : IDisposable
{
    private static readonly DateTimeOffset T0 = new(2026, 3, 5, 10, 0, 0, TimeSpan.Zero);

    private const string Row = "4688,3/5/2026,10:00:00,C:\\x.exe,PhotonUser,12,st,s1,bob,2026-03-05T09:59:00Z,t,r,arn,f,userpool,S-1-5-21-9,2026-03-05T10:00:00Z";
    private readonly string dir = Directory.CreateTempSubdirectory("st-import-").FullName;

    public void Dispose() => Directory.Delete(dir, recursive: true);

    private string Write(string name, byte[] bytes)
    {
        var path = Path.Combine(dir, name);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    private static byte[] Gzip(byte[] bytes)
    {
        using var buffer = new MemoryStream();
        using (var gzip = new GZipStream(buffer, CompressionLevel.Fastest))
        {
            gzip.Write(bytes);
        }

        return buffer.ToArray();
    }

    private static byte[] Csv(params string[] rows) => Encoding.UTF8.GetBytes("\uFEFF" + SeedCsvReader.Header + "\r\n" + string.Concat(rows.Select(r => r + "\r\n")));

    [Fact]
    public void AGzippedSeedCsvWithAnyNameIsReadAsSeedCsvAndTakesItsSessionFromItsName()
    {
        var path = Write("s9.csv.gz", Gzip(Csv(Row.Replace(",s1,", ",,", StringComparison.Ordinal))));
        var result = ImportFile.Read(path);
        Assert.Empty(result.Rejected);
        Assert.Equal(1, result.Rows);
        var start = Assert.Single(result.Records.OfType<ProcessRecord>());
        Assert.Equal("s9", start.Session); // the script names the file after the session
    }

    [Fact]
    public void NdjsonLinesAreReadOneByOneAndABadOrHugeLineIsRejectedAlone()
    {
        var good = NdjsonWriter.ToLine(new ProcessRecord { Id = "a:1", Time = T0, Host = "h", Type = ProcessEventType.Start, Pid = 1, Executable = "/bin/x" });
        byte[] body = [.. good, .. "{\"id\":\"a:2\"}\r\n"u8, .. "\r\n"u8, .. Encoding.UTF8.GetBytes("{\"id\":\"" + new string('x', NdjsonReader.DefaultMaxLineBytes) + "\"}\n"), .. good.AsSpan(0, good.Length - 1)];
        var result = ImportFile.Read(Write("agent.ndjson", body));
        Assert.Equal(4, result.Rows);
        Assert.Equal(2, result.Records.Count);
        Assert.Equal([2, 4], result.Rejected.Select(r => r.Line));
        Assert.Contains("longer than", result.Rejected[1].Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void ACutGzipKeepsWhatWasReadAndSaysTheFileIsCutShort()
    {
        var rows = Enumerable.Range(0, 2000).Select(i => Row.Replace(",12,", $",{i},", StringComparison.Ordinal)).ToArray();
        var gz = Gzip(Csv(rows));
        var result = ImportFile.Read(Write("cut.csv.gz", gz[..(gz.Length / 2)]));
        var rejection = Assert.Single(result.Rejected);
        Assert.Contains("cannot read the rest of the file: the gzip data ends after", rejection.Reason, StringComparison.Ordinal);
        Assert.Equal(result.Rows, result.Records.OfType<ProcessRecord>().Count());
        Assert.InRange(result.Rows, 100, 1999);

        var ndjson = string.Concat(Enumerable.Range(0, 3000).Select(i => Encoding.UTF8.GetString(NdjsonWriter.ToLine(
            new ProcessRecord { Id = $"a:{i}", Time = T0, Host = "h", Type = ProcessEventType.Exit, Pid = i }))));
        var ngz = Gzip(Encoding.UTF8.GetBytes(ndjson));
        var cut = ImportFile.Read(Write("cut.ndjson.gz", ngz[..(ngz.Length * 2 / 3)]));
        Assert.Contains("the file is cut short", cut.Rejected[^1].Reason, StringComparison.Ordinal);
        Assert.Equal(3000, ImportFile.Read(Write("whole.ndjson.gz", ngz)).Records.Count);
    }

    [Fact]
    public void AReadErrorInTheMiddleKeepsTheRowsBeforeIt()
    {
        var bytes = Csv(Row, Row.Replace(",12,", ",13,", StringComparison.Ordinal), Row.Replace(",12,", ",14,", StringComparison.Ordinal));
        var csv = SeedCsvReader.Read(new FailingStream(bytes, failAfter: bytes.Length - 10), "s1");
        Assert.Equal(2, csv.Records.OfType<ProcessRecord>().Count());
        Assert.Contains("cannot read the rest", Assert.Single(csv.Rejected).Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void UnknownContentIsRejectedAsAWholeFile()
    {
        var result = ImportFile.Read(Write("notes.json", "just text"u8.ToArray()));
        Assert.Empty(result.Records);
        Assert.Contains("not a format import reads", Assert.Single(result.Rejected).Reason, StringComparison.Ordinal);
        var csv = ImportFile.Read(Write("other.csv", "a,b\r\n1,2\r\n"u8.ToArray()));
        Assert.Contains("not a seed CSV", Assert.Single(csv.Rejected).ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void DirectoriesAreWalkedInOrderAndOtherFilesListedAsSkipped()
    {
        Write("b/appstream_applications/year=2026/month=03/day=05/s2.csv", Csv(Row));
        Write("b/appstream_applications/year=2026/month=03/day=04/s1.csv", Csv(Row));
        Write("b/README.txt", "x"u8.ToArray());
        var (files, skipped) = ImportInput.Expand([Path.Combine(dir, "b")]);
        Assert.Equal(["day=04", "day=05"], files.Select(f => Path.GetFileName(Path.GetDirectoryName(f))));
        Assert.Equal("README.txt", Path.GetFileName(Assert.Single(skipped)));
        Assert.Throws<FileNotFoundException>(() => ImportInput.Expand([Path.Combine(dir, "missing")]));

        // A link back up is not followed (it would repeat the tree until the path is too long).
        Directory.CreateSymbolicLink(Path.Combine(dir, "b", "appstream_applications", "up"), "..");
        var (again, skippedAgain) = ImportInput.Expand([Path.Combine(dir, "b")]);
        Assert.Equal(files, again);
        Assert.Contains(skippedAgain, s => s.EndsWith("up (a link to a folder, not followed)", StringComparison.Ordinal));
    }

    /// <summary>A stream whose reads fail after <c>failAfter</c> bytes (a disk or network error mid-file).</summary>
    /// <summary>docs/import.md "Import": the server's time window, applied to every format with the file's line (or record).</summary>
    private static readonly RecordTimeWindow Window = new(new DateTimeOffset(2026, 12, 1, 12, 0, 0, TimeSpan.Zero));

    private static string SeedRow(string process, int pid, string processTime, string eventType = "4688") =>
        $"{eventType},6/1/2015,10:00:00,{process},PhotonUser,{pid},st,s15,bob,2015-06-01T09:59:00Z,t,r,arn,f,userpool,S-1-5-21-9,{processTime}";

    [Fact]
    public void SeedRowsOutsideTheTimeWindowAreRejectedWithTheirLineAndOldHistoryIsKept()
    {
        var path = Write("s15.csv", Csv(
            SeedRow("C:\\app.exe", 12, "2015-06-01T10:00:00Z"),
            SeedRow("C:\\old.exe", 13, "1999-12-31T23:59:59Z"),
            SeedRow("C:\\future.exe", 14, "2026-12-02T12:00:01Z"),
            SeedRow("C:\\edge.exe", 15, "2026-12-02T12:00:00Z"),
            SeedRow("session_end", -1, "2015-06-01T11:00:00Z", "4689").Replace(",PhotonUser,", ",session_end,", StringComparison.Ordinal)));

        var result = ImportFile.Read(path, window: Window);

        Assert.Equal(
            [$"{path}:3: process_time '1999-12-31T23:59:59.000Z' is before 2000-01-01T00:00:00.000Z, the earliest time accepted",
             $"{path}:4: process_time '2026-12-02T12:00:01.000Z' is more than 24 h ahead of the receiver's clock (2026-12-01T12:00:00.000Z); is the sender's clock wrong?"],
            result.Rejected.Select(r => r.ToString()));
        Assert.Equal(["C:\\app.exe", "C:\\edge.exe"], result.Records.OfType<ProcessRecord>().Select(r => r.Executable!).Order(StringComparer.Ordinal));
        var start = Assert.Single(result.Records.OfType<SessionRecord>(), r => r.Type == SessionEventType.Start);
        Assert.Equal(new DateTimeOffset(2015, 6, 1, 9, 59, 0, TimeSpan.Zero), start.Time); // 2015 history imports
        Assert.Equal(5, result.Rows);
    }

    [Fact]
    public void NdjsonAndEventXmlRecordsOutsideTheTimeWindowAreRejectedWithTheirLineAndField()
    {
        var segment = new RecordingSegmentRecord
        {
            Id = "seg:1", Time = T0, Host = "h", Session = "s", Index = 0, Start = new DateTimeOffset(1970, 1, 1, 0, 0, 0, TimeSpan.Zero), End = T0,
            Width = 640, Height = 480, Fps = 5, Codec = "h264", Bytes = 1, Sha256 = new string('a', 64), File = "000000.mp4",
        };
        byte[] ndjson = [
            .. NdjsonWriter.ToLine(new ProcessRecord { Id = "a:1", Time = T0, Host = "h", Type = ProcessEventType.Start, Pid = 1, Executable = "/bin/x" }),
            .. """{"id":"a:2","kind":"process","time":"0001-01-01T00:00:00Z","host":"h","type":"start","pid":7,"exe":"/bin/y"}"""u8, .. "\n"u8,
            .. NdjsonWriter.ToLine(segment),
            .. """{"id":"a:3","kind":"process","time":"9999-12-31T23:59:59.999Z","host":"h","type":"exit","pid":7}"""u8, .. "\n"u8];
        var xmlEvent = WindowsEvent4688.Replace("2026-11-02T09:15:01.1234567Z", "1601-01-01T00:00:00.0000000Z", StringComparison.Ordinal)
            .Replace("<EventRecordID>77<", "<EventRecordID>78<", StringComparison.Ordinal);

        var n = ImportFile.Read(Write("agent.ndjson", ndjson), window: Window);
        var x = ImportFile.Read(Write("events.xml", Encoding.UTF8.GetBytes("<Events>\n" + WindowsEvent4688 + "\n" + xmlEvent + "\n</Events>")), window: Window);

        Assert.Equal(
            [(2, "field 'time': '0001-01-01T00:00:00.000Z' is before 2000-01-01T00:00:00.000Z, the earliest time accepted"),
             (3, "field 'start': '1970-01-01T00:00:00.000Z' is before 2000-01-01T00:00:00.000Z, the earliest time accepted"),
             (4, "field 'time': '9999-12-31T23:59:59.999Z' is more than 24 h ahead of the receiver's clock (2026-12-01T12:00:00.000Z); is the sender's clock wrong?")],
            n.Rejected.Select(r => (r.Line, r.Reason)));
        Assert.Equal(["a:1"], n.Records.Select(r => r.Id));
        Assert.Equal((3, "field 'time': '1601-01-01T00:00:00.000Z' is before 2000-01-01T00:00:00.000Z, the earliest time accepted"), (Assert.Single(x.Rejected).Line, x.Rejected[0].Reason));
        Assert.Single(x.Records);
        Assert.Equal((4, 2), (n.Rows, x.Rows));
    }

    private const string WindowsEvent4688 =
        "<Event xmlns='http://schemas.microsoft.com/win/2004/08/events/event'><System><Provider Name='Microsoft-Windows-Security-Auditing' Guid='{54849625-5478-4994-a5ba-3e3b0328c30d}'/><EventID>4688</EventID><Version>2</Version><Level>0</Level><Task>13312</Task><Opcode>0</Opcode><Keywords>0x8020000000000000</Keywords><TimeCreated SystemTime='2026-11-02T09:15:01.1234567Z'/><EventRecordID>77</EventRecordID><Correlation/><Execution ProcessID='4' ThreadID='120'/><Channel>Security</Channel><Computer>EC2AMAZ-1.example</Computer><Security/></System><EventData><Data Name='SubjectUserSid'>S-1-5-18</Data><Data Name='SubjectUserName'>EC2AMAZ-1$</Data><Data Name='SubjectDomainName'>WORKGROUP</Data><Data Name='SubjectLogonId'>0x3e7</Data><Data Name='NewProcessId'>0x1a2c</Data><Data Name='NewProcessName'>C:\\Program Files\\Notepad++\\notepad++.exe</Data><Data Name='TokenElevationType'>%%1938</Data><Data Name='ProcessId'>0x00000ea0</Data><Data Name='CommandLine'>notepad++.exe</Data><Data Name='TargetUserSid'>S-1-5-21-1-2-3-1001</Data><Data Name='TargetUserName'>as2-user</Data><Data Name='TargetDomainName'>EC2AMAZ-1</Data><Data Name='TargetLogonId'>0x2b4c1f</Data><Data Name='ParentProcessName'>C:\\Windows\\explorer.exe</Data><Data Name='MandatoryLabel'>S-1-16-8192</Data></EventData></Event>";

    private sealed class FailingStream(byte[] bytes, int failAfter) : MemoryStream(bytes)
    {
        public override int Read(byte[] buffer, int offset, int count)
        {
            if (Position >= failAfter)
            {
                throw new IOException("Input/output error");
            }

            return base.Read(buffer, offset, (int)Math.Min(count, failAfter - Position));
        }

        public override int Read(Span<byte> buffer)
        {
            var array = new byte[buffer.Length];
            var n = Read(array, 0, array.Length);
            array.AsSpan(0, n).CopyTo(buffer);
            return n;
        }
    }
}
