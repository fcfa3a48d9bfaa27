using System.Globalization;
using Microsoft.Extensions.Logging;
using SessionTrail.Agent.Delivery;
using SessionTrail.Core;
using SessionTrail.Core.Formats;
using SessionTrail.Core.Records;

namespace SessionTrail.Agent.Sinks.S3;

/// <summary>
/// The S3 sink with objects per session (<see cref="S3Objects.Session"/>, the data lake): one object per
/// session in the seed's layout (<c>PREFIX/year=YYYY/month=MM/day=DD/SESSION.csv</c>) or as JSON lines;
/// records without a session go to one object per host and UTC day under <see cref="S3SinkOptions.UnattributedPrefix"/>.
/// </summary>
/// <remarks>
/// Nothing is lost: <see cref="SendAsync"/> acknowledges records only once they are fsynced in the
/// spool (DIR/agent/s3/NAME); a session's End record makes its object ready; <see cref="RunAsync"/>
/// PUTs ready objects, retrying forever with back-off and jitter, and moves a spool file to
/// "uploaded" only after its PUT succeeded. After a restart the ready files are uploaded first.
/// A PUT replaces the object under the same key, so an upload repeated after a crash leaves one object.
/// </remarks>
internal sealed partial class S3SessionObjects : S3Sink, IBackgroundSink
{
    /// <summary>Its log category (the name of the data-lake sink's class before the two S3 sinks became one).</summary>
    public const string LoggerCategory = "SessionTrail.Agent.Sinks.S3.S3Sink";

    private static readonly TimeSpan IdlePoll = TimeSpan.FromSeconds(5);
    private readonly S3Spool _spool;
    private readonly Backoff _backoff;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly RecentErrors _errors = new();
    private readonly SemaphoreSlim _wake = new(0, 1);
    private readonly Dictionary<string, (DateTimeOffset At, long Length)> _partials = new(StringComparer.Ordinal);
    private long _uploaded;
    private bool _configurationProblem;

    public S3SessionObjects(S3SinkOptions options, string dataDir, IS3ObjectStore store, ILogger logger, TimeProvider time, Func<double>? random = null)
        : base(options, store)
    {
        _logger = logger;
        _time = time;
        _spool = new S3Spool(SpoolDirectory(dataDir, options.Name));
        _backoff = new Backoff(options.RetryInitialDelay, options.RetryMaxDelay, 0.5, random);
    }

    public event Action? NotableChange;

    public S3Spool Spool => _spool;

    /// <summary>DIR/agent/s3/NAME.</summary>
    public static string SpoolDirectory(string dataDir, string name) => Path.Combine(DataDirectory.AgentDirectory(dataDir), "s3", name);

    /// <summary>Spools the batch (fsync) and acknowledges it; a session's End makes its object ready.</summary>
    public override Task<SinkResult> SendAsync(IReadOnlyList<ReadOnlyMemory<byte>> lines, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(lines);
        var groups = new Dictionary<string, (List<ReadOnlyMemory<byte>> Lines, bool Ends)>(StringComparer.Ordinal);
        var order = new List<string>();
        for (var i = 0; i < lines.Count; i++)
        {
            TrailRecord record;
            try
            {
                record = NdjsonReader.ParseLine(lines[i].Span.TrimEnd("\r\n"u8), i + 1);
            }
            catch (NdjsonFormatException ex)
            {
                return Task.FromResult(SinkResult.RecordRejected("not a SessionTrail record: " + ex.Message, i + 1));
            }

            var name = record.Session is { } session
                ? S3Spool.SessionName(session)
                : S3Spool.DayName(record.Host, DateOnly.FromDateTime(record.Time.UtcDateTime));
            if (!groups.TryGetValue(name, out var group))
            {
                group = ([], false);
                order.Add(name);
            }

            group.Lines.Add(lines[i]);
            groups[name] = (group.Lines, group.Ends || record is SessionRecord { Type: SessionEventType.End });
        }

        var becameReady = false;
        try
        {
            foreach (var name in order)
            {
                var (groupLines, ends) = groups[name];
                becameReady |= _spool.Append(name, groupLines, ends) == SpoolState.Ready;
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return Task.FromResult(SinkResult.Retryable("cannot write the S3 spool in " + _spool.Root + ": " + ex.Message));
        }

        if (becameReady)
        {
            Wake();
        }

        return Task.FromResult(SinkResult.Success);
    }

    public async Task RunAsync(CancellationToken drain, CancellationToken stop)
    {
        using var wake = CancellationTokenSource.CreateLinkedTokenSource(drain, stop);
        var attempt = 0;
        while (!stop.IsCancellationRequested)
        {
            var failed = false;
            try
            {
                if (await UploadRoundAsync(partials: !drain.IsCancellationRequested, stop))
                {
                    continue;
                }

                attempt = 0;
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                attempt++;
                Fail(ex, attempt);
                failed = true;
            }

            if (!failed && drain.IsCancellationRequested)
            {
                return;
            }

            var delay = failed ? _backoff.Delay(attempt) : IdlePoll;
            try
            {
                using var timeout = new CancellationTokenSource(delay, _time);
                using var either = CancellationTokenSource.CreateLinkedTokenSource(failed ? stop : wake.Token, timeout.Token);
                await _wake.WaitAsync(either.Token);
            }
            catch (OperationCanceledException)
            {
            }
        }
    }

    public BackgroundSinkStatus GetBackgroundStatus() => new(
        _spool.List(SpoolState.Open).Count, _spool.List(SpoolState.Ready).Count, Interlocked.Read(ref _uploaded), _errors.Snapshot());

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _wake.Dispose();
        }

        base.Dispose(disposing);
    }

    /// <summary>
    /// Closes finished days, prunes uploaded spools, uploads partial objects (when configured and
    /// <paramref name="partials"/>) and every ready file. True when a ready file changed during its
    /// upload (go again at once). Throws on the first failed upload.
    /// </summary>
    private async Task<bool> UploadRoundAsync(bool partials, CancellationToken stop)
    {
        var now = _time.GetUtcNow();
        CloseFinishedDays(now);
        _spool.DeleteUploadedBefore(now - Options.UploadedRetention);
        if (partials && Options.PartialUploadInterval > TimeSpan.Zero)
        {
            await UploadPartialsAsync(now, stop);
        }

        var again = false;
        foreach (var name in _spool.List(SpoolState.Ready))
        {
            stop.ThrowIfCancellationRequested();
            again |= !await UploadAsync(name, stop);
            if (_configurationProblem)
            {
                _configurationProblem = false;
                LogRecovered(_logger, Name, Store.Describe);
            }
        }

        return again;
    }

    /// <summary>Renders and PUTs one ready file. False when it changed during the upload (upload again).</summary>
    private async Task<bool> UploadAsync(string name, CancellationToken stop)
    {
        var content = _spool.ReadReady(name);
        if (content is null)
        {
            return true;
        }

        var records = S3ObjectFormats.Parse(content, out var skipped);
        if (skipped > 0)
        {
            LogSkippedLines(_logger, Name, skipped, _spool.PathOf(SpoolState.Ready, name));
        }

        var day = S3Spool.DayOf(name);
        S3Object? obj;
        try
        {
            obj = records.Count == 0 ? null
                : day is { } d ? S3ObjectFormats.RenderDay(records, d, Options.UnattributedPrefix)
                : RenderSession(records);
        }
        catch (Exception ex) when (ex is InvalidDataException or ArgumentException or FormatException)
        {
            var path = _spool.Quarantine(name);
            _errors.Add(_time.GetUtcNow(), $"cannot make an object of {path}: {ex.Message}");
            LogQuarantined(_logger, Name, path, ex.Message);
            NotableChange?.Invoke();
            return true;
        }

        if (obj is not null)
        {
            var started = _time.GetTimestamp();
            await Store.PutAsync(obj, stop);
            var elapsed = _time.GetElapsedTime(started).TotalMilliseconds;
            Interlocked.Increment(ref _uploaded);
            LogUploaded(_logger, Name, obj.Key, obj.Body.Length, records.Count, elapsed);
            NotableChange?.Invoke();
        }

        if (obj is not null && day is null && _partials.Remove(name))
        {
            await DeletePartialAsync(obj, stop);
        }

        return _spool.MarkUploaded(name, content.Length, _time.GetUtcNow());
    }

    /// <summary>Uploads open sessions that changed since their last partial upload, at most once per interval.</summary>
    private async Task UploadPartialsAsync(DateTimeOffset now, CancellationToken stop)
    {
        foreach (var name in _spool.List(SpoolState.Open))
        {
            if (S3Spool.DayOf(name) is not null)
            {
                continue;
            }

            var path = _spool.PathOf(SpoolState.Open, name);
            var length = new FileInfo(path).Length;
            if (_partials.TryGetValue(name, out var last) && (now - last.At < Options.PartialUploadInterval || last.Length == length))
            {
                continue;
            }

            if (!_partials.ContainsKey(name))
            {
                // The first sight of an open session (also after a restart) starts its interval.
                _partials[name] = (now, 0);
                continue;
            }

            var content = _spool.Read(SpoolState.Open, name);
            var records = content is null ? [] : S3ObjectFormats.Parse(content, out _);
            if (records.Count == 0)
            {
                continue;
            }

            var obj = RenderSession(records);
            var partial = obj with { Key = Options.OpenPrefix + "/" + obj.Key[(obj.Key.LastIndexOf('/') + 1)..] };
            await Store.PutAsync(partial, stop);
            _partials[name] = (now, content!.Length);
            LogPartial(_logger, Name, partial.Key, records.Count);
        }
    }

    private async Task DeletePartialAsync(S3Object final, CancellationToken stop)
    {
        var key = Options.OpenPrefix + "/" + final.Key[(final.Key.LastIndexOf('/') + 1)..];
        try
        {
            await Store.DeleteAsync(key, stop);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            LogPartialKept(_logger, Name, key, S3Failure.Explain(ex, Store.Describe).Message);
        }
    }

    private S3Object RenderSession(IReadOnlyList<SpooledRecord> records)
    {
        var obj = S3ObjectFormats.RenderSession(records, Options.Format, Options.EffectivePrefix, out var warnings);
        if (warnings.Count > 0)
        {
            LogUnquotable(_logger, Name, obj.Key, string.Join("; ", warnings.Take(5)));
        }

        return obj;
    }

    private void CloseFinishedDays(DateTimeOffset now)
    {
        foreach (var name in _spool.List(SpoolState.Open))
        {
            if (S3Spool.DayOf(name) is { } day && day.ToDateTime(TimeOnly.MinValue, DateTimeKind.Utc).AddDays(1) + Options.DayCloseDelay <= now.UtcDateTime)
            {
                _spool.MarkReady(name);
            }
        }
    }

    private void Fail(Exception ex, int attempt)
    {
        var (message, configuration) = S3Failure.Explain(ex, Store.Describe);
        _errors.Add(_time.GetUtcNow(), message);
        var pending = _spool.List(SpoolState.Ready).Count;
        if (configuration)
        {
            _configurationProblem = true;
            LogConfigurationError(_logger, Name, message, pending, _spool.Root);
        }
        else
        {
            LogUploadFailed(_logger, Name, message, attempt, pending);
        }

        NotableChange?.Invoke();
    }

    private void Wake()
    {
        try
        {
            _wake.Release();
        }
        catch (SemaphoreFullException)
        {
        }
    }

    [LoggerMessage(EventId = 1701, Level = LogLevel.Information, Message = "Sink {Sink}: uploaded {Key} ({Bytes} bytes, {Records} records) in {Milliseconds:F0} ms")]
    private static partial void LogUploaded(ILogger logger, string sink, string key, int bytes, int records, double milliseconds);

    [LoggerMessage(EventId = 1702, Level = LogLevel.Warning, Message = "Sink {Sink}: upload failed ({Reason}); retry {Attempt}; {Pending} objects wait in the spool")]
    private static partial void LogUploadFailed(ILogger logger, string sink, string reason, int attempt, int pending);

    [LoggerMessage(EventId = 1703, Level = LogLevel.Error, Message = "Sink {Sink}: UPLOAD REFUSED: {Reason}; {Pending} objects stay spooled in {Spool} and are retried")]
    private static partial void LogConfigurationError(ILogger logger, string sink, string reason, int pending, string spool);

    [LoggerMessage(EventId = 1704, Level = LogLevel.Information, Message = "Sink {Sink}: uploads to {Store} work again")]
    private static partial void LogRecovered(ILogger logger, string sink, string store);

    [LoggerMessage(EventId = 1706, Level = LogLevel.Warning, Message = "Sink {Sink}: {Key} has fields the seed's unquoted CSV cannot hold ({Warnings}); Athena will misread those rows (the \"athena-jsonl\" format keeps them)")]
    private static partial void LogUnquotable(ILogger logger, string sink, string key, string warnings);

    [LoggerMessage(EventId = 1707, Level = LogLevel.Debug, Message = "Sink {Sink}: partial upload {Key} ({Records} records so far)")]
    private static partial void LogPartial(ILogger logger, string sink, string key, int records);

    [LoggerMessage(EventId = 1708, Level = LogLevel.Warning, Message = "Sink {Sink}: the partial object {Key} stays ({Reason}); a lifecycle rule on the _open prefix can expire it")]
    private static partial void LogPartialKept(ILogger logger, string sink, string key, string reason);

    [LoggerMessage(EventId = 1709, Level = LogLevel.Error, Message = "Sink {Sink}: cannot make an object of the spool file ({Reason}); moved to {Path}, the other uploads go on")]
    private static partial void LogQuarantined(ILogger logger, string sink, string path, string reason);

    [LoggerMessage(EventId = 1705, Level = LogLevel.Warning, Message = "Sink {Sink}: skipped {Lines} unreadable lines (a torn tail after a crash) in {Path}")]
    private static partial void LogSkippedLines(ILogger logger, string sink, int lines, string path);
}
