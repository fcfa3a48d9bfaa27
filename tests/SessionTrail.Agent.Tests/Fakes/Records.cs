using SessionTrail.Core.Records;

namespace SessionTrail.Agent.Tests.Fakes;

public static class Records
{
    public static readonly DateTimeOffset T0 = new(2026, 11, 22, 8, 0, 0, TimeSpan.Zero);

    public static ProcessRecord Start(int pid, string exe = "/usr/bin/true", long? auditSession = null, string host = "h1", long? loginUid = null, string? user = null) => new()
    {
        Type = ProcessEventType.Start,
        Time = T0.AddSeconds(pid),
        Host = host,
        Pid = pid,
        Executable = exe,
        AuditSession = auditSession,
        LoginUid = loginUid,
        User = user,
    };
}
