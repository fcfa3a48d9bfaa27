using System.Text.Encodings.Web;
using System.Text.Json;

namespace SessionTrail.Server.Store;

/// <summary>
/// How a log record's <c>fields</c> and <c>decoration</c> maps are stored: a JSON object of strings with
/// non-ASCII text unescaped (readable with the sqlite3 shell; the full-text index reads the values via json_each).
/// </summary>
internal static class LogJson
{
    private static readonly JsonSerializerOptions Options = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>The map as JSON text, or null for no map.</summary>
    public static string? Map(IReadOnlyDictionary<string, string>? map) =>
        map is null ? null : JsonSerializer.Serialize(map, Options);

    /// <summary>Stored JSON text back to a map (null stays null).</summary>
    public static Dictionary<string, string>? Parse(string? json) =>
        json is null ? null : JsonSerializer.Deserialize<Dictionary<string, string>>(json, Options);
}
