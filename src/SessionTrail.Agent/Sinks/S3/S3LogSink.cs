using System.IO.Compression;
using System.Text;
using Microsoft.Extensions.Logging;
using SessionTrail.Agent.Config;
using SessionTrail.Agent.Ids;
using SessionTrail.Agent.Sinks;
using SessionTrail.Agent.Sources;

namespace SessionTrail.Agent.Sinks.S3;

/// <summary>The settings of an S3 log-objects sink (see <see cref="S3LogSinkFactory"/>).</summary>
public sealed record S3LogSinkOptions
{
    public required string BucketName { get; init; }

    /// <summary>The key prefix; time tokens are filled from the batch's first record.</summary>
    public required TimePattern FilePath { get; init; }

    /// <summary>Optional start of the object name (before the first record id).</summary>
    public TimePattern? FileName { get; init; }

    public LogFormat Format { get; init; } = LogFormat.Json;

    /// <summary>Uncompressed bytes per object (queued NDJSON lines; the rendering is about as large).</summary>
    public long MaxObjectBytes { get; init; } = 8L << 20;

    public int MaxObjectRecords { get; init; } = 100_000;

    public TimeSpan BufferInterval { get; init; } = TimeSpan.FromSeconds(60);
}

/// <summary>
/// Writes batches of log records as gzip objects to S3 (or any S3-compatible endpoint, through AWSSDK.S3):
/// a batch is cut when it reaches <see cref="S3LogSinkOptions.MaxObjectBytes"/> or
/// <see cref="S3LogSinkOptions.BufferInterval"/> has passed (<see cref="ISinkBatching"/>). The key is
/// <c>FILEPATH/[FILENAME-]FIRST-RECORD-ID.ndjson.gz</c> (<c>.log.gz</c> for text), deterministic from the
/// batch's first record: a PUT repeated after a failure or a restart replaces the same object.
/// </summary>
public sealed partial class S3LogSink : ISink, ISinkBatching, IDisposable
{
    private readonly S3LogSinkOptions _options;
    private readonly IS3ObjectStore _store;
    private readonly DeadLetterFile _deadLetter;
    private readonly ILogger _logger;
    private readonly string _host;

    public S3LogSink(S3LogSinkOptions options, IS3ObjectStore store, LogSinkContext context)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(context);
        _options = options;
        _store = store;
        Name = context.Id;
        _host = context.Host;
        _deadLetter = DeadLetterFile.InSinkDirectory(context.SinkDirectory, Name, context.Time);
        _logger = context.Logs.CreateLogger("SessionTrail.Agent.Logs.Sinks.S3Logs");
    }

    public string Name { get; }

    public int MaxRecords => _options.MaxObjectRecords;

    public long MaxBytes => _options.MaxObjectBytes;

    public TimeSpan MaxLinger => _options.BufferInterval;

    public DeadLetterFile DeadLetter => _deadLetter;

    public async Task<SinkResult> SendAsync(IReadOnlyList<ReadOnlyMemory<byte>> lines, CancellationToken cancellationToken)
    {
        var deadLetters = new List<DeadLetter>();
        var entries = LogBatch.Parse(lines, deadLetters);
        if (entries.Count > 0)
        {
            var obj = Render(entries);
            try
            {
                await _store.PutAsync(obj, cancellationToken);
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                var (message, configuration) = S3Failure.Explain(ex, _store.Describe);
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

    public void Dispose() => _store.Dispose();

    /// <summary>The object of a batch: its key (from the first record) and the gzip of its lines.</summary>
    public S3Object Render(IReadOnlyList<LogEntry> entries)
    {
        ArgumentNullException.ThrowIfNull(entries);
        var first = entries[0].Record;
        var prefix = _options.FilePath.Format(first.Time, _host).Trim('/');
        var name = _options.FileName is { } fileName ? fileName.Format(first.Time, _host) + "-" : "";
        var extension = _options.Format == LogFormat.Json ? ".ndjson.gz" : ".log.gz";
        var key = (prefix.Length > 0 ? prefix + "/" : "") + name + SafeId(first.Id.Length > 0 ? first.Id : first.Time.ToUnixTimeMilliseconds().ToString(System.Globalization.CultureInfo.InvariantCulture)) + extension;
        using var body = new MemoryStream();
        using (var gzip = new GZipStream(body, CompressionLevel.Fastest, leaveOpen: true))
        {
            foreach (var entry in entries)
            {
                gzip.Write(LogDocument.Render(entry.Record, _options.Format));
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
