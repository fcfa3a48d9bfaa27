using System.Text.Json;
using SessionTrail.Agent.Config;
using SessionTrail.Agent.Ids;
using SessionTrail.Agent.Sinks;
using SessionTrail.Agent.Sources;
using SessionTrail.Agent.Storage;

namespace SessionTrail.Agent.Sinks.FileSystem;

/// <summary>One file of an append: its length before and after.</summary>
public sealed record AppendedFile(string Path, long Start, long End);

/// <summary>
/// The FileSystem sink's record of its last append (DIR/agent/sinks/ID/append-journal.json), written
/// atomically BEFORE the append: the batch's first and last record ids and, per file, its length before
/// and after. When the same batch comes again (the agent stopped between the append and the queue's
/// acknowledgement), each file still ending within [Start, End] is cut back to Start and the batch is
/// appended again, so it is in the file exactly once, even if the first append was torn.
/// </summary>
public sealed record AppendJournal(string FirstId, string LastId, IReadOnlyList<AppendedFile> Files)
{
    public static AppendJournal? Load(string path)
    {
        if (!File.Exists(path))
        {
            return null;
        }

        try
        {
            using var json = JsonDocument.Parse(File.ReadAllBytes(path));
            var root = json.RootElement;
            var files = root.GetProperty("files").EnumerateArray()
                .Select(f => new AppendedFile(f.GetProperty("path").GetString()!, f.GetProperty("start").GetInt64(), f.GetProperty("end").GetInt64()))
                .ToList();
            return new AppendJournal(root.GetProperty("firstId").GetString()!, root.GetProperty("lastId").GetString()!, files);
        }
        catch (Exception ex) when (ex is JsonException or KeyNotFoundException or InvalidOperationException)
        {
            throw new InvalidDataException($"The append journal {path} is not valid ({ex.Message}); delete it to go on (the last batch may then be written twice).", ex);
        }
    }

    public void Save(string path)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("firstId", FirstId);
            json.WriteString("lastId", LastId);
            json.WriteStartArray("files");
            foreach (var f in Files)
            {
                json.WriteStartObject();
                json.WriteString("path", f.Path);
                json.WriteNumber("start", f.Start);
                json.WriteNumber("end", f.End);
                json.WriteEndObject();
            }

            json.WriteEndArray();
            json.WriteEndObject();
        }

        AtomicFile.WriteAllBytes(path, buffer.ToArray());
    }
}
