using SessionTrail.Agent.Config;
using SessionTrail.Agent.Ids;
using SessionTrail.Agent.Platform;
using SessionTrail.Agent.Sinks;
using SessionTrail.Agent.Sources;

namespace SessionTrail.Agent.Sources.WindowsEventLog;

/// <summary>"SourceType": "WindowsEventLogSource" — any Windows event log, pushed by EventLogWatcher. Windows only.</summary>
public sealed class WindowsEventLogSourceFactory : ILogSourceFactory
{
    public string SourceType => WindowsEventLogOptions.WatcherType;

    public IRecordSource Create(ConfigNode config, LogSourceContext context) => WindowsEventLogFactories.Create(config, context, polling: false);
}

/// <summary>"SourceType": "WindowsEventLogPollingSource" — any Windows event log, polled with EventLogReader. Windows only.</summary>
public sealed class WindowsEventLogPollingSourceFactory : ILogSourceFactory
{
    public string SourceType => WindowsEventLogOptions.PollingType;

    public IRecordSource Create(ConfigNode config, LogSourceContext context) => WindowsEventLogFactories.Create(config, context, polling: true);
}

internal static class WindowsEventLogFactories
{
    public static IRecordSource Create(ConfigNode config, LogSourceContext context, bool polling)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(context);
        var type = polling ? WindowsEventLogOptions.PollingType : WindowsEventLogOptions.WatcherType;
        if (!HostOs.IsWindows)
        {
            throw new LogConfigException(config.KeyPath("SourceType"), $"is {type}, which runs only on Windows (this agent runs on {HostOs.Name}); remove the source or run it on a Windows agent");
        }

        var options = WindowsEventLogOptions.FromConfig(config, polling, context.Logs.CreateLogger("SessionTrail.Agent.Logs.Windows"));
        return polling ? new EventLogPollingSource(options, context) : new EventLogWatcherSource(options, context);
    }
}
