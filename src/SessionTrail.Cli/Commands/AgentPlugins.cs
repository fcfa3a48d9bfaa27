using SessionTrail.Agent.Logs.Config;

namespace SessionTrail.Cli.Commands;

/// <summary>
/// The log source and sink types `sessiontrail agent` knows ("SourceType" / "SinkType" of the config's
/// Sources and Sinks). "SessionTrail" is built in. Register a factory with one line.
/// </summary>
internal static class AgentPlugins
{
    public static LogPluginRegistry Registry()
    {
        var registry = new LogPluginRegistry();

        // Log source factories (one line each), e.g.: registry.Add(new DirectorySourceFactory());
        // Log sink factories (one line each), e.g.: registry.Add(new OpenSearchSinkFactory());
        return registry;
    }
}
