using SessionTrail.EndToEnd.Tests.Infrastructure;

namespace SessionTrail.EndToEnd.Tests;

/// <summary>
/// The log-shipping config with the real executable: `agent --check-config`, and a running agent that
/// reloads a changed config file (refusing a broken one) while it keeps capturing processes.
/// </summary>
[Collection(EndToEnd.Serial)]
public sealed class LogShippingEndToEndTests : IAsyncLifetime, IAsyncDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(2);

    private readonly Trail trail = new();

    // IAsyncLifetime, not IAsyncDisposable: xunit 2 never calls IAsyncDisposable on a test class, so the
    // servers a test started would outlive the run.
    public Task InitializeAsync() => Task.CompletedTask;

    public Task DisposeAsync() => trail.DisposeAsync().AsTask();

    ValueTask IAsyncDisposable.DisposeAsync() => trail.DisposeAsync();

    private string Write(string name, string json)
    {
        var path = Path.Combine(trail.Root, name);
        File.WriteAllText(path, json);
        return path;
    }

    private static string SeedConfig(bool typographic)
    {
        var json = File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "seed-appsettings.json"));
        return typographic ? json.Replace("\"", "“", StringComparison.Ordinal) : json;
    }

    [Fact]
    public async Task CheckConfigListsTheLogPartsAndEveryProblemWithItsPath()
    {
        var typographic = Write("typo.json", SeedConfig(typographic: true));
        var (code, stdout, _) = await TrailProcess.RunAsync(Timeout, "agent", "--check-config", typographic, "--token", "t", "--data", trail.AgentData);
        Assert.Equal(1, code);
        Assert.Contains("typo.json:2:5: '“' is a typographic quote", stdout.Replace("\r", "", StringComparison.Ordinal), StringComparison.Ordinal);
        Assert.EndsWith("NOT OK: 1 error, 0 warnings.", stdout.TrimEnd(), StringComparison.Ordinal);

        // The seed's config with straight quotes: its pipe Id used twice is only a warning; its event-log
        // sources cannot run on Linux (an error on Sources:N:SourceType either way), so the check fails here.
        var seed = Write("seed.json", SeedConfig(typographic: false));
        (code, stdout, _) = await TrailProcess.RunAsync(Timeout, "agent", "--check-config", seed, "--token", "t", "--data", trail.AgentData);
        Assert.Equal(1, code);
        Assert.Contains("warning: Config 'SelfUpdate' is ignored", stdout, StringComparison.Ordinal);
        Assert.Contains("error: Config 'Sources:0:SourceType' is WindowsEventLogSource, which runs only on Windows", stdout, StringComparison.Ordinal);
        Assert.Contains("error: Config 'Sources:1:SourceType' is WindowsEventLogSource, which runs only on Windows", stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("error: Config 'Pipes:1:Id'", stdout, StringComparison.Ordinal);

        var good = Write("good.json", """
            { "Agent": { "FlushDeadline": "00:00:05" },
              "Processes": { "MinUid": 1000 },
              "Sinks": [
                { "Type": "S3", "Bucket": "lake", "Region": "eu-west-1" },
                { "Id": "st", "SinkType": "SessionTrail", "ObjectDecoration": "{appstreamVariables};host={hostname}" },
                { "Id": "central", "SinkType": "SessionTrail", "Url": "http://10.1.2.3:5080", "QueueFullPolicy": "DropOldest" } ] }
            """);
        (code, stdout, _) = await TrailProcess.RunAsync(Timeout, "agent", "--check-config", good, "--token", "t", "--data", trail.AgentData);
        Assert.True(code == 0, stdout);
        Assert.Contains("  sink st (SessionTrail) at Sinks:1, the agent's server sink, decoration: AppStream_Stack_Name, AppStream_User_Access_Mode, AppStream_Session_Reservation_DateTime, AppStream_UserName, AppStream_Session_ID, host, queue full: Block", stdout, StringComparison.Ordinal);
        Assert.Contains("  sink central (SessionTrail) at Sinks:2, http://10.1.2.3:5080, own queue, queue full: DropOldest", stdout, StringComparison.Ordinal);
        Assert.Contains("warning: Config 'Sinks:2' (sink 'central') is named by no pipe's SinkRef: it receives nothing.", stdout, StringComparison.Ordinal);
        Assert.EndsWith("OK: the agent can run this config (1 warning).", stdout.TrimEnd(), StringComparison.Ordinal);

        var bad = Write("bad.json", """
            { "Agent": { "BatchMaxRecords": 0 },
              "Sinks": [ { "Id": "st", "SinkType": "SessionTrail", "ObjectDecoration": "user={session:user};{hostname}" } ],
              "Pipes": [ { "Id": "p", "SourceRef": "nowhere", "SinkRef": "st", "Type": "RegexFilterPipe", "FilterPattern": "([" } ] }
            """);
        (code, stdout, _) = await TrailProcess.RunAsync(Timeout, "agent", "--check-config", bad, "--token", "t", "--data", trail.AgentData);
        Assert.Equal(1, code);
        Assert.Contains("error: Agent setting 'BatchMaxRecords' must be at least 1.", stdout, StringComparison.Ordinal);
        Assert.Contains("error: Config 'Sinks:0:ObjectDecoration' segment 2 '{hostname}' is not key=value", stdout, StringComparison.Ordinal);
        Assert.Contains("error: Config 'Pipes:0:SourceRef' 'nowhere' names no source (there are none).", stdout, StringComparison.Ordinal);
        Assert.Contains("error: Config 'Pipes:0:FilterPattern' is not a valid regular expression", stdout, StringComparison.Ordinal);
        Assert.EndsWith("NOT OK: 4 errors, 0 warnings.", stdout.TrimEnd(), StringComparison.Ordinal);

        // Running the agent on the broken file fails at start with the first error and how to see them all.
        var (runCode, _, stderr) = await TrailProcess.RunAsync(Timeout, "agent", "--config", Write("bad2.json", """{ "Sinks": [ { "Id": "k", "SinkType": "Kafka" } ] }"""), "--token", "t", "--data", trail.AgentData);
        Assert.Equal(1, runCode);
        Assert.Equal("sessiontrail agent: Config 'Sinks:0:SinkType' 'Kafka' is not a known sink type (known: Elasticsearch, FileSystem, KinesisFirehose, OpenSearch, S3, SessionTrail).", stderr.Trim());
    }

    private async Task<string> StatusAsync()
    {
        var (_, stdout, _) = await TrailProcess.RunAsync(Timeout, "agent", "status", "--data", trail.AgentData);
        return stdout;
    }

    [RootFact]
    public async Task TheAgentReloadsAValidConfigChangeRefusesABrokenOneAndKeepsCapturing()
    {
        var config = Write("agent.json", """{ "Agent": { "FlushDeadline": "00:00:05" }, "Sinks": [ { "Id": "st", "SinkType": "SessionTrail" } ] }""");
        await trail.StartServerAsync();
        await trail.StartAgentAsync("--config", config);

        // A broken change (the blog's typographic quotes) is refused: the agent runs on and says why.
        await File.WriteAllTextAsync(config, """{ “Agent”: {} }""");
        var status = await Trail.EventuallyAsync(StatusAsync, s => s.Contains("CONFIG CHANGE REFUSED", StringComparison.Ordinal), Timeout);
        Assert.Contains("typographic quote", status, StringComparison.Ordinal);
        Assert.Contains(", 0 reloads", status, StringComparison.Ordinal);
        Assert.False(trail.Agent!.HasExited);

        // A valid change: the agent restarts with it (a second server sink with its own queue appears).
        await File.WriteAllTextAsync(config, $$"""
            { "Agent": { "FlushDeadline": "00:00:05" },
              "Sinks": [ { "Id": "st", "SinkType": "SessionTrail" }, { "Id": "mirror", "SinkType": "SessionTrail", "Url": "{{trail.Url}}" } ] }
            """);
        status = await Trail.EventuallyAsync(StatusAsync, s => s.Contains(", 1 reloads", StringComparison.Ordinal) && s.Contains("sink mirror (SessionTrail)", StringComparison.Ordinal), Timeout);
        Assert.DoesNotContain("CONFIG CHANGE REFUSED", status, StringComparison.Ordinal);
        Assert.Contains("sink server:", status, StringComparison.Ordinal);

        // Process capture goes on after the reload.
        var programs = Machine.MakePrograms(trail.ProgramsDir, "reload", 5);
        await Machine.RunAsTestUserAsync(programs);
        var launches = await Trail.EventuallyAsync(trail.LaunchesAsync, l => l.Count >= programs.Count, Timeout);
        Assert.All(programs, p => Assert.Equal(1, launches.GetValueOrDefault(p)));
        Assert.Equal(0, await trail.Agent!.StopAsync(TimeSpan.FromSeconds(30)));
    }
}
