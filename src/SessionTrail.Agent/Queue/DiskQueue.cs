using System.Buffers.Binary;
using System.Globalization;
using Microsoft.Extensions.Logging;
using Microsoft.Win32.SafeHandles;
using SessionTrail.Agent.Storage;
using SessionTrail.Core;

namespace SessionTrail.Agent.Queue;

/// <summary>
/// A durable FIFO of records for one sink: append-only segment files of frames
/// (u32 length, u32 CRC-32 of the payload, payload bytes; little endian) plus a consumer cursor.
/// </summary>
/// <remarks>
/// Invariants:
/// <list type="bullet">
/// <item>Every byte below a segment's <c>Length</c> is a whole, valid frame that reached the OS (write(2) returned).
/// A kill -9 therefore loses nothing appended; a torn tail can only come from a crash of the machine
/// and is truncated (and logged) when the queue is opened.</item>
/// <item>The cursor only moves forward, only on <see cref="Acknowledge"/> (or when DropOldest deletes
/// the cursor's segment), and is persisted atomically (temp file, fsync, rename) before older segments
/// are deleted. After a crash records are resent from the persisted cursor: at least once.</item>
/// <item>One consumer: it reads from the cursor and acknowledges before reading again.</item>
/// </list>
/// </remarks>
public sealed partial class DiskQueue : IDisposable
{
    /// <summary>Largest accepted record (payload) size.</summary>
    public const int MaxRecordBytes = 16 << 20;

    private const int HeaderBytes = 8;
    private const int WriteBufferBytes = 256 * 1024;
    private const string SegmentExtension = ".seg";
    private const string CursorFileName = "cursor";

    private readonly Lock _lock = new();
    private readonly string _directory;
    private readonly DiskQueueOptions _options;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly List<Segment> _segments = [];
    private readonly ITimer? _fsyncTimer;
    private SafeFileHandle? _writeHandle;
    private QueuePosition _cursor;
    private long _ackedInCursorSegment;
    private long _ackedTotal;
    private long _droppedTotal;
    private bool _full;
    private bool _dirty;
    private bool _consumerWaiting;
    private bool _disposed;
    private TaskCompletionSource _dataAvailable = NewSignal();
    private TaskCompletionSource _spaceFreed = NewSignal();
    private byte[] _frameBuffer = new byte[4096];

    // Write-behind buffer of the last segment: frames appended since the last write() (one system call per
    // buffer instead of one per record). Written out when full, before any read of the file, on
    // WriteOut (the pump calls it whenever it has nothing more to do), on Flush/fsync, roll and dispose.
    private byte[] _writeBuffer = new byte[WriteBufferBytes];
    private int _buffered;
    private long _bufferedAt;

    private DiskQueue(string directory, DiskQueueOptions options, ILogger logger, TimeProvider time)
    {
        _directory = directory;
        _options = options;
        _logger = logger;
        _time = time;
        if (options.Fsync == FsyncPolicy.Interval)
        {
            _fsyncTimer = time.CreateTimer(_ => FsyncIfDirty(), null, options.FsyncInterval, options.FsyncInterval);
        }
    }

    /// <summary>Name used in logs (the directory's name).</summary>
    public string Name => Path.GetFileName(_directory);

    /// <summary>
    /// Opens (or creates) the queue in <paramref name="directory"/>: validates every segment, truncates a
    /// torn or corrupt tail (logged as a warning), deletes segments that were already acknowledged.
    /// Throws <see cref="IOException"/> when the directory cannot be used.
    /// </summary>
    public static DiskQueue Open(string directory, DiskQueueOptions options, ILogger logger, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(options);
        DataAccess.Current.CreateDirectory(directory);
        var queue = new DiskQueue(directory, options, logger, time);
        queue.Recover();
        return queue;
    }

    /// <summary>
    /// Appends one record (its payload bytes; for NDJSON the line including '\n'). Returns false when
    /// the record was refused because the queue is full under <see cref="QueueFullPolicy.RejectNew"/>.
    /// Under <see cref="QueueFullPolicy.Block"/> waits for space unless <paramref name="force"/>, which
    /// appends above the cap (used at shutdown so that nothing in memory is lost). Throws
    /// <see cref="IOException"/> when the disk write fails and <see cref="OperationCanceledException"/> on cancel.
    /// </summary>
    public async ValueTask<bool> EnqueueAsync(ReadOnlyMemory<byte> record, CancellationToken cancellationToken, bool force = false)
    {
        if (record.Length is 0 or > MaxRecordBytes)
        {
            throw new ArgumentOutOfRangeException(nameof(record), $"A record must be 1..{MaxRecordBytes} bytes.");
        }

        while (true)
        {
            Task waitForSpace;
            lock (_lock)
            {
                ObjectDisposedException.ThrowIf(_disposed, this);
                var frameBytes = HeaderBytes + record.Length;
                if (!force && DiskBytes() + frameBytes > _options.MaxBytes)
                {
                    switch (_options.FullPolicy)
                    {
                        case QueueFullPolicy.RejectNew:
                            MarkFull();
                            _droppedTotal++;
                            return false;
                        case QueueFullPolicy.DropOldest:
                            MarkFull();
                            DropOldestUntilFits(frameBytes);
                            break;
                        case QueueFullPolicy.Block:
                            MarkFull();
                            waitForSpace = _spaceFreed.Task;
                            goto Wait;
                    }
                }

                AppendLocked(record.Span);
                return true;
            }

        Wait:
            await waitForSpace.WaitAsync(cancellationToken);
        }
    }

    /// <summary>
    /// Reads up to <paramref name="maxRecords"/> records / <paramref name="maxBytes"/> payload bytes from
    /// the cursor (at least one record when any is pending, even if larger). Empty when nothing is pending.
    /// </summary>
    public QueueBatch ReadBatch(int maxRecords, long maxBytes)
    {
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            WriteOutLocked();
            var records = new List<ReadOnlyMemory<byte>>();
            long bytes = 0;
            var start = _cursor;
            var position = _cursor;
            var inLastSegment = 0;
            var index = _segments.FindIndex(s => s.Index == _cursor.Segment);
            while (index >= 0 && index < _segments.Count && records.Count < maxRecords)
            {
                var segment = _segments[index];
                var offset = segment.Index == position.Segment ? position.Offset : 0;
                var available = segment.Length - offset;
                if (available > 0)
                {
                    var budget = maxBytes - bytes + (HeaderBytes * (long)(maxRecords - records.Count));
                    var chunkLength = (int)Math.Min(available, Math.Max(budget, HeaderBytes));
                    var chunk = ReadChunk(segment, offset, chunkLength);
                    var pos = 0;
                    while (records.Count < maxRecords)
                    {
                        if (pos + HeaderBytes > chunk.Length)
                        {
                            if (records.Count == 0 && pos == 0)
                            {
                                chunk = ReadChunk(segment, offset, (int)Math.Min(available, HeaderBytes));
                            }
                            else
                            {
                                break;
                            }
                        }

                        var length = BinaryPrimitives.ReadInt32LittleEndian(chunk.AsSpan(pos));
                        if (records.Count > 0 && bytes + length > maxBytes)
                        {
                            return new QueueBatch(records, start, position, bytes, inLastSegment);
                        }

                        if (pos + HeaderBytes + length > chunk.Length)
                        {
                            if (records.Count == 0 && pos == 0)
                            {
                                // A single record larger than the byte budget: read it alone.
                                chunk = ReadChunk(segment, offset, HeaderBytes + length);
                            }
                            else
                            {
                                break;
                            }
                        }

                        if (position.Segment != segment.Index)
                        {
                            inLastSegment = 0;
                        }

                        records.Add(chunk.AsMemory(pos + HeaderBytes, length));
                        inLastSegment++;
                        bytes += length;
                        pos += HeaderBytes + length;
                        position = new QueuePosition(segment.Index, offset + pos);
                        if (offset + pos >= segment.Length)
                        {
                            break;
                        }
                    }

                    if (offset + pos < segment.Length)
                    {
                        break;
                    }
                }

                index++;
            }

            return new QueueBatch(records, start, position, bytes, inLastSegment);
        }
    }

    /// <summary>Completes when at least one record is pending after the cursor.</summary>
    public Task WaitForDataAsync(CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            if (PendingRecordsLocked() > 0)
            {
                return Task.CompletedTask;
            }

            _consumerWaiting = true;
            return _dataAvailable.Task.WaitAsync(cancellationToken);
        }
    }

    /// <summary>
    /// Marks every record up to <paramref name="batch"/>'s end as delivered: moves and persists the cursor
    /// (atomically), then deletes fully acknowledged segments. A batch whose records were meanwhile dropped
    /// (DropOldest) is ignored for the dropped part. Throws <see cref="IOException"/> if the cursor cannot be written.
    /// </summary>
    public void Acknowledge(QueueBatch batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (batch.End <= _cursor || batch.Count == 0)
            {
                return;
            }

            var endSegment = _segments.Find(s => s.Index == batch.End.Segment);
            if (endSegment is null)
            {
                return; // dropped (DropOldest) while the batch was in flight
            }

            long acked;
            if (batch.Start == _cursor)
            {
                // Usual case: the batch was read at the cursor and nothing was dropped meanwhile.
                acked = batch.Count;
                _ackedInCursorSegment = batch.End.Segment == _cursor.Segment
                    ? _ackedInCursorSegment + acked
                    : batch.RecordsInLastSegment;
            }
            else
            {
                acked = CountRecords(_cursor, batch.End);
                _ackedInCursorSegment = batch.End.Segment == _cursor.Segment
                    ? _ackedInCursorSegment + acked
                    : CountFrames(endSegment, 0, batch.End.Offset);
            }

            _cursor = batch.End;
            _ackedTotal += acked;
            NormalizeCursor();
            PersistCursor();
            DeleteSegmentsBeforeCursor();
            UpdateFullAfterFree();
        }
    }

    /// <summary>Forces appended records to the disk (fsync). Throws <see cref="IOException"/> on failure.</summary>
    public void Flush()
    {
        lock (_lock)
        {
            if (!_disposed && _writeHandle is not null)
            {
                WriteOutLocked();
                RandomAccess.FlushToDisk(_writeHandle);
                _dirty = false;
            }
        }
    }

    public QueueStats GetStats()
    {
        lock (_lock)
        {
            var oldest = PendingRecordsLocked() > 0 ? _segments.FirstOrDefault(s => s.Index == _cursor.Segment)?.Created : null;
            return new QueueStats(PendingRecordsLocked(), PendingBytesLocked(), DiskBytes(), oldest, _ackedTotal, _droppedTotal, _full);
        }
    }

    public void Dispose()
    {
        lock (_lock)
        {
            if (_disposed)
            {
                return;
            }

            _fsyncTimer?.Dispose();
            if (_writeHandle is not null)
            {
                WriteOutLocked();
                if (_dirty)
                {
                    RandomAccess.FlushToDisk(_writeHandle);
                }

                _writeHandle.Dispose();
            }

            _disposed = true;
            _dataAvailable.TrySetCanceled();
        }
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    private void AppendLocked(ReadOnlySpan<byte> payload)
    {
        var frameBytes = HeaderBytes + payload.Length;
        var segment = _segments.Count > 0 ? _segments[^1] : null;
        if (segment is null || _writeHandle is null || (segment.Length > 0 && segment.Length + frameBytes > _options.EffectiveSegmentBytes))
        {
            segment = RollLocked();
        }

        if (frameBytes > _writeBuffer.Length - _buffered)
        {
            WriteOutLocked();
        }

        if (frameBytes > _writeBuffer.Length)
        {
            // A record larger than the buffer is written on its own.
            if (_frameBuffer.Length < frameBytes)
            {
                _frameBuffer = new byte[Math.Max(frameBytes, _frameBuffer.Length * 2)];
            }

            var frame = _frameBuffer.AsSpan(0, frameBytes);
            WriteFrame(frame, payload);
            RandomAccess.Write(_writeHandle!, frame, segment.Length);
        }
        else
        {
            if (_buffered == 0)
            {
                _bufferedAt = segment.Length;
            }

            WriteFrame(_writeBuffer.AsSpan(_buffered, frameBytes), payload);
            _buffered += frameBytes;
        }

        segment.Length += frameBytes;
        segment.RecordCount++;
        _dirty = true;
        if (_options.Fsync == FsyncPolicy.Always)
        {
            WriteOutLocked();
            RandomAccess.FlushToDisk(_writeHandle!);
            _dirty = false;
        }

        if (_consumerWaiting)
        {
            _consumerWaiting = false;
            _dataAvailable.TrySetResult();
            _dataAvailable = NewSignal();
        }
    }

    private static void WriteFrame(Span<byte> frame, ReadOnlySpan<byte> payload)
    {
        BinaryPrimitives.WriteInt32LittleEndian(frame, payload.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(frame[4..], Crc32.Compute(payload));
        payload.CopyTo(frame[HeaderBytes..]);
    }

    /// <summary>
    /// Writes the buffered frames to the segment file (no fsync): from then on they survive a crash of the
    /// process. The pump calls this whenever its channel is empty, so under light load every record
    /// reaches the file at once and under heavy load one write carries many records.
    /// </summary>
    public void WriteOut()
    {
        lock (_lock)
        {
            if (!_disposed)
            {
                WriteOutLocked();
            }
        }
    }

    private void WriteOutLocked()
    {
        if (_buffered == 0 || _writeHandle is null)
        {
            return;
        }

        RandomAccess.Write(_writeHandle, _writeBuffer.AsSpan(0, _buffered), _bufferedAt);
        _buffered = 0;
    }

    private Segment RollLocked()
    {
        WriteOutLocked();
        if (_writeHandle is not null)
        {
            RandomAccess.FlushToDisk(_writeHandle);
            _writeHandle.Dispose();
            _writeHandle = null;
            _dirty = false;
        }

        var index = _segments.Count > 0 ? _segments[^1].Index + 1 : Math.Max(1, _cursor.Segment);
        var created = _time.GetUtcNow();
        var segment = new Segment(index, Path.Combine(_directory, SegmentName(index, created)), created);
        _writeHandle = File.OpenHandle(segment.Path, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.ReadWrite | FileShare.Delete);
        DataAccess.Current.SetMode(_writeHandle);
        _segments.Add(segment);
        if (_segments.Count == 1)
        {
            _cursor = new QueuePosition(index, 0);
            _ackedInCursorSegment = 0;
        }

        NormalizeCursor();
        DeleteSegmentsBeforeCursor();
        return segment;
    }

    private void DropOldestUntilFits(long frameBytes)
    {
        while (DiskBytes() + frameBytes > _options.MaxBytes)
        {
            if (_segments.Count == 1 && _segments[0].Length > 0)
            {
                RollLocked();
            }

            if (_segments.Count < 2)
            {
                return;
            }

            var oldest = _segments[0];
            var lost = oldest.RecordCount - (oldest.Index == _cursor.Segment ? _ackedInCursorSegment : 0);
            if (_cursor.Segment <= oldest.Index)
            {
                _cursor = new QueuePosition(_segments[1].Index, 0);
                _ackedInCursorSegment = 0;
                PersistCursor();
            }

            _segments.RemoveAt(0);
            TryDelete(oldest.Path);
            _droppedTotal += lost;
            LogDroppedOldest(_logger, Name, lost, _options.MaxBytes);
        }
    }

    private void MarkFull()
    {
        if (!_full)
        {
            _full = true;
            LogQueueFull(_logger, Name, _options.MaxBytes, _options.FullPolicy);
        }
    }

    private void UpdateFullAfterFree()
    {
        if (_full && DiskBytes() < _options.MaxBytes / 2)
        {
            _full = false;
            LogQueueNoLongerFull(_logger, Name);
        }

        _spaceFreed.TrySetResult();
        _spaceFreed = NewSignal();
    }

    /// <summary>A cursor at the end of a sealed segment moves to the start of the next one.</summary>
    private void NormalizeCursor()
    {
        while (true)
        {
            var i = _segments.FindIndex(s => s.Index == _cursor.Segment);
            if (i < 0 || i == _segments.Count - 1 || _cursor.Offset < _segments[i].Length)
            {
                return;
            }

            _cursor = new QueuePosition(_segments[i + 1].Index, 0);
            _ackedInCursorSegment = 0;
        }
    }

    private void DeleteSegmentsBeforeCursor()
    {
        var freed = false;
        while (_segments.Count > 1 && _segments[0].Index < _cursor.Segment)
        {
            TryDelete(_segments[0].Path);
            _segments.RemoveAt(0);
            freed = true;
        }

        if (freed)
        {
            _spaceFreed.TrySetResult();
            _spaceFreed = NewSignal();
        }
    }

    private void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException ex)
        {
            LogDeleteFailed(_logger, path, ex);
        }
    }

    private long CountRecords(QueuePosition from, QueuePosition to)
    {
        long count = 0;
        foreach (var segment in _segments)
        {
            if (segment.Index < from.Segment || segment.Index > to.Segment)
            {
                continue;
            }

            var start = segment.Index == from.Segment ? from.Offset : 0;
            var end = segment.Index == to.Segment ? to.Offset : segment.Length;
            count += CountFrames(segment, start, end);
        }

        return count;
    }

    private long CountFrames(Segment segment, long start, long end)
    {
        if (end <= start)
        {
            return 0;
        }

        if (start == 0 && end == segment.Length)
        {
            return segment.RecordCount;
        }

        WriteOutLocked();
        var data = ReadChunk(segment, start, (int)(end - start));
        long count = 0;
        var pos = 0;
        while (pos + HeaderBytes <= data.Length)
        {
            pos += HeaderBytes + BinaryPrimitives.ReadInt32LittleEndian(data.AsSpan(pos));
            count++;
        }

        return count;
    }

    private static byte[] ReadChunk(Segment segment, long offset, int length)
    {
        var buffer = new byte[length];
        using var handle = File.OpenHandle(segment.Path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        var read = 0;
        while (read < length)
        {
            var n = RandomAccess.Read(handle, buffer.AsSpan(read), offset + read);
            if (n == 0)
            {
                throw new IOException($"Queue segment {segment.Path} is shorter than expected.");
            }

            read += n;
        }

        return buffer;
    }

    private long DiskBytes()
    {
        long total = 0;
        foreach (var s in _segments)
        {
            total += s.Length;
        }

        return total;
    }

    private long PendingBytesLocked()
    {
        long total = 0;
        foreach (var s in _segments)
        {
            if (s.Index >= _cursor.Segment)
            {
                total += s.Length - (s.Index == _cursor.Segment ? _cursor.Offset : 0);
            }
        }

        return total;
    }

    private long PendingRecordsLocked()
    {
        long total = 0;
        foreach (var s in _segments)
        {
            if (s.Index >= _cursor.Segment)
            {
                total += s.RecordCount - (s.Index == _cursor.Segment ? _ackedInCursorSegment : 0);
            }
        }

        return total;
    }

    private void FsyncIfDirty()
    {
        // fsync outside the lock so that appends continue meanwhile; a segment roll fsyncs the old
        // segment itself before closing it, so a handle closed under us needs nothing more.
        SafeFileHandle? handle;
        lock (_lock)
        {
            if (!_dirty || _disposed || _writeHandle is null)
            {
                return;
            }

            WriteOutLocked();
            handle = _writeHandle;
            _dirty = false;
        }

        try
        {
            RandomAccess.FlushToDisk(handle);
        }
        catch (ObjectDisposedException)
        {
        }
        catch (Exception ex)
        {
            LogFsyncFailed(_logger, Name, ex);
        }
    }

    private void PersistCursor() =>
        AtomicFile.WriteAllText(
            Path.Combine(_directory, CursorFileName),
            string.Create(CultureInfo.InvariantCulture, $"{_cursor.Segment} {_cursor.Offset}\n"));

    private static string SegmentName(long index, DateTimeOffset created) =>
        string.Create(CultureInfo.InvariantCulture, $"{index:D12}-{created.ToUnixTimeMilliseconds()}{SegmentExtension}");

    private void Recover()
    {
        foreach (var path in Directory.EnumerateFiles(_directory, "*" + SegmentExtension))
        {
            var name = Path.GetFileNameWithoutExtension(path).Split('-');
            if (name.Length == 2
                && long.TryParse(name[0], NumberStyles.None, CultureInfo.InvariantCulture, out var index)
                && long.TryParse(name[1], NumberStyles.None, CultureInfo.InvariantCulture, out var ms))
            {
                _segments.Add(new Segment(index, path, DateTimeOffset.FromUnixTimeMilliseconds(ms)));
            }
        }

        _segments.Sort((a, b) => a.Index.CompareTo(b.Index));
        foreach (var tmp in Directory.EnumerateFiles(_directory, "*.tmp"))
        {
            TryDelete(tmp);
        }

        foreach (var segment in _segments)
        {
            ScanSegment(segment);
        }

        _cursor = ReadCursor();
        var cursorSegment = _segments.Find(s => s.Index == _cursor.Segment);
        if (cursorSegment is null)
        {
            // The cursor's segment is gone (fully acknowledged or dropped): start at the oldest left.
            _cursor = _segments.Count > 0 ? new QueuePosition(_segments[0].Index, 0) : new QueuePosition(Math.Max(1, _cursor.Segment + 1), 0);
        }
        else
        {
            // Snap the cursor to a frame boundary at or before it (resending is fine, skipping is not).
            var data = ReadChunk(cursorSegment, 0, (int)cursorSegment.Length);
            var pos = 0L;
            long count = 0;
            while (pos + HeaderBytes <= data.Length)
            {
                var next = pos + HeaderBytes + BinaryPrimitives.ReadInt32LittleEndian(data.AsSpan((int)pos));
                if (next > _cursor.Offset)
                {
                    break;
                }

                pos = next;
                count++;
            }

            _cursor = new QueuePosition(cursorSegment.Index, pos);
            _ackedInCursorSegment = count;
        }

        DeleteSegmentsBeforeCursor();
        if (_segments.Count > 0)
        {
            var last = _segments[^1];
            _writeHandle = File.OpenHandle(last.Path, FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite | FileShare.Delete);
        }

        NormalizeCursor();
        DeleteSegmentsBeforeCursor();
        var pending = PendingRecordsLocked();
        if (pending > 0)
        {
            var pendingBytes = PendingBytesLocked();
            LogRecovered(_logger, Name, pending, pendingBytes);
        }
    }

    private void ScanSegment(Segment segment)
    {
        var fileLength = new FileInfo(segment.Path).Length;
        var data = fileLength == 0 ? [] : ReadChunk(segment, 0, (int)fileLength);
        var pos = 0;
        long count = 0;
        string? problem = null;
        while (pos < data.Length)
        {
            if (pos + HeaderBytes > data.Length)
            {
                problem = "torn frame header";
                break;
            }

            var length = BinaryPrimitives.ReadInt32LittleEndian(data.AsSpan(pos));
            if (length <= 0 || length > MaxRecordBytes)
            {
                problem = "invalid frame length";
                break;
            }

            if (pos + HeaderBytes + length > data.Length)
            {
                problem = "torn frame payload";
                break;
            }

            var crc = BinaryPrimitives.ReadUInt32LittleEndian(data.AsSpan(pos + 4));
            if (crc != Crc32.Compute(data.AsSpan(pos + HeaderBytes, length)))
            {
                problem = "CRC mismatch";
                break;
            }

            pos += HeaderBytes + length;
            count++;
        }

        if (problem is not null)
        {
            LogTruncatedTail(_logger, Name, segment.Path, problem, pos, data.Length - pos);
            using var handle = File.OpenHandle(segment.Path, FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite | FileShare.Delete);
            RandomAccess.SetLength(handle, pos);
            RandomAccess.FlushToDisk(handle);
        }

        segment.Length = pos;
        segment.RecordCount = count;
    }

    private QueuePosition ReadCursor()
    {
        var path = Path.Combine(_directory, CursorFileName);
        if (!File.Exists(path))
        {
            return _segments.Count > 0 ? new QueuePosition(_segments[0].Index, 0) : new QueuePosition(1, 0);
        }

        var parts = File.ReadAllText(path).Split(' ', StringSplitOptions.TrimEntries);
        if (parts.Length == 2
            && long.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var segment)
            && long.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var offset))
        {
            return new QueuePosition(segment, offset);
        }

        LogBadCursor(_logger, path);
        return _segments.Count > 0 ? new QueuePosition(_segments[0].Index, 0) : new QueuePosition(1, 0);
    }

    private sealed class Segment(long index, string path, DateTimeOffset created)
    {
        public long Index { get; } = index;

        public string Path { get; } = path;

        public DateTimeOffset Created { get; } = created;

        /// <summary>Bytes of whole valid frames.</summary>
        public long Length { get; set; }

        public long RecordCount { get; set; }
    }

    [LoggerMessage(EventId = 1101, Level = LogLevel.Warning, Message = "Queue {Queue}: truncated {Problem} in {Path} at offset {Offset} ({Bytes} bytes discarded)")]
    private static partial void LogTruncatedTail(ILogger logger, string queue, string path, string problem, long offset, long bytes);

    [LoggerMessage(EventId = 1102, Level = LogLevel.Warning, Message = "Queue {Queue} is FULL (cap {MaxBytes} bytes, policy {Policy})")]
    private static partial void LogQueueFull(ILogger logger, string queue, long maxBytes, QueueFullPolicy policy);

    [LoggerMessage(EventId = 1103, Level = LogLevel.Warning, Message = "Queue {Queue}: dropped {Records} undelivered records (oldest segment) to stay under {MaxBytes} bytes")]
    private static partial void LogDroppedOldest(ILogger logger, string queue, long records, long maxBytes);

    [LoggerMessage(EventId = 1104, Level = LogLevel.Information, Message = "Queue {Queue} is below its cap again")]
    private static partial void LogQueueNoLongerFull(ILogger logger, string queue);

    [LoggerMessage(EventId = 1105, Level = LogLevel.Warning, Message = "Could not delete queue file {Path}")]
    private static partial void LogDeleteFailed(ILogger logger, string path, Exception exception);

    [LoggerMessage(EventId = 1106, Level = LogLevel.Error, Message = "Queue {Queue}: fsync failed")]
    private static partial void LogFsyncFailed(ILogger logger, string queue, Exception exception);

    [LoggerMessage(EventId = 1107, Level = LogLevel.Warning, Message = "Unreadable queue cursor {Path}; resending from the oldest segment")]
    private static partial void LogBadCursor(ILogger logger, string path);

    [LoggerMessage(EventId = 1108, Level = LogLevel.Information, Message = "Queue {Queue}: {Records} records ({Bytes} bytes) pending from before the restart")]
    private static partial void LogRecovered(ILogger logger, string queue, long records, long bytes);
}
