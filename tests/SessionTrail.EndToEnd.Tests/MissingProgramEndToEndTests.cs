using SessionTrail.EndToEnd.Tests.Infrastructure;

namespace SessionTrail.EndToEnd.Tests;

/// <summary>A program the agent needs that is not there is one clear line (what, where, what to do), never a stack trace.</summary>
[Collection(EndToEnd.Serial)]
public sealed class MissingProgramEndToEndTests : IAsyncLifetime, IAsyncDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(1);

    private const string Problem = "journalctl could not be started ('/nonexistent/journalctl': not found); install systemd's journalctl or set JournalctlPath in the source's config";

    private readonly Trail trail = new();

    public Task InitializeAsync() => Task.CompletedTask;

    public Task DisposeAsync() => trail.DisposeAsync().AsTask();

    ValueTask IAsyncDisposable.DisposeAsync() => trail.DisposeAsync();

    [Fact]
    public async Task AMissingJournalctlIsOneLogLineAndTheSourcesLastErrorWithoutAStackTrace()
    {
        var config = Path.Combine(trail.Root, "agent.json");
        await File.WriteAllTextAsync(config, """
            { "Sources": [ { "Id": "journal", "SourceType": "JournaldSource", "JournalctlPath": "/nonexistent/journalctl" } ],
              "Sinks": [ { "Id": "st", "SinkType": "SessionTrail" } ],
              "Pipes": [ { "Id": "p", "SourceRef": "journal", "SinkRef": "st" } ] }
            """);
        var agent = trail.Track(TrailProcess.Start("agent", "--config", config, "--data", trail.AgentData, "--server", $"http://127.0.0.1:{TrailProcess.FreePort()}", "--token", "st_nobody"));
        await agent.WaitForOutputAsync(Problem, Timeout);

        var line = agent.Output.Split('\n').First(l => l.Contains(Problem, StringComparison.Ordinal)).TrimEnd('\r');
        Assert.EndsWith("Source journal failed; restarting in 00:00:05: " + Problem, line, StringComparison.Ordinal);
        Assert.DoesNotContain(" at System.", agent.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("Win32Exception", agent.Output, StringComparison.Ordinal);

        var status = await Trail.EventuallyAsync(
            async () => (await TrailProcess.RunAsync(Timeout, "agent", "status", "--data", trail.AgentData)).Stdout,
            s => s.Contains(Problem, StringComparison.Ordinal),
            Timeout);
        Assert.Matches(@"  source journal \(JournaldSource\): \w+, \d+ restarts, last error \d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ: " + System.Text.RegularExpressions.Regex.Escape(Problem), status);
        Assert.Equal(0, await agent.StopAsync(TimeSpan.FromSeconds(30)));
    }
}
