using System.Diagnostics;
using System.Globalization;

namespace SessionTrail.Bench;

/// <summary>Figures of one live capture: CPU over the steady part, peak RSS, and the output's size as MB per hour.</summary>
public sealed record RecordCaptureResult(double CpuPercent, double PeakRssMb, double MbPerHour, double RawMbPerHour, int Frames, int Keyframes);

/// <summary>
/// Runs ffmpeg x11grab for several profiles at the same time on one display (same content for all) for
/// warm-up + seconds, then `q`. CPU = ffmpeg's whole user+system time (start-up and the encoder's flush
/// after `q` included) over the time from start to `q`; peak RSS = VmHWM just before `q`.
/// </summary>
public static class RecordCapture
{
    public static async Task<Dictionary<string, RecordCaptureResult>?> RunAsync(
        IReadOnlyList<RecordProfile> profiles, string display, int fps, int warmup, int seconds, string dir)
    {
        var running = new List<(RecordProfile Profile, Process Process, string File, Stopwatch Watch)>();
        try
        {
            foreach (var profile in profiles)
            {
                var file = Path.Combine(dir, $"{profile.Name}-{fps}.mp4");
                File.Delete(file);
                var args = new List<string> { "-hide_banner", "-loglevel", "error", "-y", "-f", "x11grab" };
                args.AddRange(profile.InputArgs(fps));
                args.AddRange(["-i", display]);
                args.AddRange(profile.OutputArgs(fps));
                args.Add(file);
                // bash runs ffmpeg in the foreground (stdin, so `q`, reaches it) and writes its children's CPU
                // times when ffmpeg has exited: an encoder with a long lookahead (the seed: 40 frames + 3 frame
                // threads = 40 s at 1 fps) does much of its work only when `q` flushes it, after any /proc sample.
                var times = file + ".times";
                args.InsertRange(0, ["-c", "ffmpeg \"$@\"; code=$?; times > \"$0\"; exit $code", times]);
                running.Add((profile, Ffmpeg.Start("bash", args, stdin: true), file, Stopwatch.StartNew()));
            }

            await Task.Delay(TimeSpan.FromSeconds(warmup + seconds));
            var hwm = running.Select(r => Ffmpeg.PeakRssMb(Ffmpeg.ChildOf(r.Process.Id))).ToList();
            if (running.FirstOrDefault(r => r.Process.HasExited) is { Process: not null } dead)
            {
                Console.WriteLine($"  ffmpeg '{dead.Profile.Name}' exited early ({dead.Process.ExitCode}): {Ffmpeg.Tail(dead.Process)}");
                return null;
            }

            var durations = new List<double>();
            foreach (var r in running)
            {
                await Ffmpeg.QuitAsync(r.Process);
                durations.Add(r.Watch.Elapsed.TotalSeconds);
            }

            var results = new Dictionary<string, RecordCaptureResult>();
            for (var i = 0; i < running.Count; i++)
            {
                var (profile, process, file, _) = running[i];
                if (process.ExitCode != 0)
                {
                    // `q` ends ffmpeg with 0; anything else was a kill from outside (a shared machine) or a failure.
                    Console.WriteLine($"  ffmpeg '{profile.Name}' ended with {process.ExitCode} after q: {Ffmpeg.Tail(process)}");
                    return null;
                }

                var cpu = Ffmpeg.ChildrenCpuSeconds(file + ".times") / durations[i] * 100;
                results[profile.Name] = await SizeAsync(profile, fps, file, durations[i], cpu, hwm[i]);
            }

            return results;
        }
        finally
        {
            foreach (var r in running)
            {
                Ffmpeg.Kill(r.Process);
            }
        }
    }

    /// <summary>
    /// MB per hour of 5-minute files: keyframes are large and rare, so a short run cannot simply be scaled
    /// up. Measured: the mean keyframe size, the bytes of every other frame per second, the frames per second
    /// that reach the file, container overhead per second, extra (scene-cut) keyframes per second. Counted:
    /// keyframes per segment from the profile's interval, segments per hour from its segment length.
    /// </summary>
    private static async Task<RecordCaptureResult> SizeAsync(RecordProfile profile, int fps, string file, double seconds, double cpu, double rss)
    {
        var packets = await Ffmpeg.PacketsAsync(file);
        var fileBytes = new FileInfo(file).Length;
        var keys = packets.Where(p => p.Key).ToList();
        if (packets.Count == 0 || keys.Count == 0)
        {
            throw new InvalidOperationException($"{file}: no video frames recorded");
        }

        var keyMean = keys.Average(p => (double)p.Size);
        var otherPerSecond = packets.Where(p => !p.Key).Sum(p => (double)p.Size) / seconds;
        var overheadPerSecond = (fileBytes - packets.Sum(p => (double)p.Size)) / seconds;
        var framesPerSegment = packets.Count / seconds * profile.SegmentSeconds;
        var keysPerSegment = profile.Keyframes(fps, framesPerSegment, profile.SegmentSeconds);
        var extraKeysPerSecond = Math.Max(0, keys.Count - profile.Keyframes(fps, packets.Count, seconds)) / seconds;
        var perHour = (3600.0 / profile.SegmentSeconds * keysPerSegment * keyMean)
                      + (extraKeysPerSecond * 3600 * keyMean)
                      + (otherPerSecond * 3600)
                      + (overheadPerSecond * 3600);
        return new RecordCaptureResult(cpu, rss, perHour / 1e6, fileBytes * 3600 / seconds / 1e6, packets.Count, keys.Count);
    }
}

/// <summary>Small helpers around the ffmpeg/ffprobe executables and /proc.</summary>
public static class Ffmpeg
{
    public static Process Start(string file, IEnumerable<string> args, bool stdin = false)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardError = true, RedirectStandardOutput = true, RedirectStandardInput = stdin };
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }

        return Process.Start(psi) ?? throw new InvalidOperationException($"could not start {file}");
    }

    /// <summary>Runs to the end and returns (exit code, stdout, stderr).</summary>
    public static async Task<(int Code, string Out, string Err)> RunAsync(string file, IEnumerable<string> args)
    {
        using var p = Start(file, args);
        var output = p.StandardOutput.ReadToEndAsync();
        var error = p.StandardError.ReadToEndAsync();
        await p.WaitForExitAsync();
        return (p.ExitCode, await output, await error);
    }

    /// <summary>`q` on stdin (ffmpeg finishes the file), then a kill after 15 s.</summary>
    public static async Task QuitAsync(Process p)
    {
        try
        {
            await p.StandardInput.WriteAsync("q");
            await p.StandardInput.FlushAsync();
        }
        catch (IOException)
        {
            // exited already
        }

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        try
        {
            await p.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            Kill(p);
        }
    }

    public static void Kill(Process p)
    {
        try
        {
            if (!p.HasExited)
            {
                p.Kill();
                p.WaitForExit(5000);
            }
        }
        catch (InvalidOperationException)
        {
            // gone
        }
    }

    public static string Tail(Process p)
    {
        try
        {
            var text = p.StandardError.ReadToEnd();
            return text.Length > 300 ? text[^300..] : text;
        }
        catch (InvalidOperationException)
        {
            return "";
        }
    }

    /// <summary>The first child process of <paramref name="pid"/> (ffmpeg under its bash wrapper), or pid itself.</summary>
    public static int ChildOf(int pid)
    {
        try
        {
            var children = File.ReadAllText($"/proc/{pid}/task/{pid}/children").Split(' ', StringSplitOptions.RemoveEmptyEntries);
            return children.Length > 0 ? int.Parse(children[0], CultureInfo.InvariantCulture) : pid;
        }
        catch (IOException)
        {
            return pid;
        }
    }

    /// <summary>User + system seconds of the children from bash's `times` output (second line: "0m1.234s 0m0.056s").</summary>
    public static double ChildrenCpuSeconds(string timesFile)
    {
        var line = File.ReadAllLines(timesFile)[1];
        return line.Split(' ', StringSplitOptions.RemoveEmptyEntries).Sum(t =>
        {
            var m = t.IndexOf('m', StringComparison.Ordinal);
            return (int.Parse(t[..m], CultureInfo.InvariantCulture) * 60) + double.Parse(t[(m + 1)..].TrimEnd('s'), CultureInfo.InvariantCulture);
        });
    }

    public static double PeakRssMb(int pid)
    {
        try
        {
            var line = File.ReadLines($"/proc/{pid}/status").First(l => l.StartsWith("VmHWM:", StringComparison.Ordinal));
            return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) / 1024.0;
        }
        catch (IOException)
        {
            return 0;
        }
    }

    /// <summary>Video packets of a file: size in bytes and whether it is a keyframe.</summary>
    public static async Task<List<(long Size, bool Key)>> PacketsAsync(string file)
    {
        var (code, output, error) = await RunAsync("ffprobe", ["-v", "error", "-select_streams", "v:0", "-show_entries", "packet=size,flags", "-of", "csv=p=0", file]);
        if (code != 0)
        {
            throw new InvalidOperationException($"ffprobe {file}: {error.Trim()}");
        }

        return output.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => l.Split(','))
            .Select(f => (long.Parse(f[0], CultureInfo.InvariantCulture), f.Length > 1 && f[1].Contains('K', StringComparison.Ordinal)))
            .ToList();
    }
}
