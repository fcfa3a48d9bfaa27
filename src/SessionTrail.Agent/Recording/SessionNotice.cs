using System.Diagnostics;
using System.Runtime.Versioning;

namespace SessionTrail.Agent.Recording;

/// <summary>Shows the recording notice to the session's user (<see cref="RecordingOptions.NoticeText"/>).</summary>
public interface ISessionNotice
{
    /// <summary>Shows <paramref name="text"/>; returns how (for the notice event). Throws <see cref="RecordingSetupException"/> when it cannot.</summary>
    Task<string> ShowAsync(string text, CancellationToken cancellationToken);

    /// <summary>Closes what is still shown (at session end).</summary>
    void Close();
}

/// <summary>X11: `xmessage -center` on the recorded display, left open until the user clicks it (closed at session end).</summary>
public sealed class XmessageNotice(string display, IReadOnlyDictionary<string, string?> environment, ChildRegistry registry) : ISessionNotice
{
    private Process? _window;

    public async Task<string> ShowAsync(string text, CancellationToken cancellationToken)
    {
        var xmessage = ExternalTool.Resolve("xmessage") ?? throw new RecordingSetupException("xmessage not found on PATH (Debian package x11-utils): the recording notice was not shown");
        Close();
        var psi = new ProcessStartInfo { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var (k, v) in environment)
        {
            psi.Environment[k] = v;
        }

        var p = await ChildLauncher.StartAsync(xmessage, ["-display", display, "-center", "-title", "SessionTrail", "-buttons", "OK:0", text], psi);
        p.StandardInput.Close();
        _ = p.StandardOutput.ReadToEndAsync(cancellationToken);
        var stderr = p.StandardError.ReadToEndAsync(cancellationToken);
        registry.Add(p.Id);
        _window = p;

        // xmessage fails at once when it cannot open the display.
        await Task.WhenAny(p.WaitForExitAsync(cancellationToken), Task.Delay(TimeSpan.FromMilliseconds(500), cancellationToken));
        if (p.HasExited && p.ExitCode != 0)
        {
            registry.Remove(p.Id);
            throw new RecordingSetupException($"{xmessage} -display {display} failed: {(await stderr).Trim()}");
        }

        _ = p.WaitForExitAsync(CancellationToken.None).ContinueWith(_ => registry.Remove(p.Id), TaskScheduler.Default);
        return $"shown with xmessage on {display}";
    }

    public void Close()
    {
        if (_window is { HasExited: false } w)
        {
            try
            {
                w.Kill();
            }
            catch (InvalidOperationException)
            {
            }
        }

        _window?.Dispose();
        _window = null;
    }
}

/// <summary>Windows: `msg.exe *` (WTSSendMessage to the sessions on this host), with a one-minute timeout.</summary>
[SupportedOSPlatform("windows")]
public sealed class MsgExeNotice : ISessionNotice
{
    public async Task<string> ShowAsync(string text, CancellationToken cancellationToken)
    {
        var msg = ExternalTool.Resolve("msg.exe") ?? throw new RecordingSetupException("msg.exe not found: the recording notice was not shown");
        var r = await ExternalTool.RunAsync(msg, ["*", "/TIME:60", text], null, TimeSpan.FromSeconds(20), cancellationToken);
        if (r.ExitCode != 0)
        {
            throw new RecordingSetupException($"{msg} failed with code {r.ExitCode}: {(r.Stderr + r.Stdout).Trim()}");
        }

        return "shown with msg.exe";
    }

    public void Close()
    {
    }
}
