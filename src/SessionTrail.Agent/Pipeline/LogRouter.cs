using SessionTrail.Agent.Pipes;
using SessionTrail.Agent.Queue;
using SessionTrail.Agent.Sessions;

namespace SessionTrail.Agent.Pipeline;

/// <summary>
/// Where the pump puts each record: log records of a configured source go only to the sinks its pipes
/// name (through each pipe's filter), decorated per sink; every other record (process, session, and logs
/// of sources not in the config) goes to the default queues (the agent's server and data-lake sinks).
/// Built once per host run; used by the pump's single thread.
/// </summary>
public sealed class LogRouter
{
    private readonly Dictionary<string, ResolvedPipe[]> _bySource;

    /// <param name="defaultQueues">The queues of the agent's own sinks.</param>
    /// <param name="targets">The log sinks' queues, each with its decoration.</param>
    /// <param name="pipes">Per source Id (case-insensitive), its pipes; each names its target by <see cref="RouteTarget.SinkId"/> (case-insensitive).</param>
    /// <param name="session">The explicit session now (for decoration), or null.</param>
    public LogRouter(IReadOnlyList<DiskQueue> defaultQueues, IReadOnlyList<RouteTarget> targets, IReadOnlyDictionary<string, IReadOnlyList<RoutePipe>> pipes, Func<CurrentSession?> session)
    {
        ArgumentNullException.ThrowIfNull(defaultQueues);
        ArgumentNullException.ThrowIfNull(targets);
        ArgumentNullException.ThrowIfNull(pipes);
        DefaultQueues = [.. defaultQueues];
        Targets = [.. targets];
        var byName = new Dictionary<string, int>(StringComparer.OrdinalIgnoreCase);
        for (var i = 0; i < Targets.Length; i++)
        {
            byName.TryAdd(Targets[i].SinkId, i);
        }

        _bySource = new Dictionary<string, ResolvedPipe[]>(StringComparer.OrdinalIgnoreCase);
        foreach (var (source, list) in pipes)
        {
            _bySource[source] = [.. list.Select(p => byName.TryGetValue(p.SinkId, out var target)
                ? new ResolvedPipe(target, p.Filter)
                : throw new ArgumentException($"A pipe of source '{source}' points at no target.", nameof(pipes)))];
        }

        Session = session;
        var slots = new Dictionary<ObjectDecoration, int>(ReferenceEqualityComparer.Instance);
        foreach (var target in Targets.Where(t => t.Decoration is not null))
        {
            slots.TryAdd(target.Decoration!, slots.Count + 1);
        }

        LineSlots = slots.Count + 1;
        TargetSlots = [.. Targets.Select(t => t.Decoration is null ? 0 : slots[t.Decoration])];
    }

    public DiskQueue[] DefaultQueues { get; }

    public RouteTarget[] Targets { get; }

    public Func<CurrentSession?> Session { get; }

    /// <summary>Distinct serialised lines one record can need: undecorated, and one per distinct decoration.</summary>
    internal int LineSlots { get; }

    /// <summary>Per target, its line slot (targets sharing a decoration object share the line).</summary>
    internal int[] TargetSlots { get; }

    /// <summary>The pipes of a source, or null when the source is not in the config (its records go to the default queues).</summary>
    internal ResolvedPipe[]? PipesOf(string source) => _bySource.GetValueOrDefault(source);
}

/// <summary>A log sink's queue and the decoration its records get.</summary>
public sealed record RouteTarget(string SinkId, DiskQueue Queue, ObjectDecoration? Decoration);

/// <summary>One pipe of a source: to the target named <see cref="SinkId"/>, through <see cref="Filter"/> (null = all).</summary>
public sealed record RoutePipe(string PipeId, string SinkId, RegexFilterPipe? Filter);

/// <summary>A pipe with its target looked up once: the pump's hot path indexes, it does not look names up per record.</summary>
internal sealed record ResolvedPipe(int Target, RegexFilterPipe? Filter);
