using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace SessionTrail.Server.Recordings;

/// <summary>
/// Deletes the recording bytes of sessions that ended more than <see cref="ServerOptions.RecordingRetentionDays"/>
/// ago — the later of the session's end and its last segment's end — unless the session is on legal hold.
/// The segment records stay (the listing then shows state "deleted"); each deletion is written to the access
/// audit log as "retention-delete" by "system". 0 days keeps recordings forever.
/// </summary>
public sealed partial class RecordingRetention(
    RecordingCatalog catalog, IRecordingStore store, RecordingInspector inspector, ServerOptions options, TimeProvider clock, ILogger<RecordingRetention> logger)
{
    /// <summary>Runs one sweep; returns the sessions whose recordings were deleted.</summary>
    public async Task<IReadOnlyList<string>> SweepAsync(CancellationToken ct)
    {
        if (options.RecordingRetentionDays <= 0)
        {
            return [];
        }

        var now = clock.GetUtcNow();
        var deleted = new List<string>();
        foreach (var session in catalog.ExpiredSessions(now.AddDays(-options.RecordingRetentionDays)))
        {
            ct.ThrowIfCancellationRequested();
            var freed = await store.DeleteSessionAsync(session, ct);
            catalog.MarkDeleted(session, now, freed);
            inspector.Forget(session);
            catalog.Audit(new AccessAuditEntry(0, now, "system", null, AuditActions.RetentionDelete, session, null, null, null, null));
            Deleted(logger, session, freed, options.RecordingRetentionDays);
            deleted.Add(session);
        }

        return deleted;
    }

    [LoggerMessage(EventId = 320, Level = LogLevel.Information, Message = "Recording retention: deleted session {Session} ({Bytes} bytes), older than {Days} days")]
    private static partial void Deleted(ILogger logger, string session, long bytes, int days);
}

/// <summary>Runs <see cref="RecordingRetention.SweepAsync"/> at start and then every hour.</summary>
public sealed partial class RecordingRetentionService(RecordingRetention retention, TimeProvider clock, ILogger<RecordingRetentionService> logger) : BackgroundService
{
    /// <summary>Time between sweeps.</summary>
    public static readonly TimeSpan Interval = TimeSpan.FromHours(1);

    protected override Task ExecuteAsync(CancellationToken stoppingToken) => PeriodicSweep.RunAsync(
        Interval,
        clock,
        retention.SweepAsync,
        e => e is IOException or UnauthorizedAccessException or InvalidOperationException or Microsoft.Data.Sqlite.SqliteException or HttpRequestException,
        e => SweepFailed(logger, e),
        stoppingToken);

    [LoggerMessage(EventId = 321, Level = LogLevel.Error, Message = "Recording retention sweep failed; retrying in an hour")]
    private static partial void SweepFailed(ILogger logger, Exception error);
}
