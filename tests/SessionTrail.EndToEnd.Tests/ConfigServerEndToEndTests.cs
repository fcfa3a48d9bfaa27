using System.Text.Json;
using SessionTrail.EndToEnd.Tests.Infrastructure;

namespace SessionTrail.EndToEnd.Tests;

/// <summary>
/// `sessiontrail agent --config appsettings.json` alone, with a KinesisTap-shaped config whose SessionTrail sink names its
/// own server (Url and Token): the agent needs no --server/--token, and a config naming no token says what to add.
/// </summary>
[Collection(EndToEnd.Serial)]
public sealed class ConfigServerEndToEndTests : IAsyncLifetime, IAsyncDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(2);

    private readonly Trail trail = new();

    public Task InitializeAsync() => Task.CompletedTask;

    public Task DisposeAsync() => trail.DisposeAsync().AsTask();

    ValueTask IAsyncDisposable.DisposeAsync() => trail.DisposeAsync();

    private string WriteConfig(string sink)
    {
        var logDir = Path.Combine(trail.Root, "logs");
        Directory.CreateDirectory(logDir);
        var path = Path.Combine(trail.Root, "appsettings.json");
        File.WriteAllText(path, $$"""
            {
              "Sources": [
                { "Id": "applog", "SourceType": "DirectorySource", "Directory": {{JsonSerializer.Serialize(logDir)}}, "FileNameFilter": "app*.log",
                  "RecordParser": "SingleLine", "InitialPosition": "0", "Interval": 200 }
              ],
              "Sinks": [ {{sink}} ],
              "Pipes": [ { "Id": "applog-to-trail", "SourceRef": "applog", "SinkRef": "sessiontrail" } ]
            }
            """);
        return path;
    }

    [Fact]
    public async Task WithTheSinksOwnUrlAndTokenTheAgentNeedsNoServerOptionAndDeliversLogsAndSessions()
    {
        await trail.StartServerAsync();
        var config = WriteConfig($$"""{ "Id": "sessiontrail", "SinkType": "SessionTrail", "Url": "{{trail.Url}}", "Token": "{{trail.Token}}" }""");
        await File.WriteAllTextAsync(Path.Combine(trail.Root, "logs", "app.log"), "first line\nsecond line\n");

        var agent = trail.Track(TrailProcess.Start("agent", "--data", trail.AgentData, "--config", config));
        await agent.WaitForOutputAsync("capturing processes", Timeout);
        var session = await TrailProcess.RunAsync(Timeout, "session", "start", "--id", "cfg-only-1", "--user", "alice", "--data", trail.AgentData);
        Assert.True(session.ExitCode == 0, session.Stderr);

        // Log records through the sink's own queue, the session record through the agent's: both to the sink's server.
        var messages = await Trail.EventuallyAsync(() => LogDeliveryEndToEndTests.ServerMessagesAsync(trail), m => m.Count >= 2, Timeout);
        Assert.Equal(["first line", "second line"], messages.Order(StringComparer.Ordinal));
        var sessions = await Trail.EventuallyAsync(() => trail.ReportAsync("sessions"), s => s.EnumerateArray().Any(r => r.GetProperty("session").GetString() == "cfg-only-1"), Timeout);
        Assert.Contains(sessions.EnumerateArray(), r => r.GetProperty("session").GetString() == "cfg-only-1" && r.GetProperty("user").GetString() == "alice");
        Assert.Equal(0, await agent.StopAsync(TimeSpan.FromSeconds(30)));
    }

    [Fact]
    public async Task AConfigNamingNoServerTokenStopsWithOneLineSayingWhatToAdd()
    {
        var config = WriteConfig("""{ "Id": "sessiontrail", "SinkType": "SessionTrail" }""");

        var (code, stdout, stderr) = await TrailProcess.RunAsync(Timeout, "agent", "--data", trail.AgentData, "--config", config);

        Assert.True(code == 1, stdout + stderr);
        Assert.Equal(
            "sessiontrail agent: Agent setting 'Token' is required when ServerUrl is set (http://127.0.0.1:5080), and appsettings.json names no token for it: " +
            "give --server URL --token TOKEN, or add \"Agent\": { \"ServerUrl\": \"...\", \"Token\": \"...\" } or a \"Url\" and \"Token\" on its \"SinkType\": \"SessionTrail\" sink " +
            "to appsettings.json; to deliver only to the configured Sinks set \"Agent\": { \"ServerUrl\": \"\" }.",
            stderr.Trim());
    }
}
