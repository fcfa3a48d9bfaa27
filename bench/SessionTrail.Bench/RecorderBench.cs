using System.Globalization;
using Microsoft.Extensions.Logging.Abstractions;
using SessionTrail.Agent.Recording;
using SessionTrail.Agent.Sessions;
using SessionTrail.Agent.Sources;
using SessionTrail.Core.Records;

namespace SessionTrail.Bench;

/// <summary>
/// `bench recorder`: the recorder as the agent runs it (<see cref="ScreenRecorder"/>: capture, ffmpeg, the
/// geometry probe every second, segment bookkeeping) on a private Xvnc, per capture back-end. CPU counts
/// everything the recorder costs: this process (the capture thread, the supervisor), its finished children (xrandr,
/// ffprobe) and the running ffmpeg, over a steady window after a warm-up; MB/h is the segment bytes written in
/// the recorded files (one keyframe per 5-minute segment). Back-ends alternate within each run so load changes hit both alike. Medians of the runs.
///   bench recorder [--size 1920x1080] [--fps 5] [--content static|busy] [--backends x11damage,x11grab] [--runs 3] [--seconds 60] [--warmup 8]
/// A back-end may carry other x264 settings to compare: NAME/PRESET[/X264PARAMS], e.g. x11damage/superfast.
/// </summary>
public static class RecorderBench
{
    public static async Task<int> RunAsync(string[] args)
    {
        string Arg(string name, string fallback)
        {
            var i = Array.IndexOf(args, name);
            return i >= 0 && i + 1 < args.Length ? args[i + 1] : fallback;
        }

        var size = Arg("--size", "1920x1080").Split('x');
        var (width, height) = (int.Parse(size[0], CultureInfo.InvariantCulture), int.Parse(size[1], CultureInfo.InvariantCulture));
        var fps = int.Parse(Arg("--fps", "5"), CultureInfo.InvariantCulture);
        var content = Arg("--content", "static");
        var backends = Arg("--backends", "x11damage,x11grab").Split(',');
        var runs = int.Parse(Arg("--runs", "3"), CultureInfo.InvariantCulture);
        var seconds = double.Parse(Arg("--seconds", "60"), CultureInfo.InvariantCulture);
        var warmup = double.Parse(Arg("--warmup", "8"), CultureInfo.InvariantCulture);

        var dir = Directory.CreateTempSubdirectory("st-recorder-bench-").FullName;
        try
        {
            using var desktop = await RecordDesktop.StartAsync(width, height, dir);
            await desktop.ShowAsync(content);
            var ffmpeg = await FfmpegDiscovery.CheckAsync("ffmpeg", CaptureBackends.X11grab);
            Console.WriteLine($"recorder {width}x{height} {content} {fps} fps, {runs} run(s) × {seconds} s after {warmup} s warm-up, {Environment.ProcessorCount} cores");
            var results = backends.ToDictionary(b => b, _ => new List<(double Cpu, double Ffmpeg, double MbPerHour, string Frames)>());
            for (var run = 0; run < runs; run++)
            {
                foreach (var backend in backends)
                {
                    var r = await MeasureAsync(desktop.Display, Path.Combine(dir, $"{backend}-{run}"), backend, fps, ffmpeg, warmup, seconds);
                    results[backend].Add(r);
                    Console.WriteLine($"  run {run + 1} {backend,-10} total {r.Cpu,5:F2} % of one core (ffmpeg {r.Ffmpeg,5:F2} %), {r.MbPerHour,5:F1} MB/h {r.Frames} load {File.ReadAllText("/proc/loadavg").Split(' ')[0]}");
                }
            }

            Console.WriteLine();
            Console.WriteLine("| back-end | CPU % of one core (median) | of which ffmpeg | MB/h |");
            Console.WriteLine("|---|---|---|---|");
            foreach (var (backend, list) in results)
            {
                Console.WriteLine($"| {backend} | {Median(list.Select(r => r.Cpu)):F2} ({string.Join(", ", list.Select(r => r.Cpu.ToString("F2", CultureInfo.InvariantCulture)))}) | {Median(list.Select(r => r.Ffmpeg)):F2} | {Median(list.Select(r => r.MbPerHour)):F1} |");
            }

            return 0;
        }
        finally
        {
            if (Environment.GetEnvironmentVariable("BENCH_KEEP") == "1")
            {
                Console.WriteLine("kept " + dir);
            }
            else
            {
                Directory.Delete(dir, recursive: true);
            }
        }
    }

    private static async Task<(double Cpu, double Ffmpeg, double MbPerHour, string Frames)> MeasureAsync(string display, string dataDir, string backend, int fps, FfmpegInstallation ffmpeg, double warmup, double seconds)
    {
        var spec = backend.Split('/', 3);
        var options = new RecordingOptions { Enabled = true, Display = display, Backend = spec[0], Fps = fps };
        if (spec.Length > 1)
        {
            options.Preset = spec[1];
        }

        if (spec.Length > 2)
        {
            options.X264Params = spec[2];
        }

        var registry = new ChildRegistry(ScreenRecorder.Root(dataDir));
        using var probe = (IDisposable)RecordingSource.PlatformProbe(display, ScreenRecorder.XEnvironment(options, display));
        var recorder = new ScreenRecorder(options, dataDir, "bench", ffmpeg, (IGeometryProbe)probe, registry, TimeProvider.System, NullLogger.Instance);
        var stop = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        var session = new CurrentSession { Id = "bench-" + string.Concat(backend.Where(char.IsAsciiLetterOrDigit)), Fields = new SessionFields { User = "bench" }, Started = DateTimeOffset.UtcNow };
        var recording = Task.Run(() => recorder.RecordAsync(session, new NullOutput(), stop.Task));
        try
        {
            await Task.Delay(TimeSpan.FromSeconds(warmup));
            var pid = recorder.GetStatus().FfmpegPid ?? throw new InvalidOperationException($"{backend}: ffmpeg is not running after the warm-up: {recorder.GetStatus()}");
            var spool = RecordingSpool.SessionDirectory(dataDir, session.Id);
            var (self0, children0) = SelfTimes();
            var ffmpeg0 = ProcessTime(pid);
                        var clock = System.Diagnostics.Stopwatch.StartNew();
            await Task.Delay(TimeSpan.FromSeconds(seconds));
            var elapsed = clock.Elapsed.TotalSeconds;
            var (self1, children1) = SelfTimes();
            var ffmpeg1 = ProcessTime(pid);
                        if (recorder.GetStatus().FfmpegPid != pid)
            {
                throw new InvalidOperationException($"{backend}: ffmpeg restarted during the measurement: {recorder.GetStatus()}");
            }

            var ffmpegCpu = (ffmpeg1 - ffmpeg0) / elapsed * 100;
            var total = ((self1 - self0) + (children1 - children0)) / elapsed * 100 + ffmpegCpu;
            stop.TrySetResult(SegmentEndReasons.SessionEnd);
            await recording;

            // MB/h of 5-minute segments: everything but the keyframes at the rate written (frames + container), plus one
            // keyframe per segment — a short run holds one keyframe, which a 60 s window would count 5 times too often.
            long fileBytes = 0, keyBytes = 0, keys = 0, frames = 0;
            double duration = 0;
            foreach (var file in Directory.EnumerateFiles(spool, "*.mp4"))
            {
                fileBytes += new FileInfo(file).Length;
                var packets = await Ffmpeg.PacketsAsync(file);
                frames += packets.Count;
                keys += packets.Count(p => p.Key);
                keyBytes += packets.Where(p => p.Key).Sum(p => p.Size);
                var (_, d, _) = await Ffmpeg.RunAsync("ffprobe", ["-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0", file]);
                duration += double.TryParse(d.Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds1) ? seconds1 : 0;
            }

            var mbPerHour = keys == 0 || duration <= 0 ? double.NaN
                : (((fileBytes - keyBytes) / duration) + ((double)keyBytes / keys / options.MaxSegmentLength.TotalSeconds)) * 3600 / 1e6;
            return (total, ffmpegCpu, mbPerHour, $"({frames} frames in {duration:F0} s)");
        }
        finally
        {
            stop.TrySetResult(SegmentEndReasons.SessionEnd);
            await recording;
        }
    }

    /// <summary>utime+stime and cutime+cstime of this process, in seconds (/proc/self/stat).</summary>
    private static (double Self, double Children) SelfTimes()
    {
        var f = Fields(File.ReadAllText("/proc/self/stat"));
        return ((f[11] + f[12]) / 100.0, (f[13] + f[14]) / 100.0);
    }

    private static double ProcessTime(int pid)
    {
        var f = Fields(File.ReadAllText($"/proc/{pid}/stat"));
        return (f[11] + f[12]) / 100.0;
    }

    // Fields after "(comm)": index 0 is the state (field 3 of proc(5)); utime is field 14 → index 11.
    private static long[] Fields(string stat) =>
        stat[(stat.LastIndexOf(')') + 2)..].Split(' ').Select(s => long.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) ? v : 0).ToArray();

    private static double Median(IEnumerable<double> values)
    {
        var v = values.Order().ToArray();
        return v.Length == 0 ? double.NaN : v.Length % 2 == 1 ? v[v.Length / 2] : (v[(v.Length / 2) - 1] + v[v.Length / 2]) / 2;
    }

    private sealed class NullOutput : IRecordOutput
    {
        public ValueTask WriteAsync(TrailRecord record, CancellationToken cancellationToken) => ValueTask.CompletedTask;
    }
}
