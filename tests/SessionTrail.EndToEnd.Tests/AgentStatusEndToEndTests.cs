using System.Text.Json;
using System.Text.RegularExpressions;
using SessionTrail.EndToEnd.Tests.Infrastructure;

namespace SessionTrail.EndToEnd.Tests;

/// <summary>`sessiontrail agent status` as people read it and as scripts read it (`--json`), from a real agent whose server is down.</summary>
[Collection(EndToEnd.Serial)]
public sealed class AgentStatusEndToEndTests : IAsyncLifetime, IAsyncDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(1);

    private readonly Trail trail = new();

    public Task InitializeAsync() => Task.CompletedTask;

    public Task DisposeAsync() => trail.DisposeAsync().AsTask();

    ValueTask IAsyncDisposable.DisposeAsync() => trail.DisposeAsync();

    [Fact]
    public async Task EachDeliveryErrorIsOneLineWithTimeSinkAndMessageAndTheJsonKeepsTheFields()
    {
        var port = TrailProcess.FreePort(); // nothing listens there: every delivery fails
        var agent = trail.Track(TrailProcess.Start("agent", "--data", trail.AgentData, "--server", $"http://127.0.0.1:{port}", "--token", "st_nobody"));
        await agent.WaitForOutputAsync("capturing processes", Timeout);
        var start = await TrailProcess.RunAsync(Timeout, "session", "start", "--id", "status-1", "--user", "alice", "--data", trail.AgentData);
        Assert.True(start.ExitCode == 0, start.Stderr);

        var status = await Trail.EventuallyAsync(
            async () => (await TrailProcess.RunAsync(Timeout, "agent", "status", "--data", trail.AgentData)).Stdout,
            s => s.Contains("Connection refused", StringComparison.Ordinal),
            Timeout);

        var lines = status.Replace("\r", "", StringComparison.Ordinal).Split('\n');
        var errors = lines.SkipWhile(l => !l.StartsWith("  sink server:", StringComparison.Ordinal)).Skip(1).TakeWhile(l => l.StartsWith("    ", StringComparison.Ordinal)).ToList();
        Assert.True(errors.Count > 0, status);
        Assert.All(errors, l => Assert.Matches($@"^    \d{{4}}-\d\d-\d\d \d\d:\d\d:\d\dZ server: server unreachable: .*127\.0\.0\.1:{port}\)?$", l));
        Assert.DoesNotContain("ErrorEntry", status, StringComparison.Ordinal);
        Assert.DoesNotMatch(@"\w+ \{ \w+ = ", status); // no record's ToString anywhere
        Assert.DoesNotMatch(@"\d\d/\d\d/\d{4}", status); // no culture-dependent dates
        Assert.Matches(@"^agent [0-9a-f]+: running since \d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ \(status written \d+ s ago\)$", lines[0]);
        Assert.Matches(@"^  sink server: \d+ pending \(\d+ bytes, oldest \d+ s\), 0 delivered, 0 dropped, 0 dead-lettered$", lines[1]);

        // --json: the same errors as fields, for scripts.
        var (code, json, stderr) = await TrailProcess.RunAsync(Timeout, "agent", "status", "--data", trail.AgentData, "--json");
        Assert.True(code == 0, stderr);
        var sink = JsonDocument.Parse(json).RootElement.GetProperty("sinks").EnumerateArray().Single(s => s.GetProperty("name").GetString() == "server");
        var first = sink.GetProperty("recentErrors").EnumerateArray().First();
        Assert.Equal(["time", "message"], first.EnumerateObject().Select(p => p.Name));
        Assert.True(first.GetProperty("time").TryGetDateTimeOffset(out _));
        Assert.Contains("Connection refused", first.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Equal(0, await agent.StopAsync(TimeSpan.FromSeconds(30)));
    }
}
