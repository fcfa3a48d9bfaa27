using System.Buffers.Binary;

namespace SessionTrail.Agent.Platform.Linux;

/// <summary>The proc connector events the source uses (linux/cn_proc.h, <c>PROC_EVENT_*</c>).</summary>
internal enum ConnectorEventKind
{
    Other,
    Fork,
    Exec,
    Uid,
    Exit,
}

/// <summary>One proc connector event, decoded. Fields that the kind does not carry are zero.</summary>
internal readonly record struct ConnectorEvent(
    ConnectorEventKind Kind,
    ulong TimestampNs,
    int Pid,
    int Tgid,
    int ParentPid = 0,
    int ParentTgid = 0,
    uint Ruid = 0,
    uint ExitCode = 0,
    uint ExitSignal = 0)
{
    /// <summary>
    /// The exit status as a shell reports it: the exit code for a normal exit, 128 + signal for a
    /// process killed by a signal. <see cref="ExitCode"/> is the kernel's wait status.
    /// </summary>
    public int ShellExitCode => (ExitCode & 0x7f) == 0 ? (int)((ExitCode >> 8) & 0xff) : 128 + (int)(ExitCode & 0x7f);
}

/// <summary>
/// Encodes the subscription and decodes the messages of the netlink process connector. Layouts
/// (little-endian, as on every supported architecture): <c>nlmsghdr</c> 16 bytes, <c>cn_msg</c> 20
/// bytes, then <c>proc_event</c>: what u32, cpu u32, timestamp_ns u64, event data.
/// </summary>
internal static class ProcConnectorMessage
{
    public const int NlMsgHeaderSize = 16;
    public const int CnMsgSize = 20;
    public const uint CN_IDX_PROC = 1;
    public const uint CN_VAL_PROC = 1;
    public const uint PROC_CN_MCAST_LISTEN = 1;
    public const uint PROC_CN_MCAST_IGNORE = 2;
    private const ushort NLMSG_NOOP = 1;
    private const ushort NLMSG_ERROR = 2;
    private const ushort NLMSG_DONE = 3;

    public const uint PROC_EVENT_FORK = 0x1;
    public const uint PROC_EVENT_EXEC = 0x2;
    public const uint PROC_EVENT_UID = 0x4;
    public const uint PROC_EVENT_EXIT = 0x80000000;

    /// <summary>The message that turns the multicast on (or off) for this socket.</summary>
    public static byte[] Subscription(uint portId, uint operation)
    {
        var message = new byte[NlMsgHeaderSize + CnMsgSize + 4];
        var s = message.AsSpan();
        BinaryPrimitives.WriteUInt32LittleEndian(s, (uint)message.Length);
        BinaryPrimitives.WriteUInt16LittleEndian(s[4..], NLMSG_DONE);
        BinaryPrimitives.WriteUInt16LittleEndian(s[6..], 0);
        BinaryPrimitives.WriteUInt32LittleEndian(s[8..], 0);
        BinaryPrimitives.WriteUInt32LittleEndian(s[12..], portId);
        var cn = s[NlMsgHeaderSize..];
        BinaryPrimitives.WriteUInt32LittleEndian(cn, CN_IDX_PROC);
        BinaryPrimitives.WriteUInt32LittleEndian(cn[4..], CN_VAL_PROC);
        BinaryPrimitives.WriteUInt16LittleEndian(cn[16..], 4);
        BinaryPrimitives.WriteUInt32LittleEndian(cn[CnMsgSize..], operation);
        return message;
    }

    /// <summary>
    /// Decodes every proc event in one datagram (a datagram may hold several netlink messages).
    /// Malformed or foreign messages are skipped; the method never throws on bad input.
    /// </summary>
    public static int Parse(ReadOnlySpan<byte> datagram, List<ConnectorEvent> into)
    {
        int count = 0;
        while (datagram.Length >= NlMsgHeaderSize)
        {
            uint len = BinaryPrimitives.ReadUInt32LittleEndian(datagram);
            ushort type = BinaryPrimitives.ReadUInt16LittleEndian(datagram[4..]);
            if (len < NlMsgHeaderSize || len > datagram.Length)
            {
                break;
            }

            var body = datagram[NlMsgHeaderSize..(int)len];
            if (type != NLMSG_ERROR && type != NLMSG_NOOP && TryParseCn(body, out var ev))
            {
                into.Add(ev);
                count++;
            }

            int aligned = (int)((len + 3) & ~3u);
            if (aligned >= datagram.Length)
            {
                break;
            }

            datagram = datagram[aligned..];
        }

        return count;
    }

    private static bool TryParseCn(ReadOnlySpan<byte> cn, out ConnectorEvent ev)
    {
        ev = default;
        if (cn.Length < CnMsgSize + 16)
        {
            return false;
        }

        uint idx = BinaryPrimitives.ReadUInt32LittleEndian(cn);
        uint val = BinaryPrimitives.ReadUInt32LittleEndian(cn[4..]);
        ushort dataLen = BinaryPrimitives.ReadUInt16LittleEndian(cn[16..]);
        if (idx != CN_IDX_PROC || val != CN_VAL_PROC || dataLen < 16 || CnMsgSize + dataLen > cn.Length)
        {
            return false;
        }

        var e = cn.Slice(CnMsgSize, dataLen);
        uint what = BinaryPrimitives.ReadUInt32LittleEndian(e);
        ulong ts = BinaryPrimitives.ReadUInt64LittleEndian(e[8..]);
        var d = e[16..];
        ev = what switch
        {
            PROC_EVENT_FORK when d.Length >= 16 => new ConnectorEvent(ConnectorEventKind.Fork, ts, U(d, 2), U(d, 3), U(d, 0), U(d, 1)),
            PROC_EVENT_EXEC when d.Length >= 8 => new ConnectorEvent(ConnectorEventKind.Exec, ts, U(d, 0), U(d, 1)),
            PROC_EVENT_UID when d.Length >= 16 => new ConnectorEvent(ConnectorEventKind.Uid, ts, U(d, 0), U(d, 1), Ruid: (uint)U(d, 2)),
            PROC_EVENT_EXIT when d.Length >= 16 => new ConnectorEvent(
                ConnectorEventKind.Exit, ts, U(d, 0), U(d, 1),
                ParentPid: d.Length >= 24 ? U(d, 4) : 0, ParentTgid: d.Length >= 24 ? U(d, 5) : 0,
                ExitCode: (uint)U(d, 2), ExitSignal: (uint)U(d, 3)),
            _ => new ConnectorEvent(ConnectorEventKind.Other, ts, 0, 0),
        };
        return true;
    }

    private static int U(ReadOnlySpan<byte> d, int i) => d.Length >= (i + 1) * 4 ? (int)BinaryPrimitives.ReadUInt32LittleEndian(d[(i * 4)..]) : 0;
}
