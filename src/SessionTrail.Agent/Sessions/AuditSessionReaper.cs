using Microsoft.Extensions.Logging;
using SessionTrail.Agent.Sources;
using SessionTrail.Core.Records;

namespace SessionTrail.Agent.Sessions;

/// <summary>
/// Every interval (default 30 s) asks the probe which audit sessions still have live processes and
/// emits a session end for each announced session that has none.
/// </summary>
public sealed partial class AuditSessionReaper(SessionTracker tracker, ILiveSessionProbe probe, TimeSpan interval, TimeProvider time, ILogger logger) : IRecordSource
{
    public string Name => "session-reaper";

    public async Task RunAsync(IRecordOutput output, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(output);
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(interval, time, cancellationToken);
                await ReapOnceAsync(output, cancellationToken);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
        }
    }

    /// <summary>One check: ends the sessions without live processes. Returns how many ended.</summary>
    public async Task<int> ReapOnceAsync(IRecordOutput output, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(output);
        IReadOnlySet<long> live;
        try
        {
            live = probe.LiveSessions();
        }
        catch (IOException ex)
        {
            LogProbeFailed(logger, ex);
            return 0;
        }

        var ended = 0;
        foreach (var session in tracker.AuditSessions)
        {
            if (!live.Contains(session.AuditId) && tracker.TryRemoveAuditSession(session.AuditId))
            {
                await output.WriteAsync(new SessionRecord { Type = SessionEventType.End, Time = time.GetUtcNow(), Host = session.Host, Session = session.SessionId }, cancellationToken);
                ended++;
            }
        }

        return ended;
    }

    [LoggerMessage(EventId = 1501, Level = LogLevel.Warning, Message = "Could not list live login sessions; no session ended this round")]
    private static partial void LogProbeFailed(ILogger logger, Exception exception);
}
