using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using SessionTrail.Agent.Config;
using SessionTrail.Agent.Ids;
using SessionTrail.Agent.Sources;
using SessionTrail.Core.Formats;
using SessionTrail.Core.Records;

namespace SessionTrail.Agent.Sinks;

/// <summary>The output formats of the log sinks (KinesisTap's "Format" key).</summary>
public enum LogFormat
{
    /// <summary>"json": one JSON object per record (<see cref="LogDocument.ToJson"/>).</summary>
    Json,

    /// <summary>"" or "text": the record's message line (<see cref="LogDocument.ToText"/>).</summary>
    Text,
}

/// <summary>
/// A record as the log sinks write it: a JSON object in the shape of KinesisTap's <c>Format: json</c>,
/// or the plain message line.
/// </summary>
/// <remarks>
/// <para>A <see cref="LogRecord"/> with an <see cref="LogRecord.EventId"/> is an event-log entry and has
/// KinesisTap's event shape: <c>EventId</c>, <c>Description</c> (message), <c>LevelDisplayName</c>,
/// <c>LogName</c> (channel), <c>MachineName</c> (host), <c>ProviderName</c>, <c>TimeCreated</c> (UTC
/// ISO-8601), <c>Index</c> (field RecordId or EventRecordID, a number when it is one, else null),
/// <c>UserName</c> (field UserName, UserId or UserSid, else null), <c>Keywords</c> (field Keywords, else
/// null) and <c>EventData</c>: the other fields as a name → value object (KinesisTap writes an array of
/// unnamed values).</para>
/// <para>Any other log record: <c>Timestamp</c> (UTC ISO-8601), <c>Source</c>, <c>Channel</c>,
/// <c>Provider</c> and <c>Level</c> when known, <c>Message</c>, then its fields as top-level keys.</para>
/// <para>Then, for both: <c>SessionTrailId</c> (the record id), <c>Session</c> when known, <c>Host</c>,
/// and the decoration keys at top level. Keys are unique: a field whose name is already taken is written
/// as <c>field.NAME</c>, a decoration key that is taken as <c>decoration.NAME</c> (a decoration never
/// overwrites what the source read). Process and session records are written as their SessionTrail
/// NDJSON object.</para>
/// <para>Text: the message (for process/session records, the NDJSON object); the sinks add the newline.</para>
/// </remarks>
public static class LogDocument
{
    private static readonly JsonWriterOptions WriterOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private static readonly string[] IndexFields = ["RecordId", "EventRecordID"];
    private static readonly string[] UserFields = ["UserName", "UserId", "UserSid"];
    private static readonly string[] KeywordFields = ["Keywords"];

    /// <summary>Parses a "Format" value: json (default when absent) or text ("" or "text").</summary>
    public static LogFormat ParseFormat(ConfigNode config)
    {
        ArgumentNullException.ThrowIfNull(config);
        if (!config.Has("Format"))
        {
            return LogFormat.Json;
        }

        var value = config.Section.GetSection("Format").Value ?? "";
        return value.Trim().ToUpperInvariant() switch
        {
            "JSON" => LogFormat.Json,
            "" or "TEXT" => LogFormat.Text,
            _ => throw new LogConfigException(config.KeyPath("Format"), $"must be json or \"\" (text), not '{value}' (xml, xml2 and renderedxml are not supported)"),
        };
    }

    /// <summary>The record in <paramref name="format"/>, without a trailing newline.</summary>
    public static byte[] Render(TrailRecord record, LogFormat format) =>
        format == LogFormat.Json ? ToJson(record) : Encoding.UTF8.GetBytes(ToText(record));

    /// <summary>The record as one JSON object (UTF-8, no newline).</summary>
    public static byte[] ToJson(TrailRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        if (record is not LogRecord log)
        {
            var line = NdjsonWriter.ToLine(record);
            return line.AsSpan().TrimEnd((byte)'\n').ToArray();
        }

        var buffer = new ArrayBufferWriter<byte>(512);
        using (var json = new Utf8JsonWriter(buffer, WriterOptions))
        {
            Write(log, json);
        }

        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>The message text (process and session records: their NDJSON object).</summary>
    public static string ToText(TrailRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        return record is LogRecord log ? log.Message : Encoding.UTF8.GetString(ToJson(record));
    }

    /// <summary>Writes the object of <paramref name="log"/> (see the remarks of <see cref="LogDocument"/>).</summary>
    public static void Write(LogRecord log, Utf8JsonWriter json)
    {
        ArgumentNullException.ThrowIfNull(log);
        ArgumentNullException.ThrowIfNull(json);
        var taken = new HashSet<string>(StringComparer.Ordinal);
        json.WriteStartObject();
        var fields = log.Fields ?? new Dictionary<string, string>();
        if (log.EventId is { } eventId)
        {
            WriteNumber(json, taken, "EventId", eventId);
            WriteString(json, taken, "Description", log.Message);
            WriteString(json, taken, "LevelDisplayName", log.Level);
            WriteString(json, taken, "LogName", log.Channel);
            WriteString(json, taken, "MachineName", log.Host);
            WriteString(json, taken, "ProviderName", log.Provider);
            WriteString(json, taken, "TimeCreated", FormatTime(log.Time));
            var index = First(fields, IndexFields);
            taken.Add("Index");
            if (index is not null && long.TryParse(index.Value.Value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var number))
            {
                json.WriteNumber("Index", number);
            }
            else
            {
                json.WriteString("Index", index?.Value);
            }

            var user = First(fields, UserFields);
            WriteString(json, taken, "UserName", user?.Value, always: true);
            var keywords = First(fields, KeywordFields);
            WriteString(json, taken, "Keywords", keywords?.Value, always: true);
            var used = new HashSet<string>(StringComparer.Ordinal);
            foreach (var f in new[] { index, user, keywords })
            {
                if (f is { } pair)
                {
                    used.Add(pair.Key);
                }
            }

            taken.Add("EventData");
            json.WriteStartObject("EventData");
            foreach (var (name, value) in fields)
            {
                if (!used.Contains(name))
                {
                    json.WriteString(name, value);
                }
            }

            json.WriteEndObject();
            WriteTrailer(log, json, taken);
            return;
        }

        WriteString(json, taken, "Timestamp", FormatTime(log.Time));
        WriteString(json, taken, "Source", log.Source);
        WriteString(json, taken, "Channel", log.Channel);
        WriteString(json, taken, "Provider", log.Provider);
        WriteString(json, taken, "Level", log.Level);
        WriteString(json, taken, "Message", log.Message);

        // Keys written later must not be taken by a field either.
        taken.UnionWith(TrailerKeys);
        foreach (var (name, value) in fields)
        {
            WriteUnique(json, taken, name, "field.", value);
        }

        taken.ExceptWith(TrailerKeys);
        WriteTrailer(log, json, taken);
    }

    /// <summary>ISO-8601 UTC with 7 fractional digits, e.g. 2026-11-22T08:00:00.1234567Z.</summary>
    public static string FormatTime(DateTimeOffset time) =>
        time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'", CultureInfo.InvariantCulture);

    private static readonly string[] TrailerKeys = ["SessionTrailId", "Session", "Host"];

    private static void WriteTrailer(LogRecord log, Utf8JsonWriter json, HashSet<string> taken)
    {
        WriteString(json, taken, "SessionTrailId", log.Id);
        WriteString(json, taken, "Session", log.Session);
        WriteString(json, taken, "Host", log.Host);
        if (log.Decoration is { } decoration)
        {
            foreach (var (name, value) in decoration)
            {
                WriteUnique(json, taken, name, "decoration.", value);
            }
        }

        json.WriteEndObject();
    }

    private static void WriteUnique(Utf8JsonWriter json, HashSet<string> taken, string name, string prefix, string value)
    {
        var key = name;
        if (!taken.Add(key))
        {
            key = prefix + name;
            var n = 2;
            while (!taken.Add(key))
            {
                key = prefix + name + "." + n.ToString(CultureInfo.InvariantCulture);
                n++;
            }
        }

        json.WriteString(key, value);
    }

    private static void WriteString(Utf8JsonWriter json, HashSet<string> taken, string name, string? value, bool always = false)
    {
        taken.Add(name);
        if (value is not null)
        {
            json.WriteString(name, value);
        }
        else if (always)
        {
            json.WriteNull(name);
        }
    }

    private static void WriteNumber(Utf8JsonWriter json, HashSet<string> taken, string name, long value)
    {
        taken.Add(name);
        json.WriteNumber(name, value);
    }

    private static KeyValuePair<string, string>? First(IReadOnlyDictionary<string, string> fields, string[] names)
    {
        foreach (var name in names)
        {
            if (fields.TryGetValue(name, out var value))
            {
                return new KeyValuePair<string, string>(name, value);
            }
        }

        return null;
    }
}
