using SessionTrail.Agent.Platform.Windows;
using SessionTrail.Core.Records;

namespace SessionTrail.Agent.Tests.Platform.Windows;

/// <summary>ETW Kernel-Process payloads (field names and types as TraceEvent gives them) to process records.</summary>
public sealed class KernelProcessEventsTests
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 2, 9, 0, 0, TimeSpan.Zero);

    [Fact]
    public void StartTakesTheIdentityAndTheExitRemembersIt()
    {
        var events = new KernelProcessEvents("EC2AMAZ-1");
        var identity = new ProcessIdentity("S-1-5-21-1-1001", 0x2b4c1f, @"C:\Program Files\Notepad++\notepad++.exe");
        var start = events.Map(1, T0, new Dictionary<string, object?>
        {
            ["ProcessID"] = 6812, ["CreateTime"] = T0.UtcDateTime, ["ParentProcessID"] = 3744, ["SessionID"] = 2,
            ["ImageName"] = @"\Device\HarddiskVolume2\Program Files\Notepad++\notepad++.exe",
        }, pid => pid == 6812 ? identity : null)!;
        Assert.Equal((ProcessEventType.Start, 6812, (int?)3744, identity.Win32Path, identity.UserSid, identity.LogonId), (start.Type, start.Pid, start.ParentPid, start.Executable, start.User, start.AuditSession));
        Assert.Equal(1, events.Running);

        var exit = events.Map(2, T0.AddMinutes(5), new Dictionary<string, object?> { ["ProcessID"] = 6812, ["ExitCode"] = 0xC000013Au, ["ImageName"] = "notepad++.exe" }, _ => throw new InvalidOperationException("not for exits"))!;
        Assert.Equal((ProcessEventType.Exit, 6812, unchecked((int)0xC000013A), identity.Win32Path, identity.UserSid), (exit.Type, exit.Pid, exit.ExitCode!.Value, exit.Executable, exit.User));
        Assert.Equal(0, events.Running);
    }

    [Fact]
    public void UnknownProcessesAndOtherEventsAreHandled()
    {
        var events = new KernelProcessEvents("h");
        var gone = events.Map(1, T0, new Dictionary<string, object?> { ["ProcessID"] = 4, ["ImageName"] = @"\Device\HarddiskVolume2\x.exe" }, _ => null)!;
        Assert.Equal((@"\Device\HarddiskVolume2\x.exe", (string?)null), (gone.Executable, gone.User));
        var exitWithoutStart = events.Map(2, T0, new Dictionary<string, object?> { ["ProcessID"] = 8, ["ImageName"] = "y.exe" }, _ => null)!;
        Assert.Equal(("y.exe", (string?)null), (exitWithoutStart.Executable, exitWithoutStart.User));
        Assert.Null(events.Map(5, T0, new Dictionary<string, object?> { ["ProcessID"] = 4 }, _ => null));
        Assert.Null(events.Map(1, T0, new Dictionary<string, object?> { ["ProcessID"] = "x" }, _ => null));
    }
}
