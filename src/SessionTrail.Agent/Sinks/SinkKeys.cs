using Microsoft.Extensions.Logging;
using SessionTrail.Agent.Config;
using SessionTrail.Agent.Ids;
using SessionTrail.Agent.Sources;

namespace SessionTrail.Agent.Sinks;

/// <summary>Key checks shared by the log sink factories.</summary>
public static partial class SinkKeys
{
    /// <summary>Keys every sink entry may carry (KinesisTap's common sink keys; some handled upstream, some ignored).</summary>
    public static readonly IReadOnlyList<string> Common =
    [
        "Id", "SinkType", "Format", "ObjectDecoration", "ObjectDecorationEx", "TextDecoration", "TextDecorationEx",
        "QueueType", "QueuePath", "QueueMaxBatches", "MaxAttempts", "BufferInterval", "BufferSize",
    ];

    /// <summary>Keys of the AWS sinks' credentials and endpoint.</summary>
    public static readonly IReadOnlyList<string> Aws =
    [
        "Region", "ServiceURL", "AccessKey", "SecretKey", "SessionToken", "ProfileName", "RoleARN", "Credentials",
    ];

    /// <summary>Logs a warning naming each key of <paramref name="config"/> that is neither common nor in <paramref name="known"/>.</summary>
    public static void WarnUnknown(ConfigNode config, ILogger logger, params IEnumerable<string>[] known)
    {
        ArgumentNullException.ThrowIfNull(config);
        var all = new HashSet<string>(Common, StringComparer.OrdinalIgnoreCase);
        foreach (var list in known)
        {
            all.UnionWith(list);
        }

        foreach (var key in config.Keys)
        {
            if (!all.Contains(key))
            {
                LogUnknownKey(logger, config.KeyPath(key));
            }
        }
    }

    [LoggerMessage(EventId = 1450, Level = LogLevel.Warning, Message = "Config '{Path}' is not a key this sink knows; ignored")]
    private static partial void LogUnknownKey(ILogger logger, string path);
}
