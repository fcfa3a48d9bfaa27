using System.Globalization;
using System.Text;
using System.Text.Json;

namespace SessionTrail.Agent.Recording.Upload;

/// <summary>One segment found in the spool (see <see cref="RecordingSpool"/>).</summary>
public sealed record SpoolSegment(SpoolSession Session, int Index, string VideoPath, string SidecarPath, string MarkerPath)
{
    /// <summary>"SESSION/INDEX", for status and logs.</summary>
    public string Key => Session.Id + "/" + Index.ToString(CultureInfo.InvariantCulture);

    public bool Closed => File.Exists(SidecarPath);

    public bool Uploaded => File.Exists(MarkerPath);

    /// <summary>Bytes of the video on disk now; -1 when it is gone.</summary>
    public long VideoLength()
    {
        try
        {
            return new FileInfo(VideoPath) is { Exists: true } f ? f.Length : -1;
        }
        catch (IOException)
        {
            return -1;
        }
    }
}

/// <summary>One session folder of the spool, with what its session.json says (any field may be missing).</summary>
public sealed record SpoolSession(string Directory, string Id, DateTimeOffset Started, IReadOnlyDictionary<string, string> Fields)
{
    /// <summary>A field of session.json by any of its names (case-insensitive); null when absent.</summary>
    public string? Field(params string[] names) =>
        names.Select(n => Fields.TryGetValue(n, out var v) ? v : null).FirstOrDefault(v => !string.IsNullOrWhiteSpace(v));
}

/// <summary>Reads the spool's folders: sessions oldest first, each with its segments in index order.</summary>
public static class SpoolScan
{
    /// <summary>Every session folder under <paramref name="root"/> with its segments (video, sidecar or marker present).</summary>
    public static List<(SpoolSession Session, List<SpoolSegment> Segments)> Sessions(string root)
    {
        var result = new List<(SpoolSession, List<SpoolSegment>)>();
        if (!System.IO.Directory.Exists(root))
        {
            return result;
        }

        foreach (var dir in System.IO.Directory.EnumerateDirectories(root))
        {
            var indexes = new SortedSet<int>();
            DateTimeOffset earliest = DateTimeOffset.MaxValue;
            foreach (var file in System.IO.Directory.EnumerateFiles(dir))
            {
                var name = Path.GetFileName(file);
                var dot = name.IndexOf('.', StringComparison.Ordinal);
                if (dot == 6 && int.TryParse(name.AsSpan(0, 6), NumberStyles.None, CultureInfo.InvariantCulture, out var index)
                    && name[dot..] is ".mp4" or ".json" or ".uploaded")
                {
                    indexes.Add(index);
                    var written = File.GetLastWriteTimeUtc(file);
                    earliest = written < earliest ? written : earliest;
                }
            }

            if (indexes.Count == 0)
            {
                continue;
            }

            var session = ReadSession(dir, indexes.Min, earliest);
            result.Add((session, [.. indexes.Select(i => new SpoolSegment(
                session,
                i,
                Path.Combine(dir, RecordingSpool.SegmentFileName(i)),
                Path.Combine(dir, RecordingSpool.SidecarFileName(i)),
                Path.Combine(dir, RecordingSpool.UploadedMarkerName(i))))]));
        }

        result.Sort((a, b) => a.Item1.Started != b.Item1.Started
            ? a.Item1.Started.CompareTo(b.Item1.Started)
            : string.CompareOrdinal(a.Item1.Directory, b.Item1.Directory));
        return result;
    }

    /// <summary>Total bytes of every file under <paramref name="root"/>.</summary>
    public static long TotalBytes(string root)
    {
        if (!System.IO.Directory.Exists(root))
        {
            return 0;
        }

        long total = 0;
        foreach (var file in System.IO.Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories))
        {
            try
            {
                total += new FileInfo(file).Length;
            }
            catch (IOException)
            {
                // deleted meanwhile
            }
        }

        return total;
    }

    /// <summary>The inverse of <see cref="RecordingSpool.SessionDirectoryName"/> (%XX are UTF-8 bytes); null when it does not decode.</summary>
    public static string? DecodeDirectoryName(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        var bytes = new List<byte>(name.Length);
        for (var i = 0; i < name.Length; i++)
        {
            if (name[i] == '%')
            {
                if (i + 2 >= name.Length || !byte.TryParse(name.AsSpan(i + 1, 2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var b))
                {
                    return null;
                }

                bytes.Add(b);
                i += 2;
            }
            else if (name[i] > 127)
            {
                return null;
            }
            else
            {
                bytes.Add((byte)name[i]);
            }
        }

        try
        {
            return new UTF8Encoding(false, throwOnInvalidBytes: true).GetString([.. bytes]);
        }
        catch (DecoderFallbackException)
        {
            return null;
        }
    }

    private static SpoolSession ReadSession(string dir, int firstIndex, DateTimeOffset earliestFile)
    {
        var fields = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        try
        {
            var path = Path.Combine(dir, "session.json");
            if (File.Exists(path))
            {
                using var doc = JsonDocument.Parse(File.ReadAllBytes(path));
                if (doc.RootElement.ValueKind == JsonValueKind.Object)
                {
                    foreach (var p in doc.RootElement.EnumerateObject())
                    {
                        fields[p.Name] = p.Value.ValueKind == JsonValueKind.String ? p.Value.GetString()! : p.Value.GetRawText();
                    }
                }
            }
        }
        catch (Exception e) when (e is IOException or JsonException or UnauthorizedAccessException or InvalidOperationException)
        {
            // an unreadable session.json (InvalidOperationException: a string that is not UTF-8): the folder name and sidecars still name the session
        }

        string? fromSidecar = null;
        DateTimeOffset? firstStart = null;
        try
        {
            var sidecar = Path.Combine(dir, RecordingSpool.SidecarFileName(firstIndex));
            if (File.Exists(sidecar))
            {
                var s = RecordingSpool.ReadSidecar(sidecar);
                fromSidecar = string.IsNullOrWhiteSpace(s.Session) ? null : s.Session;
                firstStart = s.Start;
            }
        }
        catch (Exception e) when (e is IOException or JsonException or UnauthorizedAccessException or InvalidOperationException)
        {
        }

        var name = Path.GetFileName(dir);
        var id = fromSidecar
            ?? (fields.TryGetValue("id", out var i) && !string.IsNullOrWhiteSpace(i) ? i : null)
            ?? (fields.TryGetValue("sessionId", out var si) && !string.IsNullOrWhiteSpace(si) ? si : null)
            ?? DecodeDirectoryName(name)
            ?? name;
        var started = (fields.TryGetValue("started", out var st) || fields.TryGetValue("SessionReservationDateTime", out st))
            && DateTimeOffset.TryParse(st, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var parsed)
            ? parsed
            : firstStart ?? (earliestFile == DateTimeOffset.MaxValue ? DateTimeOffset.UnixEpoch : earliestFile);
        return new SpoolSession(dir, id, started, fields);
    }
}
