using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using SessionTrail.Agent.Ids;
using SessionTrail.Agent.Pipes;
using SessionTrail.Agent.Queue;
using SessionTrail.Agent.Sources;
using SessionTrail.Core.Formats;
using SessionTrail.Core.Records;

namespace SessionTrail.Agent.Pipeline;

/// <summary>
/// Sources write into a bounded channel; one pump loop runs the pipes, assigns the record id (once,
/// before fan-out, so every sink sees the same id), serialises the NDJSON line and appends it to every
/// sink's durable queue.
/// </summary>
/// <remarks>
/// Invariants: sources never wait on disk or network, only on channel space (back-pressure).
/// <see cref="Complete"/> stops intake; <see cref="RunAsync"/> then drains everything already accepted
/// into the queues before it returns. If the queues block (Block policy) past <c>force</c>, records are
/// appended above the cap rather than lost.
/// </remarks>
public sealed partial class RecordPump : IDurableRecordOutput
{
    private readonly Channel<TrailRecord> _channel;
    private readonly IReadOnlyList<IRecordPipe> _pipes;
    private readonly RecordIdGenerator _ids;
    private readonly IReadOnlyList<DiskQueue> _queues;
    private readonly ILogger _logger;
    private long _enqueueFailures;

    public RecordPump(int capacity, IEnumerable<IRecordPipe> pipes, RecordIdGenerator ids, IReadOnlyList<DiskQueue> queues, ILogger logger)
    {
        _channel = Channel.CreateBounded<TrailRecord>(new BoundedChannelOptions(capacity)
        {
            SingleReader = true,
            FullMode = BoundedChannelFullMode.Wait,
        });
        _pipes = [.. pipes.Select(p => p is SafePipe ? p : new SafePipe(p, logger))];
        _ids = ids;
        _queues = queues;
        _logger = logger;
    }

    /// <summary>Records that could not be written to a queue (disk error), logged each time.</summary>
    public long EnqueueFailures => Interlocked.Read(ref _enqueueFailures);

    /// <summary>Accepts a record; waits while the channel is full. Throws <see cref="ChannelClosedException"/> after <see cref="Complete"/>.</summary>
    public ValueTask WriteAsync(TrailRecord record, CancellationToken cancellationToken) =>
        _channel.Writer.WriteAsync(record, cancellationToken);

    /// <summary>Puts a barrier in the channel; it completes once every record before it is in the queues, fsynced.</summary>
    public async ValueTask WhenDurableAsync(CancellationToken cancellationToken)
    {
        var barrier = new DurabilityBarrier();
        await _channel.Writer.WriteAsync(barrier, cancellationToken);
        await barrier.Done.Task.WaitAsync(cancellationToken);
    }

    /// <summary>Stops intake; <see cref="RunAsync"/> finishes after draining.</summary>
    public void Complete() => _channel.Writer.TryComplete();

    /// <summary>Pumps until <see cref="Complete"/> and the channel is empty.</summary>
    public async Task RunAsync(CancellationToken force)
    {
        await foreach (var record in _channel.Reader.ReadAllAsync(CancellationToken.None))
        {
            if (record is DurabilityBarrier barrier)
            {
                barrier.Pass(_queues);
                continue;
            }

            try
            {
                await ProcessAsync(record, force);
            }
            catch (Exception ex)
            {
                // One bad record must not stop the pump (sources would then block forever).
                LogRecordFailed(_logger, record.GetType().Name, ex);
            }
        }
    }

    private async Task ProcessAsync(TrailRecord record, CancellationToken force)
    {
        TrailRecord? current = record;
        foreach (var pipe in _pipes)
        {
            current = pipe.Process(current);
            if (pipe is IEmittingPipe emitting)
            {
                foreach (var emitted in emitting.TakeEmitted())
                {
                    await FanOutAsync(emitted, force);
                }
            }

            if (current is null)
            {
                return;
            }
        }

        await FanOutAsync(current, force);
    }

    private async Task FanOutAsync(TrailRecord record, CancellationToken force)
    {
        if (record.Id.Length == 0)
        {
            record = record with { Id = _ids.Next() };
        }

        var line = NdjsonWriter.ToLine(record);
        foreach (var queue in _queues)
        {
            try
            {
                try
                {
                    await queue.EnqueueAsync(line, force);
                }
                catch (OperationCanceledException) when (force.IsCancellationRequested)
                {
                    await queue.EnqueueAsync(line, CancellationToken.None, force: true);
                }
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                Interlocked.Increment(ref _enqueueFailures);
                LogEnqueueFailed(_logger, queue.Name, record.Id, ex);
            }
        }
    }

    [LoggerMessage(EventId = 1402, Level = LogLevel.Error, Message = "A {RecordType} record could not be processed and was dropped")]
    private static partial void LogRecordFailed(ILogger logger, string recordType, Exception exception);

    [LoggerMessage(EventId = 1401, Level = LogLevel.Error, Message = "Could not write record {Id} to queue {Queue}; it is lost for that sink")]
    private static partial void LogEnqueueFailed(ILogger logger, string queue, string id, Exception exception);
}

/// <summary>Not a record: a marker in the pump's channel (see <see cref="RecordPump.WhenDurableAsync"/>); never written to a queue.</summary>
internal sealed record DurabilityBarrier : TrailRecord
{
    [System.Diagnostics.CodeAnalysis.SetsRequiredMembers]
    public DurabilityBarrier()
    {
        Time = DateTimeOffset.MinValue;
        Host = "";
    }

    public override string Kind => "barrier";

    public TaskCompletionSource Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Fsyncs every queue, then releases the waiter (with the error when a queue cannot be flushed).</summary>
    public void Pass(IReadOnlyList<DiskQueue> queues)
    {
        try
        {
            foreach (var queue in queues)
            {
                queue.Flush();
            }

            Done.TrySetResult();
        }
        catch (Exception ex)
        {
            Done.TrySetException(ex);
        }
    }
}
