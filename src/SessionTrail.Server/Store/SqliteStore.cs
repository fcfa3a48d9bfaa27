using Microsoft.Data.Sqlite;
using SessionTrail.Core;
using SessionTrail.Core.Records;

namespace SessionTrail.Server.Store;

/// <summary>
/// The embedded event store: one SQLite database (<see cref="DataDirectory.DatabasePath"/>) in WAL mode,
/// so that readers (reports, the CLI in another process) never block the writer.
///
/// Durability: <c>synchronous=FULL</c>. In WAL mode NORMAL would only skip the fsync of the WAL at each
/// commit, which means a power loss can roll back the last transactions — transactions whose records the
/// agent has already deleted from its queue after our 200. With one commit per HTTP batch (thousands of
/// records) the extra fsync costs little, so every acknowledged batch is on disk. The WAL is checkpointed
/// every 16,384 pages (64 MiB) rather than SQLite's 1,000, so that checkpoints (which fsync the database
/// file too) do not come with nearly every batch.
///
/// Pairing rule, kept at ingest time whatever the arrival order: on one host, a process start is paired
/// with the first exit of the same pid at or after it, before any later start of that pid (pids are
/// reused). Events are ordered by (time, start-before-exit, arrival). An exit with no start is kept as an
/// event and makes no run. A run with no exit ends at its session's end (when the session ended at or
/// after the start), else it is open.
///
/// Thread-safety: ingest is serialized on one writer connection; every reader opens its own connection.
///
/// Disk full: SQLITE_FULL in a batch rolls the whole transaction back and surfaces as a
/// <see cref="DiskFullException"/> naming the database; the connection stays usable, so the same batch is
/// stored once space is freed (no restart).
/// </summary>
public sealed class SqliteStore : IRecordStore, IDisposable
{
    private readonly string connectionString;
    private readonly SqliteConnection? writer;
    private readonly Lock writeLock = new();
    private IngestCommands? commands;

    private SqliteStore(string path, bool readOnly, Action<string>? progress = null)
    {
        DatabasePath = path;
        ReadOnly = readOnly;
        connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = path,
            Mode = readOnly ? SqliteOpenMode.ReadOnly : SqliteOpenMode.ReadWriteCreate,
            Pooling = true,
            DefaultTimeout = 30,
        }.ToString();
        if (!readOnly)
        {
            writer = new SqliteConnection(connectionString);
            writer.Open();
            Execute(writer, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA busy_timeout=10000; PRAGMA wal_autocheckpoint=16384; PRAGMA cache_size=-65536;");
            Schema.Migrate(writer);
            RunAggregates.BackFill(writer, progress);
        }
    }

    /// <summary>Path of the database file.</summary>
    public string DatabasePath { get; }

    /// <summary>True for a store opened with <see cref="OpenReadOnly"/>: <see cref="Ingest"/> throws.</summary>
    public bool ReadOnly { get; }

    /// <summary>
    /// Opens (creating the directory, file and schema when missing) the store in <paramref name="dataDir"/>
    /// for reading and writing. Throws when the database cannot be opened or is newer than this build.
    /// A store whose run aggregates are not complete (runs stored by a build before schema 9, or a back-fill that was
    /// interrupted) is back-filled first; <paramref name="progress"/> hears how far it is.
    /// </summary>
    public static SqliteStore Open(string dataDir, Action<string>? progress = null)
    {
        DataAccess.Current.CreateDirectory(dataDir);
        var path = DataDirectory.DatabasePath(dataDir);
        CreatePrivately(path);
        return new SqliteStore(path, readOnly: false, progress);
    }

    /// <summary>
    /// Creates the (empty) database file with the data's file mode (0600) before SQLite opens it: SQLite would create
    /// it 0644 less the umask, and gives the -wal, -shm and -journal files the database file's mode.
    /// </summary>
    private static void CreatePrivately(string path)
    {
        if (File.Exists(path))
        {
            return; // its mode is what it is: server, agent and up tighten an existing tree at start
        }

        try
        {
            using var _ = new FileStream(path, DataAccess.Current.Options(FileMode.CreateNew, FileAccess.Write, FileShare.ReadWrite));
        }
        catch (IOException) when (File.Exists(path))
        {
            // Another process created it meanwhile.
        }
    }

    /// <summary>
    /// Opens the store in <paramref name="dataDir"/> read-only — safe while a server writes to it (WAL).
    /// Throws <see cref="FileNotFoundException"/> when there is no database yet, and
    /// <see cref="InvalidOperationException"/> when its schema is not one this build reads.
    /// </summary>
    public static SqliteStore OpenReadOnly(string dataDir)
    {
        var path = DataDirectory.DatabasePath(dataDir);
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"No SessionTrail database at {path}.", path);
        }

        var store = new SqliteStore(path, readOnly: true);
        using var connection = store.OpenConnection();
        var version = Schema.UserVersion(connection);
        if (version != Schema.CurrentVersion)
        {
            store.Dispose();
            throw new InvalidOperationException(
                $"The database at {path} has schema version {version}; this build reads version {Schema.CurrentVersion}.");
        }

        return store;
    }

    /// <summary>A new open connection for reading (the caller disposes it).</summary>
    public SqliteConnection OpenConnection()
    {
        var connection = new SqliteConnection(connectionString);
        connection.Open();
        Execute(connection, "PRAGMA busy_timeout=10000; PRAGMA cache_size=-65536; PRAGMA mmap_size=268435456;");
        return connection;
    }

    /// <inheritdoc />
    public IngestResult Ingest(IReadOnlyList<TrailRecord> records)
    {
        ArgumentNullException.ThrowIfNull(records);
        if (writer is null)
        {
            throw new InvalidOperationException("The store was opened read-only.");
        }

        lock (writeLock)
        {
            commands ??= new IngestCommands(writer);
            using var tx = writer.BeginTransaction();
            try
            {
                var result = commands.Ingest(tx, records);
                tx.Commit();
                commands.Committed();
                return result;
            }
            catch (Exception e)
            {
                commands.RolledBack(); // the transaction rolls back as tx is disposed (or SQLite did already)
                if (e is not DiskFullException && DiskFullException.IsDiskFull(e))
                {
                    throw new DiskFullException(DatabasePath, e);
                }

                throw;
            }
        }
    }

    /// <summary>Runs <paramref name="action"/> inside the writer lock and one transaction (tokens, bulk loads).</summary>
    internal T Write<T>(Func<SqliteConnection, SqliteTransaction, T> action)
    {
        if (writer is null)
        {
            throw new InvalidOperationException("The store was opened read-only.");
        }

        lock (writeLock)
        {
            using var tx = writer.BeginTransaction();
            try
            {
                var result = action(writer, tx);
                tx.Commit();
                return result;
            }
            catch (Exception e) when (e is not DiskFullException && DiskFullException.IsDiskFull(e))
            {
                throw new DiskFullException(DatabasePath, e);
            }
        }
    }

    /// <summary>
    /// Computes the run aggregates again from the runs (for runs written around ingest: the bench's bulk load, tests'
    /// legacy rows). Under the writer lock, like ingest.
    /// </summary>
    internal void RebuildAggregates(Action<string>? progress = null)
    {
        if (writer is null)
        {
            throw new InvalidOperationException("The store was opened read-only.");
        }

        lock (writeLock)
        {
            Execute(
                writer,
                """
                DELETE FROM user_app; DELETE FROM app_total; DELETE FROM user_app_day; DELETE FROM user_app_month; DELETE FROM user_day; DELETE FROM aggregates_pending;
                INSERT INTO aggregates_pending SELECT MIN(app_id) FROM runs HAVING COUNT(*) > 0;
                DELETE FROM session_runs;
                INSERT INTO session_runs SELECT session, COUNT(*), MIN(start) FROM runs WHERE session IS NOT NULL GROUP BY session;
                """);
            RunAggregates.BackFill(writer, progress);
        }
    }

    public void Dispose()
    {
        lock (writeLock)
        {
            commands?.Dispose();
            commands = null;
            writer?.Dispose();
        }

        using var probe = new SqliteConnection(connectionString);
        SqliteConnection.ClearPool(probe);
    }

    internal static void Execute(SqliteConnection connection, string sql)
    {
        using var cmd = connection.CreateCommand();
        cmd.CommandText = sql;
        cmd.ExecuteNonQuery();
    }

    internal static long ToMillis(DateTimeOffset time) => time.ToUnixTimeMilliseconds();
}
