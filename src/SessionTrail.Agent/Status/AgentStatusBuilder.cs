using SessionTrail.Agent.Config;
using SessionTrail.Agent.Delivery;
using SessionTrail.Agent.Queue;
using SessionTrail.Agent.Sinks;

namespace SessionTrail.Agent.Status;

/// <summary>Builds the parts of <see cref="AgentStatus"/> from what the agent runs: its sink lanes, sources and pipes.</summary>
internal static class AgentStatusBuilder
{
    /// <summary>A sink's status: its queue, its sender's counts and errors, and what the sink itself holds (background sinks).</summary>
    public static SinkStatus Sink(SinkLane lane, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(lane);
        var sender = lane.Sender;
        var q = lane.Queue.GetStats();
        var background = (lane.Sink as IBackgroundSink)?.GetBackgroundStatus();
        IReadOnlyList<ErrorEntry> errors = background is null ? sender.Errors.Snapshot() : [.. sender.Errors.Snapshot().Concat(background.RecentErrors).OrderBy(e => e.Time).TakeLast(10)];
        if (q.Full)
        {
            errors = [.. errors, new ErrorEntry(now, QueueFullText(lane.FullPolicy))];
        }

        return new SinkStatus
        {
            Name = lane.Name,
            SinkType = lane.SinkType,
            State = q.Full ? "queue full" : "ok",
            QueueFullPolicy = lane.FullPolicy.ToString(),
            PendingRecords = q.PendingRecords,
            PendingBytes = q.PendingBytes,
            OldestPendingSeconds = q.OldestPendingSince is { } since ? Math.Max(0, (now - since).TotalSeconds) : null,
            AckedTotal = q.AckedTotal,
            DroppedTotal = q.DroppedTotal,
            DeadLetteredTotal = sender.DeadLetteredTotal,
            RetriesTotal = sender.RetriesTotal,
            Full = q.Full,
            RecentErrors = errors,
            OpenObjects = background?.OpenObjects,
            PendingUploads = background?.PendingUploads,
            UploadedTotal = background?.UploadedTotal,
        };
    }

    /// <summary>A log pipe's status with its filter's counts.</summary>
    public static PipeStatus Pipe(LogPipeBinding pipe)
    {
        ArgumentNullException.ThrowIfNull(pipe);
        return new PipeStatus
        {
            Id = pipe.Id,
            Source = pipe.SourceId,
            Sink = pipe.SinkId,
            Filter = pipe.Filter is null ? null : (pipe.Filter.Negate ? "not " : "") + pipe.Filter.FilterPattern,
            Passed = pipe.Filter?.Passed,
            Blocked = pipe.Filter?.Blocked,
            Timeouts = pipe.Filter?.Timeouts,
        };
    }

    private static string QueueFullText(QueueFullPolicy policy) => "queue full: its size cap is reached; " + policy switch
    {
        QueueFullPolicy.Block => "policy Block: the pump waits (sources wait, their bookmarks do not advance, nothing is lost) until the sink takes records",
        QueueFullPolicy.RejectNew => "policy RejectNew: new records for this sink are dropped",
        _ => "policy DropOldest: the oldest undelivered records are dropped",
    };
}
