using System.Text;
using SessionTrail.Agent.Sinks.S3;
using SessionTrail.Core.Records;
using static SessionTrail.Agent.Tests.Sinks.S3.S3TestRecords;

namespace SessionTrail.Agent.Tests.Sinks.S3;

public sealed class S3ObjectLayoutTests
{
    [Fact]
    public void SessionKeysFollowTheSeedLayoutOnTheDayOfTheSessionEndInUtc()
    {
        var end = new DateTimeOffset(2026, 1, 2, 0, 30, 0, TimeSpan.FromHours(2)); // 2026-01-01 22:30 UTC
        Assert.Equal(
            "appstream_applications/year=2026/month=01/day=01/0b1c-77.csv",
            S3ObjectLayout.SessionKey("appstream_applications", "0b1c-77", end, "csv"));
        Assert.Equal(
            "lake/x/year=2026/month=01/day=01/0b1c-77.jsonl",
            S3ObjectLayout.SessionKey("/lake/x/", "0b1c-77", end, "jsonl"));
    }

    [Fact]
    public void DayKeysNameTheHost()
    {
        Assert.Equal(
            "sessiontrail_unattributed/year=2026/month=11/day=05/ip-10-0-0-1.jsonl",
            S3ObjectLayout.DayKey("sessiontrail_unattributed", "ip-10-0-0-1", new DateOnly(2026, 11, 5)));
    }

    [Theory]
    [InlineData("a/b", "a%2Fb")]
    [InlineData("..", "%2E%2E")]
    public void ASessionIdCannotLeaveItsPartition(string session, string part)
    {
        Assert.Equal($"p/year=2026/month=01/day=01/{part}.csv", S3ObjectLayout.SessionKey("p", session, new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero), "csv"));
    }

    [Fact]
    public void ParseKeepsTheFirstOfEachIdAndSkipsATornTail()
    {
        var lines = Session("s", 2);
        var content = Concat([.. lines, lines[1], lines[2]]).Concat(Encoding.UTF8.GetBytes("{\"id\":\"agent-1:99\",\"kind\":\"proc")).ToArray();

        var records = S3ObjectFormats.Parse(content, out var skipped);

        Assert.Equal(1, skipped);
        Assert.Equal(lines.Count, records.Count);
        Assert.Equal(Concat(lines), Concat(records.Select(r => r.Line)));
    }

    [Fact]
    public void AJsonlSessionObjectIsItsRecordsUnderTheKeyOfItsEnd()
    {
        var lines = Session("as2-7", 3);
        var records = S3ObjectFormats.Parse(Concat(lines), out _);

        var obj = S3ObjectFormats.RenderSession(records, S3ObjectFormats.Jsonl, "sessiontrail_sessions", out _);

        Assert.Equal("sessiontrail_sessions/year=2026/month=11/day=23/as2-7.jsonl", obj.Key); // ended 00:10 UTC the next day
        Assert.Equal("application/x-ndjson", obj.ContentType);
        Assert.Equal(Concat(lines), obj.Body);
    }

    [Fact]
    public void AnAthenaCsvSessionObjectIsTheSeedScriptsFileByteForByte()
    {
        var records = S3ObjectFormats.Parse(Concat(Session("f00d-1", 2)), out _);

        var obj = S3ObjectFormats.RenderSession(records, S3ObjectFormats.AthenaCsv, "appstream_applications", out var warnings);

        Assert.Equal("appstream_applications/year=2026/month=11/day=23/f00d-1.csv", obj.Key);
        Assert.Equal("text/csv", obj.ContentType);
        Assert.Empty(warnings);
        const string Tail = "stack-a,f00d-1,alice,2026-11-22T23:49:00Z,stream.standard.medium,us-east-1,arn:aws:appstream:us-east-1::image/base,fleet-a,userpool,";
        var expected = "\uFEFFevent_type,date,time,process,host,pid,stack,session,username,time_of_executionprocess_start_time,instance_type,region,image_arn,fleet,auth_type,userid,process_time\r\n" +
            $"4688,11/22/2026,23:50:11,C:\\Apps\\app1.exe,as2-host,1001,{Tail}S-1-5-21-1-2-3-1001,2026-11-22T23:50:11Z\r\n" +
            $"4688,11/22/2026,23:50:10,C:\\Apps\\app0.exe,as2-host,1000,{Tail}S-1-5-21-1-2-3-1001,2026-11-22T23:50:10Z\r\n" +
            $"4689,11/22/2026,23:50:41,C:\\Apps\\app1.exe,as2-host,1001,{Tail}S-1-5-21-1-2-3-1001,2026-11-22T23:50:41Z\r\n" +
            $"4689,11/22/2026,23:50:40,C:\\Apps\\app0.exe,as2-host,1000,{Tail}S-1-5-21-1-2-3-1001,2026-11-22T23:50:40Z\r\n" +
            $"4689,11/23/2026,00:10:00,session_end,session_end,-1,{Tail}session_end,2026-11-23T00:10:00Z\r\n";
        Assert.Equal(expected, Encoding.UTF8.GetString(obj.Body));
    }

    [Fact]
    public void ACommaInAPathIsReportedForTheCsv()
    {
        var lines = new[] { Line(Start("c-1")), Line(Process("c-1", ProcessEventType.Start, 3, SessionStart, @"C:\Apps\a,b.exe")), Line(End("c-1", SessionStart.AddMinutes(1))) };
        S3ObjectFormats.RenderSession(S3ObjectFormats.Parse(Concat(lines), out _), S3ObjectFormats.AthenaCsv, "p", out var warnings);
        Assert.Equal("line 2: field 'process' contains a comma", Assert.Single(warnings).ToString());
    }

    [Fact]
    public void AnAthenaJsonlObjectGoesToItsOwnTableFolder()
    {
        var records = S3ObjectFormats.Parse(Concat(Session("j-1", 1)), out _);
        var obj = S3ObjectFormats.RenderSession(records, S3ObjectFormats.AthenaJsonl, S3ObjectFormats.DefaultPrefix(S3ObjectFormats.AthenaJsonl), out _);
        Assert.Equal("appstream_applications_jsonl/year=2026/month=11/day=23/j-1.jsonl", obj.Key);
        Assert.Equal(3, Encoding.UTF8.GetString(obj.Body).Split("\n", StringSplitOptions.RemoveEmptyEntries).Length); // 4688, 4689, session_end
    }

    [Fact]
    public void ADayObjectIsJsonLinesOfTheHost()
    {
        var lines = new[] { Line(Process(null, ProcessEventType.Start, 1, SessionStart)), Line(Process(null, ProcessEventType.Exit, 1, SessionStart.AddSeconds(1))) };
        var obj = S3ObjectFormats.RenderDay(S3ObjectFormats.Parse(Concat(lines), out _), new DateOnly(2026, 11, 22), "u");
        Assert.Equal("u/year=2026/month=11/day=22/as2-host.jsonl", obj.Key);
        Assert.Equal(Concat(lines), obj.Body);
    }

    /// <summary>
    /// Spool files are read back after crashes: random byte mutations of a real spool never make
    /// Parse throw, and rendering what it parsed either works or says why (InvalidDataException).
    /// </summary>
    [Fact]
    public void MutatedSpoolFilesNeverCrashParsingOrRendering()
    {
        const string Specials = "{}\":,\n0aZ";
        var random = new Random(20261130);
        var original = Concat(Session("fuzz-1", 6));
        var rendered = 0;
        for (var i = 0; i < 3000; i++)
        {
            var bytes = (byte[])original.Clone();
            for (var m = random.Next(1, 8); m > 0 && bytes.Length > 0; m--)
            {
                var at = random.Next(bytes.Length);
                switch (random.Next(3))
                {
                    case 0:
                        bytes[at] = (byte)random.Next(256);
                        break;
                    case 1:
                        bytes[at] = (byte)Specials[random.Next(Specials.Length)];
                        break;
                    default:
                        bytes = bytes[..at];
                        break;
                }
            }

            var records = S3ObjectFormats.Parse(bytes, out var skipped);
            Assert.True(records.Count + skipped <= bytes.Count(b => b == (byte)'\n') + 1);
            foreach (var format in S3ObjectFormats.All)
            {
                try
                {
                    if (records.Count > 0)
                    {
                        Assert.NotEmpty(S3ObjectFormats.RenderSession(records, format, "p", out _).Body);
                        rendered++;
                    }
                }
                catch (InvalidDataException ex)
                {
                    Assert.Contains("session", ex.Message, StringComparison.Ordinal);
                }
            }
        }

        Assert.True(rendered > 1000, $"only {rendered} renders: the mutations are too destructive to test rendering");
    }
}
