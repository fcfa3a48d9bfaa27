using System.Runtime.InteropServices;
using System.Text;
using SessionTrail.Agent.Platform;

namespace SessionTrail.Agent.Recording.X11;

/// <summary>
/// X11 geometry in-process: the root window's size (XGetGeometry, a round trip, never Xlib's cached
/// DisplayWidth) and the active RandR monitors (XRRGetMonitors, RandR 1.5) over one connection kept open —
/// about a thousandth of the CPU of starting `xrandr` every second. When libXrandr is missing or the server has
/// no RandR 1.5 it answers through <paramref name="fallback"/> (the `xrandr` tool) from then on. A lost connection
/// is reopened at the next probe.
/// </summary>
public sealed class X11RandrProbe(string display, IGeometryProbe fallback) : IGeometryProbe, IDisposable
{
    private readonly Lock _lock = new();
    private nint _display;
    private bool _useFallback = !HostOs.IsLinux;

    /// <summary>True once the probe answers through the fallback.</summary>
    public bool UsesFallback => _useFallback;

    public Task<ScreenGeometry> ProbeAsync(CancellationToken cancellationToken)
    {
        if (!_useFallback)
        {
            try
            {
                lock (_lock)
                {
                    return Task.FromResult(Probe());
                }
            }
            catch (Exception ex) when (ex is DllNotFoundException or EntryPointNotFoundException or NotSupportedException)
            {
                _useFallback = true;
            }
        }

        return fallback.ProbeAsync(cancellationToken);
    }

    public void Dispose()
    {
        lock (_lock)
        {
            Close();
        }
    }

    private unsafe ScreenGeometry Probe()
    {
        if (_display == 0)
        {
            X11Native.InstallHandlers();
            var name = Encoding.UTF8.GetBytes(display + "\0");
            fixed (byte* p = name)
            {
                _display = X11Native.XOpenDisplay(p);
            }

            if (_display == 0)
            {
                throw new GeometryProbeException($"cannot open X display '{display}'");
            }

            X11Native.KeepProcessOnIOError(_display);
            int ev, err;
            if (X11Native.XRRQueryExtension(_display, &ev, &err) == 0)
            {
                Close();
                throw new NotSupportedException("no RandR");
            }

            int major, minor;
            if (X11Native.XRRQueryVersion(_display, &major, &minor) == 0 || major < 1 || (major == 1 && minor < 5))
            {
                Close();
                throw new NotSupportedException("RandR older than 1.5");
            }
        }

        var root = X11Native.XRootWindow(_display, X11Native.XDefaultScreen(_display));
        nuint rootReturn;
        int x, y;
        uint width, height, border, depth;
        var ok = X11Native.XGetGeometry(_display, root, &rootReturn, &x, &y, &width, &height, &border, &depth);
        int count = 0;
        var monitors = ok != 0 ? X11Native.XRRGetMonitors(_display, root, 1, &count) : null;
        if (X11Native.TakeConnectionLost() || ok == 0 || X11Native.TakeError() is not null)
        {
            if (monitors is not null)
            {
                X11Native.XRRFreeMonitors(monitors);
            }

            Close();
            throw new GeometryProbeException($"X display '{display}' did not answer (the X server stopped or restarted?)");
        }

        var list = new List<MonitorArea>();
        try
        {
            for (var i = 0; i < count; i++)
            {
                var m = monitors[i];
                var atom = X11Native.XGetAtomName(_display, m.Name);
                var monitorName = atom is null ? "monitor-" + i : Marshal.PtrToStringUTF8((nint)atom) ?? "monitor-" + i;
                if (atom is not null)
                {
                    _ = X11Native.XFree(atom);
                }

                list.Add(new MonitorArea(monitorName, m.X, m.Y, m.Width, m.Height));
            }
        }
        finally
        {
            if (monitors is not null)
            {
                X11Native.XRRFreeMonitors(monitors);
            }
        }

        _ = X11Native.TakeError();
        list.Sort((a, b) => string.CompareOrdinal(a.Name, b.Name));
        return new ScreenGeometry(0, 0, (int)width, (int)height, list);
    }

    private void Close()
    {
        if (_display != 0)
        {
            _ = X11Native.XCloseDisplay(_display);
            _display = 0;
            _ = X11Native.TakeConnectionLost();
            _ = X11Native.TakeError();
        }
    }
}
