using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using SessionTrail.Agent.Config;
using SessionTrail.Agent.Ids;
using SessionTrail.Agent.Queue;
using SessionTrail.Agent.Sinks;
using SessionTrail.Agent.Sources;
using SessionTrail.Core;
using SessionTrail.Core.Formats;

namespace SessionTrail.Agent.Delivery;

/// <summary>
/// The one loop that moves a sink's queue into the sink: read a batch at the cursor, deliver it
/// (retrying with back-off, splitting when too large, dead-lettering when rejected), then acknowledge.
/// </summary>
/// <remarks>
/// A batch refused because of a record in it (<see cref="SinkOutcome.RecordRejected"/>: a server stores a batch
/// whole or not at all, so one bad record must not take the good ones with it) is taken apart: when the sink
/// names the record (the server's 400 gives its line), the records before it — read and found good — are sent
/// on, the named one is dead-lettered, and the rest is sent in two halves; when it does not, the batch is sent
/// in halves, down to single records. One bad record costs 3 more sends; a batch that is bad throughout about
/// n sends (each half of the work of the one before), never n² bytes. A request refused as such
/// (<see cref="SinkOutcome.Rejected"/>, e.g. a malformed body) is dead-lettered whole, since splitting cannot help.
/// </remarks>
/// <remarks>
/// Invariant: a batch is acknowledged only after the sink accepted it or it was written to the
/// dead-letter file; a stop before that leaves it in the queue (resent after the restart).
/// A sink that implements <see cref="ISinkBatching"/> sets its own batch limits, and its sender lingers:
/// a batch that is not full waits up to <see cref="ISinkBatching.MaxLinger"/> (counted from when the sender
/// first saw its oldest record) for more records; it is sent as soon as it is full, and at once when
/// draining.
/// </remarks>
public sealed partial class SinkSender
{
    private readonly ISink _sink;
    private readonly DiskQueue _queue;
    private readonly int _maxRecords;
    private readonly long _maxBytes;
    private readonly Backoff _backoff;
    private readonly DeadLetterFile _deadLetter;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly TimeSpan _linger;
    private DateTimeOffset? _lingerStart;
    private long _deadLettered;
    private long _retries;

    public SinkSender(ISink sink, DiskQueue queue, int maxRecords, long maxBytes, Backoff backoff, string deadLetterDirectory, TimeProvider time, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(sink);
        _sink = sink;
        _queue = queue;
        _maxRecords = maxRecords;
        _maxBytes = maxBytes;
        if (sink is ISinkBatching batching)
        {
            _maxRecords = Math.Max(1, batching.MaxRecords);
            _maxBytes = Math.Max(1, batching.MaxBytes);
            _linger = batching.MaxLinger > TimeSpan.Zero ? batching.MaxLinger : TimeSpan.Zero;
        }

        _backoff = backoff;
        _deadLetter = new DeadLetterFile(Path.Combine(deadLetterDirectory, sink.Name + ".ndjson"), sink.Name, time);
        _time = time;
        _logger = logger;
    }

    public ISink Sink => _sink;

    public DiskQueue Queue => _queue;

    public RecentErrors Errors { get; } = new();

    public long DeadLetteredTotal => Interlocked.Read(ref _deadLettered);

    public long RetriesTotal => Interlocked.Read(ref _retries);

    /// <summary>Raised after an error or a dead-letter, so that status is rewritten promptly.</summary>
    public event Action? NotableChange;

    /// <summary>
    /// Sends until <paramref name="stop"/> (hard: returns at once, the in-flight batch stays queued) or,
    /// once <paramref name="drain"/> is cancelled, until the queue is empty.
    /// </summary>
    public async Task RunAsync(CancellationToken drain, CancellationToken stop)
    {
        using var wake = CancellationTokenSource.CreateLinkedTokenSource(drain, stop);
        while (!stop.IsCancellationRequested)
        {
            var full = await LingerAsync(drain, wake.Token);
            var batch = _queue.ReadBatch(_maxRecords, _maxBytes);
            if (batch.Count == 0)
            {
                if (drain.IsCancellationRequested)
                {
                    return;
                }

                try
                {
                    await _queue.WaitForDataAsync(wake.Token);
                }
                catch (OperationCanceledException)
                {
                }

                continue;
            }

            if (!await DeliverAsync(batch.Records, stop))
            {
                return;
            }

            _queue.Acknowledge(batch);

            // After a full batch the rest is a backlog that has waited already: no new linger for it.
            if (!full)
            {
                _lingerStart = null;
            }
        }
    }

    /// <summary>Polling period while lingering (the queue's counters are cheap to read).</summary>
    internal static TimeSpan LingerPoll { get; } = TimeSpan.FromMilliseconds(50);

    /// <summary>
    /// For a sink with <see cref="ISinkBatching.MaxLinger"/>: waits until a full batch is pending, the
    /// linger time of the oldest pending record is over, or drain/stop. True when a full batch is pending.
    /// </summary>
    private async Task<bool> LingerAsync(CancellationToken drain, CancellationToken wake)
    {
        if (_linger <= TimeSpan.Zero)
        {
            return false;
        }

        while (true)
        {
            var stats = _queue.GetStats();
            if (stats.PendingRecords >= _maxRecords || stats.PendingBytes >= _maxBytes)
            {
                return true;
            }

            if (stats.PendingRecords == 0 || drain.IsCancellationRequested || wake.IsCancellationRequested)
            {
                return false;
            }

            var now = _time.GetUtcNow();
            _lingerStart ??= now;
            var remaining = _lingerStart.Value + _linger - now;
            if (remaining <= TimeSpan.Zero)
            {
                return false;
            }

            try
            {
                await Task.Delay(remaining < LingerPoll ? remaining : LingerPoll, _time, wake);
            }
            catch (OperationCanceledException)
            {
                return false;
            }
        }
    }

    /// <summary>True when delivered or dead-lettered; false when stopped first.</summary>
    private async Task<bool> DeliverAsync(IReadOnlyList<ReadOnlyMemory<byte>> lines, CancellationToken stop)
    {
        var attempt = 0;
        while (true)
        {
            SinkResult result;
            try
            {
                result = await _sink.SendAsync(lines, stop);
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                return false;
            }
            catch (Exception ex)
            {
                result = SinkResult.Retryable(ex.GetType().Name + ": " + ex.Message);
            }

            switch (result.Outcome)
            {
                case SinkOutcome.Success:
                    return true;
                case SinkOutcome.Rejected:
                case SinkOutcome.RecordRejected when lines.Count == 1:
                    DeadLetter(lines, result.Reason ?? "rejected");
                    return true;
                case SinkOutcome.RecordRejected:
                    return await DeliverAroundRejectedAsync(lines, result, stop);
                case SinkOutcome.TooLarge when lines.Count == 1:
                    DeadLetter(lines, "too large even alone: " + result.Reason);
                    return true;
                case SinkOutcome.TooLarge:
                    var half = lines.Count / 2;
                    var first = lines.Take(half).ToList();
                    var second = lines.Skip(half).ToList();
                    LogSplitting(_logger, _sink.Name, lines.Count);
                    return await DeliverAsync(first, stop) && await DeliverAsync(second, stop);
                default:
                    attempt++;
                    Interlocked.Increment(ref _retries);
                    var delay = _backoff.Delay(attempt, result.RetryAfter);
                    var reason = result.Reason ?? "retryable failure";
                    Errors.Add(_time.GetUtcNow(), reason);
                    LogRetrying(_logger, _sink.Name, lines.Count, reason, attempt, delay);
                    NotableChange?.Invoke();
                    try
                    {
                        await Task.Delay(delay, _time, stop);
                    }
                    catch (OperationCanceledException)
                    {
                        return false;
                    }

                    break;
            }
        }
    }

    /// <summary>Delivers a batch refused for a record in it: the good records on, the refused ones to the dead-letter file.</summary>
    private async Task<bool> DeliverAroundRejectedAsync(IReadOnlyList<ReadOnlyMemory<byte>> lines, SinkResult result, CancellationToken stop)
    {
        var reason = result.Reason ?? "rejected";
        LogSplittingRejected(_logger, _sink.Name, lines.Count, reason);
        var rest = lines;
        if (result.Line is int line && line >= 1 && line <= lines.Count)
        {
            var before = lines.Take(line - 1).ToList();
            if (before.Count > 0 && !await DeliverAsync(before, stop))
            {
                return false;
            }

            DeadLetter([lines[line - 1]], reason);
            rest = lines.Skip(line).ToList();
        }

        var half = (rest.Count + 1) / 2;
        return rest.Count == 0
            || (await DeliverAsync(rest.Take(half).ToList(), stop) && (rest.Count == half || await DeliverAsync(rest.Skip(half).ToList(), stop)));
    }

    private void DeadLetter(IReadOnlyList<ReadOnlyMemory<byte>> lines, string reason)
    {
        var now = _time.GetUtcNow();
        _deadLetter.AppendBatch(lines, reason);
        Interlocked.Add(ref _deadLettered, lines.Count);
        Errors.Add(now, "dead-lettered " + lines.Count.ToString(System.Globalization.CultureInfo.InvariantCulture) + " records: " + reason);
        LogDeadLettered(_logger, _sink.Name, lines.Count, reason, _deadLetter.Path);
        NotableChange?.Invoke();
    }

    [LoggerMessage(EventId = 1201, Level = LogLevel.Warning, Message = "Sink {Sink}: delivery of {Records} records failed ({Reason}); retry {Attempt} in {Delay}")]
    private static partial void LogRetrying(ILogger logger, string sink, int records, string reason, int attempt, TimeSpan delay);

    [LoggerMessage(EventId = 1202, Level = LogLevel.Error, Message = "Sink {Sink} REJECTED {Records} records ({Reason}); written to dead-letter file {Path}")]
    private static partial void LogDeadLettered(ILogger logger, string sink, int records, string reason, string path);

    [LoggerMessage(EventId = 1203, Level = LogLevel.Information, Message = "Sink {Sink}: batch of {Records} records too large, splitting")]
    private static partial void LogSplitting(ILogger logger, string sink, int records);

    [LoggerMessage(EventId = 1205, Level = LogLevel.Warning, Message = "Sink {Sink} rejected a batch of {Records} records ({Reason}); splitting it to deliver the good ones and dead-letter only the rejected")]
    private static partial void LogSplittingRejected(ILogger logger, string sink, int records, string reason);
}
