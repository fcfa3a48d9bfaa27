using System.Diagnostics;
using System.Globalization;

namespace SessionTrail.Agent.Tests.Recording;

/// <summary>
/// The test displays' lock files: a lock left by a dead X server is reclaimed, a live one is not, and a display
/// ended by the tests leaves none behind (757 stale locks once filled every number and failed CI).
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
[Collection(XvncCollection.Name)]
public sealed class XvncDisplayLockTests
{
    [Fact]
    public void A_lock_whose_process_is_gone_is_removed_and_a_live_ones_is_kept()
    {
        var n = FreeNumberForTest();
        var lockFile = $"/tmp/.X{n}-lock";
        using var dead = Process.Start("true")!;
        dead.WaitForExit();
        try
        {
            File.WriteAllText(lockFile, dead.Id.ToString(CultureInfo.InvariantCulture).PadLeft(10) + "\n");
            Assert.True(XvncDisplay.RemoveStaleLock(n));
            Assert.False(File.Exists(lockFile));

            File.WriteAllText(lockFile, Environment.ProcessId.ToString(CultureInfo.InvariantCulture).PadLeft(10) + "\n");
            Assert.False(XvncDisplay.RemoveStaleLock(n));
            Assert.True(File.Exists(lockFile));
        }
        finally
        {
            File.Delete(lockFile);
        }
    }

    [Fact]
    public void A_display_killed_or_disposed_leaves_no_lock_behind()
    {
        int killed;
        using (var x = new XvncDisplay(320, 240, busyTerminal: false))
        {
            killed = x.Number;
            Assert.True(File.Exists($"/tmp/.X{killed}-lock"));
            x.KillServer();
        }

        Assert.False(File.Exists($"/tmp/.X{killed}-lock"));
        Assert.False(File.Exists($"/tmp/.X11-unix/X{killed}"));

        int disposed;
        using (var x = new XvncDisplay(320, 240, busyTerminal: false))
        {
            disposed = x.Number;
        }

        Assert.False(File.Exists($"/tmp/.X{disposed}-lock"));
        Assert.False(File.Exists($"/tmp/.X11-unix/X{disposed}"));
    }

    private static int FreeNumberForTest() =>
        Enumerable.Range(1000 + Random.Shared.Next(500), 500).First(n => !File.Exists($"/tmp/.X{n}-lock") && !File.Exists($"/tmp/.X11-unix/X{n}"));
}
