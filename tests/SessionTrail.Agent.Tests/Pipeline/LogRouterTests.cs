using Microsoft.Extensions.Logging.Abstractions;
using SessionTrail.Agent.Pipeline;
using SessionTrail.Agent.Pipes;
using SessionTrail.Agent.Queue;
using SessionTrail.Agent.Tests.Fakes;

namespace SessionTrail.Agent.Tests.Pipeline;

public sealed class LogRouterTests : IDisposable
{
    private readonly TempDir _dir = new();
    private readonly List<DiskQueue> _queues = [];

    public void Dispose()
    {
        foreach (var queue in _queues)
        {
            queue.Dispose();
        }

        _dir.Dispose();
    }

    private DiskQueue Queue(string name)
    {
        var queue = DiskQueue.Open(Path.Combine(_dir.Path, name), new DiskQueueOptions(), NullLogger.Instance, TimeProvider.System);
        _queues.Add(queue);
        return queue;
    }

    [Fact]
    public void APipeFindsItsTargetBySinkNameIgnoringCaseWhateverTheTargetsOrder()
    {
        var filter = new RegexFilterPipe("error");
        var router = new LogRouter(
            [],
            [new RouteTarget("opensearch", Queue("a"), null), new RouteTarget("Archive", Queue("b"), null)],
            new Dictionary<string, IReadOnlyList<RoutePipe>> { ["files"] = [new RoutePipe("p1", "archive", null), new RoutePipe("p2", "OpenSearch", filter)] },
            () => null);

        var pipes = router.PipesOf("FILES")!;
        Assert.Equal([1, 0], pipes.Select(p => p.Target));
        Assert.Null(pipes[0].Filter);
        Assert.Same(filter, pipes[1].Filter);
        Assert.Null(router.PipesOf("journal"));
    }

    [Fact]
    public void APipeNamingNoTargetIsRefusedNamingItsSource()
    {
        var error = Assert.Throws<ArgumentException>(() => new LogRouter(
            [],
            [new RouteTarget("opensearch", Queue("a"), null)],
            new Dictionary<string, IReadOnlyList<RoutePipe>> { ["files"] = [new RoutePipe("p1", "firehose", null)] },
            () => null));
        Assert.Contains("'files'", error.Message, StringComparison.Ordinal);
    }
}
