using System.Text.Json;
using SessionTrail.Agent.Config;
using SessionTrail.Agent.Ids;
using SessionTrail.Agent.Sinks;
using SessionTrail.Agent.Sources;

namespace SessionTrail.Agent.Sources.Files;

/// <summary>
/// "SingleLineJson": each line is a JSON object; its top-level properties become fields (strings as
/// they are, other values as their JSON text). TimestampField names the property with the record's time
/// (read with TimestampFormat, or as ISO 8601 without one). A line that is not a JSON object is still
/// emitted, with "_parseerror".
/// </summary>
public sealed class JsonLineParser(string? timestampField, TimestampReader timestamps) : FileRecordParser
{
    public override DateTimeOffset? Parse(string text, FileParserState state, Dictionary<string, string> fields)
    {
        ArgumentNullException.ThrowIfNull(fields);
        try
        {
            using var doc = JsonDocument.Parse(text, new JsonDocumentOptions { MaxDepth = 64 });
            if (doc.RootElement.ValueKind != JsonValueKind.Object)
            {
                fields[ParseErrorField] = "not a JSON object";
                return null;
            }

            DateTimeOffset? time = null;
            foreach (var property in doc.RootElement.EnumerateObject())
            {
                var value = property.Value.ValueKind == JsonValueKind.String ? property.Value.GetString()! : property.Value.GetRawText();
                fields[property.Name] = value;
                if (timestampField is not null && string.Equals(property.Name, timestampField, StringComparison.OrdinalIgnoreCase) && timestamps.TryRead(value, out var t))
                {
                    time = t;
                }
            }

            return time;
        }
        catch (JsonException ex)
        {
            fields[ParseErrorField] = "not valid JSON: " + ex.Message;
            return null;
        }
    }
}
