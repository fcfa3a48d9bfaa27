using System.Diagnostics;
using System.Globalization;

namespace SessionTrail.EndToEnd.Tests.Infrastructure;

/// <summary>
/// A real X display: TigerVNC's Xvnc (its size changes at run time with xrandr, unlike Xvfb), with
/// xterm windows drawing on it. Disposing stops the windows and the server.
/// </summary>
public sealed class XDisplay : IAsyncDisposable
{
    private readonly List<Process> _processes = [];

    private XDisplay(int number)
    {
        Number = number;
    }

    public int Number { get; }

    /// <summary>":N", the value of DISPLAY.</summary>
    public string Name => ":" + Number.ToString(CultureInfo.InvariantCulture);

    /// <summary>Starts Xvnc at <paramref name="width"/>×<paramref name="height"/> on a free display number; fails loudly when Xvnc is missing.</summary>
    public static async Task<XDisplay> StartAsync(int width, int height)
    {
        Assert.True(File.Exists("/usr/bin/Xvnc"), "Xvnc is missing: apt-get install tigervnc-standalone-server (.ci/run installs it)");
        for (var n = 140; n < 200; n++)
        {
            if (File.Exists($"/tmp/.X{n}-lock") || File.Exists($"/tmp/.X11-unix/X{n}"))
            {
                continue;
            }

            var display = new XDisplay(n);
            display.Spawn("Xvnc", $":{n}", "-geometry", $"{width}x{height}", "-depth", "24", "-SecurityTypes", "None", "-rfbport", "-1", "-nolisten", "tcp");
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(15);
            while (DateTime.UtcNow < deadline)
            {
                await Task.Delay(200);
                if (display._processes[0].HasExited)
                {
                    break; // lost a race for this number: try the next one
                }

                if ((await display.RunAsync("xdpyinfo")).Code == 0)
                {
                    return display;
                }
            }

            await display.DisposeAsync();
        }

        throw new InvalidOperationException("no X display could be started on :140…:199");
    }

    /// <summary>An xterm at <paramref name="geometry"/> (columns x rows + x + y) running a shell command.</summary>
    public void Window(string geometry, string shellCommand) =>
        Spawn("xterm", "-display", Name, "-geometry", geometry, "-e", "sh", "-c", shellCommand);

    /// <summary>`xrandr -s WxH` on this display.</summary>
    public async Task ResizeAsync(int width, int height)
    {
        var (code, output) = await RunAsync("xrandr", "-s", $"{width}x{height}");
        Assert.True(code == 0, $"xrandr -s {width}x{height} failed: {output}");
    }

    /// <summary>Runs an X client against this display to completion.</summary>
    public async Task<(int Code, string Output)> RunAsync(string file, params string[] args)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.Environment["DISPLAY"] = Name;
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }

        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        await p.WaitForExitAsync();
        return (p.ExitCode, await stdout + await stderr);
    }

    private void Spawn(string file, params string[] args)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.Environment["DISPLAY"] = Name;
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }

        var p = Process.Start(psi)!;
        p.OutputDataReceived += (_, _) => { };
        p.ErrorDataReceived += (_, _) => { };
        p.BeginOutputReadLine();
        p.BeginErrorReadLine();
        _processes.Add(p);
    }

    public async ValueTask DisposeAsync()
    {
        // Windows first, the server last.
        for (var i = _processes.Count - 1; i >= 0; i--)
        {
            var p = _processes[i];
            try
            {
                if (!p.HasExited)
                {
                    p.Kill(entireProcessTree: true);
                    await p.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(10));
                }
            }
            catch (Exception ex) when (ex is InvalidOperationException or TimeoutException or System.ComponentModel.Win32Exception)
            {
            }

            p.Dispose();
        }
    }
}
