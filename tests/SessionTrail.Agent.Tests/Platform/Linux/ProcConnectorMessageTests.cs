using System.Buffers.Binary;
using SessionTrail.Agent.Platform.Linux;

namespace SessionTrail.Agent.Tests.Platform.Linux;

public sealed class ProcConnectorMessageTests
{
    /// <summary>Builds one netlink datagram holding a proc_event as the kernel lays it out.</summary>
    internal static byte[] Datagram(uint what, ulong timestampNs, params uint[] data)
    {
        int eventLen = 16 + (data.Length * 4);
        int total = 16 + 20 + eventLen;
        var b = new byte[total];
        var s = b.AsSpan();
        BinaryPrimitives.WriteUInt32LittleEndian(s, (uint)total);
        BinaryPrimitives.WriteUInt16LittleEndian(s[4..], 3); // NLMSG_DONE
        BinaryPrimitives.WriteUInt32LittleEndian(s[16..], 1); // CN_IDX_PROC
        BinaryPrimitives.WriteUInt32LittleEndian(s[20..], 1); // CN_VAL_PROC
        BinaryPrimitives.WriteUInt16LittleEndian(s[32..], (ushort)eventLen);
        var e = s[36..];
        BinaryPrimitives.WriteUInt32LittleEndian(e, what);
        BinaryPrimitives.WriteUInt32LittleEndian(e[4..], 1); // cpu
        BinaryPrimitives.WriteUInt64LittleEndian(e[8..], timestampNs);
        for (int i = 0; i < data.Length; i++)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(e[(16 + (i * 4))..], data[i]);
        }

        return b;
    }

    private static ConnectorEvent ParseOne(byte[] datagram)
    {
        var list = new List<ConnectorEvent>();
        Assert.Equal(1, ProcConnectorMessage.Parse(datagram, list));
        return Assert.Single(list);
    }

    [Fact]
    public void ForkCarriesParentAndChild()
    {
        var ev = ParseOne(Datagram(0x1, 123456789, 100, 100, 200, 200));
        Assert.Equal(new ConnectorEvent(ConnectorEventKind.Fork, 123456789, 200, 200, 100, 100), ev);
    }

    [Fact]
    public void ExecCarriesPidAndTgid()
    {
        var ev = ParseOne(Datagram(0x2, 5, 300, 300));
        Assert.Equal(ConnectorEventKind.Exec, ev.Kind);
        Assert.Equal(300, ev.Tgid);
        Assert.Equal(5UL, ev.TimestampNs);
    }

    [Fact]
    public void UidCarriesRealUid()
    {
        var ev = ParseOne(Datagram(0x4, 5, 301, 300, 1001, 0));
        Assert.Equal(ConnectorEventKind.Uid, ev.Kind);
        Assert.Equal(300, ev.Tgid);
        Assert.Equal(1001u, ev.Ruid);
    }

    [Theory]
    [InlineData(0x0000u, 0)]
    [InlineData(0x0300u, 3)]
    [InlineData(0x0009u, 137)]
    public void ExitCarriesWaitStatusAndShellStyleExitCode(uint waitStatus, int shellCode)
    {
        var ev = ParseOne(Datagram(0x80000000, 9, 400, 400, waitStatus, 17, 1, 1));
        Assert.Equal(ConnectorEventKind.Exit, ev.Kind);
        Assert.Equal(400, ev.Pid);
        Assert.Equal(shellCode, ev.ShellExitCode);
        Assert.Equal(1, ev.ParentTgid);
    }

    [Fact]
    public void OtherEventKindsAreDecodedAsOther()
    {
        Assert.Equal(ConnectorEventKind.Other, ParseOne(Datagram(0x200, 1, 1, 1, 0, 0, 0, 0)).Kind);
    }

    [Fact]
    public void TruncatedOrForeignMessagesAreSkippedWithoutThrowing()
    {
        var good = Datagram(0x2, 1, 7, 7);
        var list = new List<ConnectorEvent>();
        Assert.Equal(0, ProcConnectorMessage.Parse(good.AsSpan(0, 30), list));
        var foreign = (byte[])good.Clone();
        foreign[16] = 9; // another connector index
        Assert.Equal(0, ProcConnectorMessage.Parse(foreign, list));
        Assert.Empty(list);
    }

    [Fact]
    public void SeveralMessagesInOneDatagramAreAllDecoded()
    {
        var a = Datagram(0x2, 1, 7, 7);
        var b = Datagram(0x80000000, 2, 7, 7, 0, 17, 1, 1);
        var list = new List<ConnectorEvent>();
        Assert.Equal(2, ProcConnectorMessage.Parse([.. a, .. b], list));
        Assert.Equal([ConnectorEventKind.Exec, ConnectorEventKind.Exit], list.Select(e => e.Kind));
    }

    [Fact]
    public void SubscriptionIsANetlinkDoneMessageWithTheListenOperation()
    {
        var m = ProcConnectorMessage.Subscription(42, ProcConnectorMessage.PROC_CN_MCAST_LISTEN);
        Assert.Equal(40, m.Length);
        Assert.Equal(40u, BinaryPrimitives.ReadUInt32LittleEndian(m));
        Assert.Equal(3, BinaryPrimitives.ReadUInt16LittleEndian(m.AsSpan(4)));
        Assert.Equal(42u, BinaryPrimitives.ReadUInt32LittleEndian(m.AsSpan(12)));
        Assert.Equal(1u, BinaryPrimitives.ReadUInt32LittleEndian(m.AsSpan(16)));
        Assert.Equal(4, BinaryPrimitives.ReadUInt16LittleEndian(m.AsSpan(32)));
        Assert.Equal(1u, BinaryPrimitives.ReadUInt32LittleEndian(m.AsSpan(36)));
    }
}
