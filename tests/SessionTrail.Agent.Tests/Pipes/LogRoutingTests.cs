using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;
using SessionTrail.Agent.Config;
using SessionTrail.Agent.Sources;
using SessionTrail.Agent.Tests.Fakes;
using SessionTrail.Agent.Tests.Sources;

namespace SessionTrail.Agent.Tests.Pipes;

/// <summary>The whole host: two log sources, three log sinks, pipes with filters, and process records beside them.</summary>
public sealed class LogRoutingTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private sealed class ProcessSource(int count) : IRecordSource
    {
        public string Name => "processes";

        public async Task RunAsync(IRecordOutput output, CancellationToken cancellationToken)
        {
            for (var i = 1; i <= count; i++)
            {
                await output.WriteAsync(Records.Start(i), cancellationToken);
            }

            try
            {
                await Task.Delay(Timeout.Infinite, cancellationToken);
            }
            catch (OperationCanceledException)
            {
            }
        }
    }

    private const string Config = """
        {
          "Sources": [
            { "Id": "app", "SourceType": "Counter", "Prefix": "app", "Count": 30, "Level": "Error" },
            { "Id": "sys", "SourceType": "Counter", "Prefix": "sys", "Count": 30, "Level": "Information" }
          ],
          "Sinks": [
            { "Id": "all", "SinkType": "Test" },
            { "Id": "errors", "SinkType": "Test", "ObjectDecoration": "n={$n};host={hostname};user={session:user};file={_filename}" },
            { "Id": "tens", "SinkType": "Test", "ObjectDecoration": "n={$n};host={hostname};user={session:user};file={_filename}", "QueueFullPolicy": "DropOldest" }
          ],
          "Pipes": [
            { "Id": "app-all", "SourceRef": "app", "SinkRef": "all" },
            { "Id": "sys-all", "SourceRef": "sys", "SinkRef": "all" },
            { "Id": "app-errors", "SourceRef": "app", "SinkRef": "errors", "Type": "RegexFilterPipe", "Field": "Level", "FilterPattern": "^error$", "IgnoreCase": true },
            { "Id": "sys-errors", "SourceRef": "sys", "SinkRef": "errors", "Type": "RegexFilterPipe", "FilterPattern": "[05]$" },
            { "Id": "sys-tens", "SourceRef": "sys", "SinkRef": "tens", "Type": "RegexFilterPipe", "FilterPattern": "0$" },
            { "Id": "sys-tens", "SourceRef": "sys", "SinkRef": "tens", "Type": "RegexFilterPipe", "FilterPattern": "^\\[?sys 1", "Negate": false },
            { "Id": "app-nowhere", "SourceRef": "app", "SinkRef": "tens", "Type": "RegexFilterPipe", "FilterPattern": "app", "Negate": true }
          ]
        }
        """;

    private static List<JsonElement> Parse(IEnumerable<string> lines) => [.. lines.Select(l => JsonDocument.Parse(l).RootElement)];

    private static string[] Messages(IEnumerable<JsonElement> records) =>
        [.. records.Where(r => r.GetProperty("kind").GetString() == "log").Select(r => r.GetProperty("message").GetString()!).Order(StringComparer.Ordinal)];

    [Fact]
    public async Task EachSinkGetsExactlyWhatItsPipesLetThroughDecoratedForItAndProcessRecordsGoToTheDefaultSinks()
    {
        var sinks = new TestSinkFactory();
        var registry = TestPlugins.Registry(sinks);
        var plan = LogConfigLoader.LoadBytes(Encoding.UTF8.GetBytes(Config), "agent.json", registry, null);
        Assert.False(plan.HasErrors, string.Join("\n", plan.Problems));
        var problems = new List<ConfigProblem>();
        using var shipping = LogShipping.Build(plan, registry, new LogShippingContext(_dir.Path, "h1", null, null, NullLoggerFactory.Instance, TimeProvider.System), problems)!;
        Assert.Empty(problems);

        var lake = new FakeSink("lake");
        var options = new AgentOptions { DataDir = _dir.Path, ServerUrl = null, Host = "h1", SourceRestartDelay = TimeSpan.Zero, RetryInitialDelay = TimeSpan.FromMilliseconds(10), RetryMaxDelay = TimeSpan.FromMilliseconds(50), ChannelCapacity = 8 };
        using var host = new AgentHost(options, [new ProcessSource(5)], [lake], NullLoggerFactory.Instance, TimeProvider.System, null, null, shipping);
        using var stop = new CancellationTokenSource();
        var run = host.RunAsync(stop.Token);
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (DateTime.UtcNow < deadline && (sinks.Accepted("all").Count < 60 || sinks.Accepted("errors").Count < 36 || sinks.Accepted("tens").Count < 13 || lake.Accepted.Count < 6))
        {
            await Task.Delay(50);
        }

        var status = host.GetStatus();
        await stop.CancelAsync();
        await run.WaitAsync(TimeSpan.FromSeconds(60));

        var all = Parse(sinks.Accepted("all"));
        var errors = Parse(sinks.Accepted("errors"));
        var tens = Parse(sinks.Accepted("tens"));
        Assert.Equal(Enumerable.Range(0, 30).SelectMany(i => new[] { $"app {i}", $"sys {i}" }).Order(StringComparer.Ordinal), Messages(all));
        Assert.Equal(
            Enumerable.Range(0, 30).Select(i => $"app {i}").Concat(new[] { 0, 5, 10, 15, 20, 25 }.Select(i => $"sys {i}")).Order(StringComparer.Ordinal),
            Messages(errors));
        Assert.Equal(new[] { 0, 1, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20 }.Select(i => $"sys {i}").Order(StringComparer.Ordinal), Messages(tens));

        // Log sinks get no process or session records; the default sink gets no log records.
        Assert.All(all.Concat(errors).Concat(tens), r => Assert.Equal("log", r.GetProperty("kind").GetString()));
        var lakeRecords = Parse(lake.Accepted);
        Assert.Equal(5, lakeRecords.Count(r => r.GetProperty("kind").GetString() == "process"));
        Assert.DoesNotContain(lakeRecords, r => r.GetProperty("kind").GetString() == "log");
        Assert.Contains(lakeRecords, r => r.GetProperty("kind").GetString() == "session" && r.GetProperty("session").GetString() == "h1");

        // The same record has the same id in every sink, links to the host session, and is decorated per sink.
        var app7 = all.Single(r => r.GetProperty("message").GetString() == "app 7");
        var app7Errors = errors.Single(r => r.GetProperty("message").GetString() == "app 7");
        Assert.Equal(app7.GetProperty("id").GetString(), app7Errors.GetProperty("id").GetString());
        Assert.StartsWith("log-", app7.GetProperty("id").GetString(), StringComparison.Ordinal);
        Assert.Equal("h1", app7.GetProperty("session").GetString());
        Assert.False(app7.TryGetProperty("decoration", out _));
        Assert.Equal("""{"n":"7","host":"h1","file":"app.log"}""", app7Errors.GetProperty("decoration").GetRawText());
        Assert.Equal("""{"n":"10","host":"h1","file":"sys.log"}""", tens.Single(r => r.GetProperty("message").GetString() == "sys 10").GetProperty("decoration").GetRawText());

        // Status: log sinks with their type and policy, log sources with theirs, pipes with filter counts.
        Assert.Equal(("Test", "Block"), status.Sinks.Where(s => s.Name == "errors").Select(s => (s.SinkType, s.QueueFullPolicy)).Single());
        Assert.Equal("DropOldest", status.Sinks.Single(s => s.Name == "tens").QueueFullPolicy);
        Assert.Null(status.Sinks.Single(s => s.Name == "lake").SinkType);
        Assert.Equal("Counter", status.Sources.Single(s => s.Name == "app").SourceType);
        var sysErrors = status.Pipes.Single(p => p.Id == "sys-errors");
        Assert.Equal(("[05]$", 6L, 24L), (sysErrors.Filter, sysErrors.Passed, sysErrors.Blocked));
        Assert.Equal(("not app", 0L, 30L), status.Pipes.Where(p => p.Id == "app-nowhere").Select(p => (p.Filter, p.Passed, p.Blocked)).Single());
    }

    [Fact]
    public async Task ALogSinksFullQueueIsLoudInTheStatusWithItsPolicy()
    {
        var sinks = new TestSinkFactory(respond: (_, _) => Agent.Sinks.SinkResult.Retryable("down"));
        var registry = TestPlugins.Registry(sinks);
        var plan = LogConfigLoader.LoadBytes(
            Encoding.UTF8.GetBytes("""
                { "Sources": [ { "Id": "c", "SourceType": "Counter", "Count": 3000 } ],
                  "Sinks": [ { "Id": "down", "SinkType": "Test", "QueueMaxBytes": 65536, "QueueFullPolicy": "DropOldest" } ],
                  "Pipes": [ { "Id": "p", "SourceRef": "c", "SinkRef": "down" } ] }
                """),
            "agent.json",
            registry,
            null);
        using var shipping = LogShipping.Build(plan, registry, new LogShippingContext(_dir.Path, "h1", null, null, NullLoggerFactory.Instance, TimeProvider.System), [])!;
        var options = new AgentOptions { DataDir = _dir.Path, ServerUrl = null, Host = "h1", FlushDeadline = TimeSpan.FromMilliseconds(200), RetryInitialDelay = TimeSpan.FromSeconds(5), RetryMaxDelay = TimeSpan.FromSeconds(5) };
        using var host = new AgentHost(options, [], [], NullLoggerFactory.Instance, TimeProvider.System, null, null, shipping);
        using var stop = new CancellationTokenSource();
        var run = host.RunAsync(stop.Token);
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (DateTime.UtcNow < deadline && host.GetStatus().Sinks.All(s => s.DroppedTotal == 0))
        {
            await Task.Delay(50);
        }

        var sink = host.GetStatus().Sinks.Single(s => s.Name == "down");
        await stop.CancelAsync();
        await run.WaitAsync(TimeSpan.FromSeconds(60));

        Assert.True(sink.Full);
        Assert.Equal("queue full", sink.State);
        Assert.True(sink.DroppedTotal > 0);
        Assert.Contains(sink.RecentErrors, e => e.Message.StartsWith("queue full: its size cap is reached; policy DropOldest: the oldest undelivered records are dropped", StringComparison.Ordinal));
    }

    [Fact]
    public async Task ASessionTrailSinkWithoutUrlIsTheAgentsServerQueueAndOneWithAUrlHasItsOwn()
    {
        await using var agentServer = await global::SessionTrail.Agent.Tests.Sinks.FakeIngestServer.StartAsync();
        await using var otherServer = await global::SessionTrail.Agent.Tests.Sinks.FakeIngestServer.StartAsync();
        var registry = TestPlugins.Registry();
        var plan = LogConfigLoader.LoadBytes(
            Encoding.UTF8.GetBytes($$"""
                { "Sources": [ { "Id": "c", "SourceType": "Counter", "Prefix": "c", "Count": 25 }, { "Id": "d", "SourceType": "Counter", "Prefix": "d", "Count": 10 } ],
                  "Sinks": [ { "Id": "st", "SinkType": "SessionTrail" }, { "Id": "other", "SinkType": "SessionTrail", "Url": "{{otherServer.Url}}" } ],
                  "Pipes": [ { "Id": "c-st", "SourceRef": "c", "SinkRef": "st" }, { "Id": "d-other", "SourceRef": "d", "SinkRef": "other" } ] }
                """),
            "agent.json",
            registry,
            agentServer.Url.ToString());
        Assert.Empty(plan.Problems);
        var context = new LogShippingContext(_dir.Path, "h1", agentServer.Url.ToString(), global::SessionTrail.Agent.Tests.Sinks.FakeIngestServer.Token, NullLoggerFactory.Instance, TimeProvider.System);
        using var shipping = LogShipping.Build(plan, registry, context, [])!;
        Assert.Null(shipping.Sinks[0].Sink);
        var options = new AgentOptions { DataDir = _dir.Path, ServerUrl = agentServer.Url.ToString(), Token = global::SessionTrail.Agent.Tests.Sinks.FakeIngestServer.Token, Host = "h1", RetryInitialDelay = TimeSpan.FromMilliseconds(10), RetryMaxDelay = TimeSpan.FromMilliseconds(50) };
        using var host = new AgentHost(options, [new ProcessSource(3)], [], NullLoggerFactory.Instance, TimeProvider.System, null, null, shipping);
        using var stop = new CancellationTokenSource();
        var run = host.RunAsync(stop.Token);
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (DateTime.UtcNow < deadline && (agentServer.Stored.Count < 29 || otherServer.Stored.Count < 10))
        {
            await Task.Delay(50);
        }

        await stop.CancelAsync();
        await run.WaitAsync(TimeSpan.FromSeconds(60));

        var cIds = Enumerable.Range(0, 25).Select(n => Agent.Ids.LogIds.For("h1", "c", n.ToString(System.Globalization.CultureInfo.InvariantCulture))).ToHashSet();
        var dIds = Enumerable.Range(0, 10).Select(n => Agent.Ids.LogIds.For("h1", "d", n.ToString(System.Globalization.CultureInfo.InvariantCulture))).ToHashSet();
        Assert.Subset(agentServer.Stored.Keys.ToHashSet(), cIds);
        Assert.Equal(29, agentServer.Stored.Count); // 25 log + 3 process + 1 host session start
        Assert.Equal(dIds, otherServer.Stored.Keys.ToHashSet());
        Assert.Empty(agentServer.Violations);
        Assert.Empty(otherServer.Violations);
        Assert.Equal(["other", "server"], Directory.GetDirectories(Path.Combine(_dir.Path, "agent", "queues")).Select(Path.GetFileName).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task DecorationTakesTheSessionLiveWhenTheRecordPassesAndLogRecordsLinkToIt()
    {
        var sinks = new TestSinkFactory();
        var registry = TestPlugins.Registry(sinks);
        var plan = LogConfigLoader.LoadBytes(
            Encoding.UTF8.GetBytes("""
                { "Sources": [ { "Id": "c", "SourceType": "Counter", "Count": 400, "DelayMs": 5 } ],
                  "Sinks": [ { "Id": "k", "SinkType": "Test", "ObjectDecoration": "{appstreamVariables};user={session:user}" } ],
                  "Pipes": [ { "Id": "p", "SourceRef": "c", "SinkRef": "k" } ] }
                """),
            "agent.json",
            registry,
            null,
            _ => null);
        using var shipping = LogShipping.Build(plan, registry, new LogShippingContext(_dir.Path, "h1", null, null, NullLoggerFactory.Instance, TimeProvider.System), [])!;
        var options = new AgentOptions { DataDir = _dir.Path, ServerUrl = null, Host = "h1", SessionFilePollInterval = TimeSpan.FromMilliseconds(100) };
        using var host = new AgentHost(options, [], [], NullLoggerFactory.Instance, TimeProvider.System, null, null, shipping);
        using var stop = new CancellationTokenSource();
        var run = host.RunAsync(stop.Token);
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (DateTime.UtcNow < deadline && sinks.Accepted("k").Count < 20)
        {
            await Task.Delay(20);
        }

        Agent.Sessions.SessionControl.Start(_dir.Path, new Agent.Sessions.SessionStartRequest { Id = "sess-9", Fields = new() { User = "bob", Stack = "lab", AccessMode = "saml" } }, DateTimeOffset.UtcNow, _ => null);
        while (DateTime.UtcNow < deadline && sinks.Accepted("k").Count < 400)
        {
            await Task.Delay(20);
        }

        await stop.CancelAsync();
        await run.WaitAsync(TimeSpan.FromSeconds(60));

        var records = Parse(sinks.Accepted("k"));
        Assert.Equal(400, records.Count);
        var first = records[0];
        Assert.Equal("h1", first.GetProperty("session").GetString());
        Assert.Equal("""{"AppStream_Session_ID":"h1"}""", first.GetProperty("decoration").GetRawText());
        var last = records[^1];
        Assert.Equal("sess-9", last.GetProperty("session").GetString());
        Assert.Equal(
            """{"AppStream_Stack_Name":"lab","AppStream_User_Access_Mode":"saml","AppStream_UserName":"bob","AppStream_Session_ID":"sess-9","user":"bob"}""",
            last.GetProperty("decoration").GetRawText());

        // Once the session is known every later record carries it: one switch, no flapping.
        var switchAt = records.FindIndex(r => r.GetProperty("session").GetString() == "sess-9");
        Assert.True(switchAt > 0);
        Assert.All(records.Skip(switchAt), r => Assert.Equal("sess-9", r.GetProperty("session").GetString()));
    }
}
