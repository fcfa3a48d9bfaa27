using System.Globalization;
using System.Text.RegularExpressions;
using SessionTrail.Core.Formats;
using SessionTrail.Core.Records;
using SessionTrail.Core.Tests.Windows.Evtx;
using SessionTrail.Core.Windows;
using SessionTrail.Core.Windows.Evtx;

namespace SessionTrail.Core.Tests.Windows;

/// <summary>
/// The Windows event → <see cref="LogRecord"/> mapping on every real event of the captures in
/// <see cref="WindowsSamples"/> (the XML files and the .evtx file), checked against an independent regex reading of the raw text and,
/// for the .evtx, against libevtx's rendering of the same file; plus the shapes the real data lacks
/// (unnamed Data, UserData, other levels).
/// </summary>
public sealed partial class WindowsEventLogRecordsTests
{
    private const string Source = "winlog";

    private static LogRecord Map(WindowsEvent e, string? message = null, string? level = null) =>
        WindowsEventLogRecords.ToLogRecord(e, Source, "id-" + WindowsEventLogRecords.Position(e, e.Channel ?? "X"), "FallbackLog", message, level);

    [Theory, RepositoryCaptures, OtrfCapture]
    public void EveryRealXmlEventMapsFieldByFieldAsTheRawTextSays(string capture)
    {
        var file = WindowsSamples.PathOf(capture);
        var raw = RawEvent.Scan(file);
        var rawText = EventPattern().Matches(File.ReadAllText(file)).Select(m => m.Value).ToList();
        var events = WindowsEventXmlReader.ReadFile(file).Select(r => r.Event ?? throw new InvalidOperationException(r.Error!.ToString())).ToList();
        Assert.Equal(raw.Count, rawText.Count);
        Assert.Equal(raw.Count, events.Count);
        for (var i = 0; i < raw.Count; i++)
        {
            var where = $"{file} event #{i} (record {raw[i].RecordId})";
            var r = Map(events[i]);
            CheckAgainstRaw(r, raw[i], rawText[i], where);
        }

        Assert.Equal(raw.Count, events.Select(e => Map(e).Id).Distinct().Count());
        // The counts the data READMEs state.
        Assert.Equal(capture switch { WindowsSamples.LibevtxFile => 1200, WindowsSamples.CompactFile => 1200 + 915, _ => 342 + 270 }, raw.Count);
    }

    [Fact]
    public void EveryRealEvtxEventMapsLikeLibevtxsRenderingOfTheSameRecord()
    {
        var (events, errors, _) = EvtxReaderRealFileTests.ReadAll(EvtxTestData.Tchopper());
        Assert.Empty(errors);

        // The independent reading: libevtx's XML of the same file (its section in the libevtx capture).
        var xml = File.ReadAllText(EvtxTestData.PathOf(EvtxTestData.LibevtxXmlFile));
        var section = xml[xml.IndexOf("Tchopper.evtx (735 events", StringComparison.Ordinal)..];
        var next = section.IndexOf("<!-- source:", 10, StringComparison.Ordinal);
        section = next > 0 ? section[..next] : section;
        var libevtx = EventPattern().Matches(section).Select(m => m.Value).ToList();
        Assert.Equal(735, libevtx.Count);
        Assert.Equal(libevtx.Count, events.Count);

        var fromXml = WindowsEventXmlReader.Read(new StringReader("<Events>" + string.Concat(libevtx) + "</Events>"), "libevtx").Select(r => r.Event!).ToList();
        for (var i = 0; i < events.Count; i++)
        {
            var where = $"evtx record {i + 1}";
            var ours = Map(events[i]);
            var theirs = Map(fromXml[i]);
            Assert.True(theirs.Id == ours.Id, where);
            Assert.True((theirs.Time, theirs.Host, theirs.Channel, theirs.Provider, theirs.EventId, theirs.Level) == (ours.Time, ours.Host, ours.Channel, ours.Provider, ours.EventId, ours.Level), where);
            Assert.True(theirs.Fields!.Keys.SequenceEqual(ours.Fields!.Keys), $"{where}: {string.Join(",", theirs.Fields.Keys)} vs {string.Join(",", ours.Fields.Keys)}");
            foreach (var (name, value) in theirs.Fields)
            {
                Assert.True(EvtxReaderRealFileTests.SameValue(value, ours.Fields[name]), $"{where} {name}: libevtx '{value}', ours '{ours.Fields[name]}'");
            }

            // Independent of both parsers: the raw text of libevtx's rendering.
            var raw = RawEvent.ScanText(libevtx[i]);
            CheckAgainstRaw(theirs, Assert.Single(raw), libevtx[i], where);
        }
    }

    [Theory, RepositoryCaptures, OtrfCapture]
    public void EveryMappedRealEventSurvivesTheNdjsonWireUnchanged(string capture)
    {
        var file = WindowsSamples.PathOf(capture);
        foreach (var result in WindowsEventXmlReader.ReadFile(file))
        {
            var record = Map(result.Event!);
            var back = Assert.IsType<LogRecord>(NdjsonReader.ParseLine(NdjsonWriter.ToLine(record), 1));
            AssertSameRecord(record, back);
        }
    }

    [Fact]
    public void LevelNamesFollowTheStandardLevels()
    {
        Assert.Equal(["Information", "Critical", "Error", "Warning", "Information", "Verbose", null],
            new int?[] { 0, 1, 2, 3, 4, 5, null }.Select(WindowsEventLogRecords.LevelName));
        Assert.Null(WindowsEventLogRecords.LevelName(16));

        var e = Parse(Sample(level: "16", data: "<EventData><Data Name='a'>1</Data></EventData>"));
        Assert.Equal("Audit Custom", Map(e, level: "Audit Custom").Level); // a provider-defined level: the rendered name
        Assert.Equal("Level 16", Map(e).Level);                            // no rendered name: the number
        Assert.Equal("Error", Map(Parse(Sample(level: "2", data: ""))).Level);
        Assert.Equal("Error", Map(Parse(Sample(level: "2", data: "")), level: "Fehler").Level); // a standard level stays English
        Assert.Null(Map(Parse(Sample(level: null, data: ""))).Level);
    }

    [Fact]
    public void UnnamedDataGetDataNumbersInBothReaders()
    {
        var e = Parse(Sample(level: "4", data: "<EventData><Data>first</Data><Data Name='Named'>n</Data><Data>second</Data><Data/></EventData>"));
        Assert.Equal(["Data0", "Named", "Data1", "Data2"], e.Data.Keys);
        var r = Map(e);
        Assert.Equal(("first", "n", "second", ""), (r.Fields!["Data0"], r.Fields["Named"], r.Fields["Data1"], r.Fields["Data2"]));
        Assert.Equal("Application-Test event 1000: Data0=first, Named=n, Data1=second, Data2=", r.Message);
    }

    [Fact]
    public void UserDataLeavesAreFlattenedByElementName()
    {
        // The shape of Security 1102 "The audit log was cleared" (UserData, no EventData), plus nesting and a repeat.
        var e = Parse(Sample(level: "4", data: """
            <UserData><LogFileCleared xmlns='http://manifests.microsoft.com/win/2004/08/windows/eventlog'>
              <SubjectUserSid>S-1-5-21-1-2-3-500</SubjectUserSid><SubjectUserName>admin</SubjectUserName>
              <Client><Name>pc1</Name><Port>445</Port></Client><Item>a</Item><Item>b</Item><Empty/>
            </LogFileCleared></UserData>
            """));
        Assert.Equal(["SubjectUserSid", "SubjectUserName", "Client.Name", "Client.Port", "Item", "Item_1", "Empty"], e.Data.Keys);
        var r = Map(e);
        Assert.Equal(("admin", "445", "b", ""), (r.Fields!["SubjectUserName"], r.Fields["Client.Port"], r.Fields["Item_1"], r.Fields["Empty"]));
    }

    [Fact]
    public void SystemFieldsAreKeptAndTheRenderedMessageWins()
    {
        var e = Parse(Sample(level: "3", data: "<EventData><Data Name='param1'>x</Data></EventData>"));
        var r = Map(e, message: "The service x entered the stopped state.\r\n");
        Assert.Equal("The service x entered the stopped state.", r.Message);
        Assert.Equal("Warning", r.Level);
        Assert.Equal(("Application", "Application-Test", 1000, "pc1.example"), (r.Channel, r.Provider, r.EventId, r.Host));
        Assert.Equal(new Dictionary<string, string>
        {
            ["param1"] = "x",
            [WindowsEventLogRecords.RecordIdField] = "77",
            [WindowsEventLogRecords.LevelField] = "3",
            [WindowsEventLogRecords.TaskField] = "2",
            [WindowsEventLogRecords.OpcodeField] = "1",
            [WindowsEventLogRecords.KeywordsField] = "0x80000000000000",
            [WindowsEventLogRecords.UserIdField] = "S-1-5-18",
            [WindowsEventLogRecords.ProcessIdField] = "716",
            [WindowsEventLogRecords.ThreadIdField] = "4040",
            [WindowsEventLogRecords.ComputerField] = "pc1.example",
            [WindowsEventLogRecords.VersionField] = "0",
        }, r.Fields);
        Assert.Equal("id-Application:77", r.Id);
        Assert.Equal(Source, r.Source);
    }

    [Fact]
    public void AnEventWithoutChannelUsesTheLogNameAndOneWithoutRecordIdGetsAStablePosition()
    {
        var xml = Sample(level: "4", data: "").Replace("<Channel>Application</Channel>", "", StringComparison.Ordinal).Replace("<EventRecordID>77</EventRecordID>", "", StringComparison.Ordinal);
        var e = Parse(xml);
        Assert.Equal("FallbackLog", Map(e).Channel);
        Assert.Equal(WindowsEventLogRecords.Position(e, "L"), WindowsEventLogRecords.Position(Parse(xml), "L"));
        Assert.StartsWith("L:Application-Test:1000:", WindowsEventLogRecords.Position(e, "L"), StringComparison.Ordinal);
        Assert.Equal("Application-Test event 1000", Map(e).Message);
    }

    /// <summary>Equal as the wire carries it: the time to the millisecond (the NDJSON time format), everything else exactly.</summary>
    internal static void AssertSameRecord(LogRecord expected, LogRecord actual)
    {
        Assert.Equal((expected.Id, expected.Time.AddTicks(-(expected.Time.UtcTicks % TimeSpan.TicksPerMillisecond)), expected.Host, expected.Source, expected.Channel, expected.Provider, expected.EventId, expected.Level, expected.Message),
            (actual.Id, actual.Time, actual.Host, actual.Source, actual.Channel, actual.Provider, actual.EventId, actual.Level, actual.Message));
        Assert.Equal(expected.Fields!.OrderBy(f => f.Key, StringComparer.Ordinal), actual.Fields!.OrderBy(f => f.Key, StringComparer.Ordinal));
    }

    private static void CheckAgainstRaw(LogRecord r, RawEvent raw, string text, string where)
    {
        Assert.True(r.Host == raw.Computer, where);
        Assert.True(r.Time == raw.Time, where);
        Assert.True(r.EventId == raw.EventId, where);
        Assert.True(r.Source == Source, where);
        Assert.True(r.Channel == Tag(text, "<Channel>([^<]+)<"), where);
        Assert.True(r.Provider == Tag(text, "<Provider Name=['\"]([^'\"]+)"), where);
        Assert.True(r.Id == "id-" + r.Channel + ":" + raw.RecordId.ToString(CultureInfo.InvariantCulture), where);
        var level = int.Parse(Tag(text, "<Level>(\\d+)<"), CultureInfo.InvariantCulture);
        Assert.True(r.Level == level switch { 0 or 4 => "Information", 1 => "Critical", 2 => "Error", 3 => "Warning", 5 => "Verbose", _ => "?" }, where);

        var expected = new Dictionary<string, string>(raw.Data)
        {
            [WindowsEventLogRecords.RecordIdField] = raw.RecordId.ToString(CultureInfo.InvariantCulture),
            [WindowsEventLogRecords.LevelField] = level.ToString(CultureInfo.InvariantCulture),
            [WindowsEventLogRecords.TaskField] = Tag(text, "<Task>(\\d+)<"),
            [WindowsEventLogRecords.OpcodeField] = Tag(text, "<Opcode>(\\d+)<"),
            [WindowsEventLogRecords.KeywordsField] = Tag(text, "<Keywords>([^<]+)<"),
            [WindowsEventLogRecords.ProcessIdField] = Tag(text, "ProcessID=['\"](\\d+)"),
            [WindowsEventLogRecords.ThreadIdField] = Tag(text, "ThreadID=['\"](\\d+)"),
            [WindowsEventLogRecords.ComputerField] = raw.Computer,
            [WindowsEventLogRecords.VersionField] = raw.Version.ToString(CultureInfo.InvariantCulture),
        };
        Assert.True(expected.OrderBy(f => f.Key, StringComparer.Ordinal).SequenceEqual(r.Fields!.OrderBy(f => f.Key, StringComparer.Ordinal)),
            $"{where}: expected {string.Join(", ", expected.OrderBy(f => f.Key, StringComparer.Ordinal))}; got {string.Join(", ", r.Fields!.OrderBy(f => f.Key, StringComparer.Ordinal))}");

        // No rendered message here: the fallback names every data field with its value, in document order.
        var names = DataNamePattern().Matches(text).Select(m => m.Groups[1].Value).ToList();
        Assert.True(r.Message == $"{r.Provider} event {raw.EventId}: " + string.Join(", ", names.Select(n => n + "=" + raw.Data[n])), $"{where}: {r.Message}");
    }

    private static string Tag(string text, string pattern) => Regex.Match(text, pattern).Groups[1].Value;

    private static WindowsEvent Parse(string xml)
    {
        var result = WindowsEventXmlReader.Parse(xml, "sample");
        return result.Event ?? throw new InvalidOperationException(result.Error!.ToString());
    }

    private static string Sample(string? level, string data) =>
        "<Event xmlns='http://schemas.microsoft.com/win/2004/08/events/event'><System><Provider Name='Application-Test'/><EventID>1000</EventID><Version>0</Version>"
        + (level is null ? "" : $"<Level>{level}</Level>")
        + "<Task>2</Task><Opcode>1</Opcode><Keywords>0x80000000000000</Keywords><TimeCreated SystemTime='2024-05-01T10:00:00.1234567Z'/><EventRecordID>77</EventRecordID>"
        + "<Correlation/><Execution ProcessID='716' ThreadID='4040'/><Channel>Application</Channel><Computer>pc1.example</Computer><Security UserID='S-1-5-18'/></System>"
        + data + "</Event>";

    [GeneratedRegex(@"<Event[\s>].*?</Event>", RegexOptions.Singleline)]
    private static partial Regex EventPattern();

    [GeneratedRegex("""<Data Name=['"]([^'"]+)['"]""")]
    private static partial Regex DataNamePattern();
}
