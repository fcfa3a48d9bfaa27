using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using SessionTrail.Core.Windows.Evtx;

namespace SessionTrail.Core.Tests.Windows.Evtx;

/// <summary>
/// Cross-check against a second, independent EVTX parser: Debian's <c>python3-evtx</c> (python-evtx 0.6.1),
/// run on the same bytes at test time. <c>.ci/run</c> installs it; without it this test fails and says so.
/// </summary>
public class EvtxReaderPythonEvtxTests
{
    private const string Python = "/usr/bin/python3";

    // Prints one JSON object per record: its number, System fields and EventData/Data by name.
    private const string Script = """
        import json, sys
        import xml.etree.ElementTree as ET
        import Evtx.Evtx as evtx
        ns = '{http://schemas.microsoft.com/win/2004/08/events/event}'
        with evtx.Evtx(sys.argv[1]) as log:
            for r in log.records():
                root = ET.fromstring(r.xml())
                s = root.find(ns + 'System')
                data = {d.get('Name'): (d.text or '') for d in root.find(ns + 'EventData').findall(ns + 'Data')}
                print(json.dumps({
                    'number': r.record_num(),
                    'provider': s.find(ns + 'Provider').get('Name'),
                    'eventId': s.find(ns + 'EventID').text,
                    'recordId': s.find(ns + 'EventRecordID').text,
                    'time': s.find(ns + 'TimeCreated').get('SystemTime'),
                    'computer': s.find(ns + 'Computer').text,
                    'channel': s.find(ns + 'Channel').text,
                    'data': data}))
        """;

    [Fact]
    public void Every_field_matches_python_evtx_on_the_same_file()
    {
        var path = EvtxTestData.PathOf(EvtxTestData.TchopperFile);
        var expected = RunPythonEvtx(path);
        var (events, errors, _) = EvtxReaderRealFileTests.ReadAll(File.ReadAllBytes(path));

        Assert.Empty(errors);
        Assert.Equal(735, expected.Count);
        Assert.Equal(expected.Count, events.Count);
        for (var i = 0; i < events.Count; i++)
        {
            var x = expected[i];
            var e = events[i];
            var where = $"record {i + 1}";
            Assert.True(x.GetProperty("number").GetInt64() == i + 1, where);
            Assert.True(x.GetProperty("provider").GetString() == e.Provider, where);
            Assert.True(x.GetProperty("eventId").GetString() == e.EventId.ToString(CultureInfo.InvariantCulture), where);
            Assert.True(x.GetProperty("recordId").GetString() == e.RecordId?.ToString(CultureInfo.InvariantCulture), where);
            Assert.True(x.GetProperty("computer").GetString() == e.Computer, where);
            Assert.True(x.GetProperty("channel").GetString() == e.Channel, where);

            // python-evtx prints microseconds and converts FILETIME through a float (seconds since 1601), which
            // loses a few microseconds at today's dates; the exact 100 ns value is checked against libevtx.
            var time = DateTime.ParseExact(x.GetProperty("time").GetString()!, "yyyy-MM-dd HH:mm:ss.FFFFFF", CultureInfo.InvariantCulture);
            var ours = e.TimeCreated.UtcDateTime;
            Assert.True(Math.Abs((ours - time).Ticks) <= 50, $"{where}: python-evtx {time:O}, ours {ours:O}");

            var data = x.GetProperty("data").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString()!);
            Assert.Equal(data.Keys.Order(StringComparer.Ordinal), e.Data.Keys.Order(StringComparer.Ordinal));
            foreach (var (name, value) in data)
            {
                Assert.True(EvtxReaderRealFileTests.SameValue(value, e.Data[name]), $"{where} {name}: python-evtx '{value}', ours '{e.Data[name]}'");
            }
        }
    }

    private static List<JsonElement> RunPythonEvtx(string evtxPath)
    {
        Assert.True(File.Exists(Python), $"{Python} not found: install Debian's python3-evtx (.ci/run does)");
        var start = new ProcessStartInfo(Python) { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add(Script);
        start.ArgumentList.Add(evtxPath);
        using var process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync();
        var lines = new List<JsonElement>();
        while (process.StandardOutput.ReadLine() is { } line)
        {
            lines.Add(JsonDocument.Parse(line).RootElement.Clone());
        }

        Assert.True(process.WaitForExit(120_000), "python-evtx did not finish in 2 minutes");
        Assert.True(process.ExitCode == 0, $"python-evtx failed (is Debian's python3-evtx installed? .ci/run installs it): {stderr.Result}");
        return lines;
    }
}
