using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;
using SessionTrail.Agent.Config;
using SessionTrail.Agent.Pipes;
using SessionTrail.Agent.Sinks;
using SessionTrail.Agent.Sources;
using SessionTrail.Agent.Status;
using SessionTrail.Agent.Tests.Fakes;
using SessionTrail.Agent.Tests.Sinks;
using SessionTrail.Core.Records;

namespace SessionTrail.Agent.Tests.Pipeline;

public sealed class AgentHostTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private AgentOptions Options(TimeSpan? flushDeadline = null) => new()
    {
        DataDir = _dir.Path,
        ServerUrl = null,
        Host = "h1",
        FlushDeadline = flushDeadline ?? TimeSpan.FromSeconds(30),
        SourceRestartDelay = TimeSpan.Zero,
        RetryInitialDelay = TimeSpan.FromMilliseconds(10),
        RetryMaxDelay = TimeSpan.FromMilliseconds(50),
        ChannelCapacity = 16,
    };

    private static AgentHost Host(AgentOptions options, IEnumerable<IRecordSource> sources, IEnumerable<ISink> sinks, IEnumerable<IRecordPipe>? pipes = null) =>
        new(options, sources, sinks, NullLoggerFactory.Instance, TimeProvider.System, pipes, sessionProbe: null);

    /// <summary>Writes <c>count</c> records, signals, and on cancellation writes one more (its stop work).</summary>
    private sealed class CountingSource(int count, int firstPid = 1) : IRecordSource
    {
        public TaskCompletionSource Written { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public string Name => "counting";

        public async Task RunAsync(IRecordOutput output, CancellationToken cancellationToken)
        {
            for (var i = 0; i < count; i++)
            {
                await output.WriteAsync(Records.Start(firstPid + i), cancellationToken);
            }

            Written.TrySetResult();
            try
            {
                await Task.Delay(Timeout.Infinite, cancellationToken);
            }
            catch (OperationCanceledException)
            {
            }

            // Stop work that takes a moment: the host must wait for it before closing intake,
            // otherwise this write fails and the record is missing downstream.
            await Task.Delay(50, CancellationToken.None);
            await output.WriteAsync(Records.Start(firstPid + count, exe: "/last/record"), CancellationToken.None);
        }
    }

    private static List<string> ProcessIds(FakeSink sink) =>
        [.. sink.Accepted.Where(l => l.Contains("\"kind\":\"process\"", StringComparison.Ordinal)).Select(l => JsonDocument.Parse(l).RootElement.GetProperty("id").GetString()!)];

    [Fact]
    public async Task OnASoftStopEverythingTheSourcesWroteIsDeliveredToEverySinkWithTheSameIds()
    {
        var source = new CountingSource(500);
        var a = new FakeSink("a");
        var b = new FakeSink("b");
        using var host = Host(Options(), [source], [a, b]);
        using var stop = new CancellationTokenSource();

        var run = host.RunAsync(stop.Token);
        await source.Written.Task.WaitAsync(TimeSpan.FromSeconds(30));
        await stop.CancelAsync();
        await run.WaitAsync(TimeSpan.FromSeconds(60));

        var idsA = ProcessIds(a);
        Assert.Equal(501, idsA.Count);
        Assert.Equal(idsA, ProcessIds(b));
        Assert.Equal(501, idsA.Distinct().Count());
        // Written by the source while it stopped: intake closed only after the source returned,
        // and the channel was drained and flushed to both sinks after that.
        Assert.Contains(a.Accepted, l => l.Contains("/last/record", StringComparison.Ordinal));
        Assert.Contains(b.Accepted, l => l.Contains("/last/record", StringComparison.Ordinal));
        // The host session was announced before its first process record.
        Assert.Contains("\"kind\":\"session\"", a.Accepted[0], StringComparison.Ordinal);

        var status = AgentStatus.Read(_dir.Path)!;
        Assert.Equal("stopped", status.State);
        Assert.All(status.Sinks, s => Assert.Equal(0, s.PendingRecords));
        Assert.Equal(502, status.Sinks.Single(s => s.Name == "a").AckedTotal);
    }

    [Fact]
    public async Task WhenTheSinkIsDownTheStopEndsAtTheDeadlineAndTheNextRunDeliversEverything()
    {
        var down = new FakeSink("srv", (_, _) => SinkResult.Retryable("connection refused"));
        var source = new CountingSource(50);
        using (var host = Host(Options(TimeSpan.FromMilliseconds(300)), [source], [down]))
        {
            using var stop = new CancellationTokenSource();
            var run = host.RunAsync(stop.Token);
            await source.Written.Task.WaitAsync(TimeSpan.FromSeconds(30));
            await stop.CancelAsync();
            await run.WaitAsync(TimeSpan.FromSeconds(60));
        }

        var status = AgentStatus.Read(_dir.Path)!;
        var sink = status.Sinks.Single();
        Assert.Equal(52, sink.PendingRecords); // 51 process records + the host session start
        Assert.Contains(sink.RecentErrors, e => e.Message == "connection refused");
        Assert.Empty(down.Accepted);

        var up = new FakeSink("srv");
        var idle = new CountingSource(0, firstPid: 1000);
        using (var host = Host(Options(), [idle], [up]))
        {
            using var stop = new CancellationTokenSource();
            var run = host.RunAsync(stop.Token);
            await idle.Written.Task.WaitAsync(TimeSpan.FromSeconds(30));
            await stop.CancelAsync();
            await run.WaitAsync(TimeSpan.FromSeconds(60));
        }

        var ids = ProcessIds(up);
        Assert.Equal(52, ids.Count); // 51 from the first run + the second run's stop record
        Assert.Equal(ids.Count, ids.Distinct().Count());
    }

    private sealed class FailingOnceSource : IRecordSource
    {
        private int _runs;

        public TaskCompletionSource SecondRun { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public string Name => "flaky";

        public async Task RunAsync(IRecordOutput output, CancellationToken cancellationToken)
        {
            if (Interlocked.Increment(ref _runs) == 1)
            {
                throw new IOException("netlink socket closed");
            }

            SecondRun.TrySetResult();
            await Task.Delay(Timeout.Infinite, cancellationToken).ContinueWith(_ => { }, TaskScheduler.Default);
        }
    }

    [Fact]
    public async Task ASourceThatThrowsIsRestartedAndItsErrorIsInTheStatus()
    {
        var source = new FailingOnceSource();
        using var host = Host(Options(), [source], [new FakeSink("a")]);
        using var stop = new CancellationTokenSource();

        var run = host.RunAsync(stop.Token);
        await source.SecondRun.Task.WaitAsync(TimeSpan.FromSeconds(30));
        var live = host.GetStatus().Sources.Single(s => s.Name == "flaky");
        await stop.CancelAsync();
        await run.WaitAsync(TimeSpan.FromSeconds(60));

        Assert.Equal(1, live.Restarts);
        Assert.Equal("running", live.State);
        Assert.Contains("netlink socket closed", live.LastError, StringComparison.Ordinal);
        Assert.Equal("stopped", AgentStatus.Read(_dir.Path)!.Sources.Single(s => s.Name == "flaky").State);
    }

    [Fact]
    public async Task APipeCanDropRecordsBeforeTheyAreQueued()
    {
        var source = new CountingSource(10);
        var sink = new FakeSink("a");
        var dropOdd = new FilterPipe(r => r is not ProcessRecord p || p.Pid % 2 == 0);
        using var host = Host(Options(), [source], [sink], [dropOdd]);
        using var stop = new CancellationTokenSource();

        var run = host.RunAsync(stop.Token);
        await source.Written.Task.WaitAsync(TimeSpan.FromSeconds(30));
        await stop.CancelAsync();
        await run.WaitAsync(TimeSpan.FromSeconds(60));

        Assert.Equal(5, ProcessIds(sink).Count); // pids 2,4,6,8,10 (11, the stop record, is odd)
    }

    [Fact]
    public async Task TheServerSinkDeliversToARealIngestEndpoint()
    {
        await using var server = await FakeIngestServer.StartAsync();
        var options = Options();
        options.ServerUrl = server.Url.ToString();
        options.Token = FakeIngestServer.Token;
        var source = new CountingSource(100);
        using var host = Host(options, [source], []);
        using var stop = new CancellationTokenSource();

        var run = host.RunAsync(stop.Token);
        await source.Written.Task.WaitAsync(TimeSpan.FromSeconds(30));
        await stop.CancelAsync();
        await run.WaitAsync(TimeSpan.FromSeconds(60));

        Assert.Empty(server.Violations);
        Assert.Equal(102, server.Stored.Count);
    }

    [Fact]
    public async Task TwoSinksWithTheSameNameAreRefused()
    {
        using var host = Host(Options(), [], [new FakeSink("x"), new FakeSink("X")]);
        await Assert.ThrowsAsync<InvalidOperationException>(() => host.RunAsync(CancellationToken.None));
    }
}
