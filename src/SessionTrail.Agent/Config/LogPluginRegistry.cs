using SessionTrail.Agent.Ids;
using SessionTrail.Agent.Sinks;
using SessionTrail.Agent.Sources;

namespace SessionTrail.Agent.Config;

/// <summary>
/// The log source and sink types this agent can build, by "SourceType" / "SinkType" (case-insensitive).
/// The CLI fills it (one <c>Add</c> line per factory); the config loader looks types up here.
/// </summary>
public sealed class LogPluginRegistry
{
    private readonly Dictionary<string, ILogSourceFactory> _sources = new(StringComparer.OrdinalIgnoreCase);
    private readonly Dictionary<string, ILogSinkFactory> _sinks = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>Registers a source type; a second factory for the same type is a programming error.</summary>
    public LogPluginRegistry Add(ILogSourceFactory factory)
    {
        ArgumentNullException.ThrowIfNull(factory);
        if (!_sources.TryAdd(factory.SourceType, factory))
        {
            throw new InvalidOperationException($"SourceType '{factory.SourceType}' is registered twice.");
        }

        return this;
    }

    /// <summary>Registers a sink type; a second factory for the same type is a programming error.</summary>
    public LogPluginRegistry Add(ILogSinkFactory factory)
    {
        ArgumentNullException.ThrowIfNull(factory);
        if (string.Equals(factory.SinkType, SessionTrailSinkType.Name, StringComparison.OrdinalIgnoreCase))
        {
            throw new InvalidOperationException($"SinkType '{SessionTrailSinkType.Name}' is built in.");
        }

        if (!_sinks.TryAdd(factory.SinkType, factory))
        {
            throw new InvalidOperationException($"SinkType '{factory.SinkType}' is registered twice.");
        }

        return this;
    }

    public ILogSourceFactory? Source(string sourceType) => _sources.GetValueOrDefault(sourceType);

    public ILogSinkFactory? Sink(string sinkType) => _sinks.GetValueOrDefault(sinkType);

    /// <summary>The registered source types, sorted.</summary>
    public IReadOnlyList<string> SourceTypes => [.. _sources.Values.Select(f => f.SourceType).Order(StringComparer.OrdinalIgnoreCase)];

    /// <summary>The sink types: "SessionTrail" (built in) and the registered ones, sorted.</summary>
    public IReadOnlyList<string> SinkTypes => [.. _sinks.Values.Select(f => f.SinkType).Append(SessionTrailSinkType.Name).Order(StringComparer.OrdinalIgnoreCase)];
}
