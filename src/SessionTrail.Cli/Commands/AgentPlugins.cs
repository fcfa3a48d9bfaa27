using SessionTrail.Agent.Config;
using SessionTrail.Agent.Sinks.FileSystem;
using SessionTrail.Agent.Sinks.Firehose;
using SessionTrail.Agent.Sinks.OpenSearch;
using SessionTrail.Agent.Sinks.S3;
using SessionTrail.Agent.Sources.Diagnostics;
using SessionTrail.Agent.Sources.Files;
using SessionTrail.Agent.Sources.Journald;
using SessionTrail.Agent.Sources.WindowsEventLog;

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

        // Log source factories (one line each).
        registry.Add(new DirectorySourceFactory());
        registry.Add(new WindowsEventLogSourceFactory());
        registry.Add(new WindowsEventLogPollingSourceFactory());
        registry.Add(new JournaldSourceFactory());
        registry.Add(new SessionTrailDiagnosticsSourceFactory());

        // Log sink factories (one line each).
        registry.Add(new OpenSearchSinkFactory());
        registry.Add(new ElasticsearchSinkFactory());
        registry.Add(new FirehoseSinkFactory());
        registry.Add(new S3SinkFactory());
        registry.Add(new FileSystemSinkFactory());
        return registry;
    }
}
