using System.Text.Json.Serialization;
using SessionTrail.Agent.Config;
using SessionTrail.Agent.Ids;
using SessionTrail.Agent.Sinks;
using SessionTrail.Agent.Sources;

namespace SessionTrail.Agent.Sources.Files;

/// <summary>What a DirectorySource saves in DIR/agent/bookmarks/ID.json: every tracked file.</summary>
public sealed class DirectoryBookmark
{
    public int Version { get; set; } = 1;

    public List<FileBookmark> Files { get; set; } = [];
}

/// <summary>One file: its identity, the fingerprint of its first bytes, and the end of the last record that is durable.</summary>
public sealed class FileBookmark
{
    /// <summary>"device:inode" (Linux) or "volume:file index" (Windows).</summary>
    public string Identity { get; set; } = "";

    /// <summary>Where the file was last seen (informational; the identity decides).</summary>
    public string Path { get; set; } = "";

    public long Offset { get; set; }

    /// <summary>Number of the line at <see cref="Offset"/>.</summary>
    public long Line { get; set; } = 1;

    public int FingerprintLength { get; set; }

    /// <summary>Hash of the first <see cref="FingerprintLength"/> bytes (up to 1 KiB): tells a reused inode from the file it was.</summary>
    public string Fingerprint { get; set; } = "";

    /// <summary>The delimited parser's header of this file, when it learned one from a header line.</summary>
    public List<string>? Headers { get; set; }
}

[JsonSourceGenerationOptions(WriteIndented = true)]
[JsonSerializable(typeof(DirectoryBookmark))]
internal sealed partial class DirectoryBookmarkJsonContext : JsonSerializerContext;
