using System.Globalization;
using System.Text;
using System.Text.Json;

namespace SessionTrail.Server.Recordings;

/// <summary>
/// A session's recording manifest in <c>SHA256SUMS</c> form: comment lines (session, chain status, signing
/// key) then <c>&lt;sha256&gt;  &lt;index:D6&gt;.mp4</c> for every segment whose record and complete bytes the
/// server holds, in index order, with the record's hash (so <c>sha256sum -c</c> in an export folder checks
/// the files). An empty (0-byte) segment is listed like any other, with the SHA-256 of nothing, and named by a
/// <c># empty:</c> comment line: it verifies, and the reader learns that its time span holds no video. The text depends only on the stored state (no timestamp), so the manifest and its separately
/// fetched signature match while nothing changes.
/// </summary>
public static class RecordingManifest
{
    /// <summary>The file name a segment has in manifests and exports.</summary>
    public static string FileName(int index) => index.ToString("D6", CultureInfo.InvariantCulture) + ".mp4";

    /// <summary>The manifest text of <paramref name="listing"/>, naming the key by <paramref name="keyFingerprint"/>.</summary>
    public static string Build(RecordingListing listing, string keyFingerprint)
    {
        ArgumentNullException.ThrowIfNull(listing);
        var text = new StringBuilder();
        text.Append("# SessionTrail recording manifest (sha256sum -c checks the files)\n");
        text.Append("# session: ").Append(JsonSerializer.Serialize(listing.Session)).Append('\n');
        var listed = listing.Segments.Where(s => s.Sha256 is not null && s.Bytes == s.UploadedBytes
            && s.State is SegmentStates.Complete or SegmentStates.Altered or SegmentStates.ChainBroken).ToList();
        text.Append(CultureInfo.InvariantCulture, $"# segments: {listed.Count} of {listing.Segments.Count}\n");
        text.Append(listing.Chain.Ok ? "# chain: intact\n" : $"# chain: broken ({listing.Chain.Problems.Count} problems)\n");
        foreach (var problem in listing.Chain.Problems)
        {
            text.Append("# problem: ").Append(problem.ReplaceLineEndings(" ")).Append('\n');
        }

        foreach (var segment in listed.Where(s => s.Note == SegmentNotes.Empty))
        {
            text.Append("# empty: ").Append(FileName(segment.Index)).Append(" (0 bytes, no video; listed with the SHA-256 of nothing)\n");
        }

        text.Append("# key: ").Append(keyFingerprint).Append('\n');
        foreach (var segment in listed)
        {
            text.Append(segment.Sha256).Append("  ").Append(FileName(segment.Index)).Append('\n');
        }

        return text.ToString();
    }

    /// <summary>The (sha256, file) lines of a manifest; comment and blank lines skipped. A malformed line is a <see cref="FormatException"/> naming it.</summary>
    public static List<(string Sha256, string File)> Entries(string manifest)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        var entries = new List<(string, string)>();
        var number = 0;
        foreach (var line in manifest.Split('\n'))
        {
            number++;
            if (line.Length == 0 || line[0] == '#')
            {
                continue;
            }

            if (line.Length < 67 || line[64] != ' ' || line[65] != ' ' || !line[..64].All(c => char.IsAsciiDigit(c) || c is >= 'a' and <= 'f'))
            {
                throw new FormatException($"manifest line {number}: expected '<64 hex digits>  <file>', got '{(line.Length > 80 ? line[..80] + "…" : line)}'");
            }

            entries.Add((line[..64], line[66..]));
        }

        return entries;
    }
}
