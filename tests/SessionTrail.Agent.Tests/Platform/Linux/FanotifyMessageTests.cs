using System.Buffers.Binary;
using System.Text;
using SessionTrail.Agent.Platform.Linux;

namespace SessionTrail.Agent.Tests.Platform.Linux;

public sealed class FanotifyMessageTests
{
    private static byte[] Metadata(ulong mask, int fd, int pid, int extra = 0)
    {
        var b = new byte[24 + extra];
        BinaryPrimitives.WriteUInt32LittleEndian(b, (uint)b.Length);
        b[4] = 3;
        BinaryPrimitives.WriteUInt16LittleEndian(b.AsSpan(6), 24);
        BinaryPrimitives.WriteUInt64LittleEndian(b.AsSpan(8), mask);
        BinaryPrimitives.WriteInt32LittleEndian(b.AsSpan(16), fd);
        BinaryPrimitives.WriteInt32LittleEndian(b.AsSpan(20), pid);
        return b;
    }

    [Fact]
    public void DecodesEveryEventInOneRead()
    {
        var list = new List<FanotifyEvent>();
        Assert.True(FanotifyMessage.Parse([.. Metadata(0x1000, 5, 100), .. Metadata(0x1000, 6, 101, extra: 16), .. Metadata(0x4000, -1, 0)], list));
        Assert.Equal([new(0x1000, 5, 100), new(0x1000, 6, 101), new(0x4000, -1, 0)], list);
        Assert.True(list[2].IsOverflow);
    }

    [Fact]
    public void StopsAtAnUnknownVersionOrBadLength()
    {
        var bad = Metadata(0x1000, 5, 100);
        bad[4] = 2;
        var list = new List<FanotifyEvent>();
        Assert.False(FanotifyMessage.Parse([.. Metadata(0x1000, 4, 99), .. bad], list));
        Assert.Single(list);
        var tooLong = Metadata(0x1000, 5, 100);
        BinaryPrimitives.WriteUInt32LittleEndian(tooLong, 999);
        Assert.False(FanotifyMessage.Parse(tooLong, list));
    }

    [Theory]
    [InlineData("#!/bin/sh\necho hi\n", "/bin/sh")]
    [InlineData("#! /usr/bin/env python3\n", "/usr/bin/env")]
    [InlineData("#!/bin/bash -e\n", "/bin/bash")]
    [InlineData("#!/usr/bin/perl\r\n", "/usr/bin/perl")]
    [InlineData("#!\n", null)]
    [InlineData("echo not a script\n", null)]
    public void AScriptsInterpreterIsItsShebangPath(string head, string? expected) =>
        Assert.Equal(expected, ExecInterpreter.FromHeader(Encoding.UTF8.GetBytes(head), (_, _) => null));

    [Fact]
    public void ADynamicElfBinarysInterpreterIsItsPtInterp()
    {
        var bytes = File.ReadAllBytes("/bin/true");
        var interp = ExecInterpreter.FromHeader(bytes.AsSpan(0, Math.Min(bytes.Length, 1024)), (o, l) => bytes.AsSpan((int)o, l).ToArray());
        Assert.NotNull(interp);
        Assert.Contains("ld-linux", interp, StringComparison.Ordinal);
    }

    [Fact]
    public void TheElfInterpreterItselfHasNoInterpreter()
    {
        var ld = ExecInterpreter.FromHeader(File.ReadAllBytes("/bin/true").AsSpan(0, 1024), (_, _) => null)!;
        var bytes = File.ReadAllBytes(ld);
        Assert.Null(ExecInterpreter.FromHeader(bytes.AsSpan(0, 1024), (o, l) => bytes.AsSpan((int)o, l).ToArray()));
    }

    [Fact]
    public void MountInfoLinesGiveDeviceMountPointAndType()
    {
        var mounts = MountEntry.Parse(
            "27 1 254:0 / / rw,relatime - ext4 /dev/vda rw\n" +
            "25 24 0:23 / /dev/shm rw,relatime shared:5 - tmpfs tmpfs rw\n" +
            "22 27 0:21 / /proc rw,relatime - proc proc rw\n" +
            "90 27 0:40 / /mnt/my\\040disk rw - vfat /dev/sdb1 rw\n" +
            "garbage\n");
        Assert.Equal(
            [new("254:0", "/", "ext4"), new("0:23", "/dev/shm", "tmpfs"), new("0:21", "/proc", "proc"), new("0:40", "/mnt/my disk", "vfat")],
            mounts);
        Assert.False(mounts[2].MayHoldExecutables);
        Assert.True(mounts[1].MayHoldExecutables);
    }
}
