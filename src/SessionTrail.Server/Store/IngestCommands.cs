using Microsoft.Data.Sqlite;
using SessionTrail.Core.Records;

namespace SessionTrail.Server.Store;

/// <summary>
/// The prepared statements of one writer connection and the pairing logic (see <see cref="SqliteStore"/>).
/// Invariant after every record: each start's run holds the first exit at or after it that comes before
/// the pid's next start on that host; an exit no start owns is kept only in process_events.
/// Not thread-safe: used under the store's writer lock.
/// </summary>
internal sealed class IngestCommands : IDisposable
{
    private const int EndedOpen = 0;
    private const int EndedExit = 1;
    private const int EndedSession = 2;

    private readonly List<SqliteCommand> all = [];
    private readonly SqliteCommand insertProcess;
    private readonly SqliteCommand previousStart;
    private readonly SqliteCommand detachExit;
    private readonly SqliteCommand insertRun;
    private readonly SqliteCommand findSession;
    private readonly SqliteCommand ensureSession;
    private readonly SqliteCommand insertSessionEvent;
    private readonly SqliteCommand upsertSessionStart;
    private readonly SqliteCommand upsertSessionEnd;
    private readonly SqliteCommand fillRunUsers;
    private readonly SqliteCommand endRunsAtSession;
    private readonly SqliteCommand insertApp;
    private readonly SqliteCommand findApp;
    private readonly SqliteCommand insertUser;
    private readonly SqliteCommand findUser;

    private readonly Dictionary<string, long> apps = new(StringComparer.Ordinal);
    private readonly Dictionary<string, long> users = new(StringComparer.Ordinal);
    private readonly Dictionary<string, long> pendingApps = new(StringComparer.Ordinal);
    private readonly Dictionary<string, long> pendingUsers = new(StringComparer.Ordinal);

    // What a session row says (end, user id), valid within one batch; any session record clears it.
    private readonly Dictionary<string, (long? End, long? UserId)> sessionCache = new(StringComparer.Ordinal);

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

        insertProcess = Cmd(
            """
            INSERT OR IGNORE INTO process_events(id, host, pid, type, time, session, ppid, exe, cmdline, uid, user, login_uid, audit_session, exit_code)
            VALUES($id, $host, $pid, $type, $time, $session, $ppid, $exe, $cmdline, $uid, $user, $loginUid, $auditSession, $exitCode)
            RETURNING seq
            """,
            "$id", "$host", "$pid", "$type", "$time", "$session", "$ppid", "$exe", "$cmdline", "$uid", "$user", "$loginUid", "$auditSession", "$exitCode");
        previousStart = Cmd(
            """
            SELECT seq FROM process_events
            WHERE host = $host AND pid = $pid AND type = 0 AND time <= $time AND (time < $time OR seq < $seq)
            ORDER BY time DESC, seq DESC LIMIT 1
            """,
            "$host", "$pid", "$time", "$seq");
        detachExit = Cmd(
            $"""
            UPDATE runs SET exit_seq = NULL,
                end = (SELECT s.end FROM sessions s WHERE s.id = runs.session AND s.end >= runs.start),
                ended_by = CASE WHEN (SELECT s.end FROM sessions s WHERE s.id = runs.session AND s.end >= runs.start) IS NULL
                                THEN {EndedOpen} ELSE {EndedSession} END
            WHERE start_seq = $start AND exit_seq = $exit
            """,
            "$start", "$exit");
        insertRun = Cmd(
            $"""
            INSERT INTO runs(start_seq, exit_seq, app_id, user_id, host, pid, session, start, end, ended_by)
            SELECT $seq, x.seq, $app, $user, $host, $pid, $session, $start, COALESCE(x.time, $sessionEnd),
                   CASE WHEN x.seq IS NOT NULL THEN {EndedExit} WHEN $sessionEnd IS NOT NULL THEN {EndedSession} ELSE {EndedOpen} END
            FROM (SELECT 1) LEFT JOIN (
                SELECT e.seq, e.time FROM process_events e
                WHERE e.host = $host AND e.pid = $pid AND e.type = 1 AND e.time >= $start
                  AND e.time < COALESCE(
                      (SELECT n.time FROM process_events n
                       WHERE n.host = $host AND n.pid = $pid AND n.type = 0 AND n.time >= $start AND (n.time > $start OR n.seq > $seq)
                       ORDER BY n.time, n.seq LIMIT 1),
                      9223372036854775807)
                ORDER BY e.time, e.seq LIMIT 1) x
            RETURNING exit_seq
            """,
            "$seq", "$app", "$user", "$host", "$pid", "$session", "$start", "$sessionEnd");
        findSession = Cmd("SELECT end, user FROM sessions WHERE id = $id", "$id");
        ensureSession = Cmd("INSERT OR IGNORE INTO sessions(id, host) VALUES($id, $host)", "$id", "$host");
        insertSessionEvent = Cmd(
            """
            INSERT OR IGNORE INTO session_events(id, session, host, type, time, user, stack, fleet, access_mode, reservation_time, instance_type, region, image_arn)
            VALUES($id, $session, $host, $type, $time, $user, $stack, $fleet, $accessMode, $reservationTime, $instanceType, $region, $imageArn)
            """,
            "$id", "$session", "$host", "$type", "$time", "$user", "$stack", "$fleet", "$accessMode", "$reservationTime", "$instanceType", "$region", "$imageArn");
        const string SessionFields = """
            host = COALESCE(excluded.host, host), user = COALESCE(excluded.user, user), stack = COALESCE(excluded.stack, stack),
            fleet = COALESCE(excluded.fleet, fleet), access_mode = COALESCE(excluded.access_mode, access_mode),
            reservation_time = COALESCE(excluded.reservation_time, reservation_time),
            instance_type = COALESCE(excluded.instance_type, instance_type), region = COALESCE(excluded.region, region),
            image_arn = COALESCE(excluded.image_arn, image_arn)
            """;
        string[] sessionParams = ["$id", "$host", "$user", "$stack", "$fleet", "$accessMode", "$reservationTime", "$instanceType", "$region", "$imageArn", "$time"];
        upsertSessionStart = Cmd(
            $"""
            INSERT INTO sessions(id, host, user, stack, fleet, access_mode, reservation_time, instance_type, region, image_arn, start)
            VALUES($id, $host, $user, $stack, $fleet, $accessMode, $reservationTime, $instanceType, $region, $imageArn, $time)
            ON CONFLICT(id) DO UPDATE SET {SessionFields}, start = MIN(COALESCE(start, excluded.start), excluded.start)
            """,
            sessionParams);
        upsertSessionEnd = Cmd(
            $"""
            INSERT INTO sessions(id, host, user, stack, fleet, access_mode, reservation_time, instance_type, region, image_arn, end)
            VALUES($id, $host, $user, $stack, $fleet, $accessMode, $reservationTime, $instanceType, $region, $imageArn, $time)
            ON CONFLICT(id) DO UPDATE SET {SessionFields}, end = MAX(COALESCE(end, excluded.end), excluded.end)
            """,
            sessionParams);
        fillRunUsers = Cmd("UPDATE runs SET user_id = $user WHERE session = $session AND user_id IS NULL", "$user", "$session");
        endRunsAtSession = Cmd(
            $"""
            UPDATE runs SET end = (SELECT end FROM sessions WHERE id = $session), ended_by = {EndedSession}
            WHERE session = $session AND exit_seq IS NULL AND start <= (SELECT end FROM sessions WHERE id = $session)
            """,
            "$session");
        insertApp = Cmd("INSERT OR IGNORE INTO apps(path) VALUES($name)", "$name");
        findApp = Cmd("SELECT id FROM apps WHERE path = $name", "$name");
        insertUser = Cmd("INSERT OR IGNORE INTO users(name) VALUES($name)", "$name");
        findUser = Cmd("SELECT id FROM users WHERE name = $name", "$name");
    }

    public IngestResult Ingest(SqliteTransaction tx, IReadOnlyList<TrailRecord> records)
    {
        foreach (var cmd in all)
        {
            cmd.Transaction = tx;
        }

        var accepted = 0;
        sessionCache.Clear();
        foreach (var record in records)
        {
            var isNew = record switch
            {
                ProcessRecord p => p.Type == ProcessEventType.Start ? AddStart(p) : AddExit(p),
                SessionRecord s => AddSession(s),
                _ => throw new ArgumentException($"Unknown record type {record.GetType().Name}", nameof(records)),
            };
            if (isNew)
            {
                accepted++;
            }
        }

        return new IngestResult(accepted, records.Count - accepted);
    }

    /// <summary>After a commit: the names created in this batch are now known ids.</summary>
    public void Committed()
    {
        foreach (var (k, v) in pendingApps)
        {
            apps[k] = v;
        }

        foreach (var (k, v) in pendingUsers)
        {
            users[k] = v;
        }

        pendingApps.Clear();
        pendingUsers.Clear();
    }

    /// <summary>After a rollback: forget ids that were never committed.</summary>
    public void RolledBack()
    {
        pendingApps.Clear();
        pendingUsers.Clear();
    }

    private long? InsertProcess(ProcessRecord p)
    {
        var ps = insertProcess.Parameters;
        ps[0].Value = p.Id;
        ps[1].Value = p.Host;
        ps[2].Value = p.Pid;
        ps[3].Value = p.Type == ProcessEventType.Start ? 0 : 1;
        ps[4].Value = SqliteStore.ToMillis(p.Time);
        ps[5].Value = Db(p.Session);
        ps[6].Value = Db(p.ParentPid);
        ps[7].Value = Db(p.Executable);
        ps[8].Value = Db(p.CommandLine);
        ps[9].Value = Db(p.Uid);
        ps[10].Value = Db(p.User);
        ps[11].Value = Db(p.LoginUid);
        ps[12].Value = Db(p.AuditSession);
        ps[13].Value = Db(p.ExitCode);
        return insertProcess.ExecuteScalar() is long seq ? seq : null;
    }

    private bool AddStart(ProcessRecord p)
    {
        if (InsertProcess(p) is not { } seq)
        {
            return false;
        }

        var time = SqliteStore.ToMillis(p.Time);
        long? userId = p.User is null ? null : NameId(p.User, users, pendingUsers, insertUser, findUser);
        long? sessionEnd = null;
        if (p.Session is not null)
        {
            if (!sessionCache.TryGetValue(p.Session, out var known))
            {
                Set(findSession, p.Session);
                using (var reader = findSession.ExecuteReader())
                {
                    if (reader.Read())
                    {
                        known = (
                            reader.IsDBNull(0) ? null : reader.GetInt64(0),
                            reader.IsDBNull(1) ? null : NameId(reader.GetString(1), users, pendingUsers, insertUser, findUser));
                    }
                    else
                    {
                        reader.Close();
                        Set(ensureSession, p.Session, p.Host);
                        ensureSession.ExecuteNonQuery();
                    }
                }

                sessionCache[p.Session] = known;
            }

            sessionEnd = known.End >= time ? known.End : null;
            userId ??= known.UserId;
        }

        // One statement finds the exit this start owns (the first at or after it, before the pid's next
        // start) and inserts the run; it answers the exit it took.
        Set(
            insertRun,
            seq,
            NameId(p.Executable ?? "", apps, pendingApps, insertApp, findApp),
            userId,
            p.Host,
            p.Pid,
            p.Session,
            time,
            sessionEnd);
        if (insertRun.ExecuteScalar() is long exitSeq && Scalar(previousStart, p.Host, p.Pid, time, seq) is { } previous)
        {
            // The exit belonged to the previous start of this pid; this start now sits between them.
            Set(detachExit, previous, exitSeq);
            detachExit.ExecuteNonQuery();
        }

        return true;
    }

    /// <summary>The exit's pairing is done by the trigger process_exit_pairs, inside the INSERT.</summary>
    private bool AddExit(ProcessRecord p) => InsertProcess(p) is not null;

    private bool AddSession(SessionRecord s)
    {
        var session = s.Session ?? "";
        var time = SqliteStore.ToMillis(s.Time);
        Set(
            insertSessionEvent,
            s.Id,
            session,
            s.Host,
            s.Type == SessionEventType.Start ? 0 : 1,
            time,
            s.User,
            s.Stack,
            s.Fleet,
            s.AccessMode,
            s.ReservationTime,
            s.InstanceType,
            s.Region,
            s.ImageArn);
        if (insertSessionEvent.ExecuteNonQuery() == 0)
        {
            return false;
        }

        sessionCache.Clear();
        var upsert = s.Type == SessionEventType.Start ? upsertSessionStart : upsertSessionEnd;
        Set(upsert, session, s.Host, s.User, s.Stack, s.Fleet, s.AccessMode, s.ReservationTime, s.InstanceType, s.Region, s.ImageArn, time);
        upsert.ExecuteNonQuery();
        if (s.User is not null)
        {
            Set(fillRunUsers, NameId(s.User, users, pendingUsers, insertUser, findUser), session);
            fillRunUsers.ExecuteNonQuery();
        }

        if (s.Type == SessionEventType.End)
        {
            Set(endRunsAtSession, session);
            endRunsAtSession.ExecuteNonQuery();
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

    private static long? Scalar(SqliteCommand cmd, params object?[] values)
    {
        Set(cmd, values);
        return cmd.ExecuteScalar() is long v ? v : null;
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
