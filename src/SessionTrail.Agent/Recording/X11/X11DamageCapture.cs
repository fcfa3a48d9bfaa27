using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;
using Microsoft.Extensions.Logging;
using SessionTrail.Agent.Platform;

namespace SessionTrail.Agent.Recording.X11;

/// <summary>Counters of one capture (status, benchmark).</summary>
public sealed record DamageCaptureStats(long Ticks, long FramesSent, long ScreenChanges, long CursorChanges, long IdleFrames);

/// <summary>
/// Damage-driven screen capture for ffmpeg: watches the X root window with the DAMAGE extension and the pointer
/// with XFIXES, and only when something changed grabs the screen (MIT-SHM, one copy in the X server) and writes
/// the frame, raw BGR0, to ffmpeg's stdin (<c>-f rawvideo -use_wallclock_as_timestamps 1</c>: each frame is stamped
/// when it arrives, a variable frame rate). A static screen then costs no grab, no colour conversion and no
/// encoding — except one frame every <see cref="RecordingOptions.IdleFrameInterval"/>, so fragments keep reaching
/// the disk (and the server) and the segment muxer can cut on time.
/// </summary>
/// <remarks>
/// <para>Runs on its own thread: Xlib is used from that thread only. Protocol errors (e.g. BadMatch when the screen
/// shrank under a grab) and a lost X connection end the capture with <see cref="Error"/> set, never the agent
/// (Xlib's default handlers exit the process; ours do not). When the capture ends for any reason it closes the
/// pipe, so ffmpeg finishes its segment and exits, and the recorder restarts or stops as for any ffmpeg exit.</para>
/// <para>The shared-memory segment is 0600 and, when the agent is root and the X server another user (found with
/// SO_PEERCRED on the X socket), handed to the server's user — never world-readable as x11grab's (0777).</para>
/// </remarks>
public sealed partial class X11DamageCapture : IDisposable
{
    private readonly string _display;
    private readonly ScreenGeometry _geometry;
    private readonly RecordingOptions _options;
    private readonly Stream _output;
    private readonly ILogger _logger;
    private readonly ManualResetEventSlim _stop = new();
    private readonly TaskCompletionSource _ended = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Thread? _thread;
    private long _ticks;
    private long _sent;
    private long _screenChanges;
    private long _cursorChanges;
    private long _idle;

    private X11DamageCapture(string display, ScreenGeometry geometry, RecordingOptions options, Stream output, ILogger logger)
    {
        _display = display;
        _geometry = geometry;
        _options = options;
        _output = output;
        _logger = logger;
    }

    /// <summary>Completes when the capture thread has ended (stopped, failed, or ffmpeg stopped reading) and closed the pipe.</summary>
    public Task Ended => _ended.Task;

    /// <summary>Why the capture ended on its own (null after a requested stop).</summary>
    public string? Error { get; private set; }

    /// <summary>True when the capture itself failed (X server, extension, library), not because ffmpeg stopped reading.</summary>
    public bool CaptureFailed { get; private set; }

    public DamageCaptureStats Stats => new(Interlocked.Read(ref _ticks), Interlocked.Read(ref _sent), Interlocked.Read(ref _screenChanges), Interlocked.Read(ref _cursorChanges), Interlocked.Read(ref _idle));

    /// <summary>
    /// Why damage capture cannot be used on <paramref name="display"/> (a library, the display or an extension is
    /// missing, or the screen is not 24/32-bit TrueColor), or null when it can. Opens and closes a connection.
    /// </summary>
    public static string? Unavailable(string display)
    {
        if (!HostOs.IsLinux)
        {
            return "damage capture is for X11 on Linux";
        }

        try
        {
            X11Native.InstallHandlers();
            using var connection = Connection.Open(display);
            return connection.MissingExtension();
        }
        catch (DllNotFoundException ex)
        {
            return "an X11 library is missing (" + ex.Message.Split('\n')[0] + "); install libx11-6, libxext6, libxdamage1, libxfixes3";
        }
        catch (EntryPointNotFoundException ex)
        {
            return "an X11 library is too old: " + ex.Message;
        }
        catch (X11CaptureException ex)
        {
            return ex.Message;
        }
    }

    /// <summary>
    /// Xlib reads XAUTHORITY from the process environment (not .NET's copy): sets it there when configured
    /// (<see cref="RecordingOptions.XAuthority"/>); ffmpeg and the other X clients get it in their own environment.
    /// </summary>
    public static void UseXAuthority(string? path)
    {
        if (HostOs.IsLinux && !string.IsNullOrWhiteSpace(path))
        {
            _ = X11Native.setenv("XAUTHORITY", path, 1);
        }
    }

    /// <summary>Starts capturing <paramref name="geometry"/> of <paramref name="display"/> into <paramref name="output"/> on a new thread.</summary>
    public static X11DamageCapture Start(string display, ScreenGeometry geometry, RecordingOptions options, Stream output, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(geometry);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(output);
        var capture = new X11DamageCapture(display, geometry, options, output, logger);
        capture._thread = new Thread(capture.Run) { IsBackground = true, Name = "sessiontrail-x11-capture" };
        capture._thread.Start();
        return capture;
    }

    /// <summary>Stops after the frame being written (never mid-frame), closes the pipe and waits for the thread.</summary>
    public async Task StopAsync()
    {
        _stop.Set();
        await Ended;
    }

    public void Dispose()
    {
        _stop.Set();
        if (_thread is { } t && t != Thread.CurrentThread)
        {
            t.Join(TimeSpan.FromSeconds(5));
        }

        _stop.Dispose();
    }

    private void Run()
    {
        try
        {
            X11Native.InstallHandlers();
            using var connection = Connection.Open(_display);
            if (connection.MissingExtension() is { } missing)
            {
                throw new X11CaptureException(missing);
            }

            using var grabber = connection.CreateGrabber(_geometry);
            Capture(connection, grabber);
        }
        catch (X11CaptureException ex)
        {
            Error = ex.Message;
            CaptureFailed = true;
        }
        catch (IOException ex)
        {
            Error = "ffmpeg stopped reading frames: " + ex.Message;
        }
        catch (ObjectDisposedException)
        {
            Error = "ffmpeg's input was closed";
        }
        catch (Exception ex) when (ex is DllNotFoundException or EntryPointNotFoundException)
        {
            Error = "X11 library problem: " + ex.Message;
            CaptureFailed = true;
        }
        finally
        {
            try
            {
                _output.Close(); // EOF: ffmpeg finishes the segment and exits
            }
            catch (IOException)
            {
            }

            if (Error is not null)
            {
                LogCaptureEnded(_logger, _display, Error);
            }

            _ended.TrySetResult();
        }
    }

    private unsafe void Capture(Connection connection, Grabber grabber)
    {
        var interval = TimeSpan.FromSeconds(1.0 / _options.Fps);
        var idleInterval = _options.IdleFrameInterval;
        var clock = Stopwatch.StartNew();
        var next = TimeSpan.Zero;
        TimeSpan? lastSent = null;
        (int X, int Y, nuint Serial) cursor = default;
        var frame = new ReadOnlySpan<byte>((void*)grabber.Data, grabber.FrameBytes);
        while (true)
        {
            var wait = next - clock.Elapsed;
            if (_stop.Wait(wait > TimeSpan.Zero ? wait : TimeSpan.Zero))
            {
                return;
            }

            var now = clock.Elapsed;
            next = next + interval < now ? now + interval : next + interval;
            Interlocked.Increment(ref _ticks);

            var damaged = connection.TakeDamage();
            var pointer = _options.DrawMouse ? connection.Cursor() : null;
            var cursorMoved = pointer is { } p && (p.X, p.Y, p.Serial) != cursor;
            var idle = lastSent is { } l && now - l >= idleInterval;
            if (lastSent is not null && !damaged && !cursorMoved && !idle)
            {
                continue;
            }

            if (lastSent is null || damaged || cursorMoved)
            {
                // Clear the damage first: whatever changes during the grab raises a new event for the next tick.
                if (damaged)
                {
                    connection.ClearDamage();
                    Interlocked.Increment(ref _screenChanges);
                }
                else if (cursorMoved)
                {
                    Interlocked.Increment(ref _cursorChanges);
                }

                grabber.Grab();
                if (pointer is { } c)
                {
                    grabber.DrawCursor(c);
                    cursor = (c.X, c.Y, c.Serial);
                }
            }
            else
            {
                Interlocked.Increment(ref _idle); // the same picture again, so the file keeps time
            }

            connection.ReleaseCursor();
            _output.Write(frame);
            _output.Flush();
            lastSent = clock.Elapsed;
            Interlocked.Increment(ref _sent);
        }
    }

    /// <summary>Names an X protocol error code (X.h).</summary>
    internal static string ErrorName(int code) => code switch
    {
        1 => "BadRequest",
        2 => "BadValue",
        3 => "BadWindow",
        8 => "BadMatch",
        9 => "BadDrawable",
        10 => "BadAccess",
        11 => "BadAlloc",
        _ => "error " + code,
    };

    [LoggerMessage(EventId = 2110, Level = LogLevel.Warning, Message = "X11 damage capture of {Display} ended: {Error}")]
    private static partial void LogCaptureEnded(ILogger logger, string display, string error);

    /// <summary>The pointer: its hot spot on the screen, the image's top-left offset and premultiplied ARGB pixels.</summary>
    internal readonly record struct Pointer(int X, int Y, nuint Serial, int Left, int Top, int Width, int Height, nint Pixels);

    /// <summary>One Xlib connection with its DAMAGE object on the root window (used from one thread).</summary>
    private sealed unsafe class Connection : IDisposable
    {
        private readonly nint _display;
        private readonly int _screen;
        private readonly nuint _root;
        private readonly byte[] _event = new byte[X11Native.XEventSize];
        private nuint _damage;
        private int _damageEventBase = -1;
        private X11Native.CursorImage* _cursor;

        private Connection(nint display)
        {
            _display = display;
            _screen = X11Native.XDefaultScreen(display);
            _root = X11Native.XRootWindow(display, _screen);
        }

        public string Name { get; private init; } = "";

        public static Connection Open(string name)
        {
            var bytes = Encoding.UTF8.GetBytes(name + "\0");
            nint display;
            fixed (byte* p = bytes)
            {
                display = X11Native.XOpenDisplay(p);
            }

            if (display == 0)
            {
                throw new X11CaptureException($"cannot open X display '{name}' (is the X server running, and may this user connect — DISPLAY/XAUTHORITY?)");
            }

            X11Native.KeepProcessOnIOError(display);
            return new Connection(display) { Name = name };
        }

        /// <summary>The first missing piece (extension or pixel format), or null.</summary>
        public string? MissingExtension()
        {
            int ev, err;
            if (X11Native.XShmQueryExtension(_display) == 0)
            {
                return $"X display '{Name}' has no MIT-SHM extension (a remote display?)";
            }

            if (X11Native.XFixesQueryExtension(_display, &ev, &err) == 0)
            {
                return $"X display '{Name}' has no XFIXES extension";
            }

            if (X11Native.XDamageQueryExtension(_display, &ev, &err) == 0)
            {
                return $"X display '{Name}' has no DAMAGE extension";
            }

            _damageEventBase = ev;
            var depth = X11Native.XDefaultDepth(_display, _screen);
            return depth is 24 or 32 ? null : $"X display '{Name}' has depth {depth}; damage capture needs 24-bit colour";
        }

        /// <summary>True when the screen changed since the last <see cref="ClearDamage"/> (reads the pending events).</summary>
        public bool TakeDamage()
        {
            if (_damage == 0)
            {
                _damage = X11Native.XDamageCreate(_display, _root, X11Native.XDamageReportNonEmpty);
                Check("XDamageCreate");
                return true;
            }

            var damaged = false;
            fixed (byte* e = _event)
            {
                while (X11Native.XPending(_display) > 0)
                {
                    _ = X11Native.XNextEvent(_display, e);
                    if (*(int*)e == _damageEventBase + X11Native.XDamageNotify)
                    {
                        damaged = true;
                    }
                }
            }

            Check("XPending");
            return damaged;
        }

        public void ClearDamage() => X11Native.XDamageSubtract(_display, _damage, 0, 0);

        /// <summary>The pointer now (valid until <see cref="ReleaseCursor"/>), or null when XFIXES gives none.</summary>
        public Pointer? Cursor()
        {
            ReleaseCursor();
            _cursor = X11Native.XFixesGetCursorImage(_display);
            Check("XFixesGetCursorImage");
            if (_cursor is null)
            {
                return null;
            }

            var c = *_cursor;
            return new Pointer(c.X, c.Y, c.CursorSerial, c.X - c.XHot, c.Y - c.YHot, c.Width, c.Height, (nint)c.Pixels);
        }

        public void ReleaseCursor()
        {
            if (_cursor is not null)
            {
                _ = X11Native.XFree(_cursor);
                _cursor = null;
            }
        }

        public Grabber CreateGrabber(ScreenGeometry geometry) => new(this, geometry);

        /// <summary>Throws when the last calls raised a protocol error or lost the connection.</summary>
        public void Check(string call)
        {
            if (X11Native.TakeConnectionLost())
            {
                throw new X11CaptureException($"the connection to X display '{Name}' was lost (during {call}); the X server stopped or restarted");
            }

            if (X11Native.TakeError() is { } e)
            {
                throw new X11CaptureException($"X display '{Name}': {call} failed with {ErrorName(e.Code)} (request {e.Request})");
            }
        }

        public nint Display => _display;

        public nuint Root => _root;

        public int Screen => _screen;

        public void Dispose()
        {
            ReleaseCursor();
            if (_damage != 0 && !X11Native.TakeConnectionLost())
            {
                X11Native.XDamageDestroy(_display, _damage);
            }

            _ = X11Native.XCloseDisplay(_display);
            _ = X11Native.TakeError();
            _ = X11Native.TakeConnectionLost();
        }
    }

    /// <summary>A shared-memory image of the recorded area: XShmGetImage writes the root window into it.</summary>
    private sealed unsafe class Grabber : IDisposable
    {
        private readonly Connection _connection;
        private readonly ScreenGeometry _geometry;
        private readonly X11Native.ShmSegmentInfo* _info;
        private readonly nint _image;
        private readonly int _stride;
        private bool _attached;

        public Grabber(Connection connection, ScreenGeometry geometry)
        {
            _connection = connection;
            _geometry = geometry;
            Width = geometry.EvenWidth;
            Height = geometry.EvenHeight;
            _info = (X11Native.ShmSegmentInfo*)NativeMemory.AllocZeroed((nuint)sizeof(X11Native.ShmSegmentInfo));
            _info->ShmId = -1;
            var d = connection.Display;
            _image = X11Native.XShmCreateImage(d, X11Native.XDefaultVisual(d, connection.Screen), (uint)X11Native.XDefaultDepth(d, connection.Screen), X11Native.ZPixmap, null, _info, (uint)Width, (uint)Height);
            if (_image == 0)
            {
                Free();
                throw new X11CaptureException($"XShmCreateImage {Width}x{Height} failed");
            }

            _stride = *(int*)(_image + X11Native.XImageBytesPerLine);
            var bpp = *(int*)(_image + X11Native.XImageBitsPerPixel);
            if (bpp != 32 || _stride != Width * 4)
            {
                Free();
                throw new X11CaptureException($"X display '{connection.Name}' gives {bpp}-bit pixels with {_stride}-byte rows; damage capture needs 32-bit BGRX");
            }

            FrameBytes = _stride * Height;
            _info->ShmId = X11Native.shmget(X11Native.IpcPrivate, (nuint)FrameBytes, X11Native.IpcCreat | 0x180 /* 0600 */);
            if (_info->ShmId < 0)
            {
                var errno = Marshal.GetLastPInvokeError();
                Free();
                throw new X11CaptureException($"shmget of {FrameBytes} bytes failed (errno {errno}); see kernel.shmmax");
            }

            GiveToServer();
            _info->ShmAddr = X11Native.shmat(_info->ShmId, 0, 0);
            if (_info->ShmAddr == -1)
            {
                var errno = Marshal.GetLastPInvokeError();
                Free();
                throw new X11CaptureException($"shmat failed (errno {errno})");
            }

            *(nint*)(_image + X11Native.XImageData) = _info->ShmAddr;
            _attached = X11Native.XShmAttach(d, _info) != 0;
            _ = X11Native.XSync(d, 0);

            // Marked for removal at once: it disappears when both sides detach, even if the agent is killed.
            _ = X11Native.shmctl(_info->ShmId, X11Native.IpcRmid, null);
            try
            {
                connection.Check("XShmAttach");
            }
            catch
            {
                _attached = false;
                Free();
                throw;
            }

            if (!_attached)
            {
                Free();
                throw new X11CaptureException("XShmAttach failed");
            }
        }

        public int Width { get; }

        public int Height { get; }

        public int FrameBytes { get; }

        public nint Data => _info->ShmAddr;

        public void Grab()
        {
            var ok = X11Native.XShmGetImage(_connection.Display, _connection.Root, _image, _geometry.X, _geometry.Y, nuint.MaxValue);
            _connection.Check("XShmGetImage");
            if (ok == 0)
            {
                throw new X11CaptureException($"XShmGetImage of {Width}x{Height}+{_geometry.X}+{_geometry.Y} failed (the screen changed size?)");
            }
        }

        /// <summary>Blends the pointer (premultiplied ARGB, one pixel per unsigned long) onto the frame.</summary>
        public void DrawCursor(Pointer p)
        {
            var frame = (uint*)_info->ShmAddr;
            var pixels = (nuint*)p.Pixels;
            for (var row = 0; row < p.Height; row++)
            {
                var y = p.Top + row - _geometry.Y;
                if (y < 0 || y >= Height)
                {
                    continue;
                }

                for (var col = 0; col < p.Width; col++)
                {
                    var x = p.Left + col - _geometry.X;
                    if (x < 0 || x >= Width)
                    {
                        continue;
                    }

                    var argb = (uint)pixels[(row * p.Width) + col];
                    var alpha = argb >> 24;
                    if (alpha == 0)
                    {
                        continue;
                    }

                    ref var dst = ref frame[(y * Width) + x];
                    dst = alpha == 255 ? argb & 0xFFFFFF : Blend(argb, dst, alpha);
                }
            }
        }

        private static uint Blend(uint src, uint dst, uint alpha)
        {
            var inv = 255 - alpha;
            var b = (src & 0xFF) + (((dst & 0xFF) * inv) + 127) / 255;
            var g = ((src >> 8) & 0xFF) + ((((dst >> 8) & 0xFF) * inv) + 127) / 255;
            var r = ((src >> 16) & 0xFF) + ((((dst >> 16) & 0xFF) * inv) + 127) / 255;
            return Math.Min(r, 255) << 16 | Math.Min(g, 255) << 8 | Math.Min(b, 255);
        }

        /// <summary>As root, hands the 0600 segment to the X server's user (SO_PEERCRED on the X socket) so it can write into it.</summary>
        private void GiveToServer()
        {
            var cred = default(X11Native.UCred);
            var length = sizeof(X11Native.UCred);
            var fd = X11Native.XConnectionNumber(_connection.Display);
            if (X11Native.geteuid() != 0 || X11Native.getsockopt(fd, X11Native.SolSocket, X11Native.SoPeercred, &cred, &length) != 0 || cred.Uid == 0)
            {
                return; // same user, not root, or not a local socket (then MIT-SHM would fail anyway)
            }

            var ds = stackalloc byte[256];
            if (X11Native.shmctl(_info->ShmId, X11Native.IpcStat, ds) == 0)
            {
                *(uint*)(ds + 4) = cred.Uid; // ipc_perm.uid; the mode stays 0600
                _ = X11Native.shmctl(_info->ShmId, X11Native.IpcSet, ds);
            }
        }

        private void Free()
        {
            if (_attached)
            {
                _ = X11Native.XShmDetach(_connection.Display, _info);
                _ = X11Native.XSync(_connection.Display, 0);
                _attached = false;
            }

            if (_image != 0)
            {
                *(nint*)(_image + X11Native.XImageData) = 0;
                _ = X11Native.XDestroyImage(_image);
            }

            if (_info->ShmAddr is not 0 and not -1)
            {
                _ = X11Native.shmdt(_info->ShmAddr);
            }

            if (_info->ShmId >= 0)
            {
                _ = X11Native.shmctl(_info->ShmId, X11Native.IpcRmid, null);
            }

            NativeMemory.Free(_info);
        }

        public void Dispose() => Free();
    }
}

/// <summary>Damage capture cannot start or went wrong; the message says what (display, extension, call and X error).</summary>
public sealed class X11CaptureException(string message) : Exception(message);
