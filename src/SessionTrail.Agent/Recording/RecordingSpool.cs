using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
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
///     000000.json                  written (atomically) once segment 0 is closed and hashed: <see cref="SegmentSidecar"/>
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

    /// <summary>Reads a sidecar; throws <see cref="JsonException"/> / <see cref="IOException"/> when it is unreadable.</summary>
    public static SegmentSidecar ReadSidecar(string path) =>
        JsonSerializer.Deserialize(File.ReadAllBytes(path), SpoolJsonContext.Default.SegmentSidecar) ?? throw new JsonException($"{path}: empty");

    public static byte[] SerializeSidecar(SegmentSidecar sidecar) => JsonSerializer.SerializeToUtf8Bytes(sidecar, SpoolJsonContext.Default.SegmentSidecar);
}

/// <summary>A closed segment's metadata as kept beside it in the spool (the same fields as <see cref="RecordingSegmentRecord"/>).</summary>
public sealed record SegmentSidecar
{
    public required string Session { get; init; }

    public required int Index { get; init; }

    public required DateTimeOffset Start { get; init; }

    public required DateTimeOffset End { get; init; }

    public required int Width { get; init; }

    public required int Height { get; init; }

    public required int Fps { get; init; }

    public required string Codec { get; init; }

    public required long Bytes { get; init; }

    public required string Sha256 { get; init; }

    public string? PreviousSha256 { get; init; }

    public required string File { get; init; }

    public string? EndReason { get; init; }

    /// <summary>The record sent through the pipeline for this segment (same id, so a re-send is a duplicate).</summary>
    public RecordingSegmentRecord ToRecord(string id, string host) => new()
    {
        Id = id,
        Time = End,
        Host = host,
        Session = Session,
        Index = Index,
        Start = Start,
        End = End,
        Width = Width,
        Height = Height,
        Fps = Fps,
        Codec = Codec,
        Bytes = Bytes,
        Sha256 = Sha256,
        PreviousSha256 = PreviousSha256,
        File = File,
        EndReason = EndReason,
    };
}

[JsonSourceGenerationOptions(WriteIndented = true, PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(SegmentSidecar))]
internal sealed partial class SpoolJsonContext : JsonSerializerContext;
