using Microsoft.Extensions.Logging;
using SessionTrail.Agent.Sources;
using SessionTrail.Agent.Storage;
using SessionTrail.Core;
using SessionTrail.Core.Records;

namespace SessionTrail.Agent.Sessions;

/// <summary>
/// Watches DIR/agent/session.json (FileSystemWatcher, plus a slow poll as a safety net) and emits the
/// explicit session's start and end records, with the times written by `sessiontrail session`.
/// What was already emitted is remembered in DIR/agent/session.emitted, so a restart does not repeat it.
/// </summary>
public sealed partial class SessionFileSource(string dataDir, SessionTracker tracker, string host, TimeSpan pollInterval, TimeProvider time, ILogger logger) : IRecordSource
{
    private const string EmittedFileName = "session.emitted";

    public string Name => "session-file";

    public async Task RunAsync(IRecordOutput output, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(output);
        var agentDir = DataDirectory.AgentDirectory(dataDir);
        DataAccess.Current.CreateDirectory(agentDir);
        using var changed = new SemaphoreSlim(0, 1);
        void Signal()
        {
            try
            {
                changed.Release();
            }
            catch (SemaphoreFullException)
            {
            }
        }

        using var watcher = new FileSystemWatcher(agentDir, SessionControl.FileName)
        {
            NotifyFilter = NotifyFilters.FileName | NotifyFilters.LastWrite | NotifyFilters.Size,
        };
        watcher.Changed += (_, _) => Signal();
        watcher.Created += (_, _) => Signal();
        watcher.Renamed += (_, _) => Signal();
        watcher.Deleted += (_, _) => Signal();
        watcher.EnableRaisingEvents = true;

        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                await CheckAsync(output, cancellationToken);
                using var poll = new CancellationTokenSource(pollInterval, time);
                using var wait = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, poll.Token);
                await changed.WaitAsync(wait.Token);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                // poll interval elapsed
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    /// <summary>Reads the session file once and emits what changed since the last emission.</summary>
    public async Task CheckAsync(IRecordOutput output, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(output);
        var current = SessionControl.Read(dataDir);
        tracker.Explicit = current;
        if (current is null)
        {
            return;
        }

        var emittedPath = Path.Combine(DataDirectory.AgentDirectory(dataDir), EmittedFileName);
        var last = File.Exists(emittedPath) ? File.ReadAllText(emittedPath).Trim() : "";
        var startedMark = current.Id + " start";
        var endedMark = current.Id + " end";
        if (last == endedMark || (current.IsActive && last == startedMark))
        {
            return;
        }

        if (last != startedMark)
        {
            if (last.EndsWith(" start", StringComparison.Ordinal))
            {
                // A previous session was replaced without an end: close it where the new one starts.
                var previous = last[..^" start".Length];
                await output.WriteAsync(new SessionRecord { Type = SessionEventType.End, Time = current.Started, Host = host, Session = previous }, cancellationToken);
            }

            await output.WriteAsync(ToRecord(current, SessionEventType.Start, current.Started), cancellationToken);
            LogSessionStarted(logger, current.Id, current.Fields.User);
            AtomicFile.WriteAllText(emittedPath, startedMark);
        }

        if (current.Ended is { } ended)
        {
            await output.WriteAsync(ToRecord(current, SessionEventType.End, ended), cancellationToken);
            LogSessionEnded(logger, current.Id);
            AtomicFile.WriteAllText(emittedPath, endedMark);
        }
    }

    private SessionRecord ToRecord(CurrentSession s, SessionEventType type, DateTimeOffset at) => new()
    {
        Type = type,
        Time = at,
        Host = host,
        Session = s.Id,
        Fields = s.Fields,
    };

    [LoggerMessage(EventId = 1502, Level = LogLevel.Information, Message = "Session {Session} started (user {User})")]
    private static partial void LogSessionStarted(ILogger logger, string session, string? user);

    [LoggerMessage(EventId = 1503, Level = LogLevel.Information, Message = "Session {Session} ended")]
    private static partial void LogSessionEnded(ILogger logger, string session);
}
