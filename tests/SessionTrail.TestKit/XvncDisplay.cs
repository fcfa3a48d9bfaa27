using System.Diagnostics;
using System.Globalization;

namespace SessionTrail.TestKit;

/// <summary>
/// A real X server that can change its size at run time (TigerVNC's Xvnc; Xvfb cannot) on a free display
/// number, with an xterm printing the date non-stop so every frame differs. Killed (by pid) on dispose.
/// Throws — the test fails, it is not skipped — when Xvnc, xrandr, xterm, ffmpeg or ffprobe is missing (CI installs them).
/// </summary>
public sealed class XvncDisplay : IDisposable
{
    private readonly Process _xvnc;
    private readonly Process? _xterm;

    /// <param name="busyTerminal">Start an xterm printing the time without pause (a screen that changes all the time).</param>
    /// <param name="xvncArguments">More Xvnc arguments, e.g. "-extension", "MIT-SHM" to disable one.</param>
    public XvncDisplay(int width = 1280, int height = 800, bool busyTerminal = true, params string[] xvncArguments)
    {
        foreach (var tool in new[] { "Xvnc", "xrandr", "xterm", "ffmpeg", "ffprobe" })
        {
            if (Which(tool) is null)
            {
                throw new InvalidOperationException($"{tool} is not installed: the recording tests need Xvnc (tigervnc-standalone-server), xrandr (x11-xserver-utils), xterm, ffmpeg and ffprobe — see .ci/run.");
            }
        }

        Number = FreeDisplayNumber();
        Display = ":" + Number.ToString(CultureInfo.InvariantCulture);
        _xvnc = Start("Xvnc", [Display, "-geometry", $"{width}x{height}", "-depth", "24", "-SecurityTypes", "None", "-rfbport", "-1", "-nolisten", "tcp", .. xvncArguments]);
        var deadline = DateTime.UtcNow.AddSeconds(15);
        while (Xrandr("--current").ExitCode != 0)
        {
            if (DateTime.UtcNow > deadline || _xvnc.HasExited)
            {
                Dispose();
                throw new InvalidOperationException($"Xvnc {Display} did not come up");
            }

            Thread.Sleep(100);
        }

        if (busyTerminal)
        {
            _xterm = Start("xterm", "-display", Display, "-geometry", "160x50+0+0", "-e", "sh", "-c", "while :; do date +%T.%N; done");
        }
    }

    /// <summary>SIGKILLs the X server (the display is gone for every client).</summary>
    public void KillServer()
    {
        _xvnc.Kill();
        _xvnc.WaitForExit(5000);
    }

    /// <summary>Runs an X client tool on this display to its end (e.g. "xsetroot", "-solid", "#0000ff"); its exit code.</summary>
    public int Run(string tool, params string[] args)
    {
        var psi = new ProcessStartInfo(tool) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        psi.Environment["DISPLAY"] = Display;
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }

        using var p = Process.Start(psi)!;
        p.StandardOutput.ReadToEnd();
        p.StandardError.ReadToEnd();
        p.WaitForExit();
        return p.ExitCode;
    }

    public int Number { get; }

    public string Display { get; }

    /// <summary>Runs xrandr on this display, e.g. ("-s", "1920x1080").</summary>
    public (int ExitCode, string Output) Xrandr(params string[] args)
    {
        var psi = new ProcessStartInfo("xrandr") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add("-display");
        psi.ArgumentList.Add(Display);
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }

        using var p = Process.Start(psi)!;
        var output = p.StandardOutput.ReadToEnd() + p.StandardError.ReadToEnd();
        p.WaitForExit();
        return (p.ExitCode, output);
    }

    public void Dispose()
    {
        foreach (var p in new[] { _xterm, _xvnc })
        {
            if (p is null)
            {
                continue;
            }

            try
            {
                p.Kill(entireProcessTree: true);
                p.WaitForExit(5000);
            }
            catch (InvalidOperationException)
            {
            }

            p.Dispose();
        }
    }

    public static string? Which(string tool) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries).Select(d => Path.Combine(d, tool)).FirstOrDefault(File.Exists);

    private static Process Start(string file, params string[] args)
    {
        var psi = new ProcessStartInfo(file) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true };
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }

        var p = Process.Start(psi)!;
        p.OutputDataReceived += (_, _) => { };
        p.ErrorDataReceived += (_, _) => { };
        p.BeginOutputReadLine();
        p.BeginErrorReadLine();
        return p;
    }

    private static int FreeDisplayNumber()
    {
        // Random start, so parallel test classes (and other users of the machine) do not collide.
        var start = 100 + Random.Shared.Next(800);
        for (var n = start; n < start + 200; n++)
        {
            if (!File.Exists($"/tmp/.X{n}-lock") && !File.Exists($"/tmp/.X11-unix/X{n}"))
            {
                return n;
            }
        }

        throw new InvalidOperationException("no free X display number");
    }
}

/// <summary>ffprobe of a whole file: decodes every frame.</summary>
public sealed record ProbedVideo(string Codec, int Width, int Height, string PixelFormat, int Frames)
{
    public static ProbedVideo? Probe(string path)
    {
        var psi = new ProcessStartInfo("ffprobe") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[] { "-v", "error", "-count_frames", "-select_streams", "v:0", "-show_entries", "stream=nb_read_frames,width,height,codec_name,pix_fmt", "-of", "default=nw=1", path })
        {
            psi.ArgumentList.Add(a);
        }

        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEnd();
        var stderr = p.StandardError.ReadToEnd();
        p.WaitForExit();
        var v = stdout.Split('\n', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).Select(l => l.Split('=', 2)).Where(x => x.Length == 2).ToDictionary(x => x[0], x => x[1]);
        if (p.ExitCode != 0 || stderr.Trim().Length > 0 || !v.TryGetValue("codec_name", out var codec))
        {
            return null;
        }

        return new ProbedVideo(codec, int.Parse(v["width"], CultureInfo.InvariantCulture), int.Parse(v["height"], CultureInfo.InvariantCulture), v["pix_fmt"], int.TryParse(v.GetValueOrDefault("nb_read_frames"), out var f) ? f : 0);
    }
}
