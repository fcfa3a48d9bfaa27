using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using SessionTrail.Server.Store;

namespace SessionTrail.Server.Logs;

/// <summary>
/// Deletes the log records older than <see cref="ServerOptions.LogRetentionDays"/> days (by the record's time) and
/// their full-text index entries, in steps of at most <see cref="StepRows"/> records: each step is one transaction
/// under the store's writer lock, so ingest waits at most one step, and a pause between steps (see <see cref="Pause"/>) lets it in. Each step
/// commits on its own, so a sweep that stops half-way (a restart) leaves only whole steps done, and the next sweep
/// goes on from there. 0 days keeps log records forever.
/// </summary>
public sealed partial class LogRetention(SqliteStore store, ServerOptions options, TimeProvider clock, ILogger<LogRetention> logger)
{
    /// <summary>Most records one step (one transaction) deletes.</summary>
    public int StepRows { get; init; } = 10_000;

    /// <summary>
    /// Pause between two steps of a sweep, on top of twice the last step's time: a sweep holds the writer at most a third
    /// of the time (a step of 10,000 records over a 1 M-record store took 350 ms, docs/performance.md).
    /// </summary>
    public TimeSpan Pause { get; init; } = TimeSpan.FromMilliseconds(100);

    /// <summary>Deletes every record older than the retention, step by step; returns how many were deleted.</summary>
    public async Task<long> SweepAsync(CancellationToken ct)
    {
        if (options.LogRetentionDays <= 0)
        {
            return 0;
        }

        var cutoff = clock.GetUtcNow().AddDays(-options.LogRetentionDays).ToUnixTimeMilliseconds();
        long total = 0;
        while (true)
        {
            ct.ThrowIfCancellationRequested();
            var started = clock.GetTimestamp();
            var deleted = Step(cutoff);
            var took = clock.GetElapsedTime(started);
            total += deleted;
            if (deleted > 0)
            {
                StepDone(logger, deleted, total);
            }

            if (deleted < StepRows)
            {
                break;
            }

            await Task.Delay(Pause + (2 * took), clock, ct);
        }

        if (total > 0)
        {
            Deleted(logger, total, options.LogRetentionDays);
        }

        return total;
    }

    /// <summary>
    /// One step: the oldest records before <paramref name="cutoffMillis"/> (at most <see cref="StepRows"/>) and their index
    /// entries, in one transaction. The external-content index (schema migration 2) forgets a row by being told the
    /// values it indexed, read back through the same view it was filled from, before the row itself goes.
    /// </summary>
    internal int Step(long cutoffMillis) => store.Write((connection, tx) =>
    {
        using var cmd = connection.CreateCommand();
        cmd.Transaction = tx;
        cmd.CommandText =
            """
            INSERT INTO logs_fts(logs_fts, rowid, message, fields)
                SELECT 'delete', seq, message, fields FROM logs_search
                WHERE seq IN (SELECT seq FROM logs WHERE time < $cutoff ORDER BY time, seq LIMIT $rows);
            DELETE FROM logs WHERE seq IN (SELECT seq FROM logs WHERE time < $cutoff ORDER BY time, seq LIMIT $rows);
            SELECT changes();
            """;
        cmd.Parameters.Add(new SqliteParameter("$cutoff", cutoffMillis));
        cmd.Parameters.Add(new SqliteParameter("$rows", StepRows));
        return Convert.ToInt32(cmd.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture);
    });

    [LoggerMessage(EventId = 330, Level = LogLevel.Debug, Message = "Log retention: deleted {Rows} log records in one step ({Total} so far in this sweep)")]
    private static partial void StepDone(ILogger logger, int rows, long total);

    [LoggerMessage(EventId = 331, Level = LogLevel.Information, Message = "Log retention: deleted {Rows} log records older than {Days} days")]
    private static partial void Deleted(ILogger logger, long rows, int days);
}

/// <summary>Runs <see cref="LogRetention.SweepAsync"/> at start and then every hour, when <see cref="ServerOptions.LogRetentionDays"/> is set.</summary>
public sealed partial class LogRetentionService(LogRetention retention, TimeProvider clock, ILogger<LogRetentionService> logger) : BackgroundService
{
    /// <summary>Time between sweeps.</summary>
    public static readonly TimeSpan Interval = TimeSpan.FromHours(1);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // Off the start-up path: the first sweep of a large store must not hold up the host's start.
        await Task.Yield();
        await PeriodicSweep.RunAsync(
            Interval, clock, retention.SweepAsync, e => e is SqliteException or InvalidOperationException or IOException, e => SweepFailed(logger, e), stoppingToken);
    }

    [LoggerMessage(EventId = 332, Level = LogLevel.Error, Message = "Log retention sweep failed; retrying in an hour")]
    private static partial void SweepFailed(ILogger logger, Exception error);
}
