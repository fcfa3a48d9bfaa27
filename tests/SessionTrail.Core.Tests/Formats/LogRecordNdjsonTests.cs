using System.Text;
using SessionTrail.Core.Formats;
using SessionTrail.Core.Records;

namespace SessionTrail.Core.Tests.Formats;

/// <summary>The "log" record kind on the NDJSON wire.</summary>
public sealed class LogRecordNdjsonTests
{
    private const string Log = """{"id":"a:9","kind":"log","time":"2026-11-01T08:01:00.000Z","host":"h1","session":"s1","source":"winlog-app","channel":"Application","provider":"MsiInstaller","eventId":1033,"level":"Information","message":"Installed \u00e9","fields":{"ProductName":"Vim","Status":"0"},"decoration":{"user":"alice","stack":"st"}}""";

    private static List<TrailRecord> Parse(string body) => NdjsonReader.Parse(Encoding.UTF8.GetBytes(body));

    private static NdjsonFormatException Fails(string body) => Assert.Throws<NdjsonFormatException>(() => Parse(body));

    [Fact]
    public void ReadsEveryFieldOfALogRecord()
    {
        var log = Assert.IsType<LogRecord>(Parse(Log)[0]);

        Assert.Equal(("a:9", "h1", "s1", "winlog-app", "Application", "MsiInstaller"), (log.Id, log.Host, log.Session, log.Source, log.Channel, log.Provider));
        Assert.Equal((1033, "Information", "Installed é"), (log.EventId, log.Level, log.Message));
        Assert.Equal(new DateTimeOffset(2026, 11, 1, 8, 1, 0, TimeSpan.Zero), log.Time);
        Assert.Equal(new Dictionary<string, string> { ["ProductName"] = "Vim", ["Status"] = "0" }, log.Fields);
        Assert.Equal(new Dictionary<string, string> { ["user"] = "alice", ["stack"] = "st" }, log.Decoration);
        Assert.Equal("log", log.Kind);
    }

    [Fact]
    public void WhatTheWriterWritesTheReaderReadsBack()
    {
        var log = Parse(Log)[0];
        var written = Encoding.UTF8.GetString(NdjsonWriter.ToLine(log));

        Assert.Equal(Log + "\n", written.Replace("\\u00E9", "\\u00e9", StringComparison.Ordinal));
        var again = Assert.IsType<LogRecord>(Parse(written)[0]);
        Assert.Equal(Encoding.UTF8.GetString(NdjsonWriter.ToLine(again)), written);
    }

    [Fact]
    public void OnlySourceAndMessageAreRequiredAndTheMessageMayBeEmpty()
    {
        var log = Assert.IsType<LogRecord>(Parse("""{"id":"x","kind":"log","time":"2026-11-01T08:00:00Z","host":"h","source":"s","message":""}""")[0]);

        Assert.Equal(("", null, null, null), (log.Message, log.EventId, log.Fields, log.Decoration));
    }

    [Theory]
    [InlineData("\"source\":\"winlog-app\",", "", "source", "required for a log record")]
    [InlineData("\"message\":\"Installed \\u00e9\",", "", "message", "required for a log record (may be empty)")]
    [InlineData("\"message\":\"Installed \\u00e9\"", "\"message\":null", "message", "required for a log record (may be empty)")]
    [InlineData("\"message\":\"Installed \\u00e9\"", "\"message\":3", "message", "expected a string, got number")]
    [InlineData("\"eventId\":1033", "\"eventId\":\"1033\"", "eventId", "expected an integer, got string")]
    [InlineData("\"eventId\":1033", "\"eventId\":1e99", "eventId", "expected an integer in range, got 1e99")]
    [InlineData("\"level\":\"Information\"", "\"level\":4", "level", "expected a string, got number")]
    [InlineData("{\"ProductName\":\"Vim\",\"Status\":\"0\"}", "[\"Vim\"]", "fields", "expected an object of strings, got array")]
    [InlineData("\"Status\":\"0\"", "\"Status\":0", "fields", "entry 'Status': expected a string, got number")]
    [InlineData("\"Status\":\"0\"", "\"Status\":{\"a\":\"b\"}", "fields", "entry 'Status': expected a string, got object")]
    [InlineData("\"Status\":\"0\"", "\"ProductName\":\"x\"", "fields", "entry 'ProductName' appears more than once")]
    [InlineData("\"stack\":\"st\"", "\"stack\":null", "decoration", "entry 'stack': expected a string, got null")]
    [InlineData("\"decoration\":{", "\"decoration\":\"x\",\"d\":{", "decoration", "expected an object of strings, got string")]
    [InlineData("\"channel\":\"Application\"", "\"channel\":\"Application\",\"channel\":\"System\"", "channel", "appears more than once")]
    public void AWrongLogFieldIsNamedWithItsLine(string find, string replace, string field, string problem)
    {
        Assert.Contains(find, Log, StringComparison.Ordinal);
        var error = Fails(Log + "\n" + Log.Replace(find, replace, StringComparison.Ordinal));

        Assert.Equal(2, error.Line);
        Assert.Equal(field, error.Field);
        Assert.Equal(problem, error.Problem);
    }

    [Fact]
    public void AMapWithTooManyEntriesIsRefused()
    {
        var entries = string.Join(',', Enumerable.Range(0, NdjsonReader.MaxMapEntries + 1).Select(i => $"\"k{i}\":\"v\""));
        var error = Fails("""{"id":"x","kind":"log","time":"2026-11-01T08:00:00Z","host":"h","source":"s","message":"","fields":{""" + entries + "}}");

        Assert.Equal(("fields", $"more than {NdjsonReader.MaxMapEntries} entries"), (error.Field, error.Problem));
    }
}
