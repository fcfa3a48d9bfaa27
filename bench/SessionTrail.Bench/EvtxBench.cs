using System.Diagnostics;
using System.Globalization;
using SessionTrail.Core.Windows.Evtx;

namespace SessionTrail.Bench;

/// <summary>
/// Binary .evtx read speed: reads a file from memory with <see cref="EvtxReader"/> repeatedly (one warm-up
/// pass, then passes for at least the given seconds) and prints events/s and MB/s on one core.
/// Usage: evtx [file=tests/data/windows-events/EVTX-to-MITRE-Attack__ID4688-Tchopper.evtx] [seconds=5].
/// </summary>
public static class EvtxBench
{
    public static Task<int> RunAsync(string[] args)
    {
        ArgumentNullException.ThrowIfNull(args);
        var path = args.Length > 0 ? args[0] : FindSample();
        var seconds = args.Length > 1 ? double.Parse(args[1], CultureInfo.InvariantCulture) : 5;
        var bytes = File.ReadAllBytes(path);

        var (events, errors) = Pass(bytes);
        Console.WriteLine($"evtx: {Path.GetFileName(path)}, {bytes.Length / 1024.0 / 1024.0:F2} MB, {events} events, {errors} errors per pass");
        var passes = 0;
        var sw = Stopwatch.StartNew();
        var cpu = Process.GetCurrentProcess().TotalProcessorTime;
        while (sw.Elapsed.TotalSeconds < seconds)
        {
            Pass(bytes);
            passes++;
        }

        var elapsed = sw.Elapsed.TotalSeconds;
        var cpuSeconds = (Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalSeconds;
        Console.WriteLine(FormattableString.Invariant(
            $"evtx: {passes} passes in {elapsed:F2} s: {passes * events / elapsed:N0} events/s, {passes * bytes.Length / elapsed / 1024 / 1024:F1} MB/s (CPU {cpuSeconds / elapsed * 100:F0}% of one core: {passes * events / cpuSeconds:N0} events per CPU-second)"));
        return Task.FromResult(0);
    }

    private static (long Events, long Errors) Pass(byte[] bytes)
    {
        long events = 0, errors = 0;
        foreach (var entry in new EvtxReader(new MemoryStream(bytes, writable: false), "bench.evtx").Read())
        {
            if (entry.Event is not null)
            {
                events++;
            }
            else
            {
                errors++;
            }
        }

        return (events, errors);
    }

    private static string FindSample()
    {
        for (var dir = new DirectoryInfo(Environment.CurrentDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "tests", "data", "windows-events", "EVTX-to-MITRE-Attack__ID4688-Tchopper.evtx");
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        throw new FileNotFoundException("give an .evtx file: tests/data/windows-events/ (in the repository) not found above the current directory");
    }
}
