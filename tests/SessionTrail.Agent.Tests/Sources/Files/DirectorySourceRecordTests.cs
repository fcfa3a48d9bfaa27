using System.Globalization;
using System.Text;
using SessionTrail.Agent.Sources.Files;
using SessionTrail.Agent.Tests.Sources;
using static SessionTrail.Agent.Tests.Sources.Files.DirectorySourceTailTests;

namespace SessionTrail.Agent.Tests.Sources.Files;

/// <summary>Record parsers and multi-line records, read from real files by the running source.</summary>
public sealed class DirectorySourceRecordTests
{
    private const string JavaLog = """
        2026-11-30 08:00:01,123 INFO  [main] com.example.App - Starting service
        2026-11-30 08:00:02,456 ERROR [worker-3] com.example.Job - Job failed
        java.lang.IllegalStateException: connection closed
        	at com.example.db.Pool.borrow(Pool.java:88)
        	at com.example.Job.run(Job.java:42)
        Caused by: java.net.SocketException: Connection reset
        	at java.base/sun.nio.ch.NioSocketImpl.implRead(NioSocketImpl.java:323)
        	... 12 more
        2026-11-30 08:00:03,000 WARN  [main] com.example.App - Slow start (2000 ms)

        """;

    [Fact]
    public async Task JavaStackTracesBecomeOneRecordWithMultiLineStartPattern()
    {
        await using var h = new FileSourceHarness(new() { ["MultiLineStartPattern"] = @"^\d{4}-\d{2}-\d{2} " });
        Append(h.PathOf("app.log"), JavaLog.Replace("\r\n", "\n", StringComparison.Ordinal));
        var written = System.Diagnostics.Stopwatch.StartNew();
        h.Start();
        // The last record is held (more lines may follow) until the file is quiet for 1.5 s.
        var records = await h.WaitForAsync(2);
        await Task.Delay(300);
        var heldCount = h.Output.Logs.Count;
        if (written.Elapsed < TimeSpan.FromSeconds(1.3))
        {
            Assert.Equal(2, heldCount);
        }

        records = await h.SettledAsync(3, quietMs: 2200);
        Assert.Equal(7, records[1].Message.Split('\n').Length);
        Assert.StartsWith("2026-11-30 08:00:02,456 ERROR", records[1].Message, StringComparison.Ordinal);
        Assert.EndsWith("... 12 more", records[1].Message, StringComparison.Ordinal);
        Assert.Equal("2", records[1].Fields!["_linenumber"]);
        Assert.Equal("9", records[2].Fields!["_linenumber"]);
    }

    [Fact]
    public async Task TheTimestampParserStartsRecordsAtTimestampsAndUsesThemAsTime()
    {
        await using var h = new FileSourceHarness(new() { ["RecordParser"] = "Timestamp", ["TimestampFormat"] = "yyyy-MM-dd HH:mm:ss,fff" });
        Append(h.PathOf("app.log"), JavaLog.Replace("\r\n", "\n", StringComparison.Ordinal) + "2026-11-30 08:00:04,000 INFO  [main] next\n");
        h.Start();
        var records = await h.WaitForAsync(3);
        Assert.Equal(new DateTimeOffset(2026, 11, 30, 8, 0, 2, 456, TimeSpan.Zero), records[1].Time);
        Assert.Contains("Caused by", records[1].Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TheRegexParserExtractsNamedGroupsAndTheTimestamp()
    {
        await using var h = new FileSourceHarness(new()
        {
            ["RecordParser"] = "Regex",
            ["Pattern"] = @"^\d{4}-\d{2}-\d{2} ",
            ["ExtractionPattern"] = @"^(?<Timestamp>\S+ \S+) (?<Level>\w+)\s+\[(?<Thread>[^\]]+)\] (?<Logger>\S+) - (?<Text>.*)",
            ["TimestampFormat"] = "yyyy-MM-dd HH:mm:ss,fff",
        });
        Append(h.PathOf("app.log"), JavaLog.Replace("\r\n", "\n", StringComparison.Ordinal));
        h.Start();
        var records = await h.SettledAsync(3, quietMs: 2200);
        Assert.Equal("ERROR", records[1].Fields!["Level"]);
        Assert.Equal("worker-3", records[1].Fields!["Thread"]);
        Assert.Equal("com.example.Job", records[1].Fields!["Logger"]);
        Assert.Equal(new DateTimeOffset(2026, 11, 30, 8, 0, 2, 456, TimeSpan.Zero), records[1].Time);
        Assert.DoesNotContain(FileRecordParser.ParseErrorField, records[1].Fields!.Keys);
    }

    [Fact]
    public async Task SyslogFilesGiveProgramPidHostAndTime()
    {
        await using var h = new FileSourceHarness(new() { ["RecordParser"] = "SysLog" });
        var year = DateTime.UtcNow.Year;
        Append(h.PathOf("syslog.log"), """
            Nov 30 05:28:51 ip-10-0-1-17 sshd[1234]: Accepted publickey for alice from 10.0.0.5 port 50522 ssh2
            Nov  3 07:01:02 ip-10-0-1-17 CRON[99]: (root) CMD (run-parts /etc/cron.hourly)
            2026-11-30T05:28:52.123456+00:00 ip-10-0-1-17 systemd[1]: Started Session 42 of User alice.
            <86>1 2026-11-30T05:28:53.000Z ip-10-0-1-17 sudo 777 - [meta sequenceId="1"] alice : TTY=pts/0 ; COMMAND=/usr/bin/ls
            garbage without a timestamp

            """.Replace("\r\n", "\n", StringComparison.Ordinal));
        h.Start();
        var records = await h.SettledAsync(5);
        Assert.Equal("sshd", records[0].Fields!["Program"]);
        Assert.Equal("1234", records[0].Fields!["ProcessId"]);
        Assert.Equal("ip-10-0-1-17", records[0].Fields!["Hostname"]);
        Assert.Equal("Accepted publickey for alice from 10.0.0.5 port 50522 ssh2", records[0].Fields!["Message"]);
        var expected0 = new DateTimeOffset(year, 11, 30, 5, 28, 51, TimeSpan.Zero);
        Assert.Equal(expected0 > DateTimeOffset.UtcNow.AddDays(1) ? expected0.AddYears(-1) : expected0, records[0].Time);
        Assert.Equal(3, records[1].Time.Day);
        Assert.Equal(new DateTimeOffset(2026, 11, 30, 5, 28, 52, 123, TimeSpan.Zero).AddTicks(4560), records[2].Time);
        Assert.Equal("systemd", records[2].Fields!["Program"]);
        Assert.Equal("sudo", records[3].Fields!["Program"]);
        Assert.Equal("authpriv", records[3].Fields!["Facility"]);
        Assert.Equal("info", records[3].Level);
        Assert.Equal("[meta sequenceId=\"1\"]", records[3].Fields!["StructuredData"]);
        Assert.Equal("alice : TTY=pts/0 ; COMMAND=/usr/bin/ls", records[3].Fields!["Message"]);
        Assert.Equal("no syslog timestamp", records[4].Fields![FileRecordParser.ParseErrorField]);
    }

    [Fact]
    public async Task JsonLinesBecomeFieldsAndABadLineIsKeptWithAParseError()
    {
        await using var h = new FileSourceHarness(new() { ["RecordParser"] = "SingleLineJson", ["TimestampField"] = "ts" });
        Append(h.PathOf("app.log"), """
            {"ts":"2026-11-30T08:00:00.250Z","level":"info","msg":"user logged in","user":"alice","attempt":1,"tags":["a","b"]}
            {"ts":"2026-11-30T08:00:01Z","level":"error","msg":"disk full","nested":{"free":0}}
            {"ts": truncated
            [1,2,3]

            """.Replace("\r\n", "\n", StringComparison.Ordinal));
        h.Start();
        var records = await h.SettledAsync(4);
        Assert.Equal("alice", records[0].Fields!["user"]);
        Assert.Equal("1", records[0].Fields!["attempt"]);
        Assert.Equal("[\"a\",\"b\"]", records[0].Fields!["tags"]);
        Assert.Equal(new DateTimeOffset(2026, 11, 30, 8, 0, 0, 250, TimeSpan.Zero), records[0].Time);
        Assert.Equal("{\"free\":0}", records[1].Fields!["nested"]);
        Assert.StartsWith("not valid JSON", records[2].Fields![FileRecordParser.ParseErrorField], StringComparison.Ordinal);
        Assert.Equal("not a JSON object", records[3].Fields![FileRecordParser.ParseErrorField]);
    }

    private const string IisLog = """
        #Software: Microsoft Internet Information Services 10.0
        #Version: 1.0
        #Date: 2026-11-30 08:00:00
        #Fields: date time s-ip cs-method cs-uri-stem cs-uri-query s-port cs-username c-ip cs(User-Agent) sc-status time-taken
        2026-11-30 08:00:01 10.0.0.4 GET /default.aspx - 443 - 10.0.0.9 Mozilla/5.0+(Windows+NT+10.0) 200 15
        2026-11-30 08:00:02 10.0.0.4 POST /api/login user=alice 443 CORP\alice 10.0.0.9 Mozilla/5.0+(Windows+NT+10.0) 302 120

        """;

    [Fact]
    public async Task IisW3cLogsAreParsedByTheirFieldsHeaderAndResumeWithIt()
    {
        await using var h = new FileSourceHarness(new() { ["RecordParser"] = "Delimited", ["Delimiter"] = " ", ["CommentPattern"] = "^#" });
        var path = h.PathOf("u_ex261130.log");
        Append(path, IisLog.Replace("\r\n", "\n", StringComparison.Ordinal));
        h.Start();
        var records = await h.SettledAsync(2);
        Assert.Equal("/api/login", records[1].Fields!["cs-uri-stem"]);
        Assert.Equal(@"CORP\alice", records[1].Fields!["cs-username"]);
        Assert.Equal("302", records[1].Fields!["sc-status"]);
        Assert.Equal(new DateTimeOffset(2026, 11, 30, 8, 0, 2, TimeSpan.Zero), records[1].Time);
        Assert.Equal("5", records[0].Fields!["_linenumber"]);
        await h.StopAsync();
        var bookmark = h.Bookmarks.Load("applogs", DirectoryBookmarkJsonContext.Default.DirectoryBookmark)!;
        Assert.Contains("cs-uri-stem", Assert.Single(bookmark.Files).Headers!);

        // After a restart the header comes from the bookmark (it is far behind the read position).
        Append(path, "2026-11-30 08:00:03 10.0.0.4 GET /logout - 443 CORP\\alice 10.0.0.9 curl/8.0 200 3\n");
        h.Start();
        var resumed = await h.SettledAsync(1);
        Assert.Equal("/logout", resumed[0].Fields!["cs-uri-stem"]);
        Assert.DoesNotContain(FileRecordParser.ParseErrorField, resumed[0].Fields!.Keys);
    }

    [Fact]
    public async Task StartingAtTheEndOfADelimitedFileStillKnowsItsHeader()
    {
        await using var h = new FileSourceHarness(new() { ["RecordParser"] = "Delimited", ["Delimiter"] = " ", ["CommentPattern"] = "^#", ["InitialPosition"] = "EOS" });
        var path = h.PathOf("u_ex261130.log");
        Append(path, IisLog.Replace("\r\n", "\n", StringComparison.Ordinal));
        h.Start();
        await Task.Delay(400);
        Append(path, "2026-11-30 08:00:03 10.0.0.4 GET /logout - 443 - 10.0.0.9 curl/8.0 200 3\n");
        var records = await h.SettledAsync(1);
        Assert.Equal("/logout", records[0].Fields!["cs-uri-stem"]);
    }

    [Fact]
    public async Task CsvWithAHeaderLineAndQuotedValues()
    {
        await using var h = new FileSourceHarness(new() { ["RecordParser"] = "Delimited", ["FileNameFilter"] = "*.csv" });
        Append(h.PathOf("audit.csv"), "time,user,action,detail\n2026-11-30T08:00:00Z,alice,open,\"C:\\Temp\\a, b.xlsx\"\n2026-11-30T08:00:01Z,bob,print,\"say \"\"hi\"\"\"\n");
        h.Start();
        var records = await h.SettledAsync(2);
        Assert.Equal(@"C:\Temp\a, b.xlsx", records[0].Fields!["detail"]);
        Assert.Equal("say \"hi\"", records[1].Fields!["detail"]);
        Assert.Equal("bob", records[1].Fields!["user"]);
    }

    [Fact]
    public async Task FixedHeadersAreUsedForEveryLine()
    {
        await using var h = new FileSourceHarness(new() { ["RecordParser"] = "Delimited", ["Delimiter"] = "|", ["Headers"] = "host|pid|text", ["TimestampField"] = "none" });
        Append(h.PathOf("a.log"), "ws1|42|hello\nws2|43|world|extra\n");
        h.Start();
        var records = await h.SettledAsync(2);
        Assert.Equal("42", records[0].Fields!["pid"]);
        Assert.Equal("extra", records[1].Fields!["_column4"]);
        Assert.Equal("4 values for 3 columns", records[1].Fields![FileRecordParser.ParseErrorField]);
    }

    [Fact]
    public async Task ALineLongerThanMaxRecordBytesIsSplitIntoMarkedPiecesWithNothingLost()
    {
        await using var h = new FileSourceHarness(new() { ["MaxRecordBytes"] = "65536" });
        var path = h.PathOf("app.log");
        var random = new Random(7);
        var huge = new StringBuilder();
        while (huge.Length < 10_000_000)
        {
            huge.Append(random.Next(4) switch { 0 => "é", 1 => "東", 2 => "😀", _ => "a" });
        }

        Append(path, "before\n" + huge + "\nafter\n");
        h.Start();
        var expectedPieces = (int)Math.Ceiling(Encoding.UTF8.GetByteCount(huge.ToString()) / 65536.0);
        var records = await h.WaitForAsync(expectedPieces + 2, seconds: 60);
        await Task.Delay(500);
        records = h.Output.Logs;
        Assert.Equal("before", records[0].Message);
        Assert.Equal("after", records[^1].Message);
        var pieces = records.Skip(1).SkipLast(1).ToList();
        Assert.All(pieces, p => Assert.Equal("true", p.Fields!["_split"]));
        Assert.All(pieces, p => Assert.True(Encoding.UTF8.GetByteCount(p.Message) <= 65536));
        Assert.Equal(huge.ToString(), string.Concat(pieces.Select(p => p.Message)));
        Assert.Equal(Enumerable.Range(1, pieces.Count).Select(i => i.ToString(CultureInfo.InvariantCulture)), pieces.Select(p => p.Fields!["_splitpart"]));
        Assert.True(h.Logs.Has("longer than MaxRecordBytes"));
    }

    [Fact]
    public async Task BinaryGarbageAndInvalidUtf8NeverStopTheSource()
    {
        await using var h = new FileSourceHarness(new() { ["MaxRecordBytes"] = "4096", ["RecordParser"] = "SingleLineJson" });
        var random = new Random(11);
        var garbage = new byte[3_000_000];
        random.NextBytes(garbage);
        File.WriteAllBytes(h.PathOf("bin.log"), [.. garbage, .. "\nok\n"u8.ToArray()]);
        File.WriteAllBytes(h.PathOf("bad-utf8.log"), [0xC3, 0x28, (byte)'x', 0xFF, 0xFE, (byte)'\n']);
        h.Start();
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (!h.Output.Logs.Any(r => r.Message == "ok") && DateTime.UtcNow < deadline)
        {
            await Task.Delay(50);
        }

        var records = h.Output.Logs;
        Assert.Contains(records, r => r.Message == "ok");
        var bad = Assert.Single(records, r => r.Channel == h.PathOf("bad-utf8.log"));
        Assert.Equal("\uFFFD(x\uFFFD\uFFFD", bad.Message);
        Assert.All(records.Where(r => r.Channel == h.PathOf("bin.log")), r => Assert.True(Encoding.UTF8.GetByteCount(r.Message) <= 3 * 4096));
    }

    [Fact]
    public async Task ACatastrophicExtractionPatternTimesOutPerRecordInsteadOfHanging()
    {
        await using var h = new FileSourceHarness(new() { ["RecordParser"] = "Regex", ["Pattern"] = "^", ["ExtractionPattern"] = "^(?<Word>(a+)+)$" });
        Append(h.PathOf("app.log"), new string('a', 40) + "b\naaa\n");
        h.Start();
        var records = await h.SettledAsync(2);
        Assert.Equal("ExtractionPattern timed out", records[0].Fields![FileRecordParser.ParseErrorField]);
        Assert.Equal("aaa", records[1].Fields!["Word"]);
    }
}
