using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using SessionTrail.Agent.Config;
using SessionTrail.Agent.Ids;
using SessionTrail.Agent.Sinks;
using SessionTrail.Agent.Storage;

namespace SessionTrail.Agent.Sources;

/// <summary>
/// Source positions in DIR/agent/bookmarks/SOURCE-ID.json, each replaced atomically (old or new content
/// after a crash, never a mix). A source saves only after the records before the position are durable in
/// every queue (<see cref="Sources.IDurableRecordOutput.WhenDurableAsync"/>).
/// </summary>
public sealed class BookmarkStore(string dataDir)
{
    public string Directory { get; } = System.IO.Path.Combine(Core.DataDirectory.AgentDirectory(dataDir), "bookmarks");

    /// <summary>The file of one source; the id is made file-name safe (other characters become '_').</summary>
    public string PathOf(string sourceId) =>
        System.IO.Path.Combine(Directory, new string([.. sourceId.Select(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '.' ? c : '_')]) + ".json");

    /// <summary>The saved position, or default when there is none. An unreadable file throws <see cref="InvalidDataException"/> naming it.</summary>
    public T? Load<T>(string sourceId, JsonTypeInfo<T> type)
    {
        var path = PathOf(sourceId);
        if (!File.Exists(path))
        {
            return default;
        }

        try
        {
            return JsonSerializer.Deserialize(File.ReadAllBytes(path), type);
        }
        catch (JsonException ex)
        {
            throw new InvalidDataException($"Bookmark file {path} is not valid: {ex.Message}", ex);
        }
    }

    public void Save<T>(string sourceId, T value, JsonTypeInfo<T> type) =>
        AtomicFile.WriteAllBytes(PathOf(sourceId), JsonSerializer.SerializeToUtf8Bytes(value, type));
}
