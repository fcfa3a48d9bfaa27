using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;
using SessionTrail.Agent.Config;
using SessionTrail.Agent.Status;
using SessionTrail.Agent.Tests.Fakes;
using SessionTrail.Agent.Tests.Sources;

namespace SessionTrail.Agent.Tests.Config;

/// <summary>The agent restarted by a config change: a bookmarked source keeps its position, an invalid change is refused.</summary>
public sealed class ConfigReloadTests : IDisposable
{
    private const int Count = 400;
    private readonly TempDir _dir = new();
    private readonly TestSinkFactory _sinks = new();

    public void Dispose() => _dir.Dispose();

    private string ConfigFile => Path.Combine(_dir.Path, "agent.json");

    private AgentOptions Options => new()
    {
        DataDir = Path.Combine(_dir.Path, "data"),
        ServerUrl = null,
        Host = "h1",
        SourceRestartDelay = TimeSpan.Zero,
        RetryInitialDelay = TimeSpan.FromMilliseconds(10),
        RetryMaxDelay = TimeSpan.FromMilliseconds(50),
        StatusInterval = TimeSpan.FromMilliseconds(100),
        ChannelCapacity = 8,
    };

    private static string ConfigA => $$"""
        { "Sources": [ { "Id": "c", "SourceType": "Counter", "Count": {{Count}}, "DelayMs": 3 } ],
          "Sinks": [ { "Id": "k1", "SinkType": "Test" } ],
          "Pipes": [ { "Id": "p1", "SourceRef": "c", "SinkRef": "k1" } ] }
        """;

    private static string ConfigB => $$"""
        { "Sources": [ { "Id": "c", "SourceType": "Counter", "Count": {{Count}}, "DelayMs": 1 } ],
          "Sinks": [ { "Id": "k1", "SinkType": "Test" }, { "Id": "k2", "SinkType": "Test", "ObjectDecoration": "v=2" } ],
          "Pipes": [ { "Id": "p1", "SourceRef": "c", "SinkRef": "k1" }, { "Id": "p2", "SourceRef": "c", "SinkRef": "k2" } ] }
        """;

    private string? Check()
    {
        var registry = TestPlugins.Registry(_sinks);
        var plan = LogConfigLoader.LoadFile(ConfigFile, registry, null);
        var problems = plan.Problems.Where(p => p.IsError).ToList();
        if (problems.Count == 0)
        {
            LogShipping.Build(plan, registry, Context(), problems)?.Dispose();
        }

        return problems.Count == 0 ? null : string.Join("\n", problems.Select(p => p.Message));
    }

    private LogShippingContext Context() => new(Options.DataDir, "h1", null, null, NullLoggerFactory.Instance, TimeProvider.System);

    private sealed class Run(AgentHost host, LogShipping shipping) : IAgentRun
    {
        public Task RunAsync(CancellationToken stop) => host.RunAsync(stop);

        public void StatusChanged() => host.StatusChanged();

        public void Dispose()
        {
            host.Dispose();
            shipping.Dispose();
        }
    }

    private Run Start(ConfigState state)
    {
        var registry = TestPlugins.Registry(_sinks);
        var plan = LogConfigLoader.LoadFile(ConfigFile, registry, null);
        plan.ThrowIfInvalid();
        var shipping = LogShipping.Build(plan, registry, Context(), [])!;
        var host = new AgentHost(Options, [], [], NullLoggerFactory.Instance, TimeProvider.System, null, null, shipping) { Config = state };
        return new Run(host, shipping);
    }

    private static int[] Numbers(IEnumerable<string> lines) =>
        [.. lines.Select(l => int.Parse(JsonDocument.Parse(l).RootElement.GetProperty("message").GetString()!.Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture))];

    private static async Task Until(Func<bool> condition, string what)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "timed out waiting for " + what);
            await Task.Delay(25);
        }
    }

    [Fact]
    public async Task AValidChangeRestartsFromTheBookmarkAndAnInvalidOneIsRefusedWhileTheOldConfigRuns()
    {
        await File.WriteAllTextAsync(ConfigFile, ConfigA);
        var handled = new List<bool>();
        var reloader = new ConfigReloader(ConfigFile, Check, Start, TimeSpan.FromMilliseconds(200), TimeProvider.System, NullLogger.Instance)
        {
            SettleDelay = TimeSpan.FromMilliseconds(50),
        };
        reloader.ChangeHandled += applied =>
        {
            lock (handled)
            {
                handled.Add(applied);
            }
        };
        using var stop = new CancellationTokenSource();
        var run = reloader.RunAsync(stop.Token);

        await Until(() => _sinks.Accepted("k1").Count >= 60, "the first records");
        await File.WriteAllTextAsync(ConfigFile, ConfigB);
        await Until(() => { lock (handled) { return handled.Count == 1; } }, "the reload");
        Assert.True(handled[0]);

        // A broken file (the blog's quotes) is refused; the running config goes on and the status says why.
        await File.WriteAllTextAsync(ConfigFile, ConfigB.Replace("\"Sinks\"", "“Sinks”", StringComparison.Ordinal));
        await Until(() => { lock (handled) { return handled.Count == 2; } }, "the refusal");
        Assert.False(handled[1]);
        await Until(() => AgentStatus.Read(Options.DataDir)?.Config?.ReloadError is not null, "the status");
        var config = AgentStatus.Read(Options.DataDir)!.Config!;
        Assert.Contains("typographic quote", config.ReloadError, StringComparison.Ordinal);
        Assert.Equal(1, config.Reloads);

        await Until(() => _sinks.Accepted("k1").Count >= Count, "every record in k1");
        await stop.CancelAsync();
        await run.WaitAsync(TimeSpan.FromSeconds(60));

        // k1 got every record exactly once across the restart: the position was neither lost nor repeated.
        Assert.Equal(Enumerable.Range(0, Count), Numbers(_sinks.Accepted("k1")).Order());

        // k2 (new in config B) got a contiguous tail from where the bookmark stood at the restart to the end.
        var k2 = Numbers(_sinks.Accepted("k2"));
        Assert.NotEmpty(k2);
        Assert.True(k2[0] >= 60, $"k2 starts at {k2[0]}");
        Assert.Equal(Enumerable.Range(k2[0], Count - k2[0]), k2.Order());
        Assert.All(_sinks.Accepted("k2"), l => Assert.Contains("\"decoration\":{\"v\":\"2\"}", l, StringComparison.Ordinal));
    }

    private sealed class IdleRun : IAgentRun
    {
        public bool Disposed { get; private set; }

        public Task RunAsync(CancellationToken stop) => Task.Delay(Timeout.Infinite, stop).ContinueWith(_ => { }, TaskScheduler.Default);

        public void StatusChanged()
        {
        }

        public void Dispose() => Disposed = true;
    }

    [Fact]
    public async Task AStartThatFailsAfterAPassedCheckIsRetriedUntilItWorks()
    {
        await File.WriteAllTextAsync(ConfigFile, "{}");
        var starts = 0;
        var runs = new List<IdleRun>();
        ConfigState? seen = null;
        IAgentRun Starter(ConfigState state)
        {
            seen = state;
            if (Interlocked.Increment(ref starts) == 2)
            {
                throw new IOException("port busy");
            }

            var run = new IdleRun();
            lock (runs)
            {
                runs.Add(run);
            }

            return run;
        }

        var applied = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        var reloader = new ConfigReloader(ConfigFile, () => null, Starter, TimeSpan.FromMilliseconds(100), TimeProvider.System, NullLogger.Instance) { SettleDelay = TimeSpan.Zero };
        reloader.ChangeHandled += a => applied.TrySetResult(a);
        using var stop = new CancellationTokenSource();
        var running = reloader.RunAsync(stop.Token);
        await Until(() => Volatile.Read(ref starts) == 1, "the first start");

        // Replaced in one step: a reader never sees the file half written (with SettleDelay zero, a truncated
        // file seen between two watcher events would count as a second change).
        await File.WriteAllTextAsync(ConfigFile + ".new", "{ \"Agent\": {} }");
        File.Move(ConfigFile + ".new", ConfigFile, overwrite: true);

        Assert.True(await applied.Task.WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.Equal(3, Volatile.Read(ref starts));
        Assert.Equal((1, null), (seen!.Snapshot().Reloads, seen.Snapshot().ReloadError)); // the error shown while retrying is gone
        await stop.CancelAsync();
        await running.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.All(runs, r => Assert.True(r.Disposed));
    }
}
