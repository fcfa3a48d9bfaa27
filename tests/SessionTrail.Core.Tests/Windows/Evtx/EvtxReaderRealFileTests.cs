using System.Globalization;
using System.Xml.Linq;
using SessionTrail.Core.Windows;
using SessionTrail.Core.Windows.Evtx;

namespace SessionTrail.Core.Tests.Windows.Evtx;

/// <summary>The reader on a real Security.evtx capture, checked against libevtx's rendering of the same file.</summary>
public class EvtxReaderRealFileTests
{
    private static readonly DateTimeOffset CaptureStart = new(2021, 11, 3, 8, 34, 0, TimeSpan.Zero);
    private static readonly DateTimeOffset CaptureEnd = new(2021, 11, 3, 8, 55, 0, TimeSpan.Zero);

    internal static (List<WindowsEvent> Events, List<EvtxError> Errors, EvtxReader Reader) ReadAll(byte[] bytes, bool skipBadChecksums = false)
    {
        var reader = new EvtxReader(new MemoryStream(bytes), "test.evtx") { SkipChunksWithBadChecksum = skipBadChecksums };
        var events = new List<WindowsEvent>();
        var errors = new List<EvtxError>();
        foreach (var entry in reader.Read())
        {
            if (entry.Event is { } e)
            {
                events.Add(e);
            }
            else
            {
                errors.Add(entry.Error!);
            }
        }

        return (events, errors, reader);
    }

    [Fact]
    public void Every_event_of_the_real_file_is_read_with_its_fields()
    {
        var (events, errors, reader) = ReadAll(EvtxTestData.Tchopper());

        Assert.Empty(errors);
        Assert.Equal(735, events.Count);
        Assert.NotNull(reader.Header);
        Assert.Equal(735, reader.Header.NextRecordNumber - 1);
        Assert.Equal(9, reader.Header.ChunkCount);
        Assert.Equal(9, reader.Statistics.Chunks);
        Assert.Equal(8, reader.Statistics.EmptyChunks);
        Assert.Equal(new Version(3, 1), reader.Header.FormatVersion);
        for (var i = 0; i < events.Count; i++)
        {
            var e = events[i];
            Assert.Equal("Microsoft-Windows-Security-Auditing", e.Provider);
            Assert.Equal(4688, e.EventId);
            Assert.Equal(2, e.Version);
            Assert.Equal("Security", e.Channel);
            Assert.Equal("FS03.offsec.lan", e.Computer);
            Assert.Equal($"test.evtx#{i + 1}", e.Origin); // record numbers 1..735, consecutive
            Assert.InRange(e.TimeCreated, CaptureStart, CaptureEnd);
            Assert.Equal(TimeSpan.Zero, e.TimeCreated.Offset);
            Assert.False(string.IsNullOrEmpty(e.Data["NewProcessName"]), $"record {i + 1}: NewProcessName");
            Assert.StartsWith("0x", e.Data["NewProcessId"], StringComparison.Ordinal);
            Assert.True(ulong.TryParse(e.Data["NewProcessId"].AsSpan(2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var pid) && pid > 0);
            Assert.Matches("^S-1-[0-9-]+$", e.Data["SubjectUserSid"]);
            Assert.Equal(13, e.Data.Count);
            if (i > 0)
            {
                Assert.True(e.RecordId > events[i - 1].RecordId, $"EventRecordID not increasing at record {i + 1}");
                Assert.True(e.TimeCreated >= events[i - 1].TimeCreated.AddSeconds(-1), $"time goes back at record {i + 1}");
            }
        }

        // Spot checks decoded by hand from the bytes of the first record (chunk 0 at 0x1000, record at 0x1200).
        var first = events[0];
        Assert.Equal(293884, first.RecordId);
        Assert.Equal(DateTimeOffset.Parse("2021-11-03T08:34:27.9783762Z", CultureInfo.InvariantCulture), first.TimeCreated);
        Assert.Equal("0xef4", first.Data["NewProcessId"]);
        Assert.Equal("0x1e4", first.Data["ProcessId"]);
        Assert.Equal("0x3e7", first.Data["SubjectLogonId"]);
        Assert.Equal(@"C:\Windows\System32\cmd.exe", first.Data["NewProcessName"]);
        Assert.Equal("S-1-5-18", first.Data["SubjectUserSid"]);
        Assert.Equal("S-1-0-0", first.Data["TargetUserSid"]);
        Assert.Equal("%%1936", first.Data["TokenElevationType"]);
        Assert.Equal(299008, events[^1].RecordId);
    }

    [Fact]
    public void Every_field_matches_libevtx_rendering_of_the_same_file()
    {
        var expected = LibevtxEvents();
        var (events, errors, _) = ReadAll(EvtxTestData.Tchopper());
        Assert.Empty(errors);
        Assert.Equal(expected.Count, events.Count);
        for (var i = 0; i < events.Count; i++)
        {
            var (system, data) = expected[i];
            var actual = events[i];
            var where = $"record {i + 1}";
            Assert.True(system["Provider"] == actual.Provider, where);
            Assert.True(system["EventID"] == actual.EventId.ToString(CultureInfo.InvariantCulture), where);
            Assert.True(system["Version"] == actual.Version.ToString(CultureInfo.InvariantCulture), where);
            Assert.True(system["EventRecordID"] == actual.RecordId?.ToString(CultureInfo.InvariantCulture), where);
            Assert.True(system["Channel"] == actual.Channel, where);
            Assert.True(system["Computer"] == actual.Computer, where);

            // libevtx writes nine fraction digits; FILETIME has seven.
            var time = system["SystemTime"];
            Assert.True(time.EndsWith("00Z", StringComparison.Ordinal), where);
            Assert.Equal(DateTimeOffset.Parse(time[..^3] + "Z", CultureInfo.InvariantCulture), actual.TimeCreated);

            Assert.Equal(data.Keys.Order(StringComparer.Ordinal), actual.Data.Keys.Order(StringComparer.Ordinal));
            foreach (var (name, value) in data)
            {
                Assert.True(SameValue(value, actual.Data[name]), $"{where} {name}: libevtx '{value}', ours '{actual.Data[name]}'");
            }
        }
    }

    /// <summary>Equal text, or the same hex number (libevtx pads hex to the value's width, Windows does not).</summary>
    internal static bool SameValue(string expected, string actual)
    {
        if (expected == actual)
        {
            return true;
        }

        return expected.StartsWith("0x", StringComparison.Ordinal) && actual.StartsWith("0x", StringComparison.Ordinal)
            && ulong.TryParse(expected.AsSpan(2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var a)
            && ulong.TryParse(actual.AsSpan(2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var b)
            && a == b;
    }

    /// <summary>The 735 events of the Tchopper file as libevtx rendered them (the section after its source comment).</summary>
    private static List<(Dictionary<string, string> System, Dictionary<string, string> Data)> LibevtxEvents()
    {
        var document = XDocument.Load(EvtxTestData.PathOf(EvtxTestData.LibevtxXmlFile));
        XNamespace ns = "http://schemas.microsoft.com/win/2004/08/events/event";
        var result = new List<(Dictionary<string, string>, Dictionary<string, string>)>();
        var inSection = false;
        foreach (var node in document.Root!.Nodes())
        {
            if (node is XComment comment)
            {
                inSection = comment.Value.Contains("Tchopper.evtx", StringComparison.Ordinal);
                continue;
            }

            if (!inSection || node is not XElement e)
            {
                continue;
            }

            var system = e.Element(ns + "System")!;
            var fields = new Dictionary<string, string>
            {
                ["Provider"] = (string)system.Element(ns + "Provider")!.Attribute("Name")!,
                ["EventID"] = (string)system.Element(ns + "EventID")!,
                ["Version"] = (string)system.Element(ns + "Version")!,
                ["SystemTime"] = (string)system.Element(ns + "TimeCreated")!.Attribute("SystemTime")!,
                ["EventRecordID"] = (string)system.Element(ns + "EventRecordID")!,
                ["Channel"] = (string)system.Element(ns + "Channel")!,
                ["Computer"] = (string)system.Element(ns + "Computer")!,
            };
            var data = e.Element(ns + "EventData")!.Elements(ns + "Data")
                .ToDictionary(d => (string)d.Attribute("Name")!, d => d.Value);
            result.Add((fields, data));
        }

        Assert.Equal(735, result.Count);
        return result;
    }
}
