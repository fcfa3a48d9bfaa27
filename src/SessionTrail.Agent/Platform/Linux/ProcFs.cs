using System.Buffers.Text;

namespace SessionTrail.Agent.Platform.Linux;

/// <summary>What /proc said about a process at one moment. Null fields could not be read.</summary>
internal sealed record ProcSnapshot
{
    public int? ParentPid { get; init; }

    public long? Uid { get; init; }

    public long? LoginUid { get; init; }

    public long? SessionId { get; init; }

    public string? Executable { get; init; }

    public string? CommandLine { get; init; }

    /// <summary>Start time in clock ticks since boot (field 22 of /proc/PID/stat); used to tell a reused pid.</summary>
    public ulong? StartTicks { get; init; }
}

/// <summary>
/// Reads and parses /proc/PID files. Readers return null when the process is gone or the file is
/// unreadable; parsers take the raw bytes and never throw on malformed content.
/// </summary>
internal static class ProcFs
{
    /// <summary>The value of loginuid / sessionid that means "not set".</summary>
    public const long Unset = 4294967295;

    /// <summary>Reads everything still readable about <paramref name="pid"/>; null when the process is already gone.</summary>
    /// <remarks>
    /// When <paramref name="uidOfInterest"/> says no to the process's real uid, only the status fields
    /// are read: nothing else is needed to filter it out, and system processes are most execs.
    /// </remarks>
    public static ProcSnapshot? Read(int pid, int maxCommandLineLength, bool withStartTicks = false, Func<long, bool>? uidOfInterest = null)
    {
        Span<byte> path = stackalloc byte[48];
        Span<byte> buf = stackalloc byte[4096];

        int n = Libc.ReadSmallFile(ProcPath(pid, "status", path), buf);
        if (n <= 0)
        {
            return null;
        }

        var status = ParseStatus(buf[..n]);
        if (uidOfInterest is not null && status.Uid is { } uid && !uidOfInterest(uid))
        {
            return new ProcSnapshot { ParentPid = status.ParentPid, Uid = status.Uid };
        }

        string? exe = Libc.ReadLink(ProcPath(pid, "exe", path));
        n = Libc.ReadSmallFile(ProcPath(pid, "loginuid", path), buf);
        long? loginUid = n > 0 ? ParseAuditId(buf[..n]) : null;
        n = Libc.ReadSmallFile(ProcPath(pid, "sessionid", path), buf);
        long? sessionId = n > 0 ? ParseAuditId(buf[..n]) : null;

        string? cmdline = null;
        if (maxCommandLineLength > 0)
        {
            Span<byte> cmdBuf = maxCommandLineLength <= 4096 ? buf[..maxCommandLineLength] : new byte[maxCommandLineLength];
            n = Libc.ReadSmallFile(ProcPath(pid, "cmdline", path), cmdBuf);
            cmdline = n > 0 ? ParseCommandLine(cmdBuf[..n]) : null;
        }

        ulong? startTicks = null;
        if (withStartTicks)
        {
            n = Libc.ReadSmallFile(ProcPath(pid, "stat", path), buf);
            startTicks = n > 0 ? ParseStat(buf[..n])?.StartTicks : null;
        }

        return new ProcSnapshot
        {
            ParentPid = status.ParentPid,
            Uid = status.Uid,
            LoginUid = loginUid,
            SessionId = sessionId,
            Executable = exe is null ? null : StripDeleted(exe),
            CommandLine = cmdline,
            StartTicks = startTicks,
        };
    }

    /// <summary>Start ticks of a live process, or null.</summary>
    public static ulong? ReadStartTicks(int pid)
    {
        Span<byte> path = stackalloc byte[48];
        Span<byte> buf = stackalloc byte[1024];
        int n = Libc.ReadSmallFile(ProcPath(pid, "stat", path), buf);
        return n > 0 ? ParseStat(buf[..n])?.StartTicks : null;
    }

    /// <summary>The numeric directories of /proc: every live process (thread-group leader).</summary>
    public static List<int> ListPids()
    {
        var pids = new List<int>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            var name = Path.GetFileName(dir.AsSpan());
            if (int.TryParse(name, System.Globalization.NumberStyles.None, null, out int pid))
            {
                pids.Add(pid);
            }
        }

        return pids;
    }

    public readonly record struct StatusFields(int? ParentPid, long? Uid, int? Tgid);

    /// <summary>Parses /proc/PID/status: PPid, the real uid (first field of Uid:), Tgid.</summary>
    public static StatusFields ParseStatus(ReadOnlySpan<byte> text)
    {
        int? ppid = null, tgid = null;
        long? uid = null;
        while (!text.IsEmpty)
        {
            int nl = text.IndexOf((byte)'\n');
            var line = nl >= 0 ? text[..nl] : text;
            text = nl >= 0 ? text[(nl + 1)..] : default;
            if (line.StartsWith("PPid:"u8))
            {
                ppid = FirstNumber(line[5..]) is { } v ? (int)v : null;
            }
            else if (line.StartsWith("Uid:"u8))
            {
                uid = FirstNumber(line[4..]);
            }
            else if (line.StartsWith("Tgid:"u8))
            {
                tgid = FirstNumber(line[5..]) is { } v ? (int)v : null;
            }
        }

        return new StatusFields(ppid, uid, tgid);
    }

    public readonly record struct StatFields(int ParentPid, ulong StartTicks);

    /// <summary>
    /// Parses /proc/PID/stat: "pid (comm) state ppid ... starttime(22) ...". The command name may
    /// hold spaces and parentheses, so fields are counted from the last ')'.
    /// </summary>
    public static StatFields? ParseStat(ReadOnlySpan<byte> text)
    {
        int close = text.LastIndexOf((byte)')');
        if (close < 0 || close + 2 > text.Length)
        {
            return null;
        }

        var rest = text[(close + 2)..];
        // rest starts at field 3 (state).
        int field = 3;
        int? ppid = null;
        while (!rest.IsEmpty)
        {
            int sp = rest.IndexOf((byte)' ');
            var token = sp >= 0 ? rest[..sp] : rest.TrimEnd("\n"u8);
            rest = sp >= 0 ? rest[(sp + 1)..] : default;
            if (field == 4 && Utf8Parser.TryParse(token, out int p, out int used) && used == token.Length)
            {
                ppid = p;
            }
            else if (field == 22)
            {
                return ppid is { } pp && Utf8Parser.TryParse(token, out ulong start, out int used2) && used2 == token.Length
                    ? new StatFields(pp, start)
                    : null;
            }

            field++;
        }

        return null;
    }

    /// <summary>Parses /proc/PID/loginuid or sessionid; 4294967295 (unset) and garbage give null.</summary>
    public static long? ParseAuditId(ReadOnlySpan<byte> text)
    {
        var v = FirstNumber(text);
        return v is null or Unset ? null : v;
    }

    /// <summary>/proc/PID/cmdline: NUL-separated arguments joined by spaces; null when empty (kernel threads, zombies).</summary>
    public static string? ParseCommandLine(ReadOnlySpan<byte> raw)
    {
        while (!raw.IsEmpty && raw[^1] == 0)
        {
            raw = raw[..^1];
        }

        if (raw.IsEmpty)
        {
            return null;
        }

        var s = System.Text.Encoding.UTF8.GetString(raw);
        return s.Replace('\0', ' ');
    }

    /// <summary>/proc/PID/exe of a deleted or replaced file ends in " (deleted)"; the path itself is what ran.</summary>
    public static string StripDeleted(string path) =>
        path.EndsWith(" (deleted)", StringComparison.Ordinal) ? path[..^" (deleted)".Length] : path;

    private static long? FirstNumber(ReadOnlySpan<byte> text)
    {
        text = text.TrimStart(" \t"u8);
        return Utf8Parser.TryParse(text, out long v, out int used) && used > 0 ? v : null;
    }

    private static ReadOnlySpan<byte> ProcPath(int pid, string leaf, Span<byte> buffer)
    {
        "/proc/"u8.CopyTo(buffer);
        int at = 6;
        Utf8Formatter.TryFormat(pid, buffer[at..], out int written);
        at += written;
        buffer[at++] = (byte)'/';
        for (int i = 0; i < leaf.Length; i++)
        {
            buffer[at++] = (byte)leaf[i];
        }

        buffer[at++] = 0;
        return buffer[..at];
    }
}
