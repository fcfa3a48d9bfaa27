using System.Buffers.Binary;

namespace SessionTrail.Agent.Platform.Linux;

/// <summary>One fanotify event header, decoded.</summary>
internal readonly record struct FanotifyEvent(ulong Mask, int Fd, int Pid)
{
    public bool IsOverflow => (Mask & FanotifyMessage.FAN_Q_OVERFLOW) != 0;
}

/// <summary>
/// Decodes <c>struct fanotify_event_metadata</c> records (linux/fanotify.h): event_len u32, vers u8,
/// reserved u8, metadata_len u16, mask u64, fd s32, pid s32 — 24 bytes, then optional info records
/// that <c>event_len</c> skips.
/// </summary>
internal static class FanotifyMessage
{
    public const int MetadataSize = 24;
    public const byte FANOTIFY_METADATA_VERSION = 3;
    public const ulong FAN_OPEN_EXEC = 0x1000;
    public const ulong FAN_Q_OVERFLOW = 0x4000;
    public const uint FAN_CLOEXEC = 0x1;
    public const uint FAN_CLASS_NOTIF = 0x0;
    public const uint FAN_UNLIMITED_QUEUE = 0x10;
    public const uint FAN_MARK_ADD = 0x1;
    public const uint FAN_MARK_MOUNT = 0x10;
    public const uint FAN_MARK_FILESYSTEM = 0x100;

    /// <summary>
    /// Decodes every event in a buffer returned by one read(2). Returns false (and stops) on a
    /// record whose version is unknown or whose length is inconsistent; events decoded before it
    /// are kept. The caller owns (must close) every non-negative <see cref="FanotifyEvent.Fd"/>.
    /// </summary>
    public static bool Parse(ReadOnlySpan<byte> buffer, List<FanotifyEvent> into)
    {
        while (buffer.Length >= MetadataSize)
        {
            uint len = BinaryPrimitives.ReadUInt32LittleEndian(buffer);
            byte version = buffer[4];
            if (version != FANOTIFY_METADATA_VERSION || len < MetadataSize || len > buffer.Length)
            {
                return false;
            }

            ulong mask = BinaryPrimitives.ReadUInt64LittleEndian(buffer[8..]);
            int fd = BinaryPrimitives.ReadInt32LittleEndian(buffer[16..]);
            int pid = BinaryPrimitives.ReadInt32LittleEndian(buffer[20..]);
            into.Add(new FanotifyEvent(mask, fd, pid));
            buffer = buffer[(int)len..];
        }

        return true;
    }
}

/// <summary>
/// Tells which interpreter the kernel will open next while executing a file: the <c>#!</c> line of a
/// script, or the <c>PT_INTERP</c> program header (the ELF interpreter, ld-linux) of a dynamic ELF
/// binary. That is how the several FAN_OPEN_EXEC events of one exec are told apart from the next exec.
/// </summary>
internal static class ExecInterpreter
{
    /// <summary>The interpreter path as written in the file's first bytes; null for a static ELF or unknown format.</summary>
    public static string? FromHeader(ReadOnlySpan<byte> head, Func<long, int, byte[]?> readAt)
    {
        if (head.Length >= 2 && head[0] == (byte)'#' && head[1] == (byte)'!')
        {
            var line = head[2..];
            int nl = line.IndexOf((byte)'\n');
            if (nl >= 0)
            {
                line = line[..nl];
            }

            line = line.TrimStart(" \t"u8);
            int end = line.IndexOfAny(" \t\r"u8);
            if (end >= 0)
            {
                line = line[..end];
            }

            return line.IsEmpty ? null : System.Text.Encoding.UTF8.GetString(line);
        }

        if (head.Length < 0x34 || head[0] != 0x7f || head[1] != (byte)'E' || head[2] != (byte)'L' || head[3] != (byte)'F' || head[5] != 1)
        {
            return null;
        }

        bool is64 = head[4] == 2;
        if (is64 && head.Length < 0x40)
        {
            return null;
        }

        long phoff = is64 ? (long)BinaryPrimitives.ReadUInt64LittleEndian(head[0x20..]) : BinaryPrimitives.ReadUInt32LittleEndian(head[0x1c..]);
        int phentsize = BinaryPrimitives.ReadUInt16LittleEndian(head[(is64 ? 0x36 : 0x2a)..]);
        int phnum = BinaryPrimitives.ReadUInt16LittleEndian(head[(is64 ? 0x38 : 0x2c)..]);
        if (phnum == 0 || phentsize < (is64 ? 56 : 32) || phnum > 512)
        {
            return null;
        }

        int tableLength = phentsize * phnum;
        ReadOnlySpan<byte> table = phoff >= 0 && phoff + tableLength <= head.Length
            ? head.Slice((int)phoff, tableLength)
            : readAt(phoff, tableLength);
        if (table.Length < tableLength)
        {
            return null;
        }

        for (int i = 0; i < phnum; i++)
        {
            var ph = table.Slice(i * phentsize, phentsize);
            if (BinaryPrimitives.ReadUInt32LittleEndian(ph) != 3)
            {
                continue;
            }

            long offset = is64 ? (long)BinaryPrimitives.ReadUInt64LittleEndian(ph[8..]) : BinaryPrimitives.ReadUInt32LittleEndian(ph[4..]);
            long size = is64 ? (long)BinaryPrimitives.ReadUInt64LittleEndian(ph[32..]) : BinaryPrimitives.ReadUInt32LittleEndian(ph[16..]);
            if (size <= 1 || size > 4096)
            {
                return null;
            }

            ReadOnlySpan<byte> interp = offset >= 0 && offset + size <= head.Length
                ? head.Slice((int)offset, (int)size)
                : readAt(offset, (int)size);
            int nul = interp.IndexOf((byte)0);
            if (nul >= 0)
            {
                interp = interp[..nul];
            }

            return interp.IsEmpty ? null : System.Text.Encoding.UTF8.GetString(interp);
        }

        return null;
    }
}
