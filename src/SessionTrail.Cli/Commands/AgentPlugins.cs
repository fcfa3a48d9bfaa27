using SessionTrail.Agent.Logs.Config;
using SessionTrail.Agent.Logs.Diagnostics;
using SessionTrail.Agent.Logs.Files;
using SessionTrail.Agent.Logs.Journald;
using SessionTrail.Agent.Logs.Windows;
using SessionTrail.Agent.Logs.Sinks.FileSystem;
using SessionTrail.Agent.Logs.Sinks.Firehose;
using SessionTrail.Agent.Logs.Sinks.OpenSearch;
using SessionTrail.Agent.Logs.Sinks.S3Logs;

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
        registry.Add(new S3LogSinkFactory());
        registry.Add(new FileSystemSinkFactory());
        return registry;
    }
}
