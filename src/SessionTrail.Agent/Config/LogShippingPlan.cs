using SessionTrail.Agent.Ids;
using SessionTrail.Agent.Pipes;
using SessionTrail.Agent.Queue;
using SessionTrail.Agent.Sinks;
using SessionTrail.Agent.Sources;

namespace SessionTrail.Agent.Config;

/// <summary>A log source entry of the config ("Sources:N").</summary>
public sealed record LogSourcePlan(string Id, string SourceType, ConfigNode Config);

/// <summary>A log sink entry of the config ("Sinks:N" with a "SinkType").</summary>
/// <param name="Decoration">The parsed ObjectDecoration, or null.</param>
/// <param name="QueueMaxBytes">The sink's own queue cap ("QueueMaxBytes"), or null for the agent's.</param>
/// <param name="QueueFullPolicy">The sink's own full-queue policy; log sinks default to <see cref="Queue.QueueFullPolicy.Block"/>.</param>
public sealed record LogSinkPlan(string Id, string SinkType, ConfigNode Config, ObjectDecoration? Decoration, long? QueueMaxBytes, QueueFullPolicy QueueFullPolicy)
{
    /// <summary>For SinkType "SessionTrail": the server URL and token (null = the agent's own).</summary>
    public SessionTrailSinkType? SessionTrail { get; init; }

    /// <summary>True for a SessionTrail sink with neither Url nor Token: it is the agent's own server sink (same queue).</summary>
    public bool IsAgentServer => SessionTrail is { Url: null, Token: null };
}

/// <summary>A pipe ("Pipes:N"): records of <see cref="SourceRef"/> that pass <see cref="Filter"/> go to <see cref="SinkRef"/>.</summary>
/// <param name="Type">"" for a direct connection, or "RegexFilterPipe".</param>
public sealed record LogPipePlan(string Id, string Path, string SourceRef, string SinkRef, string Type, RegexFilterPipe? Filter);

/// <summary>How bad a config problem is.</summary>
public enum ConfigProblemSeverity
{
    Warning,
    Error,
}

/// <summary>One problem of the log-shipping config, with the key path it is about.</summary>
public sealed record ConfigProblem(ConfigProblemSeverity Severity, string Path, string Message)
{
    public bool IsError => Severity == ConfigProblemSeverity.Error;

    public override string ToString() => (IsError ? "error: " : "warning: ") + Message;
}

/// <summary>
/// The log-shipping part of the agent's config file (KinesisTap's Sources / Sinks / Pipes), validated.
/// <see cref="Problems"/> lists every error and warning (each naming its key path); a plan with an
/// error must not be run.
/// </summary>
public sealed record LogShippingPlan(IReadOnlyList<LogSourcePlan> Sources, IReadOnlyList<LogSinkPlan> Sinks, IReadOnlyList<LogPipePlan> Pipes, IReadOnlyList<ConfigProblem> Problems)
{
    public static LogShippingPlan Empty { get; } = new([], [], [], []);

    public bool HasErrors => Problems.Any(p => p.IsError);

    public IEnumerable<ConfigProblem> Errors => Problems.Where(p => p.IsError);

    /// <summary>Throws <see cref="LogConfigException"/> for the first error (its message lists how many more there are).</summary>
    public void ThrowIfInvalid()
    {
        var errors = Errors.ToList();
        if (errors.Count > 0)
        {
            var more = errors.Count > 1 ? $" (and {errors.Count - 1} more problem{(errors.Count > 2 ? "s" : "")}: run `sessiontrail agent --check-config FILE` to list them)" : "";
            throw new LogConfigException(errors[0].Path, ProblemText(errors[0]) + more);
        }
    }

    private static string ProblemText(ConfigProblem problem)
    {
        // Problems carry the whole "Config 'PATH' ..." sentence; the exception adds it again.
        var prefix = $"Config '{problem.Path}' ";
        var text = problem.Message.StartsWith(prefix, StringComparison.Ordinal) ? problem.Message[prefix.Length..] : problem.Message;
        return text.TrimEnd('.');
    }
}
