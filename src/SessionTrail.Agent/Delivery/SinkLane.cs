using SessionTrail.Agent.Queue;
using SessionTrail.Agent.Sinks;

namespace SessionTrail.Agent.Delivery;

/// <summary>
/// One destination as the agent runs it: the sink, its own durable queue (DIR/agent/queues/NAME) and the
/// sender that delivers that queue to it. Routes find a lane by the sink's name, never by position.
/// </summary>
/// <param name="SinkType">The config's "SinkType" for a log sink; null for the agent's own sinks.</param>
/// <param name="FullPolicy">What the queue does when it reaches its size cap.</param>
public sealed record SinkLane(SinkSender Sender, string? SinkType, QueueFullPolicy FullPolicy)
{
    public ISink Sink => Sender.Sink;

    public DiskQueue Queue => Sender.Queue;

    public string Name => Sink.Name;
}

/// <summary>The agent's lanes by sink name (case-insensitive, as the names of their queue folders).</summary>
public sealed class SinkLanes
{
    private readonly Dictionary<string, SinkLane> _byName = new(StringComparer.OrdinalIgnoreCase);
    private readonly List<SinkLane> _all = [];

    public IReadOnlyList<SinkLane> All => _all;

    public IEnumerable<DiskQueue> Queues => _all.Select(l => l.Queue);

    public void Add(SinkLane lane)
    {
        ArgumentNullException.ThrowIfNull(lane);
        _byName.Add(lane.Name, lane);
        _all.Add(lane);
    }

    /// <summary>The lane of the sink named <paramref name="name"/>; throws naming it when there is none.</summary>
    public SinkLane this[string name] =>
        _byName.TryGetValue(name, out var lane) ? lane : throw new InvalidOperationException($"No sink is named '{name}'.");
}
