using System.Buffers;
using System.Diagnostics;
using SessionTrail.Agent.Config;
using SessionTrail.Agent.Ids;
using SessionTrail.Agent.Sinks;
using SessionTrail.Agent.Sources;
using SessionTrail.Core.Formats;
using SessionTrail.Core.Windows;
using SessionTrail.Core.Windows.Evtx;

namespace SessionTrail.Bench;

/// <summary>
/// Windows event → LogRecord → NDJSON line speed on the real events of tests/data/windows-events, on one
/// core, in three shapes: each event's XML string parsed on its own (what the live sources do with
/// <c>EventRecord.ToXml()</c>), whole XML files streamed, and the binary .evtx file. Every event gets its
/// LogIds id. On Linux this measures parsing + mapping + serialisation only: reading the live log
/// (EventLogWatcher/EventLogReader, message rendering) needs Windows.
/// Usage: winlog [--runs 5] [--seconds 2] [--dir tests/data/windows-events]
/// </summary>
public static class WinlogBench
{
    public static Task<int> RunAsync(string[] args)
    {
        ArgumentNullException.ThrowIfNull(args);
        var runs = IngestBench.Arg(args, "--runs", 5);
        var seconds = IngestBench.Arg(args, "--seconds", 2);
        var dirIndex = Array.IndexOf(args, "--dir");
        var dir = dirIndex >= 0 && dirIndex + 1 < args.Length ? args[dirIndex + 1] : FindData();
        var xmlFiles = Directory.GetFiles(dir, "*.xml").Order(StringComparer.Ordinal).Select(f => (Path.GetFileName(f), File.ReadAllBytes(f))).ToList();
        var evtx = Directory.GetFiles(dir, "*.evtx").Order(StringComparer.Ordinal).Select(f => (Path.GetFileName(f), File.ReadAllBytes(f))).ToList();
        var singles = xmlFiles.SelectMany(f => SplitEvents(System.Text.Encoding.UTF8.GetString(f.Item2))).ToList();

        Console.WriteLine($"winlog: {dir}: {singles.Count} events in {xmlFiles.Count} XML files, {evtx.Count} .evtx files; {runs} runs of >= {seconds} s each, median");
        Console.WriteLine("winlog: Linux measures parse + map (WindowsEventLogRecords) + id (LogIds) + NDJSON line; the live Windows read and message rendering are not included");
        Measure("ToXml strings, one Parse each (live path)", runs, seconds, sink => PassSingles(singles, sink));
        Measure("XML files, streamed", runs, seconds, sink => PassXmlFiles(xmlFiles, sink));
        Measure(".evtx file", runs, seconds, sink => PassEvtx(evtx, sink));
        return Task.FromResult(0);
    }

    private static void Measure(string name, int runs, int seconds, Func<ArrayBufferWriter<byte>, long> pass)
    {
        var sink = new ArrayBufferWriter<byte>(1 << 20);
        var perEvent = pass(sink); // warm-up
        var rates = new List<double>();
        var cpuRates = new List<double>();
        long bytes = 0;
        for (var r = 0; r < runs; r++)
        {
            long events = 0;
            var cpu = Process.GetCurrentProcess().TotalProcessorTime;
            var watch = Stopwatch.StartNew();
            while (watch.Elapsed.TotalSeconds < seconds)
            {
                sink.ResetWrittenCount();
                events += pass(sink);
                bytes = sink.WrittenCount;
            }

            rates.Add(events / watch.Elapsed.TotalSeconds);
            cpuRates.Add(events / (Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalSeconds);
        }

        rates.Sort();
        cpuRates.Sort();
        Console.WriteLine(FormattableString.Invariant(
            $"winlog: {name}: {rates[rates.Count / 2]:N0} events/s median (min {rates[0]:N0}, max {rates[^1]:N0}), {cpuRates[cpuRates.Count / 2]:N0} events per CPU-second; {perEvent} events, {bytes / Math.Max(1, perEvent)} NDJSON bytes/event"));
    }

    private static long PassSingles(List<string> events, ArrayBufferWriter<byte> sink) =>
        WriteAll(events.Select(xml => WindowsEventXmlReader.Parse(xml, "Security").Event), sink);

    private static long PassXmlFiles(List<(string Name, byte[] Bytes)> files, ArrayBufferWriter<byte> sink) =>
        WriteAll(files.SelectMany(f => WindowsEventXmlReader.Read(new MemoryStream(f.Bytes, writable: false), f.Name).Select(r => r.Event)), sink);

    private static long PassEvtx(List<(string Name, byte[] Bytes)> files, ArrayBufferWriter<byte> sink) =>
        WriteAll(files.SelectMany(f => new EvtxReader(new MemoryStream(f.Bytes, writable: false), f.Name).Read().Select(e => e.Event)), sink);

    private static long WriteAll(IEnumerable<WindowsEvent?> events, ArrayBufferWriter<byte> sink)
    {
        long n = 0;
        foreach (var e in events)
        {
            if (e is not null)
            {
                Write(e, sink);
                n++;
            }
        }

        return n;
    }

    private static void Write(WindowsEvent e, ArrayBufferWriter<byte> sink)
    {
        var channel = e.Channel ?? "Security";
        var record = WindowsEventLogRecords.ToLogRecord(e, "winlog", LogIds.For("bench-host", "winlog", WindowsEventLogRecords.Position(e, channel)), channel);
        NdjsonWriter.Write(record, sink);
    }

    /// <summary>Each &lt;Event&gt;...&lt;/Event&gt; of a file as its own string (what EventRecord.ToXml gives per event).</summary>
    private static IEnumerable<string> SplitEvents(string text)
    {
        var at = 0;
        while ((at = text.IndexOf("<Event ", at, StringComparison.Ordinal)) >= 0)
        {
            var end = text.IndexOf("</Event>", at, StringComparison.Ordinal);
            if (end < 0)
            {
                yield break;
            }

            yield return text[at..(end + "</Event>".Length)];
            at = end;
        }
    }

    private static string FindData()
    {
        for (var dir = new DirectoryInfo(Environment.CurrentDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "tests", "data", "windows-events");
            if (Directory.Exists(candidate))
            {
                return candidate;
            }
        }

        throw new DirectoryNotFoundException("give --dir: tests/data/windows-events (in the repository) not found above the current directory");
    }
}
