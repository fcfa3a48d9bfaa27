using System.IO.Compression;
using System.Text;
using Microsoft.Extensions.Logging;
using SessionTrail.Agent.Config;
using SessionTrail.Agent.Ids;
using SessionTrail.Agent.Sinks;
using SessionTrail.Agent.Sources;

namespace SessionTrail.Agent.Sinks.S3;

/// <summary>
/// The S3 sink with objects per batch (<see cref="S3Objects.Batch"/>, log objects): writes batches of log
/// records as gzip objects to S3 (or any S3-compatible endpoint, through AWSSDK.S3): a batch is cut when it
/// reaches <see cref="S3SinkOptions.MaxObjectBytes"/> or <see cref="S3SinkOptions.BufferInterval"/> has
/// passed (<see cref="ISinkBatching"/>). The key is <c>FILEPATH/[FILENAME-]FIRST-RECORD-ID.ndjson.gz</c>
/// (<c>.log.gz</c> for text), deterministic from the batch's first record: a PUT repeated after a failure
/// or a restart replaces the same object.
/// </summary>
internal sealed partial class S3BatchObjects : S3Sink, ISinkBatching
{
    /// <summary>Its log category (the name the log-objects sink logged under before the two S3 sinks became one).</summary>
    public const string LoggerCategory = "SessionTrail.Agent.Logs.Sinks.S3Logs";

    private readonly DeadLetterFile _deadLetter;
    private readonly ILogger _logger;
    private readonly string _host;
    private readonly TimePattern _filePath;
    private readonly TimePattern? _fileName;
    private readonly LogFormat _format;

    /// <param name="context">Host, logs, clock and the sink's directory (dead letters); its Id is <see cref="S3SinkOptions.Name"/>.</param>
    public S3BatchObjects(S3SinkOptions options, IS3ObjectStore store, LogSinkContext context)
        : base(options, store)
    {
        ArgumentNullException.ThrowIfNull(context);
        _host = context.Host;
        _filePath = TimePattern.Parse(options.EffectiveFilePath, nameof(S3SinkOptions.FilePath));
        _fileName = options.FileName is { } fileName ? TimePattern.Parse(fileName, nameof(S3SinkOptions.FileName)) : null;
        _format = options.EffectiveLogFormat;
        _deadLetter = DeadLetterFile.InSinkDirectory(context.SinkDirectory, Name, context.Time);
        _logger = context.Logs.CreateLogger(LoggerCategory);
    }

    public int MaxRecords => Options.EffectiveBufferSize;

    public long MaxBytes => Options.EffectiveMaxObjectBytes;

    public TimeSpan MaxLinger => Options.EffectiveBufferInterval;

    public DeadLetterFile DeadLetter => _deadLetter;

    public override async Task<SinkResult> SendAsync(IReadOnlyList<ReadOnlyMemory<byte>> lines, CancellationToken cancellationToken)
    {
        var deadLetters = new List<DeadLetter>();
        var entries = LogBatch.Parse(lines, deadLetters);
        if (entries.Count > 0)
        {
            var obj = Render(entries);
            try
            {
                await Store.PutAsync(obj, cancellationToken);
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                var (message, configuration) = S3Failure.Explain(ex, Store.Describe);
                if (configuration)
                {
                    LogConfigurationProblem(_logger, Name, message);
                }

                return SinkResult.Retryable(message);
            }

            LogUploaded(_logger, Name, obj.Key, entries.Count, obj.Body.Length);
        }

        try
        {
            _deadLetter.Append(deadLetters);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return SinkResult.Retryable($"cannot write the dead-letter file {_deadLetter.Path}: {ex.Message}");
        }

        return SinkResult.Success;
    }

    /// <summary>The object of a batch: its key (from the first record) and the gzip of its lines.</summary>
    public S3Object Render(IReadOnlyList<LogEntry> entries)
    {
        ArgumentNullException.ThrowIfNull(entries);
        var first = entries[0].Record;
        var prefix = _filePath.Format(first.Time, _host).Trim('/');
        var name = _fileName is { } fileName ? fileName.Format(first.Time, _host) + "-" : "";
        var extension = _format == LogFormat.Json ? ".ndjson.gz" : ".log.gz";
        var key = (prefix.Length > 0 ? prefix + "/" : "") + name + SafeId(first.Id.Length > 0 ? first.Id : first.Time.ToUnixTimeMilliseconds().ToString(System.Globalization.CultureInfo.InvariantCulture)) + extension;
        using var body = new MemoryStream();
        using (var gzip = new GZipStream(body, CompressionLevel.Fastest, leaveOpen: true))
        {
            foreach (var entry in entries)
            {
                gzip.Write(LogDocument.Render(entry.Record, _format));
                gzip.WriteByte((byte)'\n');
            }
        }

        return new S3Object(key, body.ToArray(), "application/gzip");
    }

    /// <summary>A record id as a key part: letters, digits, '-', '_' and '.' kept, anything else '_'.</summary>
    public static string SafeId(string id)
    {
        ArgumentNullException.ThrowIfNull(id);
        var text = new StringBuilder(id.Length);
        foreach (var c in id)
        {
            text.Append(char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' ? c : '_');
        }

        return text.ToString();
    }

    [LoggerMessage(EventId = 1441, Level = LogLevel.Information, Message = "Sink {Sink}: uploaded {Key} ({Records} records, {Bytes} bytes gzip)")]
    private static partial void LogUploaded(ILogger logger, string sink, string key, int records, int bytes);

    [LoggerMessage(EventId = 1442, Level = LogLevel.Error, Message = "Sink {Sink}: {Message}; records are kept until it is fixed")]
    private static partial void LogConfigurationProblem(ILogger logger, string sink, string message);
}
