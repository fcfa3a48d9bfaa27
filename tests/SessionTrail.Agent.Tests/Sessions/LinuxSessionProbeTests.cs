using SessionTrail.Agent.Platform.Linux;
using SessionTrail.Agent.Tests.Fakes;

namespace SessionTrail.Agent.Tests.Sessions;

public sealed class LinuxSessionProbeTests : IDisposable
{
    private readonly TempDir _proc = new();

    public void Dispose() => _proc.Dispose();

    private void Process(string pid, string? sessionId)
    {
        var dir = Directory.CreateDirectory(Path.Combine(_proc.Path, pid)).FullName;
        if (sessionId is not null)
        {
            File.WriteAllText(Path.Combine(dir, "sessionid"), sessionId);
        }
    }

    [Fact]
    public void LiveSessionsAreTheSessionIdsOfProcessesIgnoringUnsetAndNonProcessEntries()
    {
        Process("1", "4294967295");
        Process("100", "3");
        Process("101", "3");
        Process("202", "7");
        Process("303", null); // exited while we looked
        Process("self", "9");

        Assert.Equal([3, 7], new LinuxSessionProbe(_proc.Path).LiveSessions().Order());
    }

    [Fact]
    public void TheRealProcCanBeRead()
    {
        if (!OperatingSystem.IsLinux())
        {
            return;
        }

        var live = new LinuxSessionProbe().LiveSessions();
        var mine = File.ReadAllText("/proc/self/sessionid").Trim();
        if (mine != "4294967295")
        {
            Assert.Contains(long.Parse(mine, System.Globalization.CultureInfo.InvariantCulture), live);
        }
    }
}
