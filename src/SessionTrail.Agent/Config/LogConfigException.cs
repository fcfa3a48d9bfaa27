using SessionTrail.Agent.Ids;
using SessionTrail.Agent.Sinks;
using SessionTrail.Agent.Sources;

namespace SessionTrail.Agent.Config;

/// <summary>
/// A bad log-shipping setting. <see cref="Path"/> is the key's full path in the config file, e.g.
/// "Sources:0:LogName" or "Pipes:1:SinkRef"; the message says what is wrong with it.
/// </summary>
public sealed class LogConfigException(string path, string problem)
    : Exception($"Config '{path}' {problem}.")
{
    public string Path { get; } = path;

    public string Problem { get; } = problem;
}
