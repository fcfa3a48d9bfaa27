using System.Globalization;
using System.Text;
using System.Text.Json;
using SessionTrail.Agent.Config;
using SessionTrail.Agent.Ids;
using SessionTrail.Agent.Sinks;
using SessionTrail.Agent.Sources;
using SessionTrail.Core.Records;

namespace SessionTrail.Agent.Sources.Journald;

/// <summary>One line of <c>journalctl --output=json</c> read: the record, or why the line could not be used.</summary>
public sealed record JournalEntryResult(LogRecord? Record, string? Cursor, string? Error);

/// <summary>
/// Reads one line of <c>journalctl --output=json</c> into a <see cref="LogRecord"/>. A field's value is
/// a string, an array of byte values (binary data or text that is not UTF-8), an array of those for a
/// field repeated in the entry, or null (a value journalctl did not print). Mapping: Time =
/// <c>__REALTIME_TIMESTAMP</c> (µs since 1970), Channel = <c>_SYSTEMD_UNIT</c> (else <c>SYSLOG_IDENTIFIER</c>,
/// else <c>_COMM</c>), Provider = <c>SYSLOG_IDENTIFIER</c> (else <c>_COMM</c>), Level = the syslog name of
/// <c>PRIORITY</c>, Message = <c>MESSAGE</c> (bytes decoded as UTF-8), Host = <c>_HOSTNAME</c> (else the
/// agent's), Fields = every other field not starting with <c>__</c> (binary data that is UTF-8 text without
/// control characters other than tab and line breaks as that text, other binary as <c>base64:...</c>; the 2nd, 3rd, ... value of a repeated field as <c>NAME_1</c>, <c>NAME_2</c>, ...),
/// Id = <see cref="LogIds.For"/>(host, source, <c>__CURSOR</c>). A pure function: never throws for any line.
/// </summary>
public static class JournalEntry
{
    private static readonly string[] PriorityNames = ["emerg", "alert", "crit", "err", "warning", "notice", "info", "debug"];
    private static readonly UTF8Encoding StrictUtf8 = new(false, throwOnInvalidBytes: true);

    /// <summary>The syslog name of a priority 0..7 ("emerg" .. "debug"), null otherwise.</summary>
    public static string? PriorityName(int priority) => priority is >= 0 and <= 7 ? PriorityNames[priority] : null;

    /// <summary>A priority given as a name (emerg .. debug, also "warn", "error", "crit") or number 0..7; -1 when it is neither.</summary>
    public static int ParsePriority(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var t = text.Trim();
        if (int.TryParse(t, NumberStyles.None, CultureInfo.InvariantCulture, out var n))
        {
            return n is >= 0 and <= 7 ? n : -1;
        }

        var index = Array.FindIndex(PriorityNames, p => string.Equals(p, t, StringComparison.OrdinalIgnoreCase));
        return index >= 0 ? index
            : t.Equals("warn", StringComparison.OrdinalIgnoreCase) ? 4
            : t.Equals("error", StringComparison.OrdinalIgnoreCase) ? 3
            : t.Equals("critical", StringComparison.OrdinalIgnoreCase) ? 2
            : t.Equals("emergency", StringComparison.OrdinalIgnoreCase) ? 0
            : -1;
    }

    public static JournalEntryResult Parse(ReadOnlySpan<byte> line, string host, string sourceId)
    {
        JsonDocument document;
        try
        {
            var reader = new Utf8JsonReader(line, new JsonReaderOptions { MaxDepth = 8 });
            document = JsonDocument.ParseValue(ref reader);
            if (reader.Read())
            {
                document.Dispose();
                return new(null, null, "not JSON: more than one value on the line");
            }
        }
        catch (JsonException ex)
        {
            return new(null, null, "not JSON: " + ex.Message);
        }

        using (document)
        {
            try
            {
                return Map(document.RootElement, host, sourceId);
            }
            catch (InvalidOperationException ex) when (ex.InnerException is DecoderFallbackException)
            {
                return new(null, null, "a JSON string that is not valid UTF-8");
            }
        }
    }

    private static JournalEntryResult Map(JsonElement entry, string host, string sourceId)
    {
        if (entry.ValueKind != JsonValueKind.Object)
        {
            return new(null, null, $"a JSON {entry.ValueKind.ToString().ToLowerInvariant()}, not an object");
        }

        string? cursor = null;
        string? realtime = null;
        string? message = null;
        var fields = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var property in entry.EnumerateObject())
        {
            var name = property.Name;
            if (name == "__CURSOR")
            {
                cursor = property.Value.ValueKind == JsonValueKind.String ? property.Value.GetString() : null;
            }
            else if (name == "__REALTIME_TIMESTAMP")
            {
                realtime = property.Value.ValueKind == JsonValueKind.String ? property.Value.GetString() : property.Value.ToString();
            }
            else if (name.StartsWith("__", StringComparison.Ordinal))
            {
                continue; // address fields (monotonic time, sequence numbers): the cursor covers them
            }
            else if (name == "MESSAGE")
            {
                message = string.Join('\n', Values(property.Value, lenientText: true));
            }
            else
            {
                var i = 0;
                foreach (var value in Values(property.Value, lenientText: false))
                {
                    fields[i == 0 ? name : name + "_" + i.ToString(CultureInfo.InvariantCulture)] = value;
                    i++;
                }
            }
        }

        if (string.IsNullOrEmpty(cursor))
        {
            return new(null, null, "no __CURSOR");
        }

        if (!long.TryParse(realtime, NumberStyles.None, CultureInfo.InvariantCulture, out var micros) || micros > 253_402_300_799_999_999)
        {
            return new(null, cursor, $"__REALTIME_TIMESTAMP '{realtime}' is not microseconds since 1970");
        }

        var priority = fields.TryGetValue("PRIORITY", out var p) && int.TryParse(p, NumberStyles.None, CultureInfo.InvariantCulture, out var pn) ? PriorityName(pn) : null;
        var identifier = fields.GetValueOrDefault("SYSLOG_IDENTIFIER") ?? fields.GetValueOrDefault("_COMM");
        var entryHost = fields.GetValueOrDefault("_HOSTNAME") is { Length: > 0 } h ? h : host;
        var record = new LogRecord
        {
            Id = LogIds.For(host, sourceId, cursor),
            Time = DateTimeOffset.UnixEpoch.AddTicks(micros * 10),
            Host = entryHost,
            Source = sourceId,
            Channel = fields.GetValueOrDefault("_SYSTEMD_UNIT") ?? identifier,
            Provider = identifier,
            Level = priority,
            Message = message ?? "",
            Fields = fields,
        };
        return new(record, cursor, null);
    }

    /// <summary>The values of one field: one for a plain field, several for a repeated one.</summary>
    private static IEnumerable<string> Values(JsonElement value, bool lenientText)
    {
        switch (value.ValueKind)
        {
            case JsonValueKind.String:
                yield return value.GetString()!;
                break;
            case JsonValueKind.Array when IsBytes(value):
                yield return Bytes(value, lenientText);
                break;
            case JsonValueKind.Array:
                foreach (var item in value.EnumerateArray())
                {
                    yield return item.ValueKind switch
                    {
                        JsonValueKind.String => item.GetString()!,
                        JsonValueKind.Array when IsBytes(item) => Bytes(item, lenientText),
                        JsonValueKind.Null => "",
                        _ => item.GetRawText(),
                    };
                }

                break;
            case JsonValueKind.Null:
                yield return "";
                break;
            default:
                yield return value.GetRawText();
                break;
        }
    }

    private static bool IsBytes(JsonElement array)
    {
        foreach (var item in array.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.Number || !item.TryGetByte(out _))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Binary data: its UTF-8 text when it is valid UTF-8 (always, with replacement characters, for the message), else base64.</summary>
    private static string Bytes(JsonElement array, bool lenientText)
    {
        var bytes = new byte[array.GetArrayLength()];
        var i = 0;
        foreach (var item in array.EnumerateArray())
        {
            bytes[i++] = item.GetByte();
        }

        if (lenientText)
        {
            return Encoding.UTF8.GetString(bytes);
        }

        try
        {
            var text = StrictUtf8.GetString(bytes);
            return text.Any(c => char.IsControl(c) && c is not ('\t' or '\n' or '\r')) ? "base64:" + Convert.ToBase64String(bytes) : text;
        }
        catch (DecoderFallbackException)
        {
            return "base64:" + Convert.ToBase64String(bytes);
        }
    }
}
