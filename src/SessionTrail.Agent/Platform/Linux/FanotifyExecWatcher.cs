using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;

namespace SessionTrail.Agent.Platform.Linux;

/// <summary>
/// fanotify FAN_OPEN_EXEC on every mounted filesystem (a filesystem mark where the kernel allows,
/// else a mount mark), read by one dedicated thread. For each exec-open it reports the pid, the
/// path (readlink of /proc/self/fd/N, then the fd is closed) and the canonical path of the
/// interpreter the kernel will open next (from the file's #! line or ELF PT_INTERP). Mounts added
/// later are marked within 5 seconds. Dispose stops the thread and closes the fanotify fd.
/// </summary>
internal sealed unsafe class FanotifyExecWatcher : IDisposable
{
    private readonly int _fd;
    private readonly ILogger _logger;
    private readonly HashSet<string> _markedDevices = [];
    private readonly HashSet<string> _markedMounts = [];
    private readonly Dictionary<string, string?> _realPaths = new(StringComparer.Ordinal);
    private Thread? _thread;
    private volatile bool _stop;

    private FanotifyExecWatcher(int fd, ILogger logger)
    {
        _fd = fd;
        _logger = logger;
    }

    /// <summary>Number of filesystem or mount marks in place.</summary>
    public int Marks => _markedDevices.Count + _markedMounts.Count;

    /// <summary>Creates the group and marks every mount; null with the reason when fanotify is not usable here.</summary>
    public static FanotifyExecWatcher? TryOpen(ILogger logger, out string error)
    {
        int fd = Libc.fanotify_init(
            FanotifyMessage.FAN_CLASS_NOTIF | FanotifyMessage.FAN_CLOEXEC | FanotifyMessage.FAN_UNLIMITED_QUEUE,
            Libc.O_RDONLY | Libc.O_LARGEFILE | Libc.O_CLOEXEC);
        if (fd < 0)
        {
            error = $"fanotify_init errno {Marshal.GetLastPInvokeError()} (needs CAP_SYS_ADMIN)";
            return null;
        }

        var watcher = new FanotifyExecWatcher(fd, logger);
        watcher.MarkMounts();
        if (watcher.Marks == 0)
        {
            watcher.Dispose();
            error = "no filesystem or mount could be marked for FAN_OPEN_EXEC";
            return null;
        }

        error = "";
        return watcher;
    }

    /// <summary>Starts the reader thread.</summary>
    public void Start(Action<int, string, string?> onExec, Action onOverflow, Action<int> onFailed)
    {
        _thread = new Thread(() => ReadLoop(onExec, onOverflow, onFailed))
        {
            IsBackground = true,
            Name = "fanotify-exec",
            Priority = ThreadPriority.AboveNormal,
        };
        _thread.Start();
    }

    private void MarkMounts()
    {
        string text;
        try
        {
            text = File.ReadAllText("/proc/self/mountinfo");
        }
        catch (IOException)
        {
            return;
        }

        Span<byte> path = stackalloc byte[4097];
        foreach (var mount in MountEntry.Parse(text))
        {
            if (!mount.MayHoldExecutables || _markedDevices.Contains(mount.Device) || _markedMounts.Contains(mount.MountPoint)
                || !Libc.TryEncodePath(mount.MountPoint, path))
            {
                continue;
            }

            fixed (byte* p = path)
            {
                if (Libc.fanotify_mark(_fd, FanotifyMessage.FAN_MARK_ADD | FanotifyMessage.FAN_MARK_FILESYSTEM, FanotifyMessage.FAN_OPEN_EXEC, Libc.AT_FDCWD, p) == 0)
                {
                    _markedDevices.Add(mount.Device);
                }
                else if (Libc.fanotify_mark(_fd, FanotifyMessage.FAN_MARK_ADD | FanotifyMessage.FAN_MARK_MOUNT, FanotifyMessage.FAN_OPEN_EXEC, Libc.AT_FDCWD, p) == 0)
                {
                    _markedMounts.Add(mount.MountPoint);
                }
                else
                {
                    int errno = Marshal.GetLastPInvokeError();
                    LinuxProcessSourceLog.MarkFailed(_logger, mount.MountPoint, mount.FsType, errno);
                }
            }
        }
    }

    private void ReadLoop(Action<int, string, string?> onExec, Action onOverflow, Action<int> onFailed)
    {
        var buffer = new byte[64 * 1024];
        var events = new List<FanotifyEvent>(64);
        var pfd = new Libc.PollFd { Fd = _fd, Events = Libc.POLLIN };
        long nextMountScan = Environment.TickCount64 + 5000;
        Span<byte> fdPath = stackalloc byte[48];
        fixed (byte* b = buffer)
        {
            while (!_stop)
            {
                if (Environment.TickCount64 >= nextMountScan)
                {
                    MarkMounts();
                    nextMountScan = Environment.TickCount64 + 5000;
                }

                pfd.Revents = 0;
                int ready = Libc.poll(&pfd, 1, 500);
                if (ready <= 0)
                {
                    if (ready < 0 && Marshal.GetLastPInvokeError() != Libc.EINTR)
                    {
                        onFailed(Marshal.GetLastPInvokeError());
                        return;
                    }

                    continue;
                }

                nint n = Libc.read(_fd, b, buffer.Length);
                if (n < 0)
                {
                    int errno = Marshal.GetLastPInvokeError();
                    if (errno is not (Libc.EINTR or Libc.EAGAIN))
                    {
                        onFailed(errno);
                        return;
                    }

                    continue;
                }

                events.Clear();
                FanotifyMessage.Parse(buffer.AsSpan(0, (int)n), events);
                foreach (var ev in events)
                {
                    if (ev.IsOverflow)
                    {
                        onOverflow();
                    }

                    if (ev.Fd < 0)
                    {
                        continue;
                    }

                    try
                    {
                        if ((ev.Mask & FanotifyMessage.FAN_OPEN_EXEC) == 0)
                        {
                            continue;
                        }

                        var path = Libc.ReadLink(FdPath(ev.Fd, fdPath));
                        if (path is not null)
                        {
                            onExec(ev.Pid, ProcFs.StripDeleted(path), ResolveInterpreter(ev.Fd));
                        }
                    }
                    finally
                    {
                        _ = Libc.close(ev.Fd);
                    }
                }
            }
        }
    }

    private string? ResolveInterpreter(int fd)
    {
        Span<byte> head = stackalloc byte[1024];
        int n;
        fixed (byte* h = head)
        {
            n = (int)Libc.pread(fd, h, head.Length, 0);
        }

        if (n <= 0)
        {
            return null;
        }

        var interpreter = ExecInterpreter.FromHeader(head[..n], (offset, length) => ReadAt(fd, offset, length));
        if (interpreter is null)
        {
            return null;
        }

        if (!_realPaths.TryGetValue(interpreter, out var real))
        {
            real = Libc.RealPath(interpreter) ?? interpreter;
            if (_realPaths.Count > 1024)
            {
                _realPaths.Clear();
            }

            _realPaths[interpreter] = real;
        }

        return real;
    }

    private static byte[]? ReadAt(int fd, long offset, int length)
    {
        if (length <= 0 || length > 64 * 1024)
        {
            return null;
        }

        var bytes = new byte[length];
        fixed (byte* p = bytes)
        {
            nint n = Libc.pread(fd, p, length, offset);
            return n == length ? bytes : null;
        }
    }

    private static ReadOnlySpan<byte> FdPath(int fd, Span<byte> buffer)
    {
        "/proc/self/fd/"u8.CopyTo(buffer);
        System.Buffers.Text.Utf8Formatter.TryFormat(fd, buffer[14..], out int written);
        buffer[14 + written] = 0;
        return buffer[..(15 + written)];
    }

    public void Dispose()
    {
        _stop = true;
        if (_thread is not null && _thread.ManagedThreadId != Environment.CurrentManagedThreadId)
        {
            _thread.Join();
        }

        _ = Libc.close(_fd);
    }
}
