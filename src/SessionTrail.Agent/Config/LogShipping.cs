using Microsoft.Extensions.Logging;
using SessionTrail.Agent.Ids;
using SessionTrail.Agent.Pipes;
using SessionTrail.Agent.Queue;
using SessionTrail.Agent.Sinks;
using SessionTrail.Agent.Sources;

namespace SessionTrail.Agent.Config;

/// <summary>A log source built from its config entry.</summary>
public sealed record LogSourceBinding(string Id, string SourceType, IRecordSource Source);

/// <summary>
/// A log sink built from its config entry. <see cref="Sink"/> is null for a SessionTrail sink that is
/// the agent's own server sink (its records go to the server queue).
/// </summary>
public sealed record LogSinkBinding(string Id, string SinkType, ISink? Sink, ObjectDecoration? Decoration, long? QueueMaxBytes, QueueFullPolicy QueueFullPolicy);

/// <summary>A pipe: records of source <see cref="SourceId"/> that pass <see cref="Filter"/> go to sink <see cref="SinkId"/>.</summary>
public sealed record LogPipeBinding(string Id, string SourceId, string SinkId, RegexFilterPipe? Filter);

/// <summary>
/// The log sources, sinks and pipes the agent host runs (built by <see cref="Build"/> from a
/// <see cref="LogShippingPlan"/>). Disposing it disposes the sources and sinks that are disposable.
/// </summary>
public sealed class LogShipping : IDisposable
{
    public LogShipping(IReadOnlyList<LogSourceBinding> sources, IReadOnlyList<LogSinkBinding> sinks, IReadOnlyList<LogPipeBinding> pipes)
    {
        Sources = sources;
        Sinks = sinks;
        Pipes = pipes;
    }

    public static LogShipping None => new([], [], []);

    public IReadOnlyList<LogSourceBinding> Sources { get; }

    public IReadOnlyList<LogSinkBinding> Sinks { get; }

    public IReadOnlyList<LogPipeBinding> Pipes { get; }

    /// <summary>
    /// Builds the sources and sinks of <paramref name="plan"/> with the factories of
    /// <paramref name="registry"/>. Factory errors (a missing key, a source type this OS cannot run) are
    /// added to <paramref name="problems"/> naming the key path; the result is null when there is any error
    /// (what was built is disposed). Sources that no pipe names are not built.
    /// </summary>
    public static LogShipping? Build(LogShippingPlan plan, LogPluginRegistry registry, LogShippingContext context, List<ConfigProblem> problems)
    {
        ArgumentNullException.ThrowIfNull(plan);
        ArgumentNullException.ThrowIfNull(registry);
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(problems);
        var sources = new List<LogSourceBinding>();
        var sinks = new List<LogSinkBinding>();
        var ok = !plan.HasErrors;
        foreach (var source in plan.Sources)
        {
            if (!plan.Pipes.Any(p => string.Equals(p.SourceRef, source.Id, StringComparison.OrdinalIgnoreCase)))
            {
                continue;
            }

            try
            {
                var built = registry.Source(source.SourceType)!.Create(source.Config, new LogSourceContext(source.Id, context.DataDir, context.Host, context.Bookmarks, context.Logs, context.Time));
                sources.Add(new LogSourceBinding(source.Id, source.SourceType, built));
            }
            catch (LogConfigException ex)
            {
                problems.Add(new ConfigProblem(ConfigProblemSeverity.Error, ex.Path, ex.Message));
                ok = false;
            }
        }

        foreach (var sink in plan.Sinks)
        {
            try
            {
                ISink? built;
                if (sink.SessionTrail is { } server)
                {
                    built = sink.IsAgentServer
                        ? null
                        : new SessionTrailServerSink(
                            new Uri(server.Url ?? context.ServerUrl ?? throw new LogConfigException(sink.Config.KeyPath("Url"), "is required")),
                            server.Token ?? context.Token ?? throw new LogConfigException(sink.Config.KeyPath("Token"), "is required (the agent has no token either)"),
                            context.Logs.CreateLogger<SessionTrailServerSink>(),
                            name: sink.Id);
                }
                else
                {
                    built = registry.Sink(sink.SinkType)!.Create(sink.Config, new LogSinkContext(sink.Id, context.DataDir, context.Host, context.Logs, context.Time));
                }

                sinks.Add(new LogSinkBinding(sink.Id, sink.SinkType, built, sink.Decoration, sink.QueueMaxBytes, sink.QueueFullPolicy));
            }
            catch (LogConfigException ex)
            {
                problems.Add(new ConfigProblem(ConfigProblemSeverity.Error, ex.Path, ex.Message));
                ok = false;
            }
        }

        var pipes = plan.Pipes.Select(p => new LogPipeBinding(p.Id, p.SourceRef, p.SinkRef, p.Filter)).ToList();
        var shipping = new LogShipping(sources, sinks, pipes);
        if (!ok)
        {
            shipping.Dispose();
            return null;
        }

        return shipping;
    }

    public void Dispose()
    {
        foreach (var sink in Sinks)
        {
            (sink.Sink as IDisposable)?.Dispose();
        }

        foreach (var source in Sources)
        {
            (source.Source as IDisposable)?.Dispose();
        }
    }
}

/// <summary>What building log sources and sinks needs from the agent.</summary>
/// <param name="ServerUrl">The agent's server URL (default Url of a SessionTrail sink).</param>
/// <param name="Token">The agent's token (default Token of a SessionTrail sink).</param>
public sealed record LogShippingContext(string DataDir, string Host, string? ServerUrl, string? Token, ILoggerFactory Logs, TimeProvider Time)
{
    public BookmarkStore Bookmarks { get; } = new(DataDir);
}
