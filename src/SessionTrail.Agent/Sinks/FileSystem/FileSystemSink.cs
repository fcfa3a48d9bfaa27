using Microsoft.Extensions.Logging;
using SessionTrail.Agent.Config;
using SessionTrail.Agent.Ids;
using SessionTrail.Agent.Platform;
using SessionTrail.Agent.Sinks;
using SessionTrail.Agent.Sources;

namespace SessionTrail.Agent.Sinks.FileSystem;

/// <summary>The settings of a FileSystem sink (see <see cref="FileSystemSinkFactory"/>).</summary>
public sealed record FileSystemSinkOptions
{
    /// <summary>The file to append to; time tokens make daily (or hourly) files.</summary>
    public required TimePattern FilePath { get; init; }

    public LogFormat Format { get; init; } = LogFormat.Json;

    public int BufferSize { get; init; } = 1000;

    public TimeSpan BufferInterval { get; init; } = TimeSpan.Zero;

    /// <summary>
    /// The mode of the files (and, with x where r is, of the folders) it creates, e.g. 0640 for a log forwarder
    /// of the file's group; null: the owner's alone (0600/0700), like everything the agent writes. Linux only.
    /// </summary>
    public UnixFileMode? FileMode { get; init; }
}

/// <summary>
/// Appends records to local files, one line each (<see cref="LogDocument"/> JSON or the message text), and
/// fsyncs before the batch is acknowledged. A batch is never in a file twice: see <see cref="AppendJournal"/>.
/// </summary>
public sealed partial class FileSystemSink : ISink, ISinkBatching
{
    private readonly FileSystemSinkOptions _options;
    private readonly DeadLetterFile _deadLetter;
    private readonly string _journalPath;
    private readonly ILogger _logger;
    private readonly string _host;

    public FileSystemSink(FileSystemSinkOptions options, LogSinkContext context)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(context);
        _options = options;
        Name = context.Id;
        _host = context.Host;
        _deadLetter = DeadLetterFile.InSinkDirectory(context.SinkDirectory, Name, context.Time);
        _journalPath = Path.Combine(context.SinkDirectory, "append-journal.json");
        _logger = context.Logs.CreateLogger("SessionTrail.Agent.Logs.Sinks.FileSystem");
    }

    public string Name { get; }

    public int MaxRecords => _options.BufferSize;

    public long MaxBytes => 4L << 20;

    public TimeSpan MaxLinger => _options.BufferInterval;

    public DeadLetterFile DeadLetter => _deadLetter;

    public string JournalPath => _journalPath;

    public Task<SinkResult> SendAsync(IReadOnlyList<ReadOnlyMemory<byte>> lines, CancellationToken cancellationToken)
    {
        var deadLetters = new List<DeadLetter>();
        var entries = LogBatch.Parse(lines, deadLetters);
        try
        {
            if (entries.Count > 0)
            {
                Append(entries);
            }

            _deadLetter.Append(deadLetters);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or InvalidDataException)
        {
            return Task.FromResult(SinkResult.Retryable($"cannot write {_options.FilePath.Pattern}: {ex.Message}"));
        }

        return Task.FromResult(SinkResult.Success);
    }

    private void Append(List<LogEntry> entries)
    {
        var firstId = entries[0].Record.Id;
        var lastId = entries[^1].Record.Id;
        UndoRepeatedBatch(firstId, entries);

        // Group by file in first-seen order; lines keep the batch order inside each file.
        var files = new Dictionary<string, MemoryStream>(StringComparer.Ordinal);
        var order = new List<string>();
        foreach (var entry in entries)
        {
            var path = Path.GetFullPath(_options.FilePath.Format(entry.Record.Time, _host));
            if (!files.TryGetValue(path, out var content))
            {
                content = new MemoryStream();
                files[path] = content;
                order.Add(path);
            }

            content.Write(LogDocument.Render(entry.Record, _options.Format));
            content.WriteByte((byte)'\n');
        }

        var appended = order.Select(path =>
        {
            var start = File.Exists(path) ? new FileInfo(path).Length : 0;
            return new AppendedFile(path, start, start + files[path].Length);
        }).ToList();
        new AppendJournal(firstId, lastId, appended).Save(_journalPath);
        foreach (var file in appended)
        {
            var folder = Path.GetDirectoryName(file.Path)!;
            var options = new FileStreamOptions { Mode = FileMode.Append, Access = FileAccess.Write, Share = FileShare.Read };
            if (_options.FileMode is { } mode && !HostOs.IsWindows)
            {
                if (!Directory.Exists(folder))
                {
                    Directory.CreateDirectory(folder, FolderMode(mode));
                }

                options.UnixCreateMode = mode;
            }
            else
            {
                Directory.CreateDirectory(folder);
            }

            using var stream = new FileStream(file.Path, options);
            files[file.Path].WriteTo(stream);
            stream.Flush(flushToDisk: true);
        }
    }

    /// <summary>A folder's mode for files of <paramref name="mode"/>: search (x) wherever read (r) is given.</summary>
    internal static UnixFileMode FolderMode(UnixFileMode mode) => mode
        | (mode.HasFlag(UnixFileMode.UserRead) ? UnixFileMode.UserExecute : 0)
        | (mode.HasFlag(UnixFileMode.GroupRead) ? UnixFileMode.GroupExecute : 0)
        | (mode.HasFlag(UnixFileMode.OtherRead) ? UnixFileMode.OtherExecute : 0);

    /// <summary>When this batch is the journal's (not acknowledged before a stop), cuts its earlier append off again.</summary>
    private void UndoRepeatedBatch(string firstId, List<LogEntry> entries)
    {
        var journal = AppendJournal.Load(_journalPath);
        if (journal is null || firstId.Length == 0 || journal.FirstId != firstId || !entries.Any(e => e.Record.Id == journal.LastId))
        {
            return;
        }

        foreach (var file in journal.Files)
        {
            var length = File.Exists(file.Path) ? new FileInfo(file.Path).Length : -1;
            if (length >= file.Start && length <= file.End)
            {
                if (length > file.Start)
                {
                    using var stream = new FileStream(file.Path, FileMode.Open, FileAccess.Write, FileShare.Read);
                    stream.SetLength(file.Start);
                    stream.Flush(flushToDisk: true);
                }

                LogUndone(_logger, Name, file.Path, length - file.Start);
            }
            else if (length > file.End)
            {
                LogNotUndone(_logger, Name, file.Path);
            }
        }
    }

    [LoggerMessage(EventId = 1431, Level = LogLevel.Information, Message = "Sink {Sink}: the last batch was appended to {Path} but not acknowledged; cut its {Bytes} bytes off to append it once")]
    private static partial void LogUndone(ILogger logger, string sink, string path, long bytes);

    [LoggerMessage(EventId = 1432, Level = LogLevel.Warning, Message = "Sink {Sink}: {Path} grew past the last unacknowledged append (another writer?); it is not cut, so the batch may be in it twice")]
    private static partial void LogNotUndone(ILogger logger, string sink, string path);
}

/// <summary>
/// <c>SinkType: "FileSystem"</c>. Keys: <c>FilePath</c> (required; time tokens such as <c>{yyyy-MM-dd}</c>
/// or <c>{timestamp:yyyy-MM-dd}</c> make one file per day of the record's UTC time), <c>Format</c> (json
/// default, or "" for the message text), <c>BufferSize</c> (records per append, default 1000),
/// <c>BufferInterval</c> (seconds a partial batch may wait, default 0), <c>FileMode</c> (octal, e.g. "0640": the
/// mode of the files it creates; default the owner's alone, 0600, like all the agent writes; Linux only).
/// </summary>
public sealed class FileSystemSinkFactory : ILogSinkFactory
{
    /// <summary><c>FileMode</c>: 3 or 4 octal digits, permission bits only (no setuid/setgid/sticky), the owner able to write.</summary>
    internal static UnixFileMode? ParseMode(ConfigNode config)
    {
        if (config.Optional("FileMode") is not { } text)
        {
            return null;
        }

        var digits = text.StartsWith("0o", StringComparison.OrdinalIgnoreCase) ? text[2..] : text;
        if (digits.Length is < 3 or > 4 || !digits.All(c => c is >= '0' and <= '7') || (digits.Length == 4 && digits[0] != '0'))
        {
            throw new LogConfigException(config.KeyPath("FileMode"), $"must be an octal file mode such as \"0640\" (permission bits only), not '{text}'");
        }

        var mode = (UnixFileMode)Convert.ToInt32(digits, 8);
        if (!mode.HasFlag(UnixFileMode.UserWrite))
        {
            throw new LogConfigException(config.KeyPath("FileMode"), $"must let the owner write (the sink appends): '{text}'");
        }

        return mode;
    }

    private static readonly string[] Keys = ["FilePath", "FileMode"];

    public string SinkType => "FileSystem";

    public ISink Create(ConfigNode config, LogSinkContext context)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(context);
        SinkKeys.WarnUnknown(config, context.Logs.CreateLogger("SessionTrail.Agent.Logs.Sinks.FileSystem"), Keys);
        var pattern = TimePattern.Parse(config.Required("FilePath"), config.KeyPath("FilePath"));
        var sample = pattern.Format(new DateTimeOffset(2026, 1, 2, 3, 4, 5, TimeSpan.Zero), context.Host);
        if (!Path.IsPathFullyQualified(sample))
        {
            throw new LogConfigException(config.KeyPath("FilePath"), $"must be an absolute path, not '{pattern.Pattern}'");
        }

        if (sample.EndsWith(Path.DirectorySeparatorChar) || sample.EndsWith(Path.AltDirectorySeparatorChar))
        {
            throw new LogConfigException(config.KeyPath("FilePath"), $"must name a file, not a folder ('{pattern.Pattern}')");
        }

        return new FileSystemSink(
            new FileSystemSinkOptions
            {
                FilePath = pattern,
                Format = LogDocument.ParseFormat(config),
                BufferSize = config.Int("BufferSize", 1000, 1, 1_000_000),
                BufferInterval = config.Seconds("BufferInterval", TimeSpan.Zero),
                FileMode = ParseMode(config),
            },
            context);
    }
}
