using Microsoft.Data.Sqlite;

namespace SessionTrail.Server.Store;

/// <summary>
/// The SQLite schema, versioned with <c>PRAGMA user_version</c>. Each migration runs once, in order,
/// inside one transaction; a database newer than this build is refused with a clear error.
/// Times are stored as INTEGER milliseconds since the Unix epoch, UTC.
/// </summary>
internal static class Schema
{
    private static readonly string[] Migrations =
    [
        // 1: raw events, sessions, materialized runs, tokens.
        """
        CREATE TABLE apps(id INTEGER PRIMARY KEY, path TEXT NOT NULL UNIQUE);
        CREATE TABLE users(id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);

        -- Every process record as received; id is the record id (duplicates are dropped on it).
        CREATE TABLE process_events(
            seq INTEGER PRIMARY KEY,
            id TEXT NOT NULL UNIQUE,
            host TEXT NOT NULL,
            pid INTEGER NOT NULL,
            type INTEGER NOT NULL,          -- 0 start, 1 exit
            time INTEGER NOT NULL,
            session TEXT, ppid INTEGER, exe TEXT, cmdline TEXT, uid INTEGER, user TEXT,
            login_uid INTEGER, audit_session INTEGER, exit_code INTEGER);
        CREATE INDEX process_events_pairing ON process_events(host, pid, type, time);

        -- A new exit goes to the latest start of its pid on its host at or before it, unless that run
        -- already has an earlier exit (runs are inserted by the ingest code; see SqliteStore). Dropped by migration 8.
        CREATE TRIGGER process_exit_pairs AFTER INSERT ON process_events WHEN NEW.type = 1
        BEGIN
            UPDATE runs SET exit_seq = NEW.seq, end = NEW.time, ended_by = 1
            WHERE start_seq = (SELECT seq FROM process_events
                               WHERE host = NEW.host AND pid = NEW.pid AND type = 0 AND time <= NEW.time
                               ORDER BY time DESC, seq DESC LIMIT 1)
              AND (exit_seq IS NULL OR end > NEW.time OR (end = NEW.time AND exit_seq > NEW.seq));
        END;

        -- Every session record as received.
        CREATE TABLE session_events(
            id TEXT PRIMARY KEY,
            session TEXT NOT NULL,
            host TEXT NOT NULL,
            type INTEGER NOT NULL,          -- 0 start, 1 end
            time INTEGER NOT NULL,
            user TEXT, stack TEXT, fleet TEXT, access_mode TEXT, reservation_time TEXT,
            instance_type TEXT, region TEXT, image_arn TEXT);

        -- One row per session id: merged from its start/end records (and known from process records).
        CREATE TABLE sessions(
            id TEXT PRIMARY KEY,
            host TEXT, user TEXT, stack TEXT, fleet TEXT, access_mode TEXT, reservation_time TEXT,
            instance_type TEXT, region TEXT, image_arn TEXT,
            start INTEGER, end INTEGER);

        -- One row per process start, kept paired at ingest time (Core ProcessRuns, called by IngestCommands).
        CREATE TABLE runs(
            start_seq INTEGER PRIMARY KEY,  -- process_events.seq of the start
            exit_seq INTEGER,               -- process_events.seq of the paired exit
            app_id INTEGER NOT NULL,
            user_id INTEGER,
            host TEXT NOT NULL,
            pid INTEGER NOT NULL,
            session TEXT,
            start INTEGER NOT NULL,
            end INTEGER,                    -- exit time, session end, or NULL while open
            ended_by INTEGER NOT NULL);     -- 0 open, 1 exit, 2 session_end
        CREATE INDEX runs_session ON runs(session) WHERE session IS NOT NULL;
        -- Covering index for the per-app reports (top-apps, launches, concurrency, last-used).
        CREATE INDEX runs_app ON runs(app_id, user_id, start, end);

        CREATE TABLE tokens(
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL,
            hash BLOB NOT NULL UNIQUE,      -- SHA-256 of the token; the token itself is never stored
            created INTEGER NOT NULL);
        """,

        // 2: log records with a full-text index over the message and the structured fields. Rows are also deleted now, by
        // log retention (Logs.LogRetention), which tells the index the values it had, read through the same view.
        """
        CREATE TABLE logs(
            seq INTEGER PRIMARY KEY,
            id TEXT NOT NULL UNIQUE,        -- record id; duplicates are dropped on it
            time INTEGER NOT NULL,
            host TEXT NOT NULL,
            session TEXT,
            source TEXT NOT NULL,
            channel TEXT, provider TEXT, event_id INTEGER, level TEXT,
            message TEXT NOT NULL,
            fields TEXT,                    -- JSON object of strings (non-ASCII unescaped), or NULL
            decoration TEXT,                -- JSON object of strings, or NULL
            user TEXT);                     -- decoration's user, else the session's user
        CREATE INDEX logs_time ON logs(time, seq);
        CREATE INDEX logs_session ON logs(session, time, seq) WHERE session IS NOT NULL;
        CREATE INDEX logs_user ON logs(user, time, seq) WHERE user IS NOT NULL;
        CREATE INDEX logs_host ON logs(host, time, seq);
        CREATE INDEX logs_source ON logs(source, time, seq);

        -- External-content FTS5 index (rows are only ever added) over the message and the fields' values,
        -- flattened by the view it reads its content from.
        CREATE VIEW logs_search(seq, message, fields) AS
            SELECT seq, message, (SELECT group_concat(value, ' ') FROM json_each(logs.fields)) FROM logs;
        CREATE VIRTUAL TABLE logs_fts USING fts5(message, fields, content='logs_search', content_rowid='seq');
        """,

        // 3: session recordings: segment records, recording events, legal holds, retention deletions, access audit.
        """
        -- Every segment record as received (duplicates by record id are dropped). One row per (session, idx)
        -- has conflict = 0; a later record for the same (session, idx) with another sha256 is kept with
        -- conflict = 1 and shown as a problem — never replacing the first.
        CREATE TABLE recording_segments(
            seq INTEGER PRIMARY KEY,
            id TEXT NOT NULL UNIQUE,
            session TEXT NOT NULL,
            idx INTEGER NOT NULL,
            time INTEGER NOT NULL,
            host TEXT NOT NULL,
            start INTEGER NOT NULL,
            end INTEGER NOT NULL,
            width INTEGER NOT NULL,
            height INTEGER NOT NULL,
            fps INTEGER NOT NULL,
            codec TEXT NOT NULL,
            bytes INTEGER NOT NULL,
            sha256 TEXT NOT NULL,
            prev_sha256 TEXT,
            file TEXT NOT NULL,
            end_reason TEXT,
            conflict INTEGER NOT NULL DEFAULT 0);
        CREATE UNIQUE INDEX recording_segments_key ON recording_segments(session, idx) WHERE conflict = 0;
        CREATE INDEX recording_segments_session ON recording_segments(session, idx, seq);

        CREATE TABLE recording_events(
            seq INTEGER PRIMARY KEY,
            id TEXT NOT NULL UNIQUE,
            session TEXT NOT NULL,
            host TEXT NOT NULL,
            time INTEGER NOT NULL,
            type TEXT NOT NULL,
            message TEXT NOT NULL,
            gap_start INTEGER, gap_end INTEGER, width INTEGER, height INTEGER);
        CREATE INDEX recording_events_session ON recording_events(session, time, seq);

        -- Sessions whose recordings are on legal hold (retention does not delete them).
        CREATE TABLE recording_holds(
            session TEXT PRIMARY KEY,
            time INTEGER NOT NULL,
            who TEXT NOT NULL);

        -- Sessions whose recording bytes the retention sweep deleted (the records stay); last_seq is the
        -- newest segment record then, so a record arriving later makes the session a candidate again.
        CREATE TABLE recording_deletions(
            session TEXT PRIMARY KEY,
            time INTEGER NOT NULL,
            bytes INTEGER NOT NULL,
            last_seq INTEGER NOT NULL);

        -- Who read or managed which recording, when, from where.
        CREATE TABLE access_audit(
            seq INTEGER PRIMARY KEY,
            time INTEGER NOT NULL,
            who TEXT NOT NULL,              -- token name, or "system" for the retention sweep
            token_id INTEGER,
            action TEXT NOT NULL,           -- play|head|download|export|manifest|hold|release|retention-delete
            session TEXT,
            idx INTEGER,
            range TEXT,                     -- the Range header as sent, when any
            remote TEXT,
            status INTEGER);                -- HTTP status answered
        CREATE INDEX access_audit_time ON access_audit(time, seq);
        CREATE INDEX access_audit_session ON access_audit(session, time, seq);
        """,

        // 4: sign-in: local accounts with roles, their server-side web sessions, and a role per API token.
        """
        -- Local user accounts of the web UI and API (not the app users of table users).
        CREATE TABLE accounts(
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL UNIQUE COLLATE NOCASE,
            hash TEXT NOT NULL,             -- ASP.NET Core Identity PasswordHasher V3 (PBKDF2-HMAC-SHA512, salted), base64
            role TEXT NOT NULL,             -- viewer | auditor | admin
            created INTEGER NOT NULL,
            disabled INTEGER NOT NULL DEFAULT 0);

        -- Signed-in browser sessions; the cookie value itself is never stored.
        CREATE TABLE web_sessions(
            hash BLOB PRIMARY KEY,          -- SHA-256 of the st_session cookie value
            account INTEGER NOT NULL,       -- accounts.id (deleted with the account)
            csrf TEXT NOT NULL,             -- the session's X-CSRF-Token
            created INTEGER NOT NULL,
            seen INTEGER NOT NULL,          -- last request (to the minute), for the idle expiry
            remote TEXT);
        CREATE INDEX web_sessions_account ON web_sessions(account);

        -- Tokens made before roles existed keep full rights.
        ALTER TABLE tokens ADD COLUMN role TEXT NOT NULL DEFAULT 'admin';
        """,

        // 5: indexes of the web UI's sessions list, session facets, dashboard filters (fleet, stack) and active sessions.
        """
        CREATE INDEX sessions_start ON sessions(start, id);
        CREATE INDEX sessions_user ON sessions(user, start, id);
        CREATE INDEX sessions_host ON sessions(host, start, id);
        CREATE INDEX sessions_fleet ON sessions(fleet, start, id);
        CREATE INDEX sessions_stack ON sessions(stack, start, id);
        CREATE INDEX sessions_open ON sessions(start) WHERE end IS NULL;
        -- The dashboard's usage per day: runs in UTC-day order, covering what it sums (see ReportService.PerDay).
        CREATE INDEX runs_day ON runs(start / 86400000, user_id, start, end);
        """,

        // 6: a stopped recording event says how many segments the recording has in all (a missing last one shows).
        """
        ALTER TABLE recording_events ADD COLUMN segments INTEGER;
        """,

        // 7: ids that are never reused. A plain INTEGER PRIMARY KEY takes the highest id + 1, so deleting the
        // newest token (revoke) or account (user remove) hands its id to the next one: the access audit's
        // token id, and web_sessions.account, would then name two. AUTOINCREMENT ids only grow (SQLite keeps
        // the highest ever used in sqlite_sequence). Rows and ids are kept; the counters start above every id
        // a row or the audit log still names (ids deleted before this migration are known only from there).
        // The audit log names the account too (account_id), since a user name can be removed and added again.
        // Tables nothing deletes from keep the plain key: their highest id is never deleted, so never reused —
        // access_audit enforces that with a trigger (the audit log is append-only).
        """
        CREATE TABLE tokens_v7(
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            name TEXT NOT NULL,
            hash BLOB NOT NULL UNIQUE,      -- SHA-256 of the token; the token itself is never stored
            created INTEGER NOT NULL,
            role TEXT NOT NULL DEFAULT 'admin');
        INSERT INTO tokens_v7(id, name, hash, created, role) SELECT id, name, hash, created, role FROM tokens;
        DROP TABLE tokens;
        ALTER TABLE tokens_v7 RENAME TO tokens;

        CREATE TABLE accounts_v7(
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            name TEXT NOT NULL UNIQUE COLLATE NOCASE,
            hash TEXT NOT NULL,             -- ASP.NET Core Identity PasswordHasher V3 (PBKDF2-HMAC-SHA512, salted), base64
            role TEXT NOT NULL,             -- viewer | auditor | admin
            created INTEGER NOT NULL,
            disabled INTEGER NOT NULL DEFAULT 0);
        INSERT INTO accounts_v7(id, name, hash, role, created, disabled) SELECT id, name, hash, role, created, disabled FROM accounts;
        DROP TABLE accounts;
        ALTER TABLE accounts_v7 RENAME TO accounts;

        ALTER TABLE access_audit ADD COLUMN account_id INTEGER;   -- accounts.id of a signed-in user, else NULL
        CREATE TRIGGER access_audit_append_only BEFORE DELETE ON access_audit
        BEGIN
            SELECT RAISE(ABORT, 'the access audit log is append-only');
        END;

        DELETE FROM sqlite_sequence WHERE name IN ('tokens', 'accounts');
        INSERT INTO sqlite_sequence(name, seq) VALUES
            ('tokens', MAX((SELECT COALESCE(MAX(id), 0) FROM tokens), (SELECT COALESCE(MAX(token_id), 0) FROM access_audit))),
            ('accounts', MAX((SELECT COALESCE(MAX(id), 0) FROM accounts), (SELECT COALESCE(MAX(account), 0) FROM web_sessions)));
        """,

        // 8: the pairing rule has one home. Ingest pairs runs with Core ProcessRuns over the stored events around the
        // new ones (IngestCommands.pairingWindow); the exit trigger of migration 1 was a second statement of it.
        // The runs it kept are those the rule gives, so they stay as they are.
        """
        DROP TRIGGER process_exit_pairs;
        """,

        // 9: the runs aggregated per (app, user), kept by ingest in the runs' transaction (RunAggregates), so that the
        // reports over all of history read pairs instead of runs. An existing store is back-filled when it is opened
        // for writing (RunAggregates.BackFill, with progress): aggregates_pending holds the next app to do until then,
        // and the reports read the runs while it is there.
        """
        CREATE TABLE user_app(
            app_id INTEGER NOT NULL,
            user_id INTEGER NOT NULL,       -- 0: runs with no user
            runs INTEGER NOT NULL,          -- all runs, open ones too
            last_start INTEGER NOT NULL,    -- the latest start
            closed_ms INTEGER NOT NULL,     -- sum of MAX(0, end - start) over the closed runs
            last_end INTEGER,               -- the latest end of a closed run; NULL when none is closed
            open_runs INTEGER NOT NULL,     -- open runs (end NULL): their time is now - start, computed when read
            open_start_sum INTEGER NOT NULL,-- the sum of the open runs' starts
            PRIMARY KEY(app_id, user_id)) WITHOUT ROWID;
        CREATE INDEX user_app_user ON user_app(user_id);
        -- The same sums per app, and its users: the pairs with a user.
        CREATE TABLE app_total(
            app_id INTEGER PRIMARY KEY,
            runs INTEGER NOT NULL,
            closed_ms INTEGER NOT NULL,
            open_runs INTEGER NOT NULL,
            open_start_sum INTEGER NOT NULL,
            users INTEGER NOT NULL);
        CREATE TABLE aggregates_pending(next_app_id INTEGER NOT NULL);
        INSERT INTO aggregates_pending SELECT MIN(app_id) FROM runs HAVING COUNT(*) > 0;
        """,

        // 10: what each Parquet lake export wrote (Export/LakeExporter): per destination, the highest process_events seq,
        // session_events rowid and logs seq it covered, so that the next export finds the days changed since from the rows
        // after them. The index finds a changed session's records (the days it was, and is, filed under).
        """
        CREATE TABLE lake_exports(
            destination TEXT PRIMARY KEY,   -- a full folder path, or s3://bucket/prefix/
            process_seq INTEGER NOT NULL,
            session_rowid INTEGER NOT NULL,
            log_seq INTEGER,                -- NULL until an export with --logs
            time INTEGER NOT NULL);
        CREATE INDEX session_events_session ON session_events(session, time);
        """,

        // 11: the runs' sums per (UTC day, app, user), per (month, app, user) and per (day, user) of their start, kept by ingest with user_app
        // (RunAggregates), so that reports over a window read whole months and whole days instead of their runs. The
        // partial index holds the runs that can reach more than a day past their start (open, or a day long or more), with
        // the columns the reports read (open runs can be many: an agent that died leaves its runs open):
        // with it, the runs running across a window's edge are those that started in the day before it, plus these.
        // Every aggregate is rebuilt by the back-fill (with progress) when the store is next opened for writing.
        """
        CREATE TABLE user_app_day(
            day INTEGER NOT NULL,           -- UTC days since 1970-01-01 of the runs' start
            app_id INTEGER NOT NULL,
            user_id INTEGER NOT NULL,       -- 0: runs with no user
            runs INTEGER NOT NULL,
            closed_ms INTEGER NOT NULL,     -- as in user_app
            open_runs INTEGER NOT NULL,
            open_start_sum INTEGER NOT NULL,
            PRIMARY KEY(day, app_id, user_id)) WITHOUT ROWID;
        CREATE TABLE user_app_month(
            month INTEGER NOT NULL,         -- year * 12 + month - 1 of the runs' start (UTC)
            app_id INTEGER NOT NULL,
            user_id INTEGER NOT NULL,
            runs INTEGER NOT NULL,
            closed_ms INTEGER NOT NULL,
            open_runs INTEGER NOT NULL,
            open_start_sum INTEGER NOT NULL,
            PRIMARY KEY(month, app_id, user_id)) WITHOUT ROWID;
        -- The same per (UTC day, user) over all apps: the dashboard's runs, users and run time per day.
        CREATE TABLE user_day(
            day INTEGER NOT NULL,
            user_id INTEGER NOT NULL,
            runs INTEGER NOT NULL,
            closed_ms INTEGER NOT NULL,
            open_runs INTEGER NOT NULL,
            open_start_sum INTEGER NOT NULL,
            PRIMARY KEY(day, user_id)) WITHOUT ROWID;
        CREATE INDEX runs_long ON runs(start, app_id, user_id, end) WHERE end IS NULL OR end - start >= 86400000;
        DELETE FROM user_app;
        DELETE FROM app_total;
        DELETE FROM aggregates_pending;
        INSERT INTO aggregates_pending SELECT MIN(app_id) FROM runs HAVING COUNT(*) > 0;
        """,

        // 12: per session, its runs and their first start (RunAggregates: the runs ingest inserts; a run's session and start
        // never change), so that the sessions report reads one row per session instead of counting its runs. Filled here
        // from the runs (index runs_session walks them in session order).
        """
        CREATE TABLE session_runs(
            session TEXT PRIMARY KEY,
            runs INTEGER NOT NULL,
            first_start INTEGER NOT NULL) WITHOUT ROWID;
        INSERT INTO session_runs SELECT session, COUNT(*), MIN(start) FROM runs WHERE session IS NOT NULL GROUP BY session;
        """,
    ];

    /// <summary>The schema version this build writes.</summary>
    public static int CurrentVersion => Migrations.Length;

    /// <summary>The DDL of migration <paramref name="version"/> (1-based), for tests that build an older database.</summary>
    internal static string MigrationSql(int version) => Migrations[version - 1];

    /// <summary>Brings the database up to <see cref="CurrentVersion"/>.</summary>
    public static void Migrate(SqliteConnection connection)
    {
        var version = UserVersion(connection);
        if (version > CurrentVersion)
        {
            throw new InvalidOperationException(
                $"The database has schema version {version}, newer than this build's {CurrentVersion}; upgrade sessiontrail.");
        }

        for (var v = version; v < CurrentVersion; v++)
        {
            using var tx = connection.BeginTransaction();
            using (var cmd = connection.CreateCommand())
            {
                cmd.Transaction = tx;
                cmd.CommandText = Migrations[v] + $"\nPRAGMA user_version = {v + 1};";
                cmd.ExecuteNonQuery();
            }

            tx.Commit();
        }
    }

    public static int UserVersion(SqliteConnection connection)
    {
        using var cmd = connection.CreateCommand();
        cmd.CommandText = "PRAGMA user_version";
        return Convert.ToInt32(cmd.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture);
    }
}
