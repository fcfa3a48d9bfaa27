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
    private Process _xvnc;
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

        // A number that looked free can be taken between the look and Xvnc's own lock (another test, another user
        // of the machine): Xvnc then exits at once, and the next free number is tried.
        for (var attempt = 1; ; attempt++)
        {
            Number = FreeDisplayNumber();
            Display = ":" + Number.ToString(CultureInfo.InvariantCulture);
            _xvnc = Start("Xvnc", [Display, "-geometry", $"{width}x{height}", "-depth", "24", "-SecurityTypes", "None", "-rfbport", "-1", "-nolisten", "tcp", .. xvncArguments]);
            var deadline = DateTime.UtcNow.AddSeconds(15);
            while (Xrandr("--current").ExitCode != 0 && !_xvnc.HasExited && DateTime.UtcNow < deadline)
            {
                Thread.Sleep(100);
            }

            if (!_xvnc.HasExited && Xrandr("--current").ExitCode == 0)
            {
                break;
            }

            var exited = _xvnc.HasExited;
            Dispose();
            if (!exited || attempt == 5)
            {
                throw new InvalidOperationException($"Xvnc {Display} did not come up" + (exited ? $" (it exited {attempt} times, last with code {_xvnc.ExitCode})" : " in 15 s"));
            }
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
        RemoveStaleLock(Number);
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

    public int Number { get; private set; }

    public string Display { get; private set; }

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
                if (p == _xvnc && !p.HasExited)
                {
                    // SIGTERM first: Xvnc then removes its /tmp/.X{n}-lock and socket. SIGKILL leaves them behind, and
                    // 757 of them once filled every number a test looks at ("no free X display number" in CI).
                    using var term = Process.Start("kill", ["-TERM", p.Id.ToString(CultureInfo.InvariantCulture)]);
                    term.WaitForExit();
                    p.WaitForExit(3000);
                }

                p.Kill(entireProcessTree: true);
                p.WaitForExit(5000);
            }
            catch (InvalidOperationException)
            {
            }
        }

        _xterm?.Dispose();
        RemoveStaleLock(Number);
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
        // Random start, so parallel test classes (and other users of the machine) do not collide. A lock left by
        // an X server that is gone (SIGKILLed, the machine reset) is removed and its number used.
        var start = 100 + Random.Shared.Next(800);
        for (var i = 0; i < 900; i++)
        {
            var n = 100 + ((start - 100 + i) % 900);
            if (RemoveStaleLock(n) && !File.Exists($"/tmp/.X{n}-lock") && !File.Exists($"/tmp/.X11-unix/X{n}"))
            {
                return n;
            }
        }

        throw new InvalidOperationException("no free X display number in :100–:999 (each has a /tmp/.X<n>-lock held by a live process)");
    }

    /// <summary>
    /// Removes display n's lock file and socket when the process the lock names is gone; false when a live process
    /// holds it. True when there is nothing to remove.
    /// </summary>
    public static bool RemoveStaleLock(int n)
    {
        var lockFile = $"/tmp/.X{n}-lock";
        try
        {
            if (File.Exists(lockFile))
            {
                var text = File.ReadAllText(lockFile).Trim();
                if (!int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var pid) || Directory.Exists($"/proc/{pid}"))
                {
                    return false;
                }

                File.Delete(lockFile);
            }

            var socket = $"/tmp/.X11-unix/X{n}";
            if (File.Exists(socket))
            {
                File.Delete(socket);
            }

            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false; // another user's lock, or being written right now: leave it
        }
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
