using System.Runtime.InteropServices;

namespace SessionTrail.Agent.Platform.Linux;

/// <summary>
/// The few libc calls the Linux process source needs. Every function returns -1 and sets errno
/// (read with <see cref="Marshal.GetLastPInvokeError"/>) on failure, as libc does.
/// </summary>
internal static unsafe class Libc
{
    private const string Lib = "libc";

    public const int AF_NETLINK = 16;
    public const int SOCK_DGRAM = 2;
    public const int SOCK_CLOEXEC = 0x80000;
    public const int NETLINK_CONNECTOR = 11;
    public const int SOL_SOCKET = 1;
    public const int SO_RCVBUF = 8;
    public const int SO_RCVBUFFORCE = 33;

    public const int O_RDONLY = 0;
    public const int O_LARGEFILE = 0x8000;
    public const int O_CLOEXEC = 0x80000;
    public const int AT_FDCWD = -100;

    public const short POLLIN = 0x1;

    public const int EINTR = 4;
    public const int EAGAIN = 11;
    public const int ENOBUFS = 105;

    public const int CLOCK_MONOTONIC = 1;

    [StructLayout(LayoutKind.Sequential)]
    public struct SockaddrNl
    {
        public ushort Family;
        public ushort Pad;
        public uint Pid;
        public uint Groups;
    }

    [StructLayout(LayoutKind.Sequential)]
    public struct PollFd
    {
        public int Fd;
        public short Events;
        public short Revents;
    }

    [StructLayout(LayoutKind.Sequential)]
    public struct Timespec
    {
        public long Seconds;
        public long Nanoseconds;
    }

    [DllImport(Lib, SetLastError = true)]
    public static extern int socket(int domain, int type, int protocol);

    [DllImport(Lib, SetLastError = true)]
    public static extern int bind(int fd, SockaddrNl* addr, int addrlen);

    [DllImport(Lib, SetLastError = true)]
    public static extern nint send(int fd, byte* buf, nint len, int flags);

    [DllImport(Lib, SetLastError = true)]
    public static extern nint recv(int fd, byte* buf, nint len, int flags);

    [DllImport(Lib, SetLastError = true)]
    public static extern int setsockopt(int fd, int level, int optname, int* optval, int optlen);

    [DllImport(Lib, SetLastError = true)]
    public static extern int fanotify_init(uint flags, uint eventFlags);

    [DllImport(Lib, SetLastError = true)]
    public static extern int fanotify_mark(int fd, uint flags, ulong mask, int dirfd, byte* pathname);

    [DllImport(Lib, SetLastError = true)]
    public static extern int open(byte* pathname, int flags);

    [DllImport(Lib, SetLastError = true)]
    public static extern nint read(int fd, byte* buf, nint count);

    [DllImport(Lib, SetLastError = true)]
    public static extern nint pread(int fd, byte* buf, nint count, long offset);

    [DllImport(Lib, SetLastError = true)]
    public static extern nint readlink(byte* path, byte* buf, nint bufsiz);

    [DllImport(Lib, SetLastError = true)]
    public static extern nint realpath(byte* path, byte* resolved);

    [DllImport(Lib, SetLastError = true)]
    public static extern int close(int fd);

    [DllImport(Lib, SetLastError = true)]
    public static extern int poll(PollFd* fds, nuint nfds, int timeout);

    [DllImport(Lib, SetLastError = true)]
    public static extern int clock_gettime(int clockId, Timespec* tp);

    [DllImport(Lib, SetLastError = true)]
    public static extern uint geteuid();

    /// <summary>Writes <paramref name="s"/> as a NUL-terminated UTF-8 string into <paramref name="buffer"/>; false when too long.</summary>
    public static bool TryEncodePath(string s, Span<byte> buffer)
    {
        if (System.Text.Encoding.UTF8.GetByteCount(s) >= buffer.Length)
        {
            return false;
        }

        int n = System.Text.Encoding.UTF8.GetBytes(s, buffer);
        buffer[n] = 0;
        return true;
    }

    /// <summary>readlink(2) into a string; null when the link cannot be read.</summary>
    public static string? ReadLink(ReadOnlySpan<byte> nulTerminatedPath)
    {
        byte* buf = stackalloc byte[4096];
        fixed (byte* p = nulTerminatedPath)
        {
            nint n = readlink(p, buf, 4096);
            return n <= 0 ? null : System.Text.Encoding.UTF8.GetString(buf, (int)n);
        }
    }

    /// <summary>Reads a whole small file into <paramref name="buffer"/>; returns bytes read or -1.</summary>
    public static int ReadSmallFile(ReadOnlySpan<byte> nulTerminatedPath, Span<byte> buffer)
    {
        int fd;
        fixed (byte* p = nulTerminatedPath)
        {
            fd = open(p, O_RDONLY | O_CLOEXEC);
        }

        if (fd < 0)
        {
            return -1;
        }

        try
        {
            int total = 0;
            fixed (byte* b = buffer)
            {
                while (total < buffer.Length)
                {
                    nint n = read(fd, b + total, buffer.Length - total);
                    if (n < 0)
                    {
                        if (Marshal.GetLastPInvokeError() == EINTR)
                        {
                            continue;
                        }

                        return -1;
                    }

                    if (n == 0)
                    {
                        break;
                    }

                    total += (int)n;
                }
            }

            return total;
        }
        finally
        {
            _ = close(fd);
        }
    }

    /// <summary>realpath(3): the canonical path with every symlink resolved; null when it does not exist.</summary>
    public static string? RealPath(string path)
    {
        Span<byte> input = stackalloc byte[4097];
        if (!TryEncodePath(path, input))
        {
            return null;
        }

        byte* output = stackalloc byte[4097];
        fixed (byte* p = input)
        {
            nint r = realpath(p, output);
            if (r == 0)
            {
                return null;
            }
        }

        return System.Text.Encoding.UTF8.GetString(System.Runtime.InteropServices.MemoryMarshal.CreateReadOnlySpanFromNullTerminated(output));
    }

    /// <summary>CLOCK_MONOTONIC now, in nanoseconds (the clock of proc connector timestamps).</summary>
    public static ulong MonotonicNowNs()
    {
        Timespec ts;
        _ = clock_gettime(CLOCK_MONOTONIC, &ts);
        return (ulong)ts.Seconds * 1_000_000_000UL + (ulong)ts.Nanoseconds;
    }
}
