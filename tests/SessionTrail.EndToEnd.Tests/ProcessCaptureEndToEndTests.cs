using SessionTrail.EndToEnd.Tests.Infrastructure;
using Xunit.Abstractions;

namespace SessionTrail.EndToEnd.Tests;

/// <summary>
/// The real executable, real kernel capture, real programs run by a non-root user, real HTTP.
/// These tests share the machine's process table, so they run one at a time.
/// </summary>
[Collection(EndToEnd.Serial)]
public sealed class ProcessCaptureEndToEndTests(ITestOutputHelper log)
{
    private static readonly TimeSpan Arrival = TimeSpan.FromSeconds(90);

    private void AssertAllPresent(List<string> programs, Dictionary<string, long> launches)
    {
        var missing = programs.Where(p => !launches.ContainsKey(p)).ToList();
        log.WriteLine($"captured {programs.Count - missing.Count} of {programs.Count}");
        Assert.True(missing.Count == 0, $"{missing.Count} programs missing, e.g. {string.Join(", ", missing.Take(10))}");
    }

    [RootFact]
    public async Task EveryOneOf500ShortProgramsAUserRunsAppearsOnceInLaunches()
    {
        Machine.EnsureTestUser();
        await using var trail = new Trail();
        var programs = Machine.MakePrograms(trail.ProgramsDir, "short", 500);
        await trail.StartServerAsync();
        await trail.StartAgentAsync();

        await Machine.RunAsTestUserAsync(programs);

        var launches = await Trail.EventuallyAsync(trail.LaunchesAsync, l => l.Count >= programs.Count, Arrival);
        var missing = programs.Where(p => !launches.ContainsKey(p)).ToList();
        log.WriteLine($"captured {launches.Count} of {programs.Count}; missing: {string.Join(", ", missing.Take(10))}");
        Assert.Empty(missing);
        Assert.All(programs, p => Assert.Equal(1, launches[p]));

        var runs = await trail.ReportAsync("runs");
        var ours = runs.EnumerateArray().Where(r => r.GetProperty("app").GetString()!.StartsWith(trail.ProgramsDir, StringComparison.Ordinal)).ToList();
        Assert.Equal(500, ours.Count);
        Assert.All(ours, r =>
        {
            Assert.Equal(Machine.TestUserName, r.GetProperty("user").GetString());
            Assert.Equal("exit", r.GetProperty("endedBy").GetString());
        });
    }

    [RootFact]
    public async Task AgentKilledWithSigkillMidStreamAndRestartedDeliversEveryRecordExactlyOnce()
    {
        Machine.EnsureTestUser();
        await using var trail = new Trail();
        var before = Machine.MakePrograms(trail.ProgramsDir, "before-kill", 300);
        var after = Machine.MakePrograms(trail.ProgramsDir, "after-restart", 100);
        await trail.StartServerAsync();
        await trail.StopServerAsync();

        // The server is down: the agent captures into its disk queue. Small batches make the
        // delivery a long stream of requests, so that the kill lands in the middle of it.
        await trail.StartAgentAsync("--batch-max-records", "10");
        await Machine.RunAsTestUserAsync(before);
        await Task.Delay(TimeSpan.FromSeconds(2)); // let the agent write the last exits to disk

        await trail.StartServerAsync();
        var atKill = await Trail.EventuallyAsync(trail.LaunchesAsync, l => l.Count > 0, Arrival);
        await trail.Agent!.KillHardAsync();
        log.WriteLine($"SIGKILL with {atKill.Count} of {before.Count} programs delivered");

        await trail.StartAgentAsync("--batch-max-records", "10");
        await Machine.RunAsTestUserAsync(after);

        var all = before.Concat(after).ToList();
        var launches = await Trail.EventuallyAsync(trail.LaunchesAsync, l => l.Count >= all.Count, Arrival);
        AssertAllPresent(all, launches);
        Assert.All(all, p => Assert.Equal(1, launches[p])); // a resent record would make a second run
        Assert.Equal(all.Count, launches.Count);
    }

    [RootFact]
    public async Task WhenTheServerIsDownForAMinuteTheAgentKeepsCapturingAndLosesNothing()
    {
        Machine.EnsureTestUser();
        await using var trail = new Trail();
        var first = Machine.MakePrograms(trail.ProgramsDir, "up", 50);
        var during = Machine.MakePrograms(trail.ProgramsDir, "down", 120);
        await trail.StartServerAsync();
        await trail.StartAgentAsync();
        await Machine.RunAsTestUserAsync(first);
        await Trail.EventuallyAsync(trail.LaunchesAsync, l => l.Count >= first.Count, Arrival);

        await trail.StopServerAsync();
        var outage = System.Diagnostics.Stopwatch.StartNew();
        foreach (var chunk in during.Chunk(10))
        {
            await Machine.RunAsTestUserAsync(chunk);
            await Task.Delay(TimeSpan.FromSeconds(5));
        }

        log.WriteLine($"server down for {outage.Elapsed.TotalSeconds:F0} s while {during.Count} programs ran");
        await trail.StartServerAsync();

        var all = first.Concat(during).ToList();
        var launches = await Trail.EventuallyAsync(trail.LaunchesAsync, l => l.Count >= all.Count, TimeSpan.FromMinutes(3));
        AssertAllPresent(all, launches);
        Assert.All(all, p => Assert.Equal(1, launches[p]));
    }
}

public static class EndToEnd
{
    public const string Serial = "end-to-end (serial)";
}

[CollectionDefinition(EndToEnd.Serial, DisableParallelization = true)]
public sealed class SerialCollection;
