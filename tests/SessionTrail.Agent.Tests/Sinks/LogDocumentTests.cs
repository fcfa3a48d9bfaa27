using System.Text;
using System.Text.Json;
using SessionTrail.Agent.Config;
using SessionTrail.Agent.Ids;
using SessionTrail.Agent.Sinks;
using SessionTrail.Agent.Sources;
using SessionTrail.Agent.Tests.Sources;
using SessionTrail.Core.Records;
using static SessionTrail.Agent.Tests.Sinks.SinkTestKit;

namespace SessionTrail.Agent.Tests.Sinks;

public sealed class LogDocumentTests
{
    private static LogRecord Event() => new()
    {
        Id = "log-0123456789abcdef0123456789abcdef",
        Time = new DateTimeOffset(2026, 11, 22, 9, 30, 15, 123, TimeSpan.FromHours(1)).AddTicks(4567),
        Host = "EC2AMAZ-1",
        Session = "sess-1",
        Source = "ApplicationLog",
        Channel = "Application",
        Provider = "MsiInstaller",
        EventId = 1033,
        Level = "Information",
        Message = "Windows Installer installed the product.",
        Fields = new Dictionary<string, string> { ["RecordId"] = "4711", ["UserId"] = "S-1-5-18", ["Keywords"] = "Classic", ["ProductName"] = "Foo", ["LogName"] = "x" },
        Decoration = new Dictionary<string, string> { ["user"] = "alice", ["LogName"] = "decorated", ["Host"] = "other" },
    };

    [Fact]
    public void AnEventLogRecordHasKinesisTapsEventShapeWithNamedEventData()
    {
        var json = Encoding.UTF8.GetString(LogDocument.ToJson(Event()));

        Assert.Equal(
            "{\"EventId\":1033,\"Description\":\"Windows Installer installed the product.\",\"LevelDisplayName\":\"Information\","
            + "\"LogName\":\"Application\",\"MachineName\":\"EC2AMAZ-1\",\"ProviderName\":\"MsiInstaller\","
            + "\"TimeCreated\":\"2026-11-22T08:30:15.1234567Z\",\"Index\":4711,\"UserName\":\"S-1-5-18\",\"Keywords\":\"Classic\","
            + "\"EventData\":{\"ProductName\":\"Foo\",\"LogName\":\"x\"},"
            + "\"SessionTrailId\":\"log-0123456789abcdef0123456789abcdef\",\"Session\":\"sess-1\",\"Host\":\"EC2AMAZ-1\","
            + "\"user\":\"alice\",\"decoration.LogName\":\"decorated\",\"decoration.Host\":\"other\"}",
            json);
    }

    [Fact]
    public void AnEventWithoutRecordIdUserOrKeywordsHasThemAsNull()
    {
        var record = Event() with { Fields = new Dictionary<string, string> { ["RecordId"] = "not-a-number" }, Decoration = null, Session = null };
        using var doc = JsonDocument.Parse(LogDocument.ToJson(record));
        var root = doc.RootElement;

        Assert.Equal("not-a-number", root.GetProperty("Index").GetString());
        Assert.Equal(JsonValueKind.Null, root.GetProperty("UserName").ValueKind);
        Assert.Equal(JsonValueKind.Null, root.GetProperty("Keywords").ValueKind);
        Assert.Empty(root.GetProperty("EventData").EnumerateObject());
        Assert.False(root.TryGetProperty("Session", out _));
    }

    [Fact]
    public void AnotherLogRecordHasTimestampSourceChannelMessageAndItsFieldsAtTopLevel()
    {
        var record = Log(7, "GET /index.html 200", new Dictionary<string, string> { ["status"] = "200", ["Message"] = "field named Message", ["Host"] = "field host" }) with
        {
            Level = "info",
            Decoration = new Dictionary<string, string> { ["stack"] = "Stack1", ["status"] = "deco" },
        };

        var json = Encoding.UTF8.GetString(LogDocument.ToJson(record));

        Assert.Equal(
            "{\"Timestamp\":\"2026-11-22T08:00:07.0000000Z\",\"Source\":\"AppLog\",\"Channel\":\"/var/log/app.log\",\"Level\":\"info\","
            + "\"Message\":\"GET /index.html 200\",\"status\":\"200\",\"field.Message\":\"field named Message\",\"field.Host\":\"field host\","
            + "\"SessionTrailId\":\"log-000007\",\"Host\":\"host-a\",\"stack\":\"Stack1\",\"decoration.status\":\"deco\"}",
            json);
    }

    [Fact]
    public void EveryKeyIsUniqueEvenWhenPrefixedNamesCollideToo()
    {
        var record = Log(1, fields: new Dictionary<string, string> { ["Source"] = "a", ["decoration.Source"] = "b" }) with
        {
            Decoration = new Dictionary<string, string> { ["Source"] = "c" },
        };
        var json = LogDocument.ToJson(record);

        var reader = new Utf8JsonReader(json);
        var names = new List<string>();
        while (reader.Read())
        {
            if (reader.TokenType == JsonTokenType.PropertyName)
            {
                names.Add(reader.GetString()!);
            }
        }

        Assert.Equal(names.Count, names.Distinct(StringComparer.Ordinal).Count());
        Assert.Contains("field.Source", names);
        Assert.Contains("decoration.Source", names);
        Assert.Contains("decoration.Source.2", names);
    }

    [Fact]
    public void TextIsTheMessageAndProcessRecordsStayTheirNdjsonObject()
    {
        Assert.Equal("line 3", LogDocument.ToText(Log(3)));
        var process = new ProcessRecord { Id = "a:1", Time = T0, Host = "h", Type = ProcessEventType.Start, Pid = 5, Executable = "/bin/x" };
        using var doc = JsonDocument.Parse(LogDocument.ToJson(process));
        Assert.Equal("a:1", doc.RootElement.GetProperty("id").GetString());
        Assert.Equal(LogDocument.ToText(process), Encoding.UTF8.GetString(LogDocument.ToJson(process)));
    }

    [Theory]
    [InlineData(null, LogFormat.Json)]
    [InlineData("\"json\"", LogFormat.Json)]
    [InlineData("\"JSON\"", LogFormat.Json)]
    [InlineData("\"\"", LogFormat.Text)]
    [InlineData("\"text\"", LogFormat.Text)]
    public void FormatKeyIsParsed(string? value, LogFormat expected)
    {
        var config = Node(value is null ? "{\"Id\":\"x\"}" : "{\"Id\":\"x\",\"Format\":" + value + "}");
        Assert.Equal(expected, LogDocument.ParseFormat(config));
    }

    [Fact]
    public void AnUnsupportedFormatNamesTheKey()
    {
        var ex = Assert.Throws<LogConfigException>(() => LogDocument.ParseFormat(Node("{\"Format\":\"xml2\"}")));
        Assert.Equal("Sinks:0:Format", ex.Path);
        Assert.Contains("xml2", ex.Message, StringComparison.Ordinal);
    }
}
