using System.Diagnostics;
using System.Text;

namespace SessionTrail.Bench;

/// <summary>
/// A private Xvnc display of a given size with reproducible content for the recording benchmark.
/// "static": solid background, two xterms showing fixed text and a one-line clock (HH:MM:SS rewritten
/// in place once a second) — an office desktop where almost nothing changes.
/// "busy": the same plus a 160×50 xterm scrolling generated text at 10 lines a second (paced by the clock) without end
/// (a log being tailed: the whole window changes in every captured frame).
/// </summary>
public sealed class RecordDesktop : IDisposable
{
    private readonly List<Process> _processes = [];
    private readonly List<Process> _windows = [];
    private readonly string _dir;

    private RecordDesktop(string display, string dir)
    {
        Display = display;
        _dir = dir;
    }

    /// <summary>The X display name, e.g. ":93".</summary>
    public string Display { get; }

    /// <summary>Starts Xvnc at WIDTHxHEIGHT on the first free display number from 90 and waits for its socket.</summary>
    public static async Task<RecordDesktop> StartAsync(int width, int height, string dir)
    {
        var number = Enumerable.Range(90, 100).First(n => !File.Exists($"/tmp/.X{n}-lock") && !File.Exists($"/tmp/.X11-unix/X{n}"));
        var desktop = new RecordDesktop($":{number}", dir);
        desktop._processes.Add(Spawn(null, "Xvnc", desktop.Display, "-geometry", $"{width}x{height}", "-depth", "24",
            "-SecurityTypes", "None", "-rfbport", "-1", "-nolisten", "tcp", "-s", "0"));
        var watch = Stopwatch.StartNew();
        while (!File.Exists($"/tmp/.X11-unix/X{number}"))
        {
            if (watch.Elapsed > TimeSpan.FromSeconds(15) || desktop._processes[0].HasExited)
            {
                desktop.Dispose();
                throw new InvalidOperationException($"Xvnc {desktop.Display} did not start (is tigervnc-standalone-server installed?)");
            }

            await Task.Delay(100);
        }

        await Spawn(desktop.Display, "xsetroot", "-solid", "#3a6ea5").WaitForExitAsync();
        return desktop;
    }

    /// <summary>Replaces the windows on the display with the named content and lets it settle.</summary>
    public async Task ShowAsync(string content)
    {
        CloseWindows();
        var text = Path.Combine(_dir, "text.txt");
        if (!File.Exists(text))
        {
            File.WriteAllText(text, GenerateText(2000));
        }

        _windows.Add(Spawn(Display, "xterm", "-geometry", "100x38+20+20", "-e", "sh", "-c", $"head -n 36 '{text}'; exec sleep 1000000"));
        _windows.Add(Spawn(Display, "xterm", "-geometry", "80x24+700+300", "-e", "sh", "-c", $"tail -n 22 '{text}'; exec sleep 1000000"));
        _windows.Add(Spawn(Display, "xterm", "-geometry", "12x1-10+10", "-e", "sh", "-c", "while :; do printf '\\r%s' \"$(date +%T)\"; sleep 1; done"));
        if (content == "busy")
        {
            // perl (in every Debian) paces by the clock: no fork per line, and a late line is caught up, so the rate holds under load.
            _windows.Add(Spawn(Display, "xterm", "-geometry", "160x50+100+100", "-e", "perl", "-e",
                "use Time::HiRes qw(time sleep); $| = 1; my $t = time; while (1) { open(my $f, '<', $ARGV[0]) or die; " +
                "while (<$f>) { print; $t += 0.1; my $d = $t - time; sleep($d) if $d > 0 } }", text));
        }
        else if (content != "static")
        {
            throw new ArgumentException($"unknown content '{content}' (static, busy)", nameof(content));
        }

        await Task.Delay(TimeSpan.FromSeconds(3));
    }

    public void Dispose()
    {
        CloseWindows();
        foreach (var p in _processes)
        {
            // SIGTERM first: Xvnc then removes its /tmp/.X{n}-lock and socket (SIGKILL leaves them behind).
            using (var term = Process.Start("kill", ["-TERM", p.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
            {
                term.WaitForExit();
            }

            p.WaitForExit(5000);
            Stop(p);
        }
    }

    private void CloseWindows()
    {
        foreach (var w in _windows)
        {
            Stop(w);
        }

        _windows.Clear();
    }

    private static void Stop(Process p)
    {
        try
        {
            p.Kill(entireProcessTree: true);
            p.WaitForExit(5000);
        }
        catch (InvalidOperationException)
        {
            // already gone
        }

        p.Dispose();
    }

    private static Process Spawn(string? display, string file, params string[] args)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }

        if (display is not null)
        {
            psi.Environment["DISPLAY"] = display;
        }

        var p = Process.Start(psi) ?? throw new InvalidOperationException($"could not start {file}");
        _ = p.StandardOutput.ReadToEndAsync();
        _ = p.StandardError.ReadToEndAsync();
        return p;
    }

    /// <summary>Deterministic log-like lines (fixed seed) so every run and machine scrolls the same text.</summary>
    private static string GenerateText(int lines)
    {
        string[] words = ["session", "user", "fleet", "stack", "process", "started", "exited", "upload", "segment", "chain",
                          "verify", "record", "agent", "server", "queue", "ack", "retry", "window", "display", "policy"];
        var random = new Random(42);
        var sb = new StringBuilder();
        for (var i = 0; i < lines; i++)
        {
            sb.Append(System.Globalization.CultureInfo.InvariantCulture, $"2026-11-30T08:{i / 60 % 60:D2}:{i % 60:D2}Z {random.Next(1000, 9999)} ");
            var n = random.Next(4, 22);
            for (var w = 0; w < n; w++)
            {
                sb.Append(words[random.Next(words.Length)]).Append(random.Next(3) == 0 ? "=" + random.Next(100000) : "").Append(' ');
            }

            sb.Append('\n');
        }

        return sb.ToString();
    }
}
