using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using SessionTrail.Server.Recordings;

namespace SessionTrail.Cli.Recordings;

/// <summary>
/// What <see cref="RecordingVerifier.RunAsync"/> found: segments checked, every problem (empty when all verified), the key used,
/// and notes on what verified but is unusual (an empty segment: no video in its time span).
/// </summary>
internal sealed record VerifyResult(int Segments, IReadOnlyList<string> Problems, string KeyFingerprint, JsonElement Listing, IReadOnlyList<string>? Notes = null);

/// <summary>
/// Verifies a session's recording against a server, the way an auditor would: downloads every segment (through
/// the audited endpoint), recomputes its SHA-256, checks it against its record and against the signed manifest,
/// checks every chain link (prevSha256 = the previous segment's sha256, index 0 has none, no index missing),
/// and checks the manifest's ECDSA signature with the server's public key or a pinned one. With an output
/// folder it also writes what it downloaded (an export): the segments, SHA256SUMS, SHA256SUMS.sig,
/// recording-public-key.pem and recording.json (the listing).
/// </summary>
internal sealed class RecordingVerifier(RecordingsClient client)
{
    /// <summary>File names of an export folder.</summary>
    public const string ManifestFile = "SHA256SUMS";
    public const string SignatureFile = "SHA256SUMS.sig";
    public const string PublicKeyFile = "recording-public-key.pem";
    public const string ListingFile = "recording.json";

    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    public async Task<VerifyResult> RunAsync(string session, string? pinnedKeyPem, string? outDir, CancellationToken ct)
    {
        var listing = await client.ListAsync(session, ct) ?? throw new ArgumentException($"the server has no recording of session '{session}'");
        var problems = new List<string>();
        var notes = new List<string>();
        var basePath = RecordingsClient.SessionPath(session);
        var publicKey = pinnedKeyPem ?? await client.TextAsync("recordings/public-key", ct);
        var fingerprint = Fingerprint(publicKey);
        var (manifest, signature) = await SignedManifestAsync(basePath, publicKey, ct);
        if (!RecordingSigner.Verify(Encoding.UTF8.GetBytes(manifest), signature, publicKey))
        {
            problems.Add($"manifest: the signature is not valid for the public key {fingerprint}{(pinnedKeyPem is null ? " (the server's)" : " (pinned)")}");
        }

        var signed = new Dictionary<string, string>(StringComparer.Ordinal);
        try
        {
            foreach (var (sha, file) in RecordingManifest.Entries(manifest))
            {
                if (!signed.TryAdd(file, sha))
                {
                    problems.Add($"manifest: {file} is listed twice");
                }
            }
        }
        catch (FormatException e)
        {
            problems.Add($"manifest: {e.Message}");
        }

        if (outDir is not null)
        {
            // Recordings are sensitive: a new export folder is readable by its owner only.
            if (OperatingSystem.IsWindows())
            {
                Directory.CreateDirectory(outDir);
            }
            else
            {
                Directory.CreateDirectory(outDir, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            }
        }

        var segments = listing.GetProperty("segments").EnumerateArray().ToList();
        string? previousSha = null;
        for (var position = 0; position < segments.Count; position++)
        {
            var segment = segments[position];
            var index = segment.GetProperty("index").GetInt32();
            var file = RecordingManifest.FileName(index);
            if (index != position)
            {
                problems.Add($"segment {position}: missing (the listing jumps to index {index})");
            }

            var state = segment.GetProperty("state").GetString();
            if (state != SegmentStates.Complete)
            {
                var said = Str(segment, "problem");
                problems.Add($"segment {index}: {state}{(said is null ? "" : ": " + said)}");
            }

            if (segment.GetProperty("conflicts").ValueKind == JsonValueKind.Array && state == SegmentStates.Complete)
            {
                problems.Add($"segment {index}: {Str(segment, "problem")}");
            }

            var recordSha = Str(segment, "sha256");
            var recordPrevious = Str(segment, "prevSha256");
            if (recordSha is not null)
            {
                var link = index == 0 ? recordPrevious is null : previousSha is not null && recordPrevious == previousSha;
                if (!link && (index == 0 || previousSha is not null))
                {
                    problems.Add(index == 0
                        ? $"segment 0: chain broken: names a previous segment ({recordPrevious})"
                        : $"segment {index}: chain broken: prevSha256 {recordPrevious ?? "(none)"} is not segment {index - 1}'s sha256 {previousSha}");
                }
            }

            previousSha = recordSha;
            if (Str(segment, "note") is { } note)
            {
                notes.Add($"segment {index}: {note}");
            }

            if (segment.GetProperty("uploadedBytes").GetInt64() == 0 && state != SegmentStates.Complete)
            {
                continue; // nothing held yet; a complete empty segment is downloaded (0 bytes) and checked like any other
            }

            var (actual, length) = await DownloadAsync(session, index, outDir, file, ct);
            if (recordSha is not null && actual != recordSha)
            {
                problems.Add($"segment {index}: downloaded bytes ({length} bytes) have sha256 {actual}, the record says {recordSha}");
            }

            if (signed.Remove(file, out var signedSha))
            {
                if (signedSha != actual)
                {
                    problems.Add($"segment {index}: downloaded sha256 {actual} is not the signed manifest's {signedSha}");
                }
            }
            else if (state == SegmentStates.Complete)
            {
                problems.Add($"segment {index}: not in the signed manifest");
            }
        }

        foreach (var file in signed.Keys)
        {
            problems.Add($"manifest: lists {file}, which the server does not hold");
        }

        if (outDir is not null)
        {
            await File.WriteAllTextAsync(Path.Combine(outDir, ManifestFile), manifest, ct);
            await File.WriteAllTextAsync(Path.Combine(outDir, SignatureFile), signature.Trim() + "\n", ct);
            await File.WriteAllTextAsync(Path.Combine(outDir, PublicKeyFile), publicKey, ct);
            await File.WriteAllTextAsync(Path.Combine(outDir, ListingFile), JsonSerializer.Serialize(listing, Indented), ct);
        }

        return new VerifyResult(segments.Count, problems, fingerprint, listing, notes);
    }

    /// <summary>
    /// Verifies an export folder offline: the SHA256SUMS signature (with <paramref name="pinnedKeyPem"/>, else the
    /// folder's recording-public-key.pem), every listed file's SHA-256, and the chain links recorded in
    /// recording.json against the signed hashes.
    /// </summary>
    public static async Task<VerifyResult> VerifyExportAsync(string dir, string? pinnedKeyPem, CancellationToken ct)
    {
        string Read(string name) => File.Exists(Path.Combine(dir, name)) ? File.ReadAllText(Path.Combine(dir, name))
            : throw new FileNotFoundException($"{Path.Combine(dir, name)} is missing: not an export folder of `sessiontrail recordings export`");

        var manifest = Read(ManifestFile);
        var signature = Read(SignatureFile);
        var publicKey = pinnedKeyPem ?? Read(PublicKeyFile);
        var listing = JsonDocument.Parse(Read(ListingFile)).RootElement.Clone();
        var fingerprint = Fingerprint(publicKey);
        var problems = new List<string>();
        var notes = new List<string>();
        if (!RecordingSigner.Verify(Encoding.UTF8.GetBytes(manifest), signature, publicKey))
        {
            problems.Add($"{ManifestFile}: the signature is not valid for the public key {fingerprint}");
        }

        List<(string Sha256, string File)> entries = [];
        try
        {
            entries = RecordingManifest.Entries(manifest);
        }
        catch (FormatException e)
        {
            problems.Add($"{ManifestFile}: {e.Message}");
        }

        foreach (var (sha, file) in entries)
        {
            var path = Path.Combine(dir, Path.GetFileName(file));
            if (!File.Exists(path))
            {
                problems.Add($"{file}: missing from the folder");
                continue;
            }

            await using var stream = File.OpenRead(path);
            var actual = Convert.ToHexStringLower(await SHA256.HashDataAsync(stream, ct));
            if (actual != sha)
            {
                problems.Add($"{file}: sha256 {actual} is not the signed manifest's {sha}");
            }
            else if (stream.Length == 0)
            {
                notes.Add($"{file}: {SegmentNotes.Empty}");
            }
        }

        var signed = entries.ToDictionary(e => e.File, e => e.Sha256, StringComparer.Ordinal);
        foreach (var segment in listing.GetProperty("segments").EnumerateArray())
        {
            var index = segment.GetProperty("index").GetInt32();
            if (!signed.ContainsKey(RecordingManifest.FileName(index)))
            {
                problems.Add($"segment {index}: not in the signed manifest ({segment.GetProperty("state").GetString()})");
                continue;
            }

            var previous = Str(segment, "prevSha256");
            var expected = index == 0 ? null : signed.GetValueOrDefault(RecordingManifest.FileName(index - 1));
            if (previous != expected && (index == 0 || expected is not null))
            {
                problems.Add($"segment {index}: chain broken: prevSha256 {previous ?? "(none)"} is not the signed sha256 of segment {index - 1} ({expected ?? "none"})");
            }
        }

        return new VerifyResult(entries.Count, problems, fingerprint, listing, notes);
    }

    /// <summary>The manifest and its signature; fetched again once when they do not match (a segment completed in between).</summary>
    private async Task<(string Manifest, string Signature)> SignedManifestAsync(string basePath, string publicKey, CancellationToken ct)
    {
        var manifest = await client.TextAsync(basePath + "/manifest", ct);
        var signature = await client.TextAsync(basePath + "/manifest.sig", ct);
        if (!RecordingSigner.Verify(Encoding.UTF8.GetBytes(manifest), signature, publicKey))
        {
            manifest = await client.TextAsync(basePath + "/manifest", ct);
            signature = await client.TextAsync(basePath + "/manifest.sig", ct);
        }

        return (manifest, signature);
    }

    private async Task<(string Sha256, long Length)> DownloadAsync(string session, int index, string? outDir, string file, CancellationToken ct)
    {
        if (outDir is null)
        {
            return await client.DownloadAsync(session, index, "download", null, ct);
        }

        var path = Path.Combine(outDir, file);
        var partial = path + ".part";
        (string, long) result;
        await using (var output = new FileStream(partial, FileMode.Create, FileAccess.Write))
        {
            result = await client.DownloadAsync(session, index, "export", output, ct);
        }

        File.Move(partial, path, overwrite: true);
        return result;
    }

    /// <summary>SHA-256 of the DER public key in <paramref name="pem"/>, lowercase hex (as the server names its key in manifests).</summary>
    public static string Fingerprint(string pem)
    {
        try
        {
            using var key = ECDsa.Create();
            key.ImportFromPem(pem);
            return Convert.ToHexStringLower(SHA256.HashData(key.ExportSubjectPublicKeyInfo()));
        }
        catch (Exception e) when (e is ArgumentException or CryptographicException)
        {
            throw new ArgumentException($"the public key is not a PEM EC public key ({e.Message})", e);
        }
    }

    private static string? Str(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    /// <summary>The segments that hold video: an empty (0-byte) segment has no frames to join (its time span is a gap).</summary>
    public static IEnumerable<JsonElement> WithVideo(IEnumerable<JsonElement> segments) =>
        segments.Where(s => s.GetProperty("uploadedBytes").GetInt64() > 0);

    /// <summary>Why the segments cannot be joined into one MP4 by stream copy, or null when they can (one geometry, one codec, all complete).</summary>
    public static string? WhyNotSingle(JsonElement listing)
    {
        var segments = listing.GetProperty("segments").EnumerateArray().ToList();
        if (segments.Count == 0)
        {
            return "there are no segments";
        }

        if (segments.All(s => s.GetProperty("uploadedBytes").GetInt64() == 0))
        {
            return "every segment is empty (0 bytes, no video)";
        }

        if (segments.FirstOrDefault(s => s.GetProperty("state").GetString() != SegmentStates.Complete) is { ValueKind: JsonValueKind.Object } bad)
        {
            return $"segment {bad.GetProperty("index").GetInt32()} is {bad.GetProperty("state").GetString()}";
        }

        var shapes = WithVideo(segments).Select(s => string.Create(CultureInfo.InvariantCulture, $"{s.GetProperty("width").GetInt32()}x{s.GetProperty("height").GetInt32()} {Str(s, "codec")}"))
            .Distinct().ToList();
        return shapes.Count == 1 ? null : $"the segments have {shapes.Count} geometries/codecs ({string.Join(", ", shapes)}); stream copy needs one — keep the segments, or re-encode";
    }
}
