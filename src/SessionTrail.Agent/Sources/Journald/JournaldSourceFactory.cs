using SessionTrail.Agent.Config;
using SessionTrail.Agent.Ids;
using SessionTrail.Agent.Sinks;
using SessionTrail.Agent.Sources;

namespace SessionTrail.Agent.Sources.Journald;

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
