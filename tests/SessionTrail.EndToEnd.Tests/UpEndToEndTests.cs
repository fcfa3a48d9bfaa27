using System.Text.Json;
using SessionTrail.EndToEnd.Tests.Infrastructure;
using Xunit.Abstractions;

namespace SessionTrail.EndToEnd.Tests;

/// <summary>`sessiontrail up`: server + local agent + embedded storage in one process.</summary>
[Collection(EndToEnd.Serial)]
public sealed class UpEndToEndTests(ITestOutputHelper log)
{
    [RootFact]
    public async Task UpCapturesWhatAUserRunsAndCtrlCStopsItWithNothingLost()
    {
        Machine.EnsureTestUser();
        await using var trail = new Trail();
        var data = Path.Combine(trail.Root, "data");
        var programs = Machine.MakePrograms(trail.ProgramsDir, "up", 100);

        var up = trail.Track(TrailProcess.Start("up", "--data", data, "--urls", trail.Url));
        await up.WaitForOutputAsync("capturing processes", TimeSpan.FromSeconds(60));
        Assert.Contains(trail.Url, up.Output, StringComparison.Ordinal);
        Assert.Contains(data, up.Output, StringComparison.Ordinal);

        await Machine.RunAsTestUserAsync(programs);
        await Task.Delay(TimeSpan.FromSeconds(1));
        Assert.Equal(0, await up.StopAsync(TimeSpan.FromSeconds(60))); // SIGTERM, as Ctrl+C
        log.WriteLine(up.Output);

        // Whatever was not delivered before the stop is still queued on disk: a second `up` sends it.
        var again = trail.Track(TrailProcess.Start("up", "--data", data, "--urls", trail.Url));
        await again.WaitForOutputAsync("capturing processes", TimeSpan.FromSeconds(60));
        var launches = await Trail.EventuallyAsync(
            async () => await LaunchesFromCliAsync(data, trail.ProgramsDir),
            l => l.Count >= programs.Count,
            TimeSpan.FromSeconds(60));
        Assert.Equal(programs.Count, launches.Count);
        Assert.All(launches.Values, n => Assert.Equal(1, n));
        Assert.Equal(0, await again.StopAsync(TimeSpan.FromSeconds(60)));
    }

    [RootFact]
    public async Task SessionStartAndEndAttributeRunsAndEndTheRunsStillOpen()
    {
        Machine.EnsureTestUser();
        await using var trail = new Trail();
        var data = Path.Combine(trail.Root, "data");
        var quick = Machine.MakePrograms(trail.ProgramsDir, "quick", 3);
        var sleeper = Path.Combine(trail.ProgramsDir, "long-sleeper");
        File.Copy("/bin/sleep", sleeper);
        File.SetUnixFileMode(sleeper, (UnixFileMode)0b111_101_101);

        var up = trail.Track(TrailProcess.Start("up", "--data", data, "--urls", trail.Url));
        await up.WaitForOutputAsync("capturing processes", TimeSpan.FromSeconds(60));
        var start = await TrailProcess.RunAsync(TimeSpan.FromSeconds(30),
            "session", "start", "--data", data, "--id", "as2-session-1", "--user", "alice", "--stack", "stack-a", "--fleet", "fleet-a");
        Assert.True(start.ExitCode == 0, start.Stderr);
        await Task.Delay(TimeSpan.FromSeconds(2)); // the agent notices the new session

        await Machine.RunAsTestUserAsync(quick);
        await Machine.RunShellAsTestUserAsync($"'{sleeper}' 300 >/dev/null 2>&1 &\n");
        await Task.Delay(TimeSpan.FromSeconds(2));
        var end = await TrailProcess.RunAsync(TimeSpan.FromSeconds(30), "session", "end", "--data", data);
        Assert.True(end.ExitCode == 0, end.Stderr);

        var runs = await Trail.EventuallyAsync(
            async () => await RunsFromCliAsync(data, trail.ProgramsDir),
            r => r.Count >= 4 && r.Any(x => x.GetProperty("endedBy").GetString() == "session_end"),
            TimeSpan.FromSeconds(60));
        log.WriteLine(string.Join('\n', runs.Select(r => r.GetRawText())));
        Assert.Equal(4, runs.Count);
        Assert.All(runs, r => Assert.Equal("as2-session-1", r.GetProperty("session").GetString()));
        var sleep = Assert.Single(runs, r => r.GetProperty("app").GetString() == sleeper);
        Assert.Equal("session_end", sleep.GetProperty("endedBy").GetString());
        Assert.All(runs.Where(r => r.GetProperty("app").GetString() != sleeper), r => Assert.Equal("exit", r.GetProperty("endedBy").GetString()));

        var sessions = await TrailProcess.RunAsync(TimeSpan.FromSeconds(30), "report", "sessions", "--data", data, "--format", "json");
        var row = Assert.Single(JsonDocument.Parse(sessions.Stdout).RootElement.EnumerateArray(), s => s.GetProperty("session").GetString() == "as2-session-1");
        Assert.Equal("alice", row.GetProperty("user").GetString());
        Assert.NotEqual(JsonValueKind.Null, row.GetProperty("end").ValueKind);
        foreach (var p in System.Diagnostics.Process.GetProcessesByName("long-sleeper"))
        {
            p.Kill();
        }

        Assert.Equal(0, await up.StopAsync(TimeSpan.FromSeconds(60)));
    }

    private static async Task<Dictionary<string, long>> LaunchesFromCliAsync(string data, string under)
    {
        var (code, stdout, stderr) = await TrailProcess.RunAsync(TimeSpan.FromSeconds(30), "report", "launches", "--data", data, "--format", "json");
        Assert.True(code == 0, stderr);
        return JsonDocument.Parse(stdout).RootElement.EnumerateArray()
            .Where(r => r.GetProperty("app").GetString()!.StartsWith(under, StringComparison.Ordinal))
            .ToDictionary(r => r.GetProperty("app").GetString()!, r => r.GetProperty("launches").GetInt64());
    }

    private static async Task<List<JsonElement>> RunsFromCliAsync(string data, string under)
    {
        var (code, stdout, stderr) = await TrailProcess.RunAsync(TimeSpan.FromSeconds(30), "report", "runs", "--data", data, "--format", "json");
        Assert.True(code == 0, stderr);
        return JsonDocument.Parse(stdout).RootElement.EnumerateArray()
            .Where(r => r.GetProperty("app").GetString()!.StartsWith(under, StringComparison.Ordinal))
            .Select(r => r.Clone())
            .ToList();
    }
}
