using Microsoft.Data.Sqlite;
using SessionTrail.Server.Store;

namespace SessionTrail.Server.Recordings;

/// <summary>One stored segment record (see schema migration 3). <see cref="Conflict"/>: a later record for an index already held with another hash.</summary>
public sealed record SegmentRow(
    string Id, string Session, int Index, DateTimeOffset Time, string Host, DateTimeOffset Start, DateTimeOffset End,
    int Width, int Height, int Fps, string Codec, long Bytes, string Sha256, string? PreviousSha256, string File, string? EndReason, bool Conflict);

/// <summary>One stored recording event.</summary>
public sealed record RecordingEventRow(string Id, DateTimeOffset Time, string Type, string Message, DateTimeOffset? GapStart, DateTimeOffset? GapEnd, int? Width, int? Height, int? Segments = null);

/// <summary>A legal hold: since when and by whom.</summary>
public sealed record HoldRow(DateTimeOffset Time, string Who);

/// <summary>One access-audit entry. <see cref="Seq"/> orders entries and pages the audit API.</summary>
public sealed record AccessAuditEntry(
    long Seq, DateTimeOffset Time, string Who, long? TokenId, string Action, string? Session, int? Index, string? Range, string? Remote, int? Status, long? AccountId = null);

/// <summary>Filter of <see cref="RecordingCatalog.QueryAudit"/>; null members match everything. <see cref="Before"/> is a seq (exclusive).</summary>
public sealed record AuditQuery(string? Session, string? Who, string? Action, DateTimeOffset? From, DateTimeOffset? To, long? Before, int Limit);

/// <summary>The actions written to the access audit log.</summary>
public static class AuditActions
{
    public const string Play = "play";

    /// <summary>A HEAD of a segment: its size and hash were answered, no bytes.</summary>
    public const string Head = "head";
    public const string Download = "download";
    public const string Export = "export";
    public const string Manifest = "manifest";
    public const string Hold = "hold";
    public const string Release = "release";
    public const string RetentionDelete = "retention-delete";
}

/// <summary>
/// The recording tables of the <see cref="SqliteStore"/>: segment records and events (written by ingest, read
/// here), legal holds, retention deletions and the access audit log. Reads open their own connection;
/// writes go through the store's writer lock.
/// </summary>
public sealed class RecordingCatalog(SqliteStore store)
{
    /// <summary>Most audit entries one query returns.</summary>
    public const int MaxAuditLimit = 10_000;

    /// <summary>Every segment record of <paramref name="session"/>, by index then arrival (conflicts after the record they contest).</summary>
    public List<SegmentRow> Segments(string session) => Query(
        """
        SELECT id, session, idx, time, host, start, end, width, height, fps, codec, bytes, sha256, prev_sha256, file, end_reason, conflict
        FROM recording_segments WHERE session = $session ORDER BY idx, conflict, seq
        """,
        r => new SegmentRow(
            r.GetString(0), r.GetString(1), r.GetInt32(2), Time(r, 3), r.GetString(4), Time(r, 5), Time(r, 6), r.GetInt32(7), r.GetInt32(8),
            r.GetInt32(9), r.GetString(10), r.GetInt64(11), r.GetString(12), r.IsDBNull(13) ? null : r.GetString(13), r.GetString(14),
            r.IsDBNull(15) ? null : r.GetString(15), r.GetInt64(16) != 0),
        ("$session", session));

    /// <summary>The recording events of <paramref name="session"/>, oldest first.</summary>
    public List<RecordingEventRow> Events(string session) => Query(
        "SELECT id, time, type, message, gap_start, gap_end, width, height, segments FROM recording_events WHERE session = $session ORDER BY time, seq",
        r => new RecordingEventRow(
            r.GetString(0), Time(r, 1), r.GetString(2), r.GetString(3), r.IsDBNull(4) ? null : Time(r, 4), r.IsDBNull(5) ? null : Time(r, 5),
            r.IsDBNull(6) ? null : r.GetInt32(6), r.IsDBNull(7) ? null : r.GetInt32(7), r.IsDBNull(8) ? null : r.GetInt32(8)),
        ("$session", session));

    /// <summary>The legal hold on <paramref name="session"/>, or null.</summary>
    public HoldRow? Hold(string session) => Query(
        "SELECT time, who FROM recording_holds WHERE session = $session",
        r => new HoldRow(Time(r, 0), r.GetString(1)),
        ("$session", session)).FirstOrDefault();

    /// <summary>When the retention sweep deleted the session's bytes, or null.</summary>
    public DateTimeOffset? Deleted(string session) => Query(
        "SELECT time FROM recording_deletions WHERE session = $session",
        r => (DateTimeOffset?)Time(r, 0),
        ("$session", session)).FirstOrDefault();

    /// <summary>Puts (<paramref name="on"/>) or lifts the legal hold; true when that changed anything.</summary>
    public bool SetHold(string session, bool on, string who, DateTimeOffset now) => store.Write((connection, tx) =>
    {
        using var cmd = connection.CreateCommand();
        cmd.Transaction = tx;
        cmd.CommandText = on
            ? "INSERT OR IGNORE INTO recording_holds(session, time, who) VALUES($session, $time, $who)"
            : "DELETE FROM recording_holds WHERE session = $session";
        cmd.Parameters.AddWithValue("$session", session);
        cmd.Parameters.AddWithValue("$time", now.ToUnixTimeMilliseconds());
        cmd.Parameters.AddWithValue("$who", who);
        return cmd.ExecuteNonQuery() > 0;
    });

    /// <summary>Records that the session's recording bytes were deleted by retention.</summary>
    public void MarkDeleted(string session, DateTimeOffset now, long bytes) => store.Write((connection, tx) =>
    {
        using var cmd = connection.CreateCommand();
        cmd.Transaction = tx;
        cmd.CommandText =
            """
            INSERT OR REPLACE INTO recording_deletions(session, time, bytes, last_seq)
            VALUES($session, $time, $bytes, (SELECT COALESCE(MAX(seq), 0) FROM recording_segments WHERE session = $session))
            """;
        cmd.Parameters.AddWithValue("$session", session);
        cmd.Parameters.AddWithValue("$time", now.ToUnixTimeMilliseconds());
        cmd.Parameters.AddWithValue("$bytes", bytes);
        return cmd.ExecuteNonQuery();
    });

    /// <summary>
    /// Sessions with recordings whose end — the later of the session's end and its last segment's end — is
    /// before <paramref name="cutoff"/>, not on hold, and not deleted since their last segment record arrived.
    /// </summary>
    public List<string> ExpiredSessions(DateTimeOffset cutoff) => Query(
        """
        SELECT x.session FROM (
            SELECT session, MAX(end) AS segments_end, MAX(seq) AS last_seq FROM recording_segments GROUP BY session) x
        WHERE MAX(x.segments_end, COALESCE((SELECT s.end FROM sessions s WHERE s.id = x.session), 0)) < $cutoff
          AND NOT EXISTS (SELECT 1 FROM recording_holds h WHERE h.session = x.session)
          AND NOT EXISTS (SELECT 1 FROM recording_deletions d WHERE d.session = x.session AND d.last_seq >= x.last_seq)
        ORDER BY x.session
        """,
        r => r.GetString(0),
        ("$cutoff", cutoff.ToUnixTimeMilliseconds()));

    /// <summary>Appends an entry to the access audit log (its <see cref="AccessAuditEntry.Seq"/> is ignored); returns its seq.</summary>
    public long Audit(AccessAuditEntry entry)
    {
        ArgumentNullException.ThrowIfNull(entry);
        return store.Write((connection, tx) =>
        {
            using var cmd = connection.CreateCommand();
            cmd.Transaction = tx;
            cmd.CommandText =
                """
                INSERT INTO access_audit(time, who, token_id, account_id, action, session, idx, range, remote, status)
                VALUES($time, $who, $token, $account, $action, $session, $idx, $range, $remote, $status);
                SELECT last_insert_rowid();
                """;
            cmd.Parameters.AddWithValue("$time", entry.Time.ToUnixTimeMilliseconds());
            cmd.Parameters.AddWithValue("$who", entry.Who);
            cmd.Parameters.AddWithValue("$token", (object?)entry.TokenId ?? DBNull.Value);
            cmd.Parameters.AddWithValue("$account", (object?)entry.AccountId ?? DBNull.Value);
            cmd.Parameters.AddWithValue("$action", entry.Action);
            cmd.Parameters.AddWithValue("$session", (object?)entry.Session ?? DBNull.Value);
            cmd.Parameters.AddWithValue("$idx", (object?)entry.Index ?? DBNull.Value);
            cmd.Parameters.AddWithValue("$range", (object?)entry.Range ?? DBNull.Value);
            cmd.Parameters.AddWithValue("$remote", (object?)entry.Remote ?? DBNull.Value);
            cmd.Parameters.AddWithValue("$status", (object?)entry.Status ?? DBNull.Value);
            return (long)cmd.ExecuteScalar()!;
        });
    }

    /// <summary>Audit entries matching <paramref name="query"/>, newest first.</summary>
    public List<AccessAuditEntry> QueryAudit(AuditQuery query)
    {
        ArgumentNullException.ThrowIfNull(query);
        return Query(
            """
            SELECT seq, time, who, token_id, action, session, idx, range, remote, status, account_id FROM access_audit
            WHERE ($session IS NULL OR session = $session) AND ($who IS NULL OR who = $who) AND ($action IS NULL OR action = $action)
              AND ($from IS NULL OR time >= $from) AND ($to IS NULL OR time < $to) AND ($before IS NULL OR seq < $before)
            ORDER BY seq DESC LIMIT $limit
            """,
            r => new AccessAuditEntry(
                r.GetInt64(0), Time(r, 1), r.GetString(2), r.IsDBNull(3) ? null : r.GetInt64(3), r.GetString(4), r.IsDBNull(5) ? null : r.GetString(5),
                r.IsDBNull(6) ? null : r.GetInt32(6), r.IsDBNull(7) ? null : r.GetString(7), r.IsDBNull(8) ? null : r.GetString(8), r.IsDBNull(9) ? null : r.GetInt32(9),
                r.IsDBNull(10) ? null : r.GetInt64(10)),
            ("$session", query.Session),
            ("$who", query.Who),
            ("$action", query.Action),
            ("$from", query.From?.ToUnixTimeMilliseconds()),
            ("$to", query.To?.ToUnixTimeMilliseconds()),
            ("$before", query.Before),
            ("$limit", Math.Clamp(query.Limit, 1, MaxAuditLimit)));
    }

    private static DateTimeOffset Time(SqliteDataReader r, int i) => DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(i));

    private List<T> Query<T>(string sql, Func<SqliteDataReader, T> read, params (string Name, object? Value)[] parameters)
    {
        using var connection = store.OpenConnection();
        using var cmd = connection.CreateCommand();
        cmd.CommandText = sql;
        foreach (var (name, value) in parameters)
        {
            cmd.Parameters.AddWithValue(name, value ?? DBNull.Value);
        }

        using var reader = cmd.ExecuteReader();
        var rows = new List<T>();
        while (reader.Read())
        {
            rows.Add(read(reader));
        }

        return rows;
    }
}
