using SessionTrail.Agent.Platform.Linux;
using SessionTrail.Agent.Tests.Fakes;
using SessionTrail.TestKit;

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

    [LinuxFact]
    public void TheRealProcCanBeRead() => Assert.DoesNotContain(4294967295L, new LinuxSessionProbe().LiveSessions());

    [AuditSessionFact]
    public void OurOwnAuditSessionIsLive() =>
        Assert.Contains(long.Parse(AuditSessionFactAttribute.OwnSessionId()!, System.Globalization.CultureInfo.InvariantCulture), new LinuxSessionProbe().LiveSessions());
}

/// <summary>A test on the real /proc: skipped, saying why, unless Linux with an audit session id set for this process.</summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class AuditSessionFactAttribute : FactAttribute
{
    public AuditSessionFactAttribute()
    {
        if (!OperatingSystem.IsLinux())
        {
            Skip = "needs Linux (/proc/PID/sessionid)";
        }
        else if (OwnSessionId() is null)
        {
            Skip = "needs an audit session: /proc/self/sessionid is unset (4294967295) or missing, as in a container or a service started without a login; run from a login shell";
        }
    }

    /// <summary>This process's audit session id, or null when it has none.</summary>
    public static string? OwnSessionId()
    {
        try
        {
            var id = File.ReadAllText("/proc/self/sessionid").Trim();
            return id is "" or "4294967295" ? null : id;
        }
        catch (IOException)
        {
            return null;
        }
    }
}
