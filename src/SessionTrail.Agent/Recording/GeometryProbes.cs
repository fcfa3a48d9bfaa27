using System.Runtime.InteropServices;
using System.Runtime.Versioning;

namespace SessionTrail.Agent.Recording;

/// <summary>Reads the current desktop geometry (screen size and monitor layout).</summary>
public interface IGeometryProbe
{
    /// <summary>Throws (<see cref="GeometryProbeException"/>) when the geometry cannot be read; the recorder logs it and keeps going.</summary>
    Task<ScreenGeometry> ProbeAsync(CancellationToken cancellationToken);
}

/// <summary>The geometry could not be read; the message says why.</summary>
public sealed class GeometryProbeException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>
/// X11: runs `xrandr --current` on the display and parses it. A separate short-lived X client each time, so
/// no Xlib cache (DisplayWidth stays stale until XRRUpdateConfiguration) and no native library in the agent.
/// `--current` asks the server for its current configuration without re-probing outputs (cheap: a few ms).
/// </summary>
public sealed class XrandrGeometryProbe(string display, string xrandrPath, IReadOnlyDictionary<string, string?> environment) : IGeometryProbe
{
    public async Task<ScreenGeometry> ProbeAsync(CancellationToken cancellationToken)
    {
        ExternalTool.Result result;
        try
        {
            result = await ExternalTool.RunAsync(xrandrPath, ["-display", display, "--current"], environment, TimeSpan.FromSeconds(5), cancellationToken);
        }
        catch (Exception ex) when (ex is System.ComponentModel.Win32Exception or TimeoutException or InvalidOperationException or IOException)
        {
            throw new GeometryProbeException($"{xrandrPath} -display {display} --current: {ex.Message}", ex);
        }

        if (result.ExitCode != 0)
        {
            throw new GeometryProbeException($"{xrandrPath} -display {display} --current exited with code {result.ExitCode}: {result.Stderr.Trim()}");
        }

        try
        {
            return XrandrParser.Parse(result.Stdout, ScreenNumber(display));
        }
        catch (FormatException ex)
        {
            throw new GeometryProbeException(ex.Message, ex);
        }
    }

    /// <summary>The screen of ":0.1" is 1; of ":0" 0.</summary>
    public static int ScreenNumber(string display)
    {
        ArgumentNullException.ThrowIfNull(display);
        var colon = display.LastIndexOf(':');
        var dot = display.IndexOf('.', colon + 1);
        return dot > 0 && int.TryParse(display.AsSpan(dot + 1), out var n) ? n : 0;
    }
}

/// <summary>Windows: the virtual screen over all monitors (GetSystemMetrics) and its monitors (EnumDisplayMonitors).</summary>
[SupportedOSPlatform("windows")]
public sealed unsafe class WindowsGeometryProbe : IGeometryProbe
{
    private const int SmXVirtualScreen = 76;
    private const int SmYVirtualScreen = 77;
    private const int SmCxVirtualScreen = 78;
    private const int SmCyVirtualScreen = 79;
    private const int SmCMonitors = 80;

    public Task<ScreenGeometry> ProbeAsync(CancellationToken cancellationToken)
    {
        var width = GetSystemMetrics(SmCxVirtualScreen);
        var height = GetSystemMetrics(SmCyVirtualScreen);
        if (width <= 0 || height <= 0)
        {
            throw new GeometryProbeException($"GetSystemMetrics gave a virtual screen of {width}x{height} (no interactive desktop in this session? gdigrab must run on the user's desktop)");
        }

        var monitors = new List<MonitorArea>();
        var count = GetSystemMetrics(SmCMonitors);
        var handle = GCHandle.Alloc(monitors);
        try
        {
            if (EnumDisplayMonitors(0, null, &Collect, GCHandle.ToIntPtr(handle)) == 0)
            {
                throw new GeometryProbeException("EnumDisplayMonitors failed");
            }
        }
        finally
        {
            handle.Free();
        }

        if (monitors.Count != count)
        {
            // The layout changed between the two calls: report what EnumDisplayMonitors saw, the next poll settles it.
            monitors.Add(new MonitorArea("count", 0, 0, count, 0));
        }

        return Task.FromResult(new ScreenGeometry(GetSystemMetrics(SmXVirtualScreen), GetSystemMetrics(SmYVirtualScreen), width, height, monitors));
    }

    [UnmanagedCallersOnly]
    private static int Collect(nint monitor, nint dc, Rect* rect, nint data)
    {
        var handle = GCHandle.FromIntPtr(data);
        var list = (List<MonitorArea>)handle.Target!;
        list.Add(new MonitorArea("monitor" + list.Count.ToString(System.Globalization.CultureInfo.InvariantCulture), rect->Left, rect->Top, rect->Right - rect->Left, rect->Bottom - rect->Top));
        return 1;
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct Rect
    {
        public int Left;
        public int Top;
        public int Right;
        public int Bottom;
    }

    [DllImport("user32.dll")]
    private static extern int GetSystemMetrics(int index);

    [DllImport("user32.dll")]
    private static extern int EnumDisplayMonitors(nint dc, Rect* clip, delegate* unmanaged<nint, nint, Rect*, nint, int> callback, nint data);
}
