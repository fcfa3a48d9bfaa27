using System.Runtime.InteropServices;

namespace SessionTrail.Agent.Platform.Linux;

/// <summary>
/// The netlink process connector socket (NETLINK_CONNECTOR, multicast group CN_IDX_PROC), read by
/// one dedicated thread. The thread hands each event, with a /proc snapshot read at once for EXEC
/// events (while the process may still be alive), to a callback. ENOBUFS (the kernel dropped events
/// because the socket buffer was full) is reported to a callback and reading goes on. Dispose stops
/// the thread (within the 500 ms poll timeout) and closes the socket.
/// </summary>
internal sealed unsafe class ProcConnectorSocket : IDisposable
{
    private readonly int _fd;
    private readonly int _maxCommandLine;
    private readonly Func<long, bool> _uidOfInterest;
    private Thread? _thread;
    private volatile bool _stop;

    private ProcConnectorSocket(int fd, int maxCommandLine, Func<long, bool> uidOfInterest)
    {
        _fd = fd;
        _maxCommandLine = maxCommandLine;
        _uidOfInterest = uidOfInterest;
    }

    /// <summary>Opens, binds and subscribes; null with the errno and step that failed.</summary>
    /// <param name="uidOfInterest">Processes of other uids get only their status read at exec (they will be filtered out).</param>
    public static ProcConnectorSocket? TryOpen(int receiveBufferBytes, int maxCommandLine, Func<long, bool> uidOfInterest, out string error)
    {
        int fd = Libc.socket(Libc.AF_NETLINK, Libc.SOCK_DGRAM | Libc.SOCK_CLOEXEC, Libc.NETLINK_CONNECTOR);
        if (fd < 0)
        {
            error = $"socket(NETLINK_CONNECTOR) errno {Marshal.GetLastPInvokeError()}";
            return null;
        }

        int size = receiveBufferBytes;
        if (Libc.setsockopt(fd, Libc.SOL_SOCKET, Libc.SO_RCVBUFFORCE, &size, sizeof(int)) != 0)
        {
            _ = Libc.setsockopt(fd, Libc.SOL_SOCKET, Libc.SO_RCVBUF, &size, sizeof(int));
        }

        var addr = new Libc.SockaddrNl { Family = Libc.AF_NETLINK, Pid = 0, Groups = ProcConnectorMessage.CN_IDX_PROC };
        if (Libc.bind(fd, &addr, sizeof(Libc.SockaddrNl)) != 0)
        {
            error = $"bind(CN_IDX_PROC) errno {Marshal.GetLastPInvokeError()}";
            _ = Libc.close(fd);
            return null;
        }

        var message = ProcConnectorMessage.Subscription(0, ProcConnectorMessage.PROC_CN_MCAST_LISTEN);
        fixed (byte* m = message)
        {
            if (Libc.send(fd, m, message.Length, 0) != message.Length)
            {
                error = $"send(PROC_CN_MCAST_LISTEN) errno {Marshal.GetLastPInvokeError()}";
                _ = Libc.close(fd);
                return null;
            }
        }

        error = "";
        return new ProcConnectorSocket(fd, maxCommandLine, uidOfInterest);
    }

    /// <summary>Starts the reader thread. <paramref name="onFailed"/> gets the errno of an unrecoverable read error.</summary>
    public void Start(Action<ConnectorEvent, ProcSnapshot?> onEvent, Action onEnobufs, Action<int> onFailed)
    {
        _thread = new Thread(() => ReadLoop(onEvent, onEnobufs, onFailed))
        {
            IsBackground = true,
            Name = "proc-connector",
            Priority = ThreadPriority.AboveNormal,
        };
        _thread.Start();
    }

    private void ReadLoop(Action<ConnectorEvent, ProcSnapshot?> onEvent, Action onEnobufs, Action<int> onFailed)
    {
        var buffer = new byte[64 * 1024];
        var events = new List<ConnectorEvent>(16);
        var pfd = new Libc.PollFd { Fd = _fd, Events = Libc.POLLIN };
        fixed (byte* b = buffer)
        {
            while (!_stop)
            {
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

                nint n = Libc.recv(_fd, b, buffer.Length, 0);
                if (n < 0)
                {
                    int errno = Marshal.GetLastPInvokeError();
                    if (errno == Libc.ENOBUFS)
                    {
                        onEnobufs();
                    }
                    else if (errno is not (Libc.EINTR or Libc.EAGAIN))
                    {
                        onFailed(errno);
                        return;
                    }

                    continue;
                }

                events.Clear();
                ProcConnectorMessage.Parse(buffer.AsSpan(0, (int)n), events);
                foreach (var ev in events)
                {
                    var snapshot = ev.Kind == ConnectorEventKind.Exec ? ProcFs.Read(ev.Tgid, _maxCommandLine, uidOfInterest: _uidOfInterest) : null;
                    onEvent(ev, snapshot);
                }
            }
        }
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
