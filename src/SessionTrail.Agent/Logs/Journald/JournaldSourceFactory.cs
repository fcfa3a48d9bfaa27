using SessionTrail.Agent.Sources;

namespace SessionTrail.Agent.Logs.Journald;

/// <summary>"SourceType": "JournaldSource" — the systemd journal through journalctl (see <see cref="JournaldOptions"/> for the keys).</summary>
public sealed class JournaldSourceFactory : ILogSourceFactory
{
    public string SourceType => JournaldOptions.SourceType;

    public IRecordSource Create(ConfigNode config, LogSourceContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        return new JournaldSource(JournaldOptions.FromConfig(config, context.Logs.CreateLogger("SessionTrail.Agent.Logs.Journald")), context);
    }
}
