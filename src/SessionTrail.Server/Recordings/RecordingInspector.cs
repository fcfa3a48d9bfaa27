using System.Collections.Concurrent;
using System.Globalization;
using SessionTrail.Core.Formats;
using SessionTrail.Core.Records;

namespace SessionTrail.Server.Recordings;

/// <summary>Values of <see cref="SegmentView.State"/>.</summary>
public static class SegmentStates
{
    /// <summary>Record and complete bytes, whose SHA-256 is the record's, chained to the previous segment.</summary>
    public const string Complete = "complete";

    /// <summary>Bytes are arriving (partial object), with or without a record yet.</summary>
    public const string Uploading = "uploading";

    /// <summary>A record, no bytes yet.</summary>
    public const string AwaitingBytes = "awaiting-bytes";

    /// <summary>Complete bytes, no record yet.</summary>
    public const string AwaitingRecord = "awaiting-record";

    /// <summary>Neither record nor bytes, but a later index exists: a hole in the chain.</summary>
    public const string Missing = "missing";

    /// <summary>The stored bytes' SHA-256 (or length) is not the record's.</summary>
    public const string Altered = "altered";

    /// <summary>The record's prevSha256 is not the previous segment's sha256.</summary>
    public const string ChainBroken = "chain-broken";

    /// <summary>The bytes were deleted by the retention sweep (the record stays).</summary>
    public const string Deleted = "deleted";
}

/// <summary>A second record for the same (session, index) with another hash: kept and shown, never used.</summary>
public sealed record ConflictView(string Id, string Sha256, string? PrevSha256, long Bytes, string Time);

/// <summary>
/// One segment in <c>GET /sessions/{session}/recordings</c>; record fields are null while only bytes exist.
/// <see cref="Note"/> says what is unusual but no problem (<see cref="SegmentNotes.Empty"/>); null otherwise.
/// </summary>
public sealed record SegmentView(
    int Index, string? Start, string? End, int? Width, int? Height, int? Fps, string? Codec, long? Bytes, string? Sha256, string? PrevSha256,
    string? EndReason, long UploadedBytes, string State, string? Problem, string Url, IReadOnlyList<ConflictView>? Conflicts, string? Note = null);

/// <summary>Values of <see cref="SegmentView.Note"/>.</summary>
public static class SegmentNotes
{
    /// <summary>
    /// A complete segment of 0 bytes whose record says 0 bytes: verified (its SHA-256 is that of nothing) and
    /// linked in the chain, but it holds no video — the recorder closed it before ffmpeg wrote a byte (e.g. after
    /// a crash). Its time span is a gap in the recording, not tampering.
    /// </summary>
    public const string Empty = "empty: 0 bytes, no video (the recorder closed the segment before writing any, e.g. after a crash)";
}

/// <summary>One recording event on the session's timeline.</summary>
public sealed record EventView(string Time, string Type, string Message, string? GapStart, string? GapEnd, int? Width, int? Height, int? Segments = null);

/// <summary>Whether the chain verifies: <see cref="Ok"/> is false on any missing, altered, chain-broken or conflicting segment.</summary>
public sealed record ChainView(bool Ok, IReadOnlyList<string> Problems);

/// <summary>The body of <c>GET /sessions/{session}/recordings</c>.</summary>
public sealed record RecordingListing(
    string Session, IReadOnlyList<SegmentView> Segments, IReadOnlyList<EventView> Events, ChainView Chain, bool Hold, string? Deleted, string ManifestUrl);

/// <summary>
/// Joins a session's segment records (database) with the bytes held (<see cref="IRecordingStore"/>) and verifies
/// the hash chain: each segment gets a state (<see cref="SegmentStates"/>) and, when something is wrong, a
/// problem naming it. The SHA-256 of complete objects is recomputed lazily and cached by (length, last write),
/// so a listing reads the bytes only once per change; <c>rehash</c> recomputes regardless.
/// </summary>
public sealed class RecordingInspector(RecordingCatalog catalog, IRecordingStore store)
{
    private readonly ConcurrentDictionary<(string Session, int Index), (long Length, DateTimeOffset LastWrite, string Sha256)> hashes = new();

    /// <summary>The API path of a session's recordings (session URL-encoded), without the /api/v1 prefix.</summary>
    public static string SessionPath(string session) => "/sessions/" + Uri.EscapeDataString(session) + "/recordings";

    /// <summary>How many object hashes were computed (not served from the cache) since start; for tests.</summary>
    public int HashesComputed => hashesComputed;

    private int hashesComputed;

    /// <summary>The listing of <paramref name="session"/>, or null when the server knows no recording of it.</summary>
    public async Task<RecordingListing?> ListAsync(string session, bool rehash, CancellationToken ct)
    {
        var rows = catalog.Segments(session);
        var events = catalog.Events(session);
        var stored = await store.ListAsync(session, ct);
        if (rows.Count == 0 && events.Count == 0 && stored.Count == 0)
        {
            return null;
        }

        var deleted = catalog.Deleted(session);
        var records = rows.Where(r => !r.Conflict).ToDictionary(r => r.Index);
        var conflicts = rows.Where(r => r.Conflict).ToLookup(r => r.Index);
        // The agent's last "stopped" event says how many segments there are in all: a missing last one shows too.
        var announced = events.LastOrDefault(e => e.Type == RecordingEventTypes.Stopped && e.Segments is not null)?.Segments ?? 0;
        var last = Math.Max(Math.Max(rows.Count == 0 ? -1 : rows.Max(r => r.Index), stored.Count == 0 ? -1 : stored[^1]), announced - 1);
        var bySha = records.Values.GroupBy(r => r.Sha256).ToDictionary(g => g.Key, g => g.First().Index);
        var segments = new List<SegmentView>(last + 1);
        var problems = new List<string>();
        var basePath = "/api/v1" + SessionPath(session);
        for (var index = 0; index <= last; index++)
        {
            records.TryGetValue(index, out var record);
            var info = await store.GetInfoAsync(session, index, ct);
            var (state, problem) = await StateAsync(session, index, record, info, deleted, bySha, rehash, ct);
            if (record is not null && state is not (SegmentStates.Altered or SegmentStates.Deleted)
                && ChainLink(index, record, records) is { } broken)
            {
                (state, problem) = (SegmentStates.ChainBroken, broken);
            }

            var contest = conflicts[index].Select(c => new ConflictView(c.Id, c.Sha256, c.PreviousSha256, c.Bytes, NdjsonWriter.FormatTime(c.Time))).ToList();
            if (contest.Count > 0)
            {
                var text = string.Join("; ", contest.Select(c => $"record {c.Id} claims sha256 {c.Sha256}"));
                problem = problem is null ? $"conflicting records: {text}" : $"{problem}; conflicting records: {text}";
                problems.Add($"segment {index}: conflicting records: {text}");
            }

            if (state is SegmentStates.Missing or SegmentStates.Altered or SegmentStates.ChainBroken)
            {
                problems.Add($"segment {index}: {state}: {problem}");
            }

            segments.Add(new SegmentView(
                index,
                record is null ? null : NdjsonWriter.FormatTime(record.Start),
                record is null ? null : NdjsonWriter.FormatTime(record.End),
                record?.Width,
                record?.Height,
                record?.Fps,
                record?.Codec,
                record?.Bytes,
                record?.Sha256,
                record?.PreviousSha256,
                record?.EndReason,
                info?.Length ?? 0,
                state,
                problem,
                basePath + "/" + index.ToString(CultureInfo.InvariantCulture),
                contest.Count == 0 ? null : contest,
                state == SegmentStates.Complete && info is { Length: 0 } ? SegmentNotes.Empty : null));
        }

        return new RecordingListing(
            session,
            segments,
            events.Select(e => new EventView(
                NdjsonWriter.FormatTime(e.Time), e.Type, e.Message, e.GapStart is { } gs ? NdjsonWriter.FormatTime(gs) : null,
                e.GapEnd is { } ge ? NdjsonWriter.FormatTime(ge) : null, e.Width, e.Height, e.Segments)).ToList(),
            new ChainView(problems.Count == 0, problems),
            catalog.Hold(session) is not null,
            deleted is { } d ? NdjsonWriter.FormatTime(d) : null,
            basePath + "/manifest");
    }

    private async Task<(string State, string? Problem)> StateAsync(
        string session, int index, SegmentRow? record, RecordingObjectInfo? info, DateTimeOffset? deleted, Dictionary<string, int> bySha, bool rehash, CancellationToken ct)
    {
        if (record is null)
        {
            return info is null ? (SegmentStates.Missing, $"no record and no bytes for index {index}, but later segments exist or the agent reported more")
                : info.Complete ? (SegmentStates.AwaitingRecord, $"{info.Length} bytes held, no segment record yet")
                : (SegmentStates.Uploading, null);
        }

        if (info is null)
        {
            return deleted is { } d
                ? (SegmentStates.Deleted, $"bytes deleted by retention at {NdjsonWriter.FormatTime(d)}")
                : (SegmentStates.AwaitingBytes, null);
        }

        if (!info.Complete)
        {
            return info.Length > record.Bytes
                ? (SegmentStates.Altered, $"{info.Length} bytes uploaded, more than the record's {record.Bytes}")
                : (SegmentStates.Uploading, null);
        }

        var actual = await HashAsync(session, index, info, rehash, ct);
        if (actual is null)
        {
            return (SegmentStates.AwaitingBytes, null); // deleted between the listing and the hash
        }

        if (actual != record.Sha256 || info.Length != record.Bytes)
        {
            var whose = bySha.TryGetValue(actual, out var other) && other != index ? $" — they are segment {other}'s bytes (reordered)" : "";
            return (SegmentStates.Altered, $"stored bytes ({info.Length} bytes, sha256 {actual}) are not the record's ({record.Bytes} bytes, sha256 {record.Sha256}){whose}");
        }

        return (SegmentStates.Complete, null);
    }

    /// <summary>What is wrong with the link from <paramref name="record"/> to the previous segment, or null when it holds (or cannot be checked yet).</summary>
    private static string? ChainLink(int index, SegmentRow record, Dictionary<int, SegmentRow> records)
    {
        if (index == 0)
        {
            return record.PreviousSha256 is null ? null : $"segment 0 names a previous segment (prevSha256 {record.PreviousSha256})";
        }

        if (!records.TryGetValue(index - 1, out var previous))
        {
            return null; // the previous one is reported as missing (or awaited) itself
        }

        return record.PreviousSha256 == previous.Sha256 ? null
            : $"prevSha256 {record.PreviousSha256 ?? "(none)"} is not segment {index - 1}'s sha256 {previous.Sha256}";
    }

    private async Task<string?> HashAsync(string session, int index, RecordingObjectInfo info, bool rehash, CancellationToken ct)
    {
        var key = (session, index);
        if (!rehash && hashes.TryGetValue(key, out var cached) && cached.Length == info.Length && cached.LastWrite == info.LastWrite)
        {
            return cached.Sha256;
        }

        var sha = await store.ComputeSha256Async(session, index, ct);
        Interlocked.Increment(ref hashesComputed);
        if (sha is not null)
        {
            hashes[key] = (info.Length, info.LastWrite, sha);
        }

        return sha;
    }

    /// <summary>Forgets cached hashes of <paramref name="session"/> (after its bytes were deleted).</summary>
    public void Forget(string session)
    {
        foreach (var key in hashes.Keys.Where(k => k.Session == session))
        {
            hashes.TryRemove(key, out _);
        }
    }
}
