using System.Text;
using SessionTrail.Core.Formats;
using SessionTrail.Core.Records;

namespace SessionTrail.Core.Tests.Formats;

public sealed class NdjsonReaderTests
{
    private const string Start = """{"id":"a:1","kind":"process","time":"2026-11-01T08:00:00.000Z","host":"h1","session":"s1","type":"start","pid":42,"ppid":1,"exe":"/usr/bin/vim","cmdline":"vim x","uid":1000,"user":"alice","loginUid":1000,"auditSession":3}""";
    private const string Exit = """{"id":"a:2","kind":"process","time":"2026-11-01T08:05:00.000Z","host":"h1","type":"exit","pid":42,"exitCode":0}""";
    private const string SessionStart = """{"id":"a:3","kind":"session","time":"2026-11-01T07:59:00.000Z","host":"h1","session":"s1","type":"start","user":"alice","stack":"st","fleet":"fl","accessMode":"userpool","reservationTime":"x","instanceType":"stream.standard.medium","region":"us-east-1","imageArn":"arn:img"}""";

    private static List<TrailRecord> Parse(string body) => NdjsonReader.Parse(Encoding.UTF8.GetBytes(body));

    private static NdjsonFormatException Fails(string body) => Assert.Throws<NdjsonFormatException>(() => Parse(body));

    [Fact]
    public void ReadsEveryFieldOfEachKind()
    {
        var records = Parse(Start + "\n" + Exit + "\n" + SessionStart + "\n");

        var start = Assert.IsType<ProcessRecord>(records[0]);
        Assert.Equal(("a:1", "h1", "s1", ProcessEventType.Start, 42, 1), (start.Id, start.Host, start.Session, start.Type, start.Pid, start.ParentPid));
        Assert.Equal(("/usr/bin/vim", "vim x", 1000L, "alice", 1000L, 3L), (start.Executable, start.CommandLine, start.Uid, start.User, start.LoginUid, start.AuditSession));
        Assert.Equal(new DateTimeOffset(2026, 11, 1, 8, 0, 0, TimeSpan.Zero), start.Time);
        var exit = Assert.IsType<ProcessRecord>(records[1]);
        Assert.Equal((ProcessEventType.Exit, 0, (string?)null), (exit.Type, exit.ExitCode, exit.Executable));
        var session = Assert.IsType<SessionRecord>(records[2]);
        Assert.Equal((SessionEventType.Start, "s1", "alice", "st", "fl", "userpool"), (session.Type, session.Session, session.User, session.Stack, session.Fleet, session.AccessMode));
        Assert.Equal(("x", "stream.standard.medium", "us-east-1", "arn:img"), (session.ReservationTime, session.InstanceType, session.Region, session.ImageArn));
    }

    [Fact]
    public void WhatTheWriterWritesTheReaderReadsBack()
    {
        var records = Parse(Start + "\n" + Exit + "\n" + SessionStart);
        var written = string.Concat(records.Select(r => Encoding.UTF8.GetString(NdjsonWriter.ToLine(r))));

        Assert.Equal(records, Parse(written));
    }

    [Fact]
    public void BlankLinesCrLfBomAndNoTrailingNewlineAreAccepted()
    {
        var records = Parse("\uFEFF\r\n" + Start + "\r\n   \n\n" + Exit);

        Assert.Equal(2, records.Count);
    }

    [Fact]
    public void UnknownExtraFieldsAreIgnored()
    {
        var records = Parse(Start.Replace("\"pid\":42", "\"pid\":42,\"future\":{\"nested\":[1,2,{\"x\":null}]},\"other\":true", StringComparison.Ordinal));

        Assert.Equal(42, Assert.IsType<ProcessRecord>(Assert.Single(records)).Pid);
    }

    [Fact]
    public void TimesWithAnOffsetAreConvertedToUtc()
    {
        var record = Parse(Start.Replace("2026-11-01T08:00:00.000Z", "2026-11-01T10:00:00+02:00", StringComparison.Ordinal))[0];

        Assert.Equal(new DateTimeOffset(2026, 11, 1, 8, 0, 0, TimeSpan.Zero), record.Time);
        Assert.Equal(TimeSpan.Zero, record.Time.Offset);
    }

    [Theory]
    [InlineData("\"pid\":42", "\"pid\":\"42\"", "pid", "expected an integer, got string")]
    [InlineData("\"pid\":42", "\"pid\":4.5", "pid", "expected an integer in range, got 4.5")]
    [InlineData("\"pid\":42", "\"pid\":-1", "pid", "must be >= 0, got -1")]
    [InlineData("\"pid\":42", "\"pid\":99999999999", "pid", "expected an integer in range, got 99999999999")]
    [InlineData("\"pid\":42,", "", "pid", "required")]
    [InlineData("\"exe\":\"/usr/bin/vim\",", "", "exe", "required for a process start")]
    [InlineData("\"exe\":\"/usr/bin/vim\"", "\"exe\":7", "exe", "expected a string, got number")]
    [InlineData("\"id\":\"a:1\"", "\"id\":\"\"", "id", "required")]
    [InlineData("\"id\":\"a:1\"", "\"id\":null", "id", "required")]
    [InlineData("\"kind\":\"process\"", "\"kind\":\"audit\"", "kind", "unknown kind 'audit' (expected process, session, log, segment or recording)")]
    [InlineData("\"type\":\"start\"", "\"type\":\"begin\"", "type", "unknown process type 'begin' (expected start or exit)")]
    [InlineData("\"time\":\"2026-11-01T08:00:00.000Z\"", "\"time\":\"2026-11-01T08:00:00\"", "time", "expected an ISO-8601 time with Z or an offset, got '2026-11-01T08:00:00'")]
    [InlineData("\"time\":\"2026-11-01T08:00:00.000Z\"", "\"time\":\"2026-13-01T08:00:00Z\"", "time", "expected an ISO-8601 time with Z or an offset, got '2026-13-01T08:00:00Z'")]
    [InlineData("\"host\":\"h1\",", "", "host", "required")]
    [InlineData("\"uid\":1000", "\"uid\":[1000]", "uid", "expected an integer, got array")]
    [InlineData("\"user\":\"alice\"", "\"user\":{}", "user", "expected a string, got object")]
    [InlineData("\"ppid\":1", "\"ppid\":1,\"ppid\":2", "ppid", "appears more than once")]
    public void AWrongFieldIsNamedWithItsLine(string find, string replace, string field, string problem)
    {
        var bad = Start.Replace(find, replace, StringComparison.Ordinal);
        var error = Fails(Exit + "\n\n" + bad + "\n" + Exit);

        Assert.Equal(3, error.Line);
        Assert.Equal(field, error.Field);
        Assert.Equal(problem, error.Problem);
        Assert.Equal($"line 3: field '{field}': {problem}", error.Message);
    }

    [Fact]
    public void ASessionRecordNeedsItsSession()
    {
        var error = Fails(SessionStart.Replace("\"session\":\"s1\",", "", StringComparison.Ordinal));

        Assert.Equal(("session", "required for a session record"), (error.Field, error.Problem));
    }

    [Fact]
    public void ASessionTypeIsStartOrEnd()
    {
        var error = Fails(SessionStart.Replace("\"type\":\"start\"", "\"type\":\"exit\"", StringComparison.Ordinal));

        Assert.Equal(("type", "unknown session type 'exit' (expected start or end)"), (error.Field, error.Problem));
    }

    [Fact]
    public void AnIdLongerThan200CharactersIsRejected()
    {
        var error = Fails(Start.Replace("a:1", new string('x', 201), StringComparison.Ordinal));

        Assert.Equal(("id", "longer than 200 characters"), (error.Field, error.Problem));
    }

    [Theory]
    [InlineData("not json", "invalid JSON at byte 1")]
    [InlineData("[1,2]", "expected a JSON object")]
    [InlineData("42", "expected a JSON object")]
    [InlineData("{\"id\":\"a\"", "invalid JSON at byte 9")]
    [InlineData("{} {}", "invalid JSON at byte 3")]
    public void ALineThatIsNotOneJsonObjectIsRejectedWithoutAField(string line, string problem)
    {
        var error = Fails(Start + "\n" + line);

        Assert.Equal((2, (string?)null, problem), (error.Line, error.Field, error.Problem));
    }

    [Fact]
    public void ALineOverTheLimitIsRejected()
    {
        var body = Encoding.UTF8.GetBytes(Start + "\n" + Start.Replace("vim x", new string('a', 2000), StringComparison.Ordinal));

        var error = Assert.Throws<NdjsonFormatException>(() => NdjsonReader.Parse(body, maxLineBytes: 1000));

        Assert.Equal((2, "line is longer than 1000 bytes"), (error.Line, error.Problem));
    }

    [Fact]
    public void InvalidUtf8InAStringIsAParseError()
    {
        var bytes = Encoding.UTF8.GetBytes(Start).ToList();
        var at = bytes.IndexOf((byte)'v');
        bytes[at] = 0xFF;

        var error = Assert.Throws<NdjsonFormatException>(() => NdjsonReader.Parse(bytes.ToArray()));

        Assert.Equal(1, error.Line);
    }

    [Fact]
    public void AnEmptyBodyHasNoRecords()
    {
        Assert.Empty(Parse(""));
        Assert.Empty(Parse("\n\n"));
    }
}
