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
    [InlineData("a/b", "a_b")]
    [InlineData("a\\b\n", "a_b_")]
    [InlineData("..", "_..")]
    [InlineData("", "_")]
    public void ASessionIdCannotLeaveItsPartition(string session, string part)
    {
        Assert.Equal(part, S3ObjectLayout.KeyPart(session));
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

        var obj = S3ObjectFormats.RenderSession(records, S3ObjectFormats.Jsonl, "sessiontrail_sessions");

        Assert.Equal("sessiontrail_sessions/year=2026/month=11/day=23/as2-7.jsonl", obj.Key); // ended 00:10 UTC the next day
        Assert.Equal("application/x-ndjson", obj.ContentType);
        Assert.Equal(Concat(lines), obj.Body);
    }

    [Fact]
    public void ADayObjectIsJsonLinesOfTheHost()
    {
        var lines = new[] { Line(Process(null, ProcessEventType.Start, 1, SessionStart)), Line(Process(null, ProcessEventType.Exit, 1, SessionStart.AddSeconds(1))) };
        var obj = S3ObjectFormats.RenderDay(S3ObjectFormats.Parse(Concat(lines), out _), new DateOnly(2026, 11, 22), "u");
        Assert.Equal("u/year=2026/month=11/day=22/as2-host.jsonl", obj.Key);
        Assert.Equal(Concat(lines), obj.Body);
    }
}
