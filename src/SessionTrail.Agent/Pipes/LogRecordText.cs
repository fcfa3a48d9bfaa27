using System.Globalization;
using SessionTrail.Agent.Config;
using SessionTrail.Agent.Ids;
using SessionTrail.Agent.Sinks;
using SessionTrail.Agent.Sources;
using SessionTrail.Core.Formats;
using SessionTrail.Core.Records;

namespace SessionTrail.Agent.Pipes;

/// <summary>
/// Text views of a <see cref="LogRecord"/> used by filters and decoration: KinesisTap's plain-text
/// rendering and the value of one field by name.
/// </summary>
public static class LogRecordText
{
    /// <summary>
    /// What KinesisTap's RegexFilterPipe matches: for an event-log record (one with an event id)
    /// "[LogName] [Level] [EventId] [Provider] [Machine] [Description]", otherwise the message.
    /// </summary>
    public static string Render(LogRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        if (record.EventId is not { } eventId)
        {
            return record.Message;
        }

        return string.Create(CultureInfo.InvariantCulture, $"[{record.Channel}] [{record.Level}] [{eventId}] [{record.Provider}] [{record.Host}] [{record.Message}]");
    }

    /// <summary>The names <see cref="Field"/> knows besides the record's Fields and Decoration keys.</summary>
    public static readonly IReadOnlyList<string> BuiltInFields = ["Message", "Level", "Channel", "Provider", "EventId", "Source", "Host", "Session", "Time"];

    /// <summary>
    /// Reads one field by name: a built-in (Message, Level, Channel, Provider, EventId, Source, Host,
    /// Session, Time; case-insensitive), else a key of <see cref="LogRecord.Fields"/>, else a key of
    /// <see cref="LogRecord.Decoration"/> (exact spelling first, then case-insensitive). The name is
    /// resolved once here, not per record. The accessor returns null when the record lacks the field.
    /// </summary>
    public static Func<LogRecord, string?> Accessor(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        return name.ToUpperInvariant() switch
        {
            "MESSAGE" => r => r.Message,
            "LEVEL" => r => r.Level,
            "CHANNEL" => r => r.Channel,
            "PROVIDER" => r => r.Provider,
            "EVENTID" => r => r.EventId?.ToString(CultureInfo.InvariantCulture),
            "SOURCE" => r => r.Source,
            "HOST" => r => r.Host,
            "SESSION" => r => r.Session,
            "TIME" => r => NdjsonWriter.FormatTime(r.Time),
            _ => r => Lookup(r.Fields, name) ?? Lookup(r.Decoration, name),
        };
    }

    /// <summary>A key of <paramref name="map"/>: the exact spelling, else case-insensitively; null when absent.</summary>
    public static string? Lookup(IReadOnlyDictionary<string, string>? map, string key)
    {
        if (map is null)
        {
            return null;
        }

        if (map.TryGetValue(key, out var value))
        {
            return value;
        }

        foreach (var (k, v) in map)
        {
            if (string.Equals(k, key, StringComparison.OrdinalIgnoreCase))
            {
                return v;
            }
        }

        return null;
    }
}
