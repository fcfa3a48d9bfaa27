using System.Text;
using SessionTrail.Agent.Platform.Linux;

namespace SessionTrail.Agent.Tests.Platform.Linux;

public sealed class ProcFsTests
{
    private static byte[] B(string s) => Encoding.UTF8.GetBytes(s);

    [Fact]
    public void StatusGivesParentRealUidAndTgid()
    {
        var status = ProcFs.ParseStatus(B("Name:\tbash\nUmask:\t0022\nState:\tS (sleeping)\nTgid:\t4242\nNgid:\t0\nPid:\t4242\nPPid:\t4100\nTracerPid:\t0\nUid:\t1001\t0\t0\t0\nGid:\t1001\t1001\t1001\t1001\n"));
        Assert.Equal(new ProcFs.StatusFields(4100, 1001, 4242), status);
    }

    [Fact]
    public void StatusWithoutTheFieldsGivesNulls() =>
        Assert.Equal(new ProcFs.StatusFields(null, null, null), ProcFs.ParseStatus(B("Name:\tx\nUid:\tgarbage\n")));

    [Fact]
    public void StatCountsFieldsFromTheLastParenthesisSoThatOddCommandNamesWork()
    {
        var stat = ProcFs.ParseStat(B("777 (we ird) (name)) S 12 777 777 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 987654 1000 100 18446744073709551615\n"));
        Assert.Equal(new ProcFs.StatFields(12, 987654), stat);
        Assert.Null(ProcFs.ParseStat(B("777 (x) S 12")));
    }

    [Theory]
    [InlineData("1000", 1000L)]
    [InlineData("4294967295", null)]
    [InlineData("", null)]
    [InlineData("abc", null)]
    public void AuditIdsTreat4294967295AsUnset(string text, long? expected) =>
        Assert.Equal(expected, ProcFs.ParseAuditId(B(text)));

    [Fact]
    public void CommandLineJoinsArgumentsWithSpaces()
    {
        Assert.Equal("/usr/bin/python3 -c print(1)", ProcFs.ParseCommandLine(B("/usr/bin/python3\0-c\0print(1)\0")));
        Assert.Null(ProcFs.ParseCommandLine(B("\0")));
    }

    [Fact]
    public void ReadingOurOwnProcessGivesWhatTheKernelSays()
    {
        var me = ProcFs.Read(Environment.ProcessId, 4096, withStartTicks: true);
        Assert.NotNull(me);
        Assert.Equal(Environment.ProcessPath, me.Executable);
        Assert.NotNull(me.CommandLine);
        Assert.True(me.ParentPid > 0);
        Assert.NotNull(me.Uid);
        Assert.NotNull(me.StartTicks);
        Assert.Contains(Environment.ProcessId, ProcFs.ListPids());
    }

    [Fact]
    public void AGoneProcessReadsAsNull() => Assert.Null(ProcFs.Read(int.MaxValue, 4096));

    [Fact]
    public void DeletedExecutablesKeepTheirPath() =>
        Assert.Equal("/tmp/a b", ProcFs.StripDeleted("/tmp/a b (deleted)"));

    [Fact]
    public void PasswdLinesMapUidsToNamesAndSkipGarbage()
    {
        var names = UserNameCache.Parse(["root:x:0:0:root:/root:/bin/bash", "alice:x:1001:1001::/home/alice:/bin/bash", "bad line", "dup:x:1001:1:::"]);
        Assert.Equal("root", names[0]);
        Assert.Equal("alice", names[1001]);
        Assert.Equal(2, names.Count);
    }

    [Fact]
    public void AMissingPasswdFileGivesNoNameAndNoException() =>
        Assert.Null(new UserNameCache(TimeProvider.System, "/nonexistent/passwd").Lookup(1000));

    [Fact]
    public void AUidWithoutAPasswdEntryIsShownAsItsNumber()
    {
        var users = new UserNameCache(TimeProvider.System, "/nonexistent/passwd");
        Assert.Equal("47011", users.NameOrUid(47011));
        Assert.Null(users.NameOrUid(null));
    }
}
