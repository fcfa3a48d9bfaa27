using System.Buffers;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using SessionTrail.Agent.Ids;
using SessionTrail.Agent.Pipes;
using SessionTrail.Agent.Queue;
using SessionTrail.Agent.Sessions;
using SessionTrail.Agent.Sources;
using SessionTrail.Core.Formats;
using SessionTrail.Core.Records;

namespace SessionTrail.Agent.Pipeline;

/// <summary>
/// Sources write into a bounded channel; one pump loop runs the pipes, assigns the record id (once,
/// before fan-out, so every sink sees the same id), serialises the NDJSON line and appends it to the
/// sinks' durable queues: without a <see cref="LogRouter"/> to every queue; with one, log records of a
/// configured source to the sinks their pipes name (decorated per sink), every other record to the
/// router's default queues.
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
    private readonly LogRouter? _router;
    private readonly bool[] _marks = [];
    private readonly bool[] _serialised = [false];

    // Reused serialisation buffers (one per distinct line a record can need): no allocation per record.
    // A buffer is only rewritten for the next record, after every enqueue of this one has completed.
    private readonly ArrayBufferWriter<byte>[] _buffers = [new(1024)];
    private string? _lastSource;
    private ResolvedPipe[]? _lastPipes;
    private long _enqueueFailures;

    /// <param name="queues">Every queue (durability barriers fsync them all).</param>
    /// <param name="router">Routing of log records; null sends every record to every queue.</param>
    public RecordPump(int capacity, IEnumerable<IRecordPipe> pipes, RecordIdGenerator ids, IReadOnlyList<DiskQueue> queues, ILogger logger, LogRouter? router = null)
    {
        _router = router;
        if (router is not null)
        {
            _marks = new bool[router.Targets.Length];
            _serialised = new bool[router.LineSlots];
            _buffers = [.. Enumerable.Range(0, router.LineSlots).Select(_ => new ArrayBufferWriter<byte>(1024))];
        }

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

            if (_channel.Reader.Count == 0)
            {
                // Nothing more waiting: the queues' buffered frames go to their files now (one write for
                // many records under load, at once when idle), so a crash of the process loses none.
                WriteOutQueues();
            }
        }

        WriteOutQueues();
    }

    private void WriteOutQueues()
    {
        foreach (var queue in _queues)
        {
            try
            {
                queue.WriteOut();
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                Interlocked.Increment(ref _enqueueFailures);
                LogWriteOutFailed(_logger, queue.Name, ex);
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

        if (_router is null)
        {
            await EnqueueAllAsync(_queues, Serialise(record, 0), record.Id, force);
            return;
        }

        if (record is not LogRecord log || PipesOf(log.Source) is not { } pipes)
        {
            await EnqueueAllAsync(_router.DefaultQueues, Serialise(record, 0), record.Id, force);
            return;
        }

        await RouteAsync(log, pipes, force);
    }

    private ResolvedPipe[]? PipesOf(string source)
    {
        if (!ReferenceEquals(source, _lastSource))
        {
            _lastPipes = _router!.PipesOf(source);
            _lastSource = source;
        }

        return _lastPipes;
    }

    /// <summary>To each sink that one of the source's pipes lets the record through to, once, decorated for that sink.</summary>
    private async Task RouteAsync(LogRecord log, ResolvedPipe[] pipes, CancellationToken force)
    {
        var router = _router!;
        var any = false;
        Array.Clear(_marks);
        foreach (var pipe in pipes)
        {
            if (!_marks[pipe.Target] && (pipe.Filter is null || pipe.Filter.Passes(log)))
            {
                _marks[pipe.Target] = true;
                any = true;
            }
        }

        if (!any)
        {
            return;
        }

        Array.Clear(_serialised);
        var session = router.LineSlots > 1 ? router.Session() : null;
        var targets = router.Targets;
        for (var i = 0; i < targets.Length; i++)
        {
            if (!_marks[i])
            {
                continue;
            }

            var slot = router.TargetSlots[i];
            ReadOnlyMemory<byte> line;
            if (_serialised[slot])
            {
                line = _buffers[slot].WrittenMemory;
            }
            else
            {
                line = Serialise(Decorate(log, targets[i].Decoration, session), slot);
                _serialised[slot] = true;
            }

            await EnqueueAsync(targets[i].Queue, line, log.Id, force);
        }
    }

    private ReadOnlyMemory<byte> Serialise(TrailRecord record, int slot)
    {
        var buffer = _buffers[slot];
        buffer.ResetWrittenCount();
        NdjsonWriter.Write(record, buffer);
        return buffer.WrittenMemory;
    }

    private static LogRecord Decorate(LogRecord log, ObjectDecoration? decoration, CurrentSession? session)
    {
        if (decoration?.Evaluate(log, session) is not { } added)
        {
            return log;
        }

        if (log.Decoration is { Count: > 0 } own)
        {
            foreach (var (key, value) in own)
            {
                added.TryAdd(key, value);
            }
        }

        return log with { Decoration = added };
    }

    private async Task EnqueueAllAsync(IReadOnlyList<DiskQueue> queues, ReadOnlyMemory<byte> line, string id, CancellationToken force)
    {
        foreach (var queue in queues)
        {
            await EnqueueAsync(queue, line, id, force);
        }
    }

    private async Task EnqueueAsync(DiskQueue queue, ReadOnlyMemory<byte> line, string id, CancellationToken force)
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
            LogEnqueueFailed(_logger, queue.Name, id, ex);
        }
    }

    [LoggerMessage(EventId = 1402, Level = LogLevel.Error, Message = "A {RecordType} record could not be processed and was dropped")]
    private static partial void LogRecordFailed(ILogger logger, string recordType, Exception exception);

    [LoggerMessage(EventId = 1403, Level = LogLevel.Error, Message = "Could not write the buffered records of queue {Queue} to its file; they are retried with the next write")]
    private static partial void LogWriteOutFailed(ILogger logger, string queue, Exception exception);

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
