using Microsoft.Extensions.Logging;
using SessionTrail.Agent.Ids;
using SessionTrail.Agent.Sinks;
using SessionTrail.Agent.Sources;

namespace SessionTrail.Agent.Config;

/// <summary>
/// The keys a source type reads; any other key of its config entry gets a warning naming its path (KinesisTap
/// configs carry keys SessionTrail does not use, so this is not an error).
/// </summary>
public static partial class SourceConfigKeys
{
    /// <summary>Keys every source entry has.</summary>
    public static readonly IReadOnlyList<string> Common = ["Id", "SourceType"];

    /// <summary>Logs one warning per key of <paramref name="config"/> that is not in <paramref name="known"/> or <see cref="Common"/>; returns their paths.</summary>
    public static IReadOnlyList<string> WarnUnknown(ConfigNode config, string sourceType, IEnumerable<string> known, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(config);
        var allowed = new HashSet<string>(Common.Concat(known), StringComparer.OrdinalIgnoreCase);
        var unknown = config.Keys.Where(k => !allowed.Contains(k)).Select(config.KeyPath).ToList();
        foreach (var path in unknown)
        {
            LogUnknownKey(logger, path, sourceType);
        }

        return unknown;
    }

    [LoggerMessage(EventId = 4001, Level = LogLevel.Warning, Message = "Config '{Path}' is not a setting of {SourceType}: ignored")]
    private static partial void LogUnknownKey(ILogger logger, string path, string sourceType);
}
