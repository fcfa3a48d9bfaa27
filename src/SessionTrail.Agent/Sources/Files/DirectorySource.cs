using Microsoft.Extensions.Logging;
using SessionTrail.Agent.Config;
using SessionTrail.Agent.Ids;
using SessionTrail.Agent.Sinks;
using SessionTrail.Agent.Sources;
using SessionTrail.Core.Records;

namespace SessionTrail.Agent.Sources.Files;

/// <summary>
/// KinesisTap's DirectorySource: tails the files of a folder that match a filter, one record per line
/// or per multi-line record.
/// <list type="bullet">
/// <item>Files are known by identity (device + inode; Windows: volume + file index) and kept open, so a
/// file renamed away (rotation) or deleted is still read to its end; a new file at the old name is
/// read from its start. A file that shrinks below the read position (truncation, copytruncate) is read
/// again from the start; so is one whose first bytes changed (a reused inode).</item>
/// <item>A line is emitted only when its line end is there; the last multi-line record is held until a
/// new record starts or the file has not grown for <see cref="DirectorySourceOptions.MultiLineFlush"/>.</item>
/// <item>The bookmark (every file's identity, fingerprint and the end of its last emitted record) is
/// saved at most every second and only after <see cref="IDurableRecordOutput.WhenDurableAsync"/>: a
/// crash repeats records (with the same ids, see <see cref="LogIds"/>) but never loses one.</item>
/// </list>
/// </summary>
public sealed class DirectorySource : IRecordSource
{
    private const int ReadBufferBytes = 256 * 1024;
    private const int PerFileBudgetBytes = 4 << 20;

    private readonly string _id;
    private readonly DirectorySourceOptions _options;
    private readonly string _host;
    private readonly BookmarkStore _bookmarks;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly FileRecordBuilder _builder;
    private readonly List<TailedFile> _files = [];
    private readonly List<LogRecord> _batch = [];
    private readonly HashSet<string> _unreadable = new(StringComparer.Ordinal);
    private TaskCompletionSource _wake = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private byte[] _buffer = new byte[ReadBufferBytes];
    private readonly DirectoryBookmarkKeeper _bookmark;
    private bool _firstScan = true;
    private bool _warnedMissing;
    private int _structureChanged;
    private long _records;
    private long _bytes;

    public DirectorySource(string id, DirectorySourceOptions options, string host, BookmarkStore bookmarks, TimeProvider time, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        _id = id;
        _options = options;
        _host = host;
        _bookmarks = bookmarks;
        _time = time;
        _logger = logger;
        _builder = new FileRecordBuilder(id, host, options);
        _bookmark = new DirectoryBookmarkKeeper(id, bookmarks, options.BookmarkInterval, time, logger);
    }

    public string Name => _id;

    /// <summary>Records emitted since start.</summary>
    public long Records => Interlocked.Read(ref _records);

    public async Task RunAsync(IRecordOutput output, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(output);
        // When the agent runs the source again after a fault, _firstScan stays false: files without a
        // bookmark entry are then read from their start (repeats keep their ids), never skipped to the end.
        _bookmark.Load();
        DirectorySourceLog.Started(_logger, _id, _options.Directory, _options.Parser.GetType().Name, _bookmark.Count);
        FileSystemWatcher? watcher = null;
        var nextScan = DateTimeOffset.MinValue;
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                ResetWake();
                var now = _time.GetUtcNow();
                if (Interlocked.Exchange(ref _structureChanged, 0) == 1 || now >= nextScan)
                {
                    watcher ??= TryWatch();
                    await ScanAsync(output, now, cancellationToken);
                    nextScan = now + _options.Interval;
                }

                var read = 0L;
                foreach (var file in _files.OrderByDescending(f => f.Orphaned).ToList())
                {
                    read += await ReadAsync(file, output, cancellationToken);
                }

                var nextDue = await SettleAsync(output, cancellationToken);
                _bookmark.MaybeSave(_files, output, cancellationToken);
                if (read == 0)
                {
                    var wait = nextScan - _time.GetUtcNow();
                    if (nextDue < wait)
                    {
                        wait = nextDue;
                    }

                    await WaitAsync(wait, cancellationToken);
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
        finally
        {
            watcher?.Dispose();
            await _bookmark.SaveAtStopAsync(_files, output);
            DirectorySourceLog.Stopped(_logger, _id, _records, _bytes, _files.Count);
            foreach (var file in _files)
            {
                file.Dispose();
            }

            _files.Clear();
        }
    }

    private async Task WaitAsync(TimeSpan wait, CancellationToken cancellationToken)
    {
        if (wait > TimeSpan.Zero)
        {
            try
            {
                await Volatile.Read(ref _wake).Task.WaitAsync(wait, _time, cancellationToken);
            }
            catch (TimeoutException)
            {
            }
        }
    }

    /// <summary>Called at the start of a pass: a wake-up that comes during the pass ends the next wait at once.</summary>
    private void ResetWake()
    {
        if (Volatile.Read(ref _wake).Task.IsCompleted)
        {
            Volatile.Write(ref _wake, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
        }
    }

    private void Wake(bool structure)
    {
        if (structure)
        {
            Volatile.Write(ref _structureChanged, 1);
        }

        // Cheap when already woken: writes to a busy file raise many events.
        Volatile.Read(ref _wake).TrySetResult();
    }

    private FileSystemWatcher? TryWatch()
    {
        if (!Directory.Exists(_options.Directory))
        {
            return null;
        }

        try
        {
            var watcher = new FileSystemWatcher(_options.Directory)
            {
                IncludeSubdirectories = _options.IncludeSubdirectories,
                NotifyFilter = NotifyFilters.FileName | NotifyFilters.DirectoryName | NotifyFilters.LastWrite | NotifyFilters.Size,
                InternalBufferSize = 64 * 1024,
            };
            watcher.Changed += (_, _) => Wake(structure: false);
            watcher.Created += (_, _) => Wake(structure: true);
            watcher.Deleted += (_, _) => Wake(structure: true);
            watcher.Renamed += (_, _) => Wake(structure: true);
            watcher.Error += (_, _) => Wake(structure: true);
            watcher.EnableRaisingEvents = true;
            return watcher;
        }
        catch (Exception ex) when (ex is IOException or ArgumentException or PlatformNotSupportedException or UnauthorizedAccessException)
        {
            DirectorySourceLog.WatcherUnavailable(_logger, _options.Directory, ex.Message, _options.Interval);
            return null;
        }
    }

    /// <summary>Lists the folder: follows renames, notices truncation and replacement, opens new files, orphans vanished ones.</summary>
    private async Task ScanAsync(IRecordOutput output, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var seen = new Dictionary<FileIdentity, (string Path, long Size)>();
        if (Directory.Exists(_options.Directory))
        {
            _warnedMissing = false;
            var enumeration = new EnumerationOptions { RecurseSubdirectories = _options.IncludeSubdirectories, IgnoreInaccessible = true, AttributesToSkip = 0 };
            try
            {
                foreach (var path in Directory.EnumerateFiles(_options.Directory, "*", enumeration))
                {
                    if (_options.FileNameFilter.IsMatch(Path.GetFileName(path)) && FileIdentity.TryGet(path, out var identity, out var size))
                    {
                        seen.TryAdd(identity, (path, size));
                    }
                }
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                // A folder removed while listed: skip this scan rather than take every file for gone.
                DirectorySourceLog.ReadFailed(_logger, _options.Directory, ex.Message);
                return;
            }
        }
        else if (!_warnedMissing)
        {
            _warnedMissing = true;
            DirectorySourceLog.DirectoryMissing(_logger, _options.Directory, _id, _options.Interval);
        }

        foreach (var file in _files)
        {
            if (!seen.Remove(file.Identity, out var current))
            {
                if (!file.Orphaned)
                {
                    file.Orphaned = true;
                    file.LastGrowth = now;
                    DirectorySourceLog.FileGone(_logger, file.Path, file.IdentityText);
                }

                continue;
            }

            file.Orphaned = false;
            if (current.Path != file.Path)
            {
                DirectorySourceLog.FileRenamed(_logger, file.Path, current.Path, file.IdentityText);
                file.Rename(current.Path);
            }

            await CheckContentAsync(file, current.Size, output, now, cancellationToken);
        }

        foreach (var (_, (path, size)) in seen.OrderBy(s => s.Value.Path, StringComparer.Ordinal))
        {
            Open(path, size);
        }

        _firstScan = false;
    }

    /// <summary>Truncated (smaller than the read position) or replaced (other first bytes): read again from the start.</summary>
    private async Task CheckContentAsync(TailedFile file, long size, IRecordOutput output, DateTimeOffset now, CancellationToken cancellationToken)
    {
        if (size < file.ReadPos)
        {
            DirectorySourceLog.FileTruncated(_logger, file.Path, size, file.ReadPos);
            await RestartAsync(file, output, now, cancellationToken);
        }
        else if (size != file.KnownEnd)
        {
            await ReplacedAsync(file, output, now, cancellationToken);
        }
    }

    /// <summary>
    /// Whether the first bytes changed (copytruncate and rewritten past the read position before the
    /// source looked, or a reused inode): then the file is read again from the start. Checked before a
    /// file's new data is read, so the new content is never taken for the rest of the old one.
    /// </summary>
    private async Task<bool> ReplacedAsync(TailedFile file, IRecordOutput output, DateTimeOffset now, CancellationToken cancellationToken)
    {
        if (file.HeadLength == 0)
        {
            return false;
        }

        Span<byte> current = stackalloc byte[TailedFile.HeadBytes];
        var n = RandomAccess.Read(file.Handle, current[..file.HeadLength], 0);
        if (n == file.HeadLength && current[..n].SequenceEqual(file.Head))
        {
            return false;
        }

        if (n < file.HeadLength && RandomAccess.GetLength(file.Handle) < file.ReadPos)
        {
            DirectorySourceLog.FileTruncated(_logger, file.Path, RandomAccess.GetLength(file.Handle), file.ReadPos);
        }
        else
        {
            DirectorySourceLog.FileReplaced(_logger, file.Path, file.IdentityText);
        }

        await RestartAsync(file, output, now, cancellationToken);
        return true;
    }

    private async Task RestartAsync(TailedFile file, IRecordOutput output, DateTimeOffset now, CancellationToken cancellationToken)
    {
        // Complete lines held for a multi-line record are emitted; the rest of the old content is gone.
        _batch.Clear();
        _builder.FlushGroup(file, now, _batch);
        await WriteBatchAsync(output, cancellationToken);
        file.ResetContent();
        _bookmark.Dirty = true;
    }

    private void Open(string path, long size)
    {
        Microsoft.Win32.SafeHandles.SafeFileHandle handle;
        try
        {
            handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            if (_unreadable.Add(path))
            {
                DirectorySourceLog.ReadFailed(_logger, path, ex.Message);
            }

            return;
        }

        // The handle decides: the path may have been replaced between the listing and the open.
        if (!FileIdentity.TryGet(handle, out var identity, out size) || _files.Any(f => f.Identity == identity))
        {
            handle.Dispose();
            return;
        }

        var file = new TailedFile(identity, handle, path) { LastGrowth = _time.GetUtcNow() };
        file.EnsureHead(size);
        var saved = _bookmark.Take(file.IdentityText);
        var (offset, line, reason) = StartPosition(file, saved, path, size);
        if (offset > 0 && file.Encoding is null)
        {
            if (!DetectEncoding(file))
            {
                // Too few bytes to tell the encoding: nothing worth skipping either.
                (offset, line, reason) = (0, 1, reason + " (encoding not known yet: from the start)");
            }
        }

        if (offset > 0 && offset == size)
        {
            // A start at the end of a file with an unterminated last line starts at that line. (A
            // bookmark is a record boundary already, also inside a line that was split.)
            AlignToLineStart(file, ref offset);
        }

        file.ReadPos = offset;
        file.CommittedOffset = offset;
        file.NextLine = line;
        file.CommittedLine = line;
        file.KnownEnd = offset;
        if (saved?.Headers is { } headers && offset == saved.Offset)
        {
            file.ParserState.Headers = headers;
        }

        if (offset > 0 && file.Encoding is not null && _options.Parser is DelimitedParser && file.ParserState.Headers is null)
        {
            PrimeParser(file, offset);
        }

        _files.Add(file);
        _bookmark.Dirty = true;
        DirectorySourceLog.FileOpened(_logger, path, file.IdentityText, offset, reason);
    }

    private (long Offset, long Line, string Reason) StartPosition(TailedFile file, FileBookmark? saved, string path, long size)
    {
        if (saved is not null)
        {
            if (size < saved.Offset)
            {
                return (0, 1, "bookmark beyond the end (truncated while stopped): from the start");
            }

            if (saved.FingerprintLength > 0
                && (file.HeadLength < saved.FingerprintLength || TailedFile.Hash(file.Head[..saved.FingerprintLength]) != saved.Fingerprint))
            {
                return (0, 1, "same inode, other content than the bookmark's: from the start");
            }

            return (saved.Offset, saved.Line, "bookmark");
        }

        if (_bookmark.HadBookmark || !_firstScan)
        {
            return (0, 1, "new file");
        }

        return _options.InitialPosition switch
        {
            InitialFilePosition.BeginningOfStream => (0, 1, "InitialPosition BOS"),
            InitialFilePosition.Timestamp when File.GetLastWriteTimeUtc(path) >= _options.InitialPositionTimestamp.UtcDateTime => (0, 1, "written since InitialPositionTimestamp"),
            InitialFilePosition.Timestamp => (size, 1, "older than InitialPositionTimestamp: from the end"),
            _ => (size, 1, "first start: from the end (InitialPosition " + (_options.InitialPosition == InitialFilePosition.EndOfStream ? "EOS" : "Bookmark") + ")"),
        };
    }

    /// <summary>Moves a start position at the end of a file back to the start of an unterminated last line.</summary>
    private static void AlignToLineStart(TailedFile file, ref long offset)
    {
        var encoding = file.Encoding!;
        var unit = encoding.UnitBytes;
        if (unit == 2 && (offset - file.BomLength) % 2 != 0)
        {
            offset--;
        }

        if (offset <= file.BomLength)
        {
            offset = file.BomLength;
            return;
        }

        var from = Math.Max(file.BomLength, offset - 65536);
        from -= (from - file.BomLength) % unit;
        var chunk = new byte[offset - from];
        var n = RandomAccess.Read(file.Handle, chunk, from);
        var data = chunk.AsSpan(0, n);
        var lastEnd = -1;
        var pos = 0;
        while (true)
        {
            var i = encoding.IndexOfNewline(data[pos..]);
            if (i < 0)
            {
                break;
            }

            pos += i + unit;
            lastEnd = pos;
        }

        if (lastEnd >= 0)
        {
            offset = from + lastEnd;
        }
    }

    private void PrimeParser(TailedFile file, long upTo)
    {
        var pos = (long)file.BomLength;
        while (pos < upTo)
        {
            var n = RandomAccess.Read(file.Handle, _buffer.AsSpan(0, (int)Math.Min(_buffer.Length, upTo - pos)), pos);
            if (n == 0)
            {
                return;
            }

            _builder.Prime(file, _buffer.AsSpan(0, n), out var consumed);
            if (consumed == 0)
            {
                return;
            }

            pos += consumed;
        }
    }

    private bool DetectEncoding(TailedFile file)
    {
        if (!FileTextEncoding.TryDetect(file.Head, _options.Encoding, out var encoding, out var bom))
        {
            return false;
        }

        file.Encoding = encoding;
        file.BomLength = bom;
        if (file.ReadPos < bom)
        {
            file.ReadPos = bom;
            file.CommittedOffset = Math.Max(file.CommittedOffset, bom);
        }

        return true;
    }

    /// <summary>Reads what a file has beyond its read position (up to a budget, so one busy file does not starve the others).</summary>
    private async Task<long> ReadAsync(TailedFile file, IRecordOutput output, CancellationToken cancellationToken)
    {
        long total = 0;
        try
        {
            while (total < PerFileBudgetBytes)
            {
                if (file.Encoding is null)
                {
                    file.EnsureHead(TailedFile.HeadBytes);
                    if (!DetectEncoding(file))
                    {
                        return total;
                    }
                }

                var now = _time.GetUtcNow();
                var n = RandomAccess.Read(file.Handle, _buffer, file.ReadPos);
                if (n == 0)
                {
                    break;
                }

                if (file.ReadPos + n > file.KnownEnd)
                {
                    file.KnownEnd = file.ReadPos + n;
                    file.LastGrowth = now;
                }

                if (total == 0 && await ReplacedAsync(file, output, now, cancellationToken))
                {
                    continue;
                }

                _batch.Clear();
                var before = _builder.Splits;
                var consumed = _builder.Process(file, _buffer.AsSpan(0, n), now, _batch);
                if (_builder.Splits != before && !file.WarnedSplit)
                {
                    file.WarnedSplit = true;
                    DirectorySourceLog.RecordSplit(_logger, file.Path, file.ReadPos, _options.MaxRecordBytes);
                }

                file.ReadPos += consumed;
                total += consumed;
                await WriteBatchAsync(output, cancellationToken);
                if (consumed == 0 && n == _buffer.Length)
                {
                    // One line fills the buffer: make room for it (up to MaxRecordBytes, then it is split).
                    Array.Resize(ref _buffer, _buffer.Length * 2);
                    continue;
                }

                if (n < _buffer.Length)
                {
                    break;
                }
            }
        }
        catch (IOException ex)
        {
            DirectorySourceLog.ReadFailed(_logger, file.Path, ex.Message);
            file.Orphaned = true;
        }

        _bytes += total;
        return total;
    }

    private async Task WriteBatchAsync(IRecordOutput output, CancellationToken cancellationToken)
    {
        if (_batch.Count == 0)
        {
            return;
        }

        foreach (var record in _batch)
        {
            await output.WriteAsync(record, cancellationToken);
        }

        Interlocked.Add(ref _records, _batch.Count);
        _batch.Clear();
        _bookmark.Dirty = true;
    }

    /// <summary>
    /// Emits multi-line records whose file has been quiet long enough, forgets rotated-away files that are
    /// read to their end; returns how soon it wants to run again.
    /// </summary>
    private async Task<TimeSpan> SettleAsync(IRecordOutput output, CancellationToken cancellationToken)
    {
        var now = _time.GetUtcNow();
        var next = TimeSpan.MaxValue;
        foreach (var file in _files.ToList())
        {
            var quiet = now - file.LastGrowth;
            if (file.Orphaned)
            {
                if (quiet >= _options.RotatedFileLinger)
                {
                    await ForgetAsync(file, output, now, cancellationToken);
                    continue;
                }

                next = Min(next, _options.RotatedFileLinger - quiet);
            }

            if (file.HasGroup)
            {
                if (quiet >= _options.MultiLineFlush)
                {
                    _batch.Clear();
                    _builder.FlushGroup(file, now, _batch);
                    await WriteBatchAsync(output, cancellationToken);
                }
                else
                {
                    next = Min(next, _options.MultiLineFlush - quiet);
                }
            }
        }

        return next;
    }

    private static TimeSpan Min(TimeSpan a, TimeSpan b) => a < b ? a : b;

    /// <summary>A file that left the folder and stopped growing: its unterminated last line and open record are emitted, then it is closed.</summary>
    private async Task ForgetAsync(TailedFile file, IRecordOutput output, DateTimeOffset now, CancellationToken cancellationToken)
    {
        // Complete lines first (normally there are none left: the file has been quiet for a while).
        while (await ReadAsync(file, output, cancellationToken) > 0)
        {
        }

        _batch.Clear();
        try
        {
            var tail = new byte[Math.Max(0, Math.Min(RandomAccess.GetLength(file.Handle) - file.ReadPos, _options.MaxRecordBytes))];
            var n = tail.Length == 0 ? 0 : RandomAccess.Read(file.Handle, tail, file.ReadPos);
            _builder.Finish(file, tail.AsSpan(0, n), now, _batch);
        }
        catch (IOException ex)
        {
            DirectorySourceLog.ReadFailed(_logger, file.Path, ex.Message);
            _builder.FlushGroup(file, now, _batch);
        }

        await WriteBatchAsync(output, cancellationToken);
        DirectorySourceLog.FileForgotten(_logger, file.Path, file.IdentityText, file.ReadPos);
        _files.Remove(file);
        file.Dispose();
        _bookmark.Dirty = true;
    }
}
