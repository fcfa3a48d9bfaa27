using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using SessionTrail.Core;
using SessionTrail.Core.Records;

namespace SessionTrail.Agent.Recording;

/// <summary>
/// The on-disk contract between the recorder (writes) and the uploader (reads, deletes) — DIR/agent/recordings:
/// <code>
/// recordings/                      0700, owned by the agent (root / LocalSystem)
///   {session-dir}/                 one per session (see <see cref="SessionDirectoryName"/>)
///     session.json                 the session (id, user, stack, fleet …) when recording began
///     chain.json                   recorder state: next index, SHA-256 of the last closed segment
///     000000.mp4                   segment 0: fragmented MP4, growing while open, 0600
///     000000.json                  written (atomically) once segment 0 is closed and hashed: its <see cref="RecordingSegmentRecord"/>
///     000000.uploaded              written by the uploader once the server (or S3) accepted the whole segment
/// </code>
/// A segment is <em>open</em> while its .mp4 exists without its .json. Only the uploader deletes .mp4 files,
/// and only those with a .uploaded marker.
/// </summary>
public static class RecordingSpool
{
    public static string Root(string dataDir) => Path.Combine(DataDirectory.AgentDirectory(dataDir), "recordings");

    /// <summary>A file-name-safe, reversible folder name for a session id: [A-Za-z0-9._-] kept, others %XX (UTF-8).</summary>
    public static string SessionDirectoryName(string sessionId) => SessionTrail.Core.SafeFileName.Encode(sessionId);

    public static string SessionDirectory(string dataDir, string sessionId) => Path.Combine(Root(dataDir), SessionDirectoryName(sessionId));

    public static string SegmentFileName(int index) => index.ToString("D6", CultureInfo.InvariantCulture) + ".mp4";

    public static string SidecarFileName(int index) => index.ToString("D6", CultureInfo.InvariantCulture) + ".json";

    public static string UploadedMarkerName(int index) => index.ToString("D6", CultureInfo.InvariantCulture) + ".uploaded";

    /// <summary>
    /// Reads a sidecar: the segment's record as the spool keeps it. The file leaves out what is set when the
    /// record is sent (id and host: <see cref="TrailRecord.Id"/> and <see cref="TrailRecord.Host"/> are empty
    /// here); its time is the segment's end. Throws <see cref="JsonException"/> / <see cref="IOException"/> when
    /// it is unreadable.
    /// </summary>
    public static RecordingSegmentRecord ReadSidecar(string path)
    {
        var segment = JsonSerializer.Deserialize(File.ReadAllBytes(path), SidecarJson) ?? throw new JsonException($"{path}: empty");
        // What the file leaves out comes back null/default from the reader, not as the record's own defaults.
        return segment with { Id = "", Time = segment.End, Host = "" };
    }

    /// <summary>The sidecar of <paramref name="segment"/>: its fields camelCase and indented, without id, host, time or kind.</summary>
    public static byte[] SerializeSidecar(RecordingSegmentRecord segment) => JsonSerializer.SerializeToUtf8Bytes(segment, SidecarJson);

    /// <summary>The record as a sidecar: what is set when the record is sent is not kept.</summary>
    private static readonly JsonTypeInfo<RecordingSegmentRecord> SidecarJson = (JsonTypeInfo<RecordingSegmentRecord>)new JsonSerializerOptions(SpoolJsonContext.Default.Options)
    {
        TypeInfoResolver = SpoolJsonContext.Default.WithAddedModifier(LeaveOutWhatIsSetWhenSent),
    }.GetTypeInfo(typeof(RecordingSegmentRecord));

    private static void LeaveOutWhatIsSetWhenSent(JsonTypeInfo type)
    {
        if (type.Type != typeof(RecordingSegmentRecord))
        {
            return;
        }

        foreach (var property in type.Properties)
        {
            switch (property.Name)
            {
                case "id" or "time" or "host" or "kind":
                    property.ShouldSerialize = static (_, _) => false; // neither written nor needed to read
                    property.IsRequired = false;
                    break;
                case "session":
                    property.IsRequired = true; // a sidecar always names its session, first
                    property.Order = -1;
                    break;
            }
        }
    }
}

[JsonSourceGenerationOptions(WriteIndented = true, PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(RecordingSegmentRecord))]
internal sealed partial class SpoolJsonContext : JsonSerializerContext;
