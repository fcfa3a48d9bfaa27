using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Serialization;
using SessionTrail.Agent.Sessions;
using SessionTrail.Core.Records;

namespace SessionTrail.Agent.Recording;

/// <summary>chain.json: the recorder's state for one session (next index, the last closed segment's hash).</summary>
public sealed record ChainState
{
    public required string Session { get; init; }

    /// <summary>Index the next segment gets; never reused, also after a crash.</summary>
    public int NextIndex { get; init; }

    /// <summary>SHA-256 of the last closed segment (the next one's prevSha256); null before the first.</summary>
    public string? LastSha256 { get; init; }

    /// <summary>End of the last closed segment.</summary>
    public DateTimeOffset? LastEnd { get; init; }

    /// <summary>Segment records up to this index are durable in the agent's queues (-1: none); later ones are sent again at start.</summary>
    public int EmittedThrough { get; init; } = -1;
}

/// <summary>
/// One session's folder in the spool (<see cref="RecordingSpool"/>): closes segments — SHA-256, size, codec and
/// size by ffprobe, the sidecar written atomically, then chain.json — and keeps the hash chain.
/// Not thread-safe: one recorder per session.
/// </summary>
public sealed class SessionSpool
{
    private ChainState _state;

    private SessionSpool(string directory, ChainState state)
    {
        Directory = directory;
        _state = state;
    }

    public string Directory { get; }

    public string SessionId => _state.Session;

    public ChainState State => _state;

    public string ChainPath => Path.Combine(Directory, "chain.json");

    /// <summary>Opens (creating, 0700) the session's folder and reconciles chain.json with the sidecars and files present.</summary>
    public static SessionSpool Open(string dataDir, string sessionId)
    {
        RecordingFiles.CreatePrivateDirectory(RecordingSpool.Root(dataDir));
        var dir = RecordingSpool.SessionDirectory(dataDir, sessionId);
        RecordingFiles.CreatePrivateDirectory(dir);
        var chainPath = Path.Combine(dir, "chain.json");
        ChainState state = new() { Session = sessionId };
        if (File.Exists(chainPath))
        {
            try
            {
                state = JsonSerializer.Deserialize(File.ReadAllBytes(chainPath), RecorderJsonContext.Default.ChainState) ?? state;
            }
            catch (JsonException ex)
            {
                throw new InvalidDataException($"{chainPath}: not a recording chain state: {ex.Message}", ex);
            }
        }

        // A crash between the sidecar and chain.json leaves chain.json behind: the highest sidecar wins.
        var spool = new SessionSpool(dir, state);
        var sidecars = spool.Sidecars();
        var last = sidecars.Count > 0 ? sidecars[^1] : null;
        if (last is not null && last.Index >= state.NextIndex)
        {
            spool._state = state with { NextIndex = last.Index + 1, LastSha256 = last.Sha256, LastEnd = last.End };
        }

        var highestFile = spool.SegmentIndexes().DefaultIfEmpty(-1).Max();
        if (highestFile >= spool._state.NextIndex)
        {
            spool._state = spool._state with { NextIndex = highestFile + 1 };
        }

        spool.SaveState();
        return spool;
    }

    /// <summary>Sessions with a folder in the spool (their ids, decoded from the folder names).</summary>
    public static IReadOnlyList<string> SessionIds(string dataDir)
    {
        var root = RecordingSpool.Root(dataDir);
        if (!System.IO.Directory.Exists(root))
        {
            return [];
        }

        return [.. System.IO.Directory.GetDirectories(root)
            .Where(d => File.Exists(Path.Combine(d, "chain.json")))
            .Select(d => JsonSerializer.Deserialize(File.ReadAllBytes(Path.Combine(d, "chain.json")), RecorderJsonContext.Default.ChainState)?.Session)
            .OfType<string>()];
    }

    /// <summary>Writes session.json (who/what the session is) once, 0600.</summary>
    public void WriteSessionInfo(CurrentSession session) =>
        RecordingFiles.WritePrivateAtomically(Path.Combine(Directory, "session.json"), JsonSerializer.SerializeToUtf8Bytes(session, RecorderJsonContext.Default.CurrentSession));

    public string SegmentPath(int index) => Path.Combine(Directory, RecordingSpool.SegmentFileName(index));

    /// <summary>Indexes of .mp4 files present, ascending.</summary>
    public IReadOnlyList<int> SegmentIndexes() => [.. System.IO.Directory.GetFiles(Directory, "*.mp4")
        .Select(f => Path.GetFileNameWithoutExtension(f))
        .Where(n => n.Length == 6 && n.All(char.IsAsciiDigit))
        .Select(n => int.Parse(n, CultureInfo.InvariantCulture))
        .Order()];

    /// <summary>Segments whose .mp4 exists without a sidecar: open (or left open by a crash).</summary>
    public IReadOnlyList<int> OpenSegments() => [.. SegmentIndexes().Where(i => !File.Exists(Path.Combine(Directory, RecordingSpool.SidecarFileName(i))))];

    /// <summary>Closed segments (their sidecars), ascending.</summary>
    public IReadOnlyList<RecordingSegmentRecord> Sidecars() => [.. System.IO.Directory.GetFiles(Directory, "*.json")
        .Select(f => Path.GetFileNameWithoutExtension(f))
        .Where(n => n.Length == 6 && n.All(char.IsAsciiDigit))
        .Select(n => RecordingSpool.ReadSidecar(Path.Combine(Directory, n + ".json")))
        .OrderBy(s => s.Index)];

    /// <summary>Reserves the indexes up to <paramref name="index"/> (a run started writing there).</summary>
    public void Reserve(int index)
    {
        if (index >= _state.NextIndex)
        {
            _state = _state with { NextIndex = index + 1 };
            SaveState();
        }
    }

    /// <summary>
    /// Closes segment <paramref name="index"/>: hashes it, reads codec and size (ffprobe when available, else
    /// <paramref name="fallback"/>), writes its sidecar atomically, then chain.json. Returns the segment's record (as <see cref="RecordingSpool.ReadSidecar"/> reads it back).
    /// </summary>
    /// <param name="endIsClose">True when <paramref name="end"/> is when the segment was closed rather than ffmpeg's own end time
    /// (a killed ffmpeg): the end is then trimmed to what is on disk.</param>
    public async Task<RecordingSegmentRecord> CloseAsync(int index, DateTimeOffset? start, DateTimeOffset? end, int fps, string reason, (int Width, int Height)? fallback, string? ffprobe, CancellationToken cancellationToken, bool endIsClose = false)
    {
        var path = SegmentPath(index);
        RecordingFiles.MakePrivate(path);
        string sha;
        long bytes;
        await using (var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 1 << 16, useAsync: true))
        {
            sha = Convert.ToHexStringLower(await SHA256.HashDataAsync(stream, cancellationToken));
            bytes = stream.Length;
        }

        var probe = ffprobe is null ? null : await SegmentProbe.ProbeAsync(ffprobe, path, cancellationToken);
        var mtime = new DateTimeOffset(File.GetLastWriteTimeUtc(path), TimeSpan.Zero);
        var segmentEnd = end ?? mtime;

        // What is on disk ends earlier than the close when ffmpeg was killed (its last fragment and look-ahead are lost).
        if (endIsClose && start is { } s && probe?.Duration is { } onDisk && s + onDisk < segmentEnd)
        {
            segmentEnd = s + onDisk;
        }

        var segmentStart = start ?? (probe?.Duration is { } d ? segmentEnd - d : segmentEnd);
        segmentEnd = segmentEnd < segmentStart ? segmentStart : segmentEnd;
        var sidecar = new RecordingSegmentRecord
        {
            Time = segmentEnd,
            Host = "", // set, with the id, when the record is sent
            Session = SessionId,
            Index = index,
            Start = segmentStart,
            End = segmentEnd,
            Width = probe?.Width ?? fallback?.Width ?? 0,
            Height = probe?.Height ?? fallback?.Height ?? 0,
            Fps = fps,
            Codec = probe?.Codec ?? "h264",
            Bytes = bytes,
            Sha256 = sha,
            PreviousSha256 = _state.LastSha256,
            File = RecordingSpool.SegmentFileName(index),
            EndReason = reason,
        };
        RecordingFiles.WritePrivateAtomically(Path.Combine(Directory, RecordingSpool.SidecarFileName(index)), RecordingSpool.SerializeSidecar(sidecar));
        _state = _state with { NextIndex = Math.Max(_state.NextIndex, index + 1), LastSha256 = sha, LastEnd = sidecar.End };
        SaveState();
        return sidecar;
    }

    /// <summary>Remembers that the records up to <paramref name="index"/> are durable in the agent's queues.</summary>
    public void MarkEmitted(int index)
    {
        if (index > _state.EmittedThrough)
        {
            _state = _state with { EmittedThrough = index };
            SaveState();
        }
    }

    /// <summary>The deterministic record id of a segment: a re-send after a crash is a duplicate the server drops.</summary>
    public static string RecordId(string session, int index) => $"rec:{session}:{index.ToString(CultureInfo.InvariantCulture)}";

    private void SaveState() => RecordingFiles.WritePrivateAtomically(ChainPath, JsonSerializer.SerializeToUtf8Bytes(_state, RecorderJsonContext.Default.ChainState));
}

/// <summary>What ffprobe says about a segment's video stream.</summary>
public sealed record SegmentProbeResult(string? Codec, int? Width, int? Height, TimeSpan? Duration);

/// <summary>Runs ffprobe on one segment (codec, size, duration); null when ffprobe fails (the caller falls back on its own arguments).</summary>
public static class SegmentProbe
{
    public static async Task<SegmentProbeResult?> ProbeAsync(string ffprobe, string path, CancellationToken cancellationToken)
    {
        try
        {
            var r = await ExternalTool.RunAsync(ffprobe, ["-v", "error", "-select_streams", "v:0", "-show_entries", "stream=codec_name,width,height:format=duration", "-of", "default=nw=1", path], null, TimeSpan.FromSeconds(30), cancellationToken);
            return r.ExitCode == 0 ? Parse(r.Stdout) : null;
        }
        catch (Exception ex) when (ex is System.ComponentModel.Win32Exception or TimeoutException or InvalidOperationException or IOException)
        {
            return null;
        }
    }

    /// <summary>Parses `key=value` lines (codec_name, width, height, duration).</summary>
    public static SegmentProbeResult? Parse(string output)
    {
        ArgumentNullException.ThrowIfNull(output);
        var values = output.Split('\n', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
            .Select(l => l.Split('=', 2))
            .Where(p => p.Length == 2)
            .GroupBy(p => p[0])
            .ToDictionary(g => g.Key, g => g.First()[1]);
        static int? Int(Dictionary<string, string> v, string k) => v.TryGetValue(k, out var s) && int.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out var i) ? i : null;
        var codec = values.GetValueOrDefault("codec_name");
        var duration = values.TryGetValue("duration", out var ds) && double.TryParse(ds, NumberStyles.Float, CultureInfo.InvariantCulture, out var sec) && sec >= 0 && sec < 1e7 ? TimeSpan.FromSeconds(sec) : (TimeSpan?)null;
        return codec is null && Int(values, "width") is null ? null : new SegmentProbeResult(codec, Int(values, "width"), Int(values, "height"), duration);
    }
}

[JsonSourceGenerationOptions(WriteIndented = true, PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(ChainState))]
[JsonSerializable(typeof(CurrentSession))]
internal sealed partial class RecorderJsonContext : JsonSerializerContext;
