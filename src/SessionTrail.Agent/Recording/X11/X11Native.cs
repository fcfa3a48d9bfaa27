using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace SessionTrail.Agent.Recording.X11;

/// <summary>
/// The Xlib, MIT-SHM, DAMAGE and XFIXES calls of <see cref="X11DamageCapture"/> (libX11.so.6, libXext.so.6,
/// libXdamage.so.1, libXfixes.so.3), and the System V shared-memory calls behind MIT-SHM. Struct offsets are
/// those of the LP64 ABI (Linux x86-64 and arm64).
/// </summary>
internal static unsafe class X11Native
{
    private const string LibX11 = "libX11.so.6";
    private const string LibXext = "libXext.so.6";
    private const string LibXdamage = "libXdamage.so.1";
    private const string LibXfixes = "libXfixes.so.3";
    private const string LibXrandr = "libXrandr.so.2";
    private const string LibC = "libc";

    public const int ZPixmap = 2;
    public const int XDamageReportNonEmpty = 3;
    public const int XDamageNotify = 0;
    public const int IpcPrivate = 0;
    public const int IpcCreat = 0x200; // 01000
    public const int IpcRmid = 0;
    public const int IpcSet = 1;
    public const int IpcStat = 2;
    public const int SolSocket = 1;
    public const int SoPeercred = 17;

    /// <summary>Size of <c>XEvent</c> (a union of 24 longs).</summary>
    public const int XEventSize = 192;

    // XImage (LP64): width 0, height 4, xoffset 8, format 12, data 16, byte_order 24, bitmap_unit 28, bitmap_bit_order 32,
    // bitmap_pad 36, depth 40, bytes_per_line 44, bits_per_pixel 48.
    public const int XImageData = 16;
    public const int XImageBytesPerLine = 44;
    public const int XImageBitsPerPixel = 48;

    // XErrorEvent (LP64): type 0, display 8, resourceid 16, serial 24, error_code 32, request_code 33, minor_code 34.
    public const int XErrorCode = 32;
    public const int XErrorRequest = 33;

    // XFixesCursorImage (LP64): x 0, y 2 (short), width 4, height 6, xhot 8, yhot 10 (ushort), cursor_serial 16, pixels 24.

    /// <summary>XShmSegmentInfo: the segment's XID, the System V id, its address in this process, read-only flag.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct ShmSegmentInfo
    {
        public nuint ShmSeg;
        public int ShmId;
        public nint ShmAddr;
        public int ReadOnly;
    }

    /// <summary>The pointer image and position XFixesGetCursorImage returns.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct CursorImage
    {
        public short X;
        public short Y;
        public ushort Width;
        public ushort Height;
        public ushort XHot;
        public ushort YHot;
        public nuint CursorSerial;
        public nuint* Pixels;
    }

    /// <summary>XRRMonitorInfo (RandR 1.5): the monitor's name atom and its area on the screen.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct MonitorInfo
    {
        public nuint Name;
        public int Primary;
        public int Automatic;
        public int OutputCount;
        public int X;
        public int Y;
        public int Width;
        public int Height;
        public int WidthMm;
        public int HeightMm;
        public nint Outputs;
    }

    [StructLayout(LayoutKind.Sequential)]
    public struct UCred
    {
        public int Pid;
        public uint Uid;
        public uint Gid;
    }

    [DllImport(LibX11)]
    public static extern int XInitThreads();

    [DllImport(LibX11)]
    public static extern nint XOpenDisplay(byte* name);

    [DllImport(LibX11)]
    public static extern int XCloseDisplay(nint display);

    [DllImport(LibX11)]
    public static extern int XDefaultScreen(nint display);

    [DllImport(LibX11)]
    public static extern nuint XRootWindow(nint display, int screen);

    [DllImport(LibX11)]
    public static extern nint XDefaultVisual(nint display, int screen);

    [DllImport(LibX11)]
    public static extern int XDefaultDepth(nint display, int screen);

    [DllImport(LibX11)]
    public static extern int XDisplayWidth(nint display, int screen);

    [DllImport(LibX11)]
    public static extern int XDisplayHeight(nint display, int screen);

    [DllImport(LibX11)]
    public static extern int XConnectionNumber(nint display);

    [DllImport(LibX11)]
    public static extern int XPending(nint display);

    [DllImport(LibX11)]
    public static extern int XNextEvent(nint display, byte* eventReturn);

    [DllImport(LibX11)]
    public static extern int XSync(nint display, int discard);

    [DllImport(LibX11)]
    public static extern int XFree(void* data);

    [DllImport(LibX11)]
    public static extern int XDestroyImage(nint image);

    [DllImport(LibX11)]
    public static extern nint XSetErrorHandler(delegate* unmanaged[Cdecl]<nint, byte*, int> handler);

    [DllImport(LibX11)]
    public static extern nint XSetIOErrorHandler(delegate* unmanaged[Cdecl]<nint, int> handler);

    [DllImport(LibX11)]
    public static extern void XSetIOErrorExitHandler(nint display, delegate* unmanaged[Cdecl]<nint, nint, void> handler, nint userData);

    [DllImport(LibX11)]
    public static extern int XGetGeometry(nint display, nuint drawable, nuint* root, int* x, int* y, uint* width, uint* height, uint* border, uint* depth);

    [DllImport(LibX11)]
    public static extern byte* XGetAtomName(nint display, nuint atom);

    [DllImport(LibXrandr)]
    public static extern int XRRQueryExtension(nint display, int* eventBase, int* errorBase);

    [DllImport(LibXrandr)]
    public static extern int XRRQueryVersion(nint display, int* major, int* minor);

    [DllImport(LibXrandr)]
    public static extern MonitorInfo* XRRGetMonitors(nint display, nuint window, int getActive, int* count);

    [DllImport(LibXrandr)]
    public static extern void XRRFreeMonitors(MonitorInfo* monitors);

    [DllImport(LibXext)]
    public static extern int XShmQueryExtension(nint display);

    [DllImport(LibXext)]
    public static extern nint XShmCreateImage(nint display, nint visual, uint depth, int format, byte* data, ShmSegmentInfo* shminfo, uint width, uint height);

    [DllImport(LibXext)]
    public static extern int XShmAttach(nint display, ShmSegmentInfo* shminfo);

    [DllImport(LibXext)]
    public static extern int XShmDetach(nint display, ShmSegmentInfo* shminfo);

    [DllImport(LibXext)]
    public static extern int XShmGetImage(nint display, nuint drawable, nint image, int x, int y, nuint planeMask);

    [DllImport(LibXdamage)]
    public static extern int XDamageQueryExtension(nint display, int* eventBase, int* errorBase);

    [DllImport(LibXdamage)]
    public static extern nuint XDamageCreate(nint display, nuint drawable, int level);

    [DllImport(LibXdamage)]
    public static extern void XDamageSubtract(nint display, nuint damage, nuint repair, nuint parts);

    [DllImport(LibXdamage)]
    public static extern void XDamageDestroy(nint display, nuint damage);

    [DllImport(LibXfixes)]
    public static extern int XFixesQueryExtension(nint display, int* eventBase, int* errorBase);

    [DllImport(LibXfixes)]
    public static extern CursorImage* XFixesGetCursorImage(nint display);

    [DllImport(LibC, SetLastError = true)]
    public static extern int shmget(int key, nuint size, int flags);

    [DllImport(LibC, SetLastError = true)]
    public static extern nint shmat(int shmid, nint address, int flags);

    [DllImport(LibC, SetLastError = true)]
    public static extern int shmdt(nint address);

    [DllImport(LibC, SetLastError = true)]
    public static extern int shmctl(int shmid, int command, byte* buffer);

    [DllImport(LibC, SetLastError = true)]
    public static extern int getsockopt(int fd, int level, int option, void* value, int* length);

    [DllImport(LibC, SetLastError = true)]
    public static extern uint geteuid();

    [DllImport(LibC, SetLastError = true, CharSet = CharSet.Ansi, BestFitMapping = false)]
    public static extern int setenv([MarshalAs(UnmanagedType.LPUTF8Str)] string name, [MarshalAs(UnmanagedType.LPUTF8Str)] string value, int overwrite);

    // ---- error handling: Xlib calls these on the thread that made the failing call ----

    [ThreadStatic]
    private static int t_errorCode;

    [ThreadStatic]
    private static int t_errorRequest;

    [ThreadStatic]
    private static bool t_connectionLost;

    private static int s_handlersInstalled;

    /// <summary>
    /// Installs process-wide handlers once: a protocol error is remembered for the calling thread (Xlib's default
    /// prints it and exits the process), and a lost connection neither exits (Xlib's default) — the display is then
    /// unusable and <see cref="TakeConnectionLost"/> says so.
    /// </summary>
    public static void InstallHandlers()
    {
        if (Interlocked.Exchange(ref s_handlersInstalled, 1) == 0)
        {
            _ = XInitThreads();
            _ = XSetErrorHandler(&OnError);
            _ = XSetIOErrorHandler(&OnIOError);
        }
    }

    /// <summary>Per display: after a lost connection, return to the caller instead of exiting the process (libX11 ≥ 1.7).</summary>
    public static void KeepProcessOnIOError(nint display) => XSetIOErrorExitHandler(display, &OnIOErrorExit, 0);

    /// <summary>The X protocol error (code, request) raised on this thread since the last call, or null.</summary>
    public static (int Code, int Request)? TakeError()
    {
        var e = t_errorCode;
        t_errorCode = 0;
        return e == 0 ? null : (e, t_errorRequest);
    }

    /// <summary>True once when the connection of a display used on this thread was lost.</summary>
    public static bool TakeConnectionLost()
    {
        var lost = t_connectionLost;
        t_connectionLost = false;
        return lost;
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int OnError(nint display, byte* errorEvent)
    {
        t_errorCode = errorEvent[XErrorCode];
        t_errorRequest = errorEvent[XErrorRequest];
        return 0;
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int OnIOError(nint display)
    {
        t_connectionLost = true;
        return 0;
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static void OnIOErrorExit(nint display, nint userData) => t_connectionLost = true;
}
