// The tests log through the plain ILogger extension methods on purpose: the provider must handle every shape of state.
#pragma warning disable CA1848

using Microsoft.Extensions.Logging;
using SessionTrail.Agent.Config;
using SessionTrail.Agent.Ids;
using SessionTrail.Agent.Sinks;
using SessionTrail.Agent.Sources;
using SessionTrail.Agent.Sources.Diagnostics;
using SessionTrail.Agent.Tests.Fakes;
using SessionTrail.Agent.Tests.Sources;
using SessionTrail.Core.Records;

namespace SessionTrail.Agent.Tests.Sources.Diagnostics;

/// <summary>
/// The agent's own log events through a real <see cref="LoggerFactory"/> with the diagnostics provider, into the
/// SessionTrailDiagnostics source: fields, levels, drop-oldest with its count, no recursion, per-run ids.
/// </summary>
public sealed partial class DiagnosticsSourceTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    [LoggerMessage(EventId = 3456, Level = LogLevel.Error, Message = "Sink {SinkId} rejected batch {Batch}")]
    private static partial void LogRejected(ILogger logger, string sinkId, int batch, Exception error);

    private static (ILoggerFactory Factory, AgentDiagnosticsHub Hub) Logging(int capacity = 100, TimeProvider? time = null)
    {
        var hub = new AgentDiagnosticsHub(capacity, time);
        return (LoggerFactory.Create(b => b.SetMinimumLevel(LogLevel.Trace).AddProvider(new AgentDiagnosticsLoggerProvider(hub))), hub);
    }

    private SessionTrailDiagnosticsSource Source(AgentDiagnosticsHub hub, string level = "Warning") =>
        (SessionTrailDiagnosticsSource)new SessionTrailDiagnosticsSourceFactory(hub).Create(
            LogSourceTestKit.Source($$"""{"Id":"agent-diag","SourceType":"SessionTrailDiagnostics","MinimumLevel":"{{level}}"}"""), LogSourceTestKit.Context(_dir.Path, "agent-diag"));

    [Fact]
    public async Task EventsBecomeRecordsWithCategoryEventIdLevelValuesAndException()
    {
        var (factory, hub) = Logging();
        using (factory)
        {
            var logger = factory.CreateLogger("SessionTrail.Agent.Delivery.SinkSender");
            logger.LogInformation("below the default Warning: not shipped");
            LogRejected(logger, "opensearch", 17, new InvalidOperationException("HTTP 400: mapper_parsing_exception"));
            logger.LogWarning("Disk queue {Queue} is {Percent}% full", "s3", 93);

            var output = await DrainAsync(Source(hub), hub, 2);
            var (error, warning) = (output[0], output[1]);
            Assert.Equal(("sessiontrail-agent", "SessionTrail.Agent.Delivery.SinkSender", 3456, "Error", "Sink opensearch rejected batch 17"),
                (error.Channel, error.Provider, error.EventId!.Value, error.Level, error.Message));
            var f = error.Fields!;
            Assert.Equal(("opensearch", "17", "LogRejected", "System.InvalidOperationException", "HTTP 400: mapper_parsing_exception"),
                (f["SinkId"], f["Batch"], f["EventName"], f["ExceptionType"], f["ExceptionMessage"]));
            Assert.StartsWith("System.InvalidOperationException: HTTP 400", f["Exception"], StringComparison.Ordinal);
            Assert.Equal(("agent-diag", "host1"), (error.Source, error.Host));
            Assert.Equal(("Warning", "Disk queue s3 is 93% full", null), (warning.Level, warning.Message, warning.EventId));
            Assert.Equal(new Dictionary<string, string> { ["Queue"] = "s3", ["Percent"] = "93" }, warning.Fields);
        }
    }

    [Fact]
    public async Task MinimumLevelIsHonouredAndLowersWhatTheHubKeeps()
    {
        var (factory, hub) = Logging();
        using (factory)
        {
            var logger = factory.CreateLogger("Agent");
            logger.LogDebug("before: the hub keeps Warning and above");
            var source = Source(hub, "information");
            Assert.Equal((LogLevel.Information, LogLevel.Information), (source.MinimumLevel, hub.MinimumLevel));
            logger.LogDebug("debug: below the source's level");
            logger.LogInformation("info");
            logger.LogCritical("critical");
            Assert.Equal(["info", "critical"], (await DrainAsync(source, hub, 2)).Select(r => r.Message));
        }

        var log = new ListLogger();
        Assert.Equal("Config 'Sources:0:MinimumLevel' must be one of Trace, Debug, Information, Warning, Error, Critical, not 'Loud'.",
            Assert.Throws<LogConfigException>(() => new SessionTrailDiagnosticsSourceFactory(new AgentDiagnosticsHub()).Create(
                LogSourceTestKit.Source("""{"MinimumLevel":"Loud"}"""), LogSourceTestKit.Context(_dir.Path))).Message);
        new SessionTrailDiagnosticsSourceFactory(new AgentDiagnosticsHub()).Create(LogSourceTestKit.Source("""{"Id":"d","Format":"json"}"""), LogSourceTestKit.Context(_dir.Path, logs: log));
        Assert.Equal(["Config 'Sources:0:Format' is not a setting of SessionTrailDiagnostics: ignored"], log.Entries.Select(e => e.Message));
        Assert.Equal("SessionTrailDiagnostics", new SessionTrailDiagnosticsSourceFactory().SourceType);
    }

    [Fact]
    public async Task AFullBufferDropsTheOldestAndTheCountIsReported()
    {
        var (factory, hub) = Logging(capacity: 5);
        using (factory)
        {
            var logger = factory.CreateLogger("Agent");
            for (var i = 1; i <= 12; i++)
            {
                logger.LogWarning("event {N}", i);
            }

            Assert.Equal(7, hub.Dropped);
            var records = await DrainAsync(Source(hub), hub, 6);
            Assert.Equal("7 agent log events were dropped: the diagnostics buffer (5 events) was full (7 dropped since the agent started)", records[0].Message);
            Assert.Equal(("7", "Warning"), (records[0].Fields!["Dropped"], records[0].Level));
            Assert.Equal(Enumerable.Range(8, 5).Select(i => $"event {i}"), records.Skip(1).Select(r => r.Message));
        }
    }

    [Fact]
    public async Task WhatIsLoggedWhileWritingAndTheSourcesOwnEventsNeverComeBack()
    {
        var (factory, hub) = Logging();
        using (factory)
        {
            // An output that logs a warning about every record it receives (as a pipeline might): those must not loop back.
            var pipelineLogger = factory.CreateLogger("SessionTrail.Agent.Pipeline.RecordPump");
            var output = new LoggingOutput(pipelineLogger);
            factory.CreateLogger("SessionTrail.Agent.Logs.Diagnostics.SessionTrailDiagnosticsSource").LogError("about the diagnostics source itself");
            factory.CreateLogger("Agent").LogWarning("one real event");
            factory.CreateLogger("Agent").LogWarning("another real event");

            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            var run = Source(hub).RunAsync(output, cts.Token);
            while (output.Records.Count < 2)
            {
                await Task.Delay(20, cts.Token);
            }

            await Task.Delay(300, cts.Token); // a loop would keep producing records now
            await cts.CancelAsync();
            await run.WaitAsync(TimeSpan.FromSeconds(10));
            Assert.Equal(["one real event", "another real event"], output.Records.Cast<LogRecord>().Select(r => r.Message));
            Assert.Equal(2, output.Logged);
            Assert.False(hub.Reader.TryPeek(out _));
        }
    }

    [Fact]
    public void IdsAreDeterministicPerRunAndDifferBetweenRuns()
    {
        using var clock = new FakeTimeProvider();
        var hub = new AgentDiagnosticsHub(10, clock);
        var e = new AgentLogEvent(42, clock.GetUtcNow(), "Agent", LogLevel.Warning, 0, null, "m", new Dictionary<string, string>(), null);
        var a = Source(hub).ToRecord(e);
        Assert.Equal(a.Id, Source(hub).ToRecord(e).Id);
        Assert.Equal(LogIds.For("host1", "agent-diag", "2026-11-22T08:00:00.0000000Z:42"), a.Id);
        Assert.NotEqual(a.Id, Source(hub).ToRecord(e with { Sequence = 43 }).Id);
        clock.Advance(TimeSpan.FromSeconds(1));
        Assert.NotEqual(a.Id, Source(new AgentDiagnosticsHub(10, clock)).ToRecord(e).Id); // the next agent run
    }

    private static async Task<IReadOnlyList<LogRecord>> DrainAsync(SessionTrailDiagnosticsSource source, AgentDiagnosticsHub hub, int expected)
    {
        var output = new DurableOutput();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var run = source.RunAsync(output, cts.Token);
        while (output.Records.Count < expected)
        {
            await Task.Delay(20, cts.Token);
        }

        await Task.Delay(200, cts.Token);
        await cts.CancelAsync();
        await run;
        Assert.False(hub.Reader.TryPeek(out _));
        Assert.Equal(expected, output.Records.Count);
        return output.Logs;
    }

    private sealed class LoggingOutput(ILogger logger) : IRecordOutput
    {
        private readonly List<TrailRecord> _records = [];
        private int _logged;

        public int Logged => Volatile.Read(ref _logged);

        public IReadOnlyList<TrailRecord> Records
        {
            get
            {
                lock (_records)
                {
                    return [.. _records];
                }
            }
        }

        public async ValueTask WriteAsync(TrailRecord record, CancellationToken cancellationToken)
        {
            await Task.Yield();
            logger.LogWarning("routing {Id}", record.Id);
            Interlocked.Increment(ref _logged);
            lock (_records)
            {
                _records.Add(record);
            }
        }
    }
}
