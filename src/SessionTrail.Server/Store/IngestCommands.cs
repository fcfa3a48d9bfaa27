using Microsoft.Data.Sqlite;
using SessionTrail.Core.Records;

namespace SessionTrail.Server.Store;

/// <summary>
/// The prepared statements of one writer connection (see <see cref="SqliteStore"/>); runs are paired by
/// <see cref="Core.Records.ProcessRuns"/>, the one home of the rule.
/// Invariant after every batch: the runs are those <see cref="Core.Records.ProcessRuns"/> pairs from every
/// stored event (each start's run holds the first exit at or after it that comes before the pid's next start on
/// that host; an exit no start owns is kept only in process_events); StoreAndExportPairingTests checks it.
/// Invariant: a record id names one stored record whatever its kind — a record whose id came earlier in its
/// batch or is stored (as any kind) is a duplicate and changes nothing, like a resent record.
/// Not thread-safe: used under the store's writer lock.
/// </summary>
internal sealed class IngestCommands : IDisposable
{
    private const int EndedOpen = 0;
    private const int EndedExit = 1;
    private const int EndedSession = 2;

    /// <summary>The table that holds each kind's records; its id column is unique within it.</summary>
    private static readonly Dictionary<string, string> RecordTables = new(StringComparer.Ordinal)
    {
        [RecordKinds.Process] = "process_events",
        [RecordKinds.Session] = "session_events",
        [RecordKinds.Log] = "logs",
        [RecordKinds.Segment] = "recording_segments",
        [RecordKinds.Recording] = "recording_events",
    };

    /// <summary>
    /// The stored events the batch's events can change the pairing of, per (host, pid) the batch touched: from
    /// the pid's last start before the batch's earliest event of it on; that start's run may gain or lose an exit,
    /// the runs before it keep theirs. (The pid's events after the batch's latest are read too. Bounding the window
    /// by the first start after it as well costs a third index search per pid, and in a stream that arrives in time
    /// order there is nothing there to read.)
    /// The batch's rows are found by seq (a rowid range): grouping on <c>+host, +pid</c> keeps the planner from
    /// walking the whole pairing index in group order instead (IngestPlanTests).
    /// </summary>
    internal const string PairingWindowSql =
        """
        WITH touched AS (
            SELECT host, pid, MIN(time) AS first FROM process_events WHERE seq > $before GROUP BY +host, +pid),
        bounds AS (
            SELECT host, pid,
                COALESCE((SELECT MAX(p.time) FROM process_events p
                          WHERE p.host = t.host AND p.pid = t.pid AND p.type = 0 AND p.time < t.first), t.first) AS low
            FROM touched t)
        SELECT e.seq, e.host, e.pid, e.type, e.time
        FROM bounds b
        JOIN process_events e ON e.host = b.host AND e.pid = b.pid AND e.type IN (0, 1) AND e.time >= b.low
        """;

    private readonly List<SqliteCommand> all = [];
    private readonly Dictionary<string, SqliteCommand> storedAsOtherKind = new(StringComparer.Ordinal);
    private readonly SqliteCommand maxSeq;
    private readonly SqliteCommand insertProcesses;
    private readonly SqliteCommand insertNames;
    private readonly SqliteCommand pairingWindow;
    private readonly SqliteCommand insertRuns;
    private readonly SqliteCommand updateRuns;
    private readonly SqliteCommand sessionEndedRunsBefore;
    private readonly RunAggregates aggregates;
    private readonly SqliteCommand insertSessionEvent;
    private readonly SqliteCommand upsertSessionStart;
    private readonly SqliteCommand upsertSessionEnd;
    private readonly SqliteCommand fillRunUsers;
    private readonly SqliteCommand endRunsAtSession;
    private readonly SqliteCommand insertUser;
    private readonly SqliteCommand findUser;
    private readonly SqliteCommand maxLogSeq;
    private readonly SqliteCommand insertLogs;
    private readonly SqliteCommand indexLogs;
    private readonly SqliteCommand fillLogUsers;
    private readonly SqliteCommand findSegment;
    private readonly SqliteCommand insertSegment;
    private readonly SqliteCommand insertRecordingEvent;

    private readonly Dictionary<string, long> users = new(StringComparer.Ordinal);
    private readonly Dictionary<string, long> pendingUsers = new(StringComparer.Ordinal);

    public IngestCommands(SqliteConnection connection)
    {
        SqliteCommand Cmd(string sql, params string[] parameters)
        {
            var cmd = connection.CreateCommand();
            cmd.CommandText = sql;
            foreach (var p in parameters)
            {
                cmd.Parameters.Add(new SqliteParameter(p, null));
            }

            all.Add(cmd);
            return cmd;
        }

        // Per kind: which of these ids (a JSON array) another kind's table already holds. Its own table is
        // left to the kind's INSERT, which skips a known id anyway. Joins, not a correlated EXISTS per table:
        // four times cheaper (0.8 ms against 3.4 ms for 5,000 ids over 1 M log rows).
        foreach (var (kind, table) in RecordTables)
        {
            var others = RecordTables.Values.Where(t => t != table).Select(t => $"SELECT j.value FROM json_each($ids) j JOIN {t} x ON x.id = j.value");
            storedAsOtherKind[kind] = Cmd(string.Join(" UNION ALL ", others), "$ids");
        }

        maxSeq = Cmd("SELECT COALESCE(MAX(seq), 0) FROM process_events");
        insertProcesses = Cmd(
            """
            INSERT OR IGNORE INTO process_events(id, host, pid, type, time, session, ppid, exe, cmdline, uid, user, login_uid, audit_session, exit_code)
            SELECT value->>0, value->>1, value->>2, value->>3, value->>4, value->>5, value->>6, value->>7, value->>8,
                   value->>9, value->>10, value->>11, value->>12, value->>13
            FROM json_each($batch)
            ORDER BY value->>4, value->>3, key
            """,
            "$batch");
        insertNames = Cmd(
            """
            INSERT OR IGNORE INTO apps(path) SELECT DISTINCT COALESCE(exe, '') FROM process_events WHERE seq > $before AND type = 0;
            INSERT OR IGNORE INTO users(name) SELECT DISTINCT user FROM process_events WHERE seq > $before AND type = 0 AND user IS NOT NULL;
            INSERT OR IGNORE INTO sessions(id, host)
                SELECT session, MIN(host) FROM process_events WHERE seq > $before AND type = 0 AND session IS NOT NULL GROUP BY session;
            """,
            "$before");
        pairingWindow = Cmd(PairingWindowSql, "$before");
        // The runs of new starts ([start seq, exit seq or null, exit time] rows), each with the exit pairing gave it,
        // else ending at its session's end when that is not before its start, else open (ProcessRuns.End).
        insertRuns = Cmd(
            $"""
            INSERT INTO runs(start_seq, exit_seq, app_id, user_id, host, pid, session, start, end, ended_by)
            SELECT s.seq, j.value->>1, a.id, COALESCE(u.id, su.id), s.host, s.pid, s.session, s.time,
                   COALESCE(j.value->>2, CASE WHEN ss.end >= s.time THEN ss.end END),
                   CASE WHEN j.value->>1 IS NOT NULL THEN {EndedExit} WHEN ss.end >= s.time THEN {EndedSession} ELSE {EndedOpen} END
            FROM json_each($runs) j
            JOIN process_events s ON s.seq = j.value->>0
            JOIN apps a ON a.path = COALESCE(s.exe, '')
            LEFT JOIN users u ON u.name = s.user
            LEFT JOIN sessions ss ON ss.id = s.session
            LEFT JOIN users su ON su.name = ss.user
            RETURNING start_seq, app_id, user_id, start, end, session
            """,
            "$runs");
        // Older runs whose exit pairing changed (same rows): a late exit found its start, an earlier exit arrived, or
        // a new start of the pid cut the run's claim (it then ends as above). The run's user is left as it is.
        updateRuns = Cmd(
            $"""
            UPDATE runs SET exit_seq = c.exit,
                end = COALESCE(c.exit_time, (SELECT ss.end FROM sessions ss WHERE ss.id = runs.session AND ss.end >= runs.start)),
                ended_by = CASE WHEN c.exit IS NOT NULL THEN {EndedExit}
                                WHEN (SELECT ss.end FROM sessions ss WHERE ss.id = runs.session AND ss.end >= runs.start) IS NOT NULL THEN {EndedSession}
                                ELSE {EndedOpen} END
            FROM (SELECT j.value->>0 AS run, j.value->>1 AS exit, j.value->>2 AS exit_time FROM json_each($runs) j) c
            WHERE runs.start_seq = c.run
            RETURNING start_seq, app_id, user_id, start, end, (SELECT ss.end FROM sessions ss WHERE ss.id = runs.session AND ss.end >= runs.start)
            """,
            "$runs");
        var sessionParameters = string.Join(", ", SessionColumns.Parameters);
        insertSessionEvent = Cmd(
            $"""
            INSERT OR IGNORE INTO session_events(id, session, host, type, time, {SessionColumns.Names})
            VALUES($id, $session, $host, $type, $time, {sessionParameters})
            """,
            ["$id", "$session", "$host", "$type", "$time", .. SessionColumns.Parameters]);
        // A session's row keeps what any of its records said; a later record's non-null value replaces an earlier one.
        var mergeSession = string.Join(
            ", ", $"host, {SessionColumns.Names}".Split(", ").Select(c => $"{c} = COALESCE(excluded.{c}, {c})"));
        string[] sessionParams = ["$id", "$host", .. SessionColumns.Parameters, "$time"];
        upsertSessionStart = Cmd(
            $"""
            INSERT INTO sessions(id, host, {SessionColumns.Names}, start)
            VALUES($id, $host, {sessionParameters}, $time)
            ON CONFLICT(id) DO UPDATE SET {mergeSession}, start = MIN(COALESCE(start, excluded.start), excluded.start)
            """,
            sessionParams);
        upsertSessionEnd = Cmd(
            $"""
            INSERT INTO sessions(id, host, {SessionColumns.Names}, end)
            VALUES($id, $host, {sessionParameters}, $time)
            ON CONFLICT(id) DO UPDATE SET {mergeSession}, end = MAX(COALESCE(end, excluded.end), excluded.end)
            """,
            sessionParams);
        fillRunUsers = Cmd("UPDATE runs SET user_id = $user WHERE session = $session AND user_id IS NULL RETURNING start_seq, app_id, user_id, start, end", "$user", "$session");
        const string SessionEndedRuns = "session = $session AND exit_seq IS NULL AND start <= (SELECT end FROM sessions WHERE id = $session)";
        endRunsAtSession = Cmd(
            $"""
            UPDATE runs SET end = (SELECT end FROM sessions WHERE id = $session), ended_by = {EndedSession}
            WHERE {SessionEndedRuns}
            RETURNING start_seq, app_id, user_id, start, end
            """,
            "$session");
        sessionEndedRunsBefore = Cmd($"SELECT start_seq, app_id, user_id, start, end FROM runs WHERE {SessionEndedRuns}", "$session");
        insertUser = Cmd("INSERT OR IGNORE INTO users(name) VALUES($name)", "$name");
        findUser = Cmd("SELECT id FROM users WHERE name = $name", "$name");
        maxLogSeq = Cmd("SELECT COALESCE(MAX(seq), 0) FROM logs");
        insertLogs = Cmd(
            """
            INSERT INTO logs(id, time, host, session, source, channel, provider, event_id, level, message, fields, decoration, user)
            SELECT value->>0, value->>1, value->>2, value->>3, value->>4, value->>5, value->>6, value->>7, value->>8, value->>9,
                   value->>10, value->>11,
                   COALESCE(value->>11->>'$.user', (SELECT s.user FROM sessions s WHERE s.id = value->>3))
            FROM json_each($batch) WHERE true
            ORDER BY key
            ON CONFLICT(id) DO NOTHING
            """,
            "$batch");
        indexLogs = Cmd(
            "INSERT INTO logs_fts(rowid, message, fields) SELECT seq, message, fields FROM logs_search WHERE seq > $before",
            "$before");
        fillLogUsers = Cmd("UPDATE logs SET user = $user WHERE session = $session AND user IS NULL", "$user", "$session");
        findSegment = Cmd(
            "SELECT (SELECT 1 FROM recording_segments WHERE id = $id), (SELECT sha256 FROM recording_segments WHERE session = $session AND idx = $idx AND conflict = 0)",
            "$id", "$session", "$idx");
        insertSegment = Cmd(
            """
            INSERT INTO recording_segments(id, session, idx, time, host, start, end, width, height, fps, codec, bytes, sha256, prev_sha256, file, end_reason, conflict)
            VALUES($id, $session, $idx, $time, $host, $start, $end, $width, $height, $fps, $codec, $bytes, $sha256, $prev, $file, $endReason, $conflict)
            """,
            "$id", "$session", "$idx", "$time", "$host", "$start", "$end", "$width", "$height", "$fps", "$codec", "$bytes", "$sha256", "$prev", "$file", "$endReason", "$conflict");
        insertRecordingEvent = Cmd(
            """
            INSERT OR IGNORE INTO recording_events(id, session, host, time, type, message, gap_start, gap_end, width, height, segments)
            VALUES($id, $session, $host, $time, $type, $message, $gapStart, $gapEnd, $width, $height, $segments)
            """,
            "$id", "$session", "$host", "$time", "$type", "$message", "$gapStart", "$gapEnd", "$width", "$height", "$segments");
        aggregates = new RunAggregates(Cmd);
    }

    public IngestResult Ingest(SqliteTransaction tx, IReadOnlyList<TrailRecord> records)
    {
        aggregates.Clear();
        foreach (var cmd in all)
        {
            cmd.Transaction = tx;
        }

        // Session records first, in arrival order: what a process needs from its session (end, user)
        // is then in place, and the runs come out as if every record had arrived one by one.
        var accepted = 0;
        List<ProcessRecord>? processes = null;
        List<LogRecord>? logs = null;
        var batch = records;
        records = FirstOfEachId(records);
        foreach (var record in records)
        {
            switch (record)
            {
                case ProcessRecord p:
                    (processes ??= new List<ProcessRecord>(records.Count)).Add(p);
                    break;
                case LogRecord l:
                    (logs ??= []).Add(l);
                    break;
                case SessionRecord:
                    break;
                case RecordingSegmentRecord g:
                    accepted += AddSegment(g) ? 1 : 0;
                    break;
                case RecordingEventRecord e:
                    accepted += AddRecordingEvent(e) ? 1 : 0;
                    break;
                default:
                    throw new ArgumentException($"Unknown record type {record.GetType().Name}", nameof(records));
            }
        }

        foreach (var record in records)
        {
            if (record is SessionRecord s && AddSession(s))
            {
                accepted++;
            }
        }

        if (processes is not null)
        {
            accepted += AddProcesses(processes);
        }

        if (logs is not null)
        {
            accepted += AddLogs(logs);
        }

        aggregates.Flush();
        return new IngestResult(accepted, batch.Count - accepted);
    }

    /// <summary>
    /// <paramref name="records"/> without those whose id an earlier record of the batch has, or a record of another
    /// kind stored before (see the class's invariant). The batch itself when there are none, which is the rule.
    /// </summary>
    private IReadOnlyList<TrailRecord> FirstOfEachId(IReadOnlyList<TrailRecord> records)
    {
        var seen = new HashSet<string>(records.Count, StringComparer.Ordinal);
        var repeated = false;
        var idsByKind = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        foreach (var record in records)
        {
            if (!seen.Add(record.Id))
            {
                repeated = true;
                continue;
            }

            if (!idsByKind.TryGetValue(record.Kind, out var ids))
            {
                idsByKind[record.Kind] = ids = [];
            }

            ids.Add(record.Id);
        }

        HashSet<string>? stored = null;
        foreach (var (kind, ids) in idsByKind)
        {
            var query = storedAsOtherKind.TryGetValue(kind, out var known) ? known : throw new ArgumentException($"Unknown record kind {kind}", nameof(records));
            Set(query, System.Text.Json.JsonSerializer.Serialize(ids, IdsJsonContext.Default.ListString));
            using var reader = query.ExecuteReader();
            while (reader.Read())
            {
                (stored ??= new HashSet<string>(StringComparer.Ordinal)).Add(reader.GetString(0));
            }
        }

        if (!repeated && stored is null)
        {
            return records;
        }

        seen.Clear();
        return [.. records.Where(r => seen.Add(r.Id) && stored?.Contains(r.Id) != true)];
    }

    /// <summary>After a commit: the names created in this batch are now known ids.</summary>
    public void Committed()
    {
        foreach (var (k, v) in pendingUsers)
        {
            users[k] = v;
        }

        pendingUsers.Clear();
    }

    /// <summary>After a rollback: forget ids that were never committed.</summary>
    public void RolledBack()
    {
        pendingUsers.Clear();
        aggregates.Clear();
    }

    /// <summary>
    /// Stores a batch of process records set-based: one INSERT of every new event, then the pairing rule
    /// (<see cref="ProcessRuns.Pair"/>) over the stored events around them (<see cref="pairingWindow"/>), then one
    /// upsert of the runs it changed: every new start's, and each older run whose exit is now another (a late
    /// exit found its start, a new start cut an older run's claim, an earlier exit arrived) or none.
    /// </summary>
    private int AddProcesses(List<ProcessRecord> processes)
    {
        var before = (long)maxSeq.ExecuteScalar()!;
        Set(insertProcesses, BatchJson(processes));
        var inserted = insertProcesses.ExecuteNonQuery();
        if (inserted == 0)
        {
            return 0;
        }

        Set(insertNames, before);
        insertNames.ExecuteNonQuery();

        // The stored runs are what the rule gives over every stored event (the class's invariant), so the window's
        // events stored before this batch give each older start's current exit: pairing them without and with the
        // batch shows which runs change, with no read of the runs.
        var all = new List<RunEvent>(inserted * 2);
        var stored = new List<RunEvent>(inserted);
        var storedIndex = new List<int>(inserted);
        Set(pairingWindow, before);
        using (var reader = pairingWindow.ExecuteReader())
        {
            while (reader.Read())
            {
                var type = reader.GetInt64(3) == 0 ? ProcessEventType.Start : ProcessEventType.Exit;
                var e = new RunEvent(reader.GetString(1), reader.GetInt32(2), type, reader.GetInt64(4), reader.GetInt64(0));
                if (e.Arrival <= before)
                {
                    storedIndex.Add(all.Count);
                    stored.Add(e);
                }

                all.Add(e);
            }
        }

        var pairs = ProcessRuns.Pair(all);
        var storedPairs = ProcessRuns.Pair(stored);
        var added = new List<(long Start, long? Exit, long? ExitTime)>(inserted);
        var changed = new List<(long Start, long? Exit, long? ExitTime)>();
        var exitTimeWas = new Dictionary<long, long?>();
        for (var i = 0; i < all.Count; i++)
        {
            if (all[i].Type == ProcessEventType.Start && all[i].Arrival > before)
            {
                var (exit, exitTime) = pairs.TryGetExit(i, out var x) ? (all[x].Arrival, all[x].Time) : ((long?)null, (long?)null);
                added.Add((all[i].Arrival, exit, exitTime));
            }
        }

        for (var j = 0; j < stored.Count; j++)
        {
            if (stored[j].Type != ProcessEventType.Start)
            {
                continue;
            }

            var (was, wasTime) = storedPairs.TryGetExit(j, out var w) ? (stored[w].Arrival, stored[w].Time) : ((long?)null, (long?)null);
            var (exit, exitTime) = pairs.TryGetExit(storedIndex[j], out var x) ? (all[x].Arrival, all[x].Time) : ((long?)null, (long?)null);
            if (was != exit)
            {
                changed.Add((stored[j].Arrival, exit, exitTime));
                exitTimeWas[stored[j].Arrival] = wasTime;
            }
        }

        // In seq order: the runs' key then grows, so each insert appends to the end of its b-tree.
        added.Sort(static (a, b) => a.Start.CompareTo(b.Start));
        changed.Sort(static (a, b) => a.Start.CompareTo(b.Start));
        if (added.Count > 0)
        {
            Set(insertRuns, RunsJson(added));
            aggregates.Added(insertRuns);
        }

        if (changed.Count > 0)
        {
            // What each run was needs no read: the same run with the exit it had (else its session's end, else open).
            Set(updateRuns, RunsJson(changed));
            using var updated = updateRuns.ExecuteReader();
            while (updated.Read())
            {
                var run = RunAggregates.Run.Read(updated);
                aggregates.Changed(run with { End = exitTimeWas[run.Seq] ?? (updated.IsDBNull(5) ? null : updated.GetInt64(5)) }, run);
            }
        }

        return inserted;
    }

    /// <summary>
    /// Stores a batch of log records set-based: one INSERT of every new record (duplicates by id are
    /// skipped — only those: a missing required value fails the batch; the user comes from the decoration, else from the session), then their FTS rows.
    /// </summary>
    private int AddLogs(List<LogRecord> logs)
    {
        var before = (long)maxLogSeq.ExecuteScalar()!;
        Set(insertLogs, LogBatchJson(logs));
        var inserted = insertLogs.ExecuteNonQuery();
        if (inserted > 0)
        {
            Set(indexLogs, before);
            indexLogs.ExecuteNonQuery();
        }

        return inserted;
    }

    /// <summary>Log records as one JSON array of rows; fields and decoration as JSON text (see <see cref="LogJson"/>).</summary>
    private static string LogBatchJson(List<LogRecord> logs) => RowsJson(logs, 256, static (json, l) =>
    {
        json.WriteStringValue(l.Id);
        json.WriteNumberValue(SqliteStore.ToMillis(l.Time));
        json.WriteStringValue(l.Host);
        Write(json, l.Session);
        json.WriteStringValue(l.Source);
        Write(json, l.Channel);
        Write(json, l.Provider);
        Write(json, l.EventId);
        Write(json, l.Level);
        json.WriteStringValue(l.Message);
        Write(json, LogJson.Map(l.Fields));
        Write(json, LogJson.Map(l.Decoration));
    });

    /// <summary>Runs as [start seq, exit seq, exit time] rows (read by <see cref="insertRuns"/> and <see cref="updateRuns"/>).</summary>
    private static string RunsJson(List<(long Start, long? Exit, long? ExitTime)> runs) => RowsJson(runs, 32, static (json, r) =>
    {
        json.WriteNumberValue(r.Start);
        Write(json, r.Exit);
        Write(json, r.ExitTime);
    });

    /// <summary>Items as one JSON array of row arrays, each row's values written by <paramref name="writeRow"/>.</summary>
    private static string RowsJson<T>(List<T> items, int bytesPerRow, Action<System.Text.Json.Utf8JsonWriter, T> writeRow)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>(Math.Max(1, items.Count * bytesPerRow));
        using (var json = new System.Text.Json.Utf8JsonWriter(buffer))
        {
            json.WriteStartArray();
            foreach (var item in items)
            {
                json.WriteStartArray();
                writeRow(json, item);
                json.WriteEndArray();
            }

            json.WriteEndArray();
        }

        return System.Text.Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    /// <summary>The batch as one JSON array of rows (read back by json_each in <see cref="insertProcesses"/>).</summary>
    private static string BatchJson(List<ProcessRecord> processes) => RowsJson(processes, 160, static (json, p) =>
    {
        json.WriteStringValue(p.Id);
        json.WriteStringValue(p.Host);
        json.WriteNumberValue(p.Pid);
        json.WriteNumberValue(p.Type == ProcessEventType.Start ? 0 : 1);
        json.WriteNumberValue(SqliteStore.ToMillis(p.Time));
        Write(json, p.Session);
        Write(json, p.ParentPid);
        Write(json, p.Executable);
        Write(json, p.CommandLine);
        Write(json, p.Uid);
        Write(json, p.User);
        Write(json, p.LoginUid);
        Write(json, p.AuditSession);
        Write(json, p.ExitCode);
    });

    private static void Write(System.Text.Json.Utf8JsonWriter json, string? value)
    {
        if (value is null)
        {
            json.WriteNullValue();
        }
        else
        {
            json.WriteStringValue(value);
        }
    }

    private static void Write(System.Text.Json.Utf8JsonWriter json, long? value)
    {
        if (value is { } v)
        {
            json.WriteNumberValue(v);
        }
        else
        {
            json.WriteNullValue();
        }
    }

    /// <summary>
    /// Stores a segment record unless its id is known or the same (session, index) is already held with the
    /// same sha256 (both count as duplicates). Another sha256 for a held (session, index) is kept as a conflict.
    /// </summary>
    private bool AddSegment(RecordingSegmentRecord g)
    {
        var session = g.Session ?? throw new ArgumentException($"segment record {g.Id} has no session", nameof(g));
        Set(findSegment, g.Id, session, g.Index);
        bool knownId;
        string? heldSha;
        using (var reader = findSegment.ExecuteReader())
        {
            reader.Read();
            knownId = !reader.IsDBNull(0);
            heldSha = reader.IsDBNull(1) ? null : reader.GetString(1);
        }

        if (knownId || heldSha == g.Sha256)
        {
            return false;
        }

        Set(
            insertSegment,
            g.Id,
            session,
            g.Index,
            SqliteStore.ToMillis(g.Time),
            g.Host,
            SqliteStore.ToMillis(g.Start),
            SqliteStore.ToMillis(g.End),
            g.Width,
            g.Height,
            g.Fps,
            g.Codec,
            g.Bytes,
            g.Sha256,
            g.PreviousSha256,
            g.File,
            g.EndReason,
            heldSha is null ? 0 : 1);
        insertSegment.ExecuteNonQuery();
        return true;
    }

    private bool AddRecordingEvent(RecordingEventRecord e)
    {
        Set(
            insertRecordingEvent,
            e.Id,
            e.Session ?? throw new ArgumentException($"recording record {e.Id} has no session", nameof(e)),
            e.Host,
            SqliteStore.ToMillis(e.Time),
            e.Type,
            e.Message,
            e.GapStart is { } gs ? SqliteStore.ToMillis(gs) : null,
            e.GapEnd is { } ge ? SqliteStore.ToMillis(ge) : null,
            e.Width,
            e.Height,
            e.Segments);
        return insertRecordingEvent.ExecuteNonQuery() > 0;
    }

    private bool AddSession(SessionRecord s)
    {
        var session = s.Session ?? "";
        var time = SqliteStore.ToMillis(s.Time);
        var fields = SessionColumns.Values(s.Fields);
        Set(insertSessionEvent, [s.Id, session, s.Host, s.Type == SessionEventType.Start ? 0 : 1, time, .. fields]);
        if (insertSessionEvent.ExecuteNonQuery() == 0)
        {
            return false;
        }

        var upsert = s.Type == SessionEventType.Start ? upsertSessionStart : upsertSessionEnd;
        Set(upsert, [session, s.Host, .. fields, time]);
        upsert.ExecuteNonQuery();
        if (s.User is not null)
        {
            Set(fillRunUsers, NameId(s.User, users, pendingUsers, insertUser, findUser), session);
            using (var filled = fillRunUsers.ExecuteReader())
            {
                // Each run moves from the pair without a user to its user's.
                while (filled.Read())
                {
                    var run = RunAggregates.Run.Read(filled);
                    aggregates.Changed(run with { User = 0 }, run);
                }
            }

            Set(fillLogUsers, s.User, session);
            fillLogUsers.ExecuteNonQuery();
        }

        if (s.Type == SessionEventType.End)
        {
            Set(sessionEndedRunsBefore, session);
            aggregates.Before(sessionEndedRunsBefore);
            Set(endRunsAtSession, session);
            aggregates.Changed(endRunsAtSession);
        }

        return true;
    }

    private static long NameId(string name, Dictionary<string, long> known, Dictionary<string, long> pending, SqliteCommand insert, SqliteCommand find)
    {
        if (known.TryGetValue(name, out var id) || pending.TryGetValue(name, out id))
        {
            return id;
        }

        Set(insert, name);
        insert.ExecuteNonQuery();
        Set(find, name);
        id = (long)find.ExecuteScalar()!;
        pending[name] = id;
        return id;
    }

    private static void Set(SqliteCommand cmd, params object?[] values)
    {
        for (var i = 0; i < values.Length; i++)
        {
            cmd.Parameters[i].Value = values[i] ?? DBNull.Value;
        }
    }

    private static object Db(string? value) => value is null ? DBNull.Value : value;

    private static object Db(long? value) => value is { } v ? v : DBNull.Value;

    public void Dispose()
    {
        foreach (var cmd in all)
        {
            cmd.Dispose();
        }
    }
}

/// <summary>Serialises a batch's ids for json_each.</summary>
[System.Text.Json.Serialization.JsonSerializable(typeof(List<string>))]
internal sealed partial class IdsJsonContext : System.Text.Json.Serialization.JsonSerializerContext;
