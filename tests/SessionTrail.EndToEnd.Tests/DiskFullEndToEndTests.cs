using SessionTrail.EndToEnd.Tests.Infrastructure;
using Xunit.Abstractions;

namespace SessionTrail.EndToEnd.Tests;

/// <summary>
/// docs/security.md "Disk full", with the real executables: `sessiontrail server` keeps its data directory on a real
/// 16 MiB tmpfs that fills up while `sessiontrail agent` ships a log file. The agent is answered 507, keeps
/// the lines in its queue and retries; once space is freed every line arrives, once — no restart of either.
/// </summary>
[Collection(EndToEnd.Serial)]
public sealed class DiskFullEndToEndTests(ITestOutputHelper log)
{
    [RootFact]
    public async Task AnAgentKeepsItsRecordsWhileTheServersDiskIsFullAndDeliversThemAllAfter()
    {
        await using var trail = new Trail();
        Directory.CreateDirectory(trail.ServerData);
        using var disk = SmallDisk.Mount(16 << 20, trail.ServerData);
        await trail.StartServerAsync();
        var logDir = Path.Combine(trail.Root, "logs");
        var config = LogDeliveryEndToEndTests.WriteConfig(Path.Combine(trail.Root, "appsettings.json"), logDir,
            "\"FlushDeadline\": \"00:00:03\", \"RetryMaxDelay\": \"00:00:02\"");
        await using var file = new LogDeliveryEndToEndTests.GrowingFile(logDir, linesPerSecond: 0, rotateEvery: 0);
        file.WriteNow(500);
        var agent = LogDeliveryEndToEndTests.StartAgent(trail, config);
        await LogDeliveryEndToEndTests.WaitForAllAsync(trail, 500, TimeSpan.FromMinutes(1));

        var before = disk.Files();
        disk.Fill();
        file.WriteNow(3_000);
        var status = await Trail.EventuallyAsync(
            async () => (await TrailProcess.RunAsync(TimeSpan.FromSeconds(30), "agent", "status", "--data", trail.AgentData)).Stdout,
            s => s.Contains("disk full", StringComparison.Ordinal),
            TimeSpan.FromSeconds(90));
        log.WriteLine(status);
        Assert.Contains("server answered 507", status, StringComparison.Ordinal);
        Assert.Contains("disk full", status, StringComparison.Ordinal);
        Assert.Equal(500, (await LogDeliveryEndToEndTests.ServerMessagesAsync(trail)).Count); // nothing of a refused batch
        Assert.Equal(before.Keys, disk.Files().Keys); // and no partial file
        Assert.Contains("answered 507", trail.Server!.Output, StringComparison.Ordinal);

        disk.Free();
        var messages = await LogDeliveryEndToEndTests.WaitForAllAsync(trail, 3_500, TimeSpan.FromMinutes(2));
        Assert.Equal(0, await agent.StopAsync(TimeSpan.FromSeconds(60)));
        LogDeliveryEndToEndTests.AssertExactlyOnce(messages, 3_500);
    }
}
