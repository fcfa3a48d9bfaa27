using SessionTrail.Core.Records;

namespace SessionTrail.Core.Formats;

/// <summary>A line of a seed CSV that was not imported, and why. <see cref="Line"/> is 1-based (the header is line 1).</summary>
public readonly record struct SeedCsvRejection(int Line, string Reason);

/// <summary>
/// What <see cref="SeedCsvReader"/> made of one file. Record ids: <c>csv:</c> + 24 hex digits of the
/// SHA-256 of the row's identifying fields (event type, process, pid, session, process_time — not the
/// culture-formatted date/time, nor the host/username/userid columns an exporter may fill differently),
/// plus <c>.N</c> for the N-th repeat of the same key in the same file; <c>csv:session-start:</c> + the hash of the session id for the
/// session start made from the file.
/// </summary>
public sealed class SeedCsvReaderResult
{
    /// <summary>Process starts/exits, session ends (from the session_end rows), then one session start per session.</summary>
    public List<TrailRecord> Records { get; } = [];

    /// <summary>Lines not imported, in file order.</summary>
    public List<SeedCsvRejection> Rejected { get; } = [];

    /// <summary>Sessions the file's rows belong to.</summary>
    public HashSet<string> Sessions { get; } = new(StringComparer.Ordinal);

    /// <summary>
    /// Sessions with no <c>session_end</c> row in this file (a file cut short): their runs without an exit
    /// stay open until a session end arrives.
    /// </summary>
    public HashSet<string> SessionsWithoutEnd { get; } = new(StringComparer.Ordinal);

    /// <summary>Data rows read (non-blank lines after the header), imported or rejected.</summary>
    public int Rows { get; internal set; }

    /// <summary>Rows with a comma inside <c>process</c> that were put back together.</summary>
    public int Rejoined { get; internal set; }

    /// <summary>True when the file is not a seed CSV at all (no header): <see cref="Rejected"/> holds line 1 only.</summary>
    public bool NotSeedCsv { get; internal set; }

    internal void Reject(int line, string reason) => Rejected.Add(new SeedCsvRejection(line, reason));
}
