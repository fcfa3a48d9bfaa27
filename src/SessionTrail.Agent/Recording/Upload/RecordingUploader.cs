using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using SessionTrail.Agent.Config;
using SessionTrail.Agent.Delivery;
using SessionTrail.Agent.Storage;
using SessionTrail.Core.Records;

namespace SessionTrail.Agent.Recording.Upload;

/// <summary>
/// Moves recording segments from the spool (<see cref="RecordingSpool"/>) to the server and/or S3 (docs/recording.md
/// "Recording upload"). Every <see cref="RecordingOptions.LiveUploadInterval"/> one pass goes over the sessions,
/// oldest first, and their segments in index order: a closed segment (sidecar present, no .uploaded marker) is
/// sent whole to every target and completed (size + SHA-256 checked by the target), then its marker is written
/// atomically; an open segment's new bytes go to the server as they are (a fragmented MP4 prefix plays), so an
/// auditor sees the session nearly live. After each pass the spool budget (<see cref="SpoolBudget"/>) deletes
/// uploaded videos when over the cap.
/// <para>Failures: one of the target (<see cref="RecordingUploadException"/>: away, or refusing every request) stops
/// the pass — the rest waits, index order kept — and the pass is retried with back-off and jitter from the offset the
/// server holds. One of the segment (<see cref="SegmentFailedException"/>, or its spool files) sets that segment aside
/// (<see cref="SetAsideSegments"/>: kept, shown in the status, retried with its own back-off) and the pass goes on
/// with the next one. Invariant: a pass stops only on a failure that does not depend on the segment, so no
/// segment can hold up the ones behind it.</para>
/// </summary>
public sealed partial class RecordingUploader : IDisposable
{
    private readonly RecordingOptions _options;
    private readonly string _root;
    private readonly IReadOnlyList<IRecordingTarget> _targets;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly Backoff _backoff;
    private readonly SpoolBudget _budget;
    private readonly Lock _lock = new();
    private readonly SetAsideSegments _setAside;
    private readonly SemaphoreSlim _wake = new(0, 1);
    private RecordingUploadStatus _status;
    private string? _uploadingNow;
    private string? _lastError;
    private DateTimeOffset? _lastErrorTime;
    private long _uploadedSegments;
    private long _uploadedBytes;
    private DateTimeOffset? _liveSyncedAt;
    private bool _retrying;
    private int _closedAside; // closed segments pending but set aside: no work for now

    /// <summary>
    /// The agent's uploader. <paramref name="server"/> and <paramref name="token"/> are required when
    /// <see cref="RecordingOptions.Upload"/> is "server" or "both"; <see cref="RecordingOptions.S3"/> when "s3" or
    /// "both". Throws <see cref="AgentOptionsException"/> naming the setting otherwise.
    /// </summary>
    public RecordingUploader(RecordingOptions options, string dataDir, Uri? server, string? token, ILoggerFactory loggers, TimeProvider time)
        : this(options, dataDir, CreateTargets(options, server, token), loggers, time)
    {
    }

    /// <summary>With explicit targets (tests: a counting HTTP handler, S3 credentials).</summary>
    public RecordingUploader(RecordingOptions options, string dataDir, IReadOnlyList<IRecordingTarget> targets, ILoggerFactory loggers, TimeProvider time, Func<double>? random = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(targets);
        ArgumentNullException.ThrowIfNull(loggers);
        if (targets.Count == 0 && options.Upload?.Trim().ToLowerInvariant() != "none")
        {
            throw new AgentOptionsException("Agent:Recording:Upload", "names no target");
        }

        _options = options;
        _root = RecordingSpool.Root(dataDir);
        _targets = targets;
        _time = time;
        _logger = loggers.CreateLogger<RecordingUploader>();
        _backoff = new Backoff(TimeSpan.FromSeconds(1), TimeSpan.FromMinutes(2), 0.5, random);
        _budget = new SpoolBudget(_root, options.SpoolMaxBytes, _logger);
        _setAside = new SetAsideSegments(time, random);
        _status = new RecordingUploadStatus { State = "idle", Upload = options.Upload, SpoolMaxBytes = options.SpoolMaxBytes };
    }

    /// <summary>The spool budget the recorder asks before recording (<see cref="ISpoolBudget.CanRecord"/>).</summary>
    public ISpoolBudget Budget => _budget;

    /// <summary>Raised after a pass that changed something notable (an upload finished, an error, spool full).</summary>
    public event Action? NotableChange;

    /// <summary>
    /// Runs passes until <paramref name="stop"/> (returns at once, mid-chunk if need be: the server keeps what
    /// arrived and the next run resumes from there). Once <paramref name="drain"/> is cancelled it finishes the
    /// closed segments (retrying while the server is away) and returns when none is left (or only failed ones).
    /// </summary>
    public async Task RunAsync(CancellationToken drain, CancellationToken stop)
    {
        var attempt = 0;
        while (!stop.IsCancellationRequested)
        {
            var draining = drain.IsCancellationRequested;
            PassResult result;
            try
            {
                result = await PassAsync(stop);
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                break;
            }

            EnforceBudget();
            PublishStatus();
            if (draining && result.ClosedLeft == 0)
            {
                LogDrained(_logger);
                break;
            }

            TimeSpan delay;
            if (result.Error is { } error)
            {
                attempt++;
                delay = _backoff.Delay(attempt, error.RetryAfter);
            }
            else
            {
                attempt = 0;
                delay = _options.LiveUploadInterval;
            }

            using var wake = draining || result.Error is not null
                ? CancellationTokenSource.CreateLinkedTokenSource(stop)
                : CancellationTokenSource.CreateLinkedTokenSource(stop, drain);
            try
            {
                await Task.WhenAny(Task.Delay(delay, _time, wake.Token), _wake.WaitAsync(wake.Token));
                await wake.CancelAsync(); // the loser must not keep waiting (and swallow a later wake-up)
            }
            catch (OperationCanceledException)
            {
            }
        }

        PublishStatus();
    }

    /// <summary>Asks for a pass now (e.g. the recorder closed a segment).</summary>
    public void Wake()
    {
        try
        {
            if (_wake.CurrentCount == 0)
            {
                _wake.Release();
            }
        }
        catch (SemaphoreFullException)
        {
        }
    }

    /// <summary>The latest status (updated during and after every pass).</summary>
    public RecordingUploadStatus GetStatus()
    {
        lock (_lock)
        {
            return _status with
            {
                State = _budget.Full ? "spool full" : _retrying ? "retrying" : _uploadingNow is not null ? "uploading" : _status.State,
                UploadingNow = _uploadingNow,
                LiveLagSeconds = LiveLag(),
                SetAside = _setAside.Snapshot(),
                LastError = _lastError,
                LastErrorTime = _lastErrorTime,
                UploadedSegmentsTotal = _uploadedSegments,
                UploadedBytesTotal = _uploadedBytes,
            };
        }
    }

    public void Dispose()
    {
        foreach (var target in _targets)
        {
            target.Dispose();
        }

        _wake.Dispose();
    }

    /// <summary>The targets <see cref="RecordingOptions.Upload"/> names.</summary>
    public static IReadOnlyList<IRecordingTarget> CreateTargets(RecordingOptions options, Uri? server, string? token)
    {
        ArgumentNullException.ThrowIfNull(options);
        var upload = options.Upload?.Trim().ToLowerInvariant();
        if (upload is not ("server" or "s3" or "both" or "none"))
        {
            throw new AgentOptionsException("Agent:Recording:Upload", $"is '{options.Upload}'; use \"server\", \"s3\", \"both\" or \"none\" (keep recordings in the agent's spool only)");
        }

        if (options.ChunkBytes is < 64 * 1024 or > ServerRecordingTarget.MaxChunkBytes)
        {
            throw new AgentOptionsException("Agent:Recording:ChunkBytes", $"is {options.ChunkBytes}; use 65536 to {ServerRecordingTarget.MaxChunkBytes} (the server's limit)");
        }

        var targets = new List<IRecordingTarget>();
        if (upload is "server" or "both")
        {
            if (server is null || string.IsNullOrWhiteSpace(token))
            {
                throw new AgentOptionsException("Agent:Recording:Upload", $"is \"{upload}\" but the agent has no ServerUrl and Token to upload to");
            }

            targets.Add(new ServerRecordingTarget(server, token, options.ChunkBytes));
        }

        if (upload is "s3" or "both")
        {
            if (options.S3 is not { } s3 || string.IsNullOrWhiteSpace(s3.Bucket))
            {
                throw new AgentOptionsException("Agent:Recording:S3:Bucket", $"is required when Upload is \"{upload}\"");
            }

            targets.Add(new S3RecordingTarget(s3));
        }

        return targets;
    }

    private sealed record PassResult(int ClosedLeft, RecordingUploadException? Error);

    private async Task<PassResult> PassAsync(CancellationToken stop)
    {
        EnforceBudget(); // also before a long backlog pass: the cap holds while it runs
        PublishStatus();
        var sessions = SpoolScan.Sessions(_root);
        var closedLeft = 0;
        var pendingSegments = 0;
        var openSegments = 0;
        long pendingBytes = 0;
        RecordingUploadException? error = null;
        var liveSynced = true;
        var liveStartedAt = _time.GetUtcNow();
        var inSpool = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (_, segments) in sessions)
        {
            foreach (var segment in segments)
            {
                if (segment.Uploaded)
                {
                    continue;
                }

                inSpool.Add(segment.VideoPath);
                var length = segment.VideoLength();
                var closed = segment.Closed;
                if (length < 0)
                {
                    if (closed && !_setAside.Waiting(segment))
                    {
                        SetAside(segment, "its video is missing from the spool (deleted, moved, or not a file)");
                    }

                    continue;
                }

                pendingSegments++;
                pendingBytes += length;
                if (!closed)
                {
                    openSegments++;
                }

                if (_targets.Count == 0)
                {
                    continue; // Upload "none": the segment stays in the spool (never marked uploaded, never deleted)
                }

                if (_setAside.Waiting(segment))
                {
                    liveSynced &= closed;
                    continue; // set aside until its next retry; the segments behind it go on
                }

                if (error is not null)
                {
                    closedLeft += closed ? 1 : 0;
                    liveSynced &= closed;
                    continue; // the target is away: the rest waits for the next pass (index order kept)
                }

                SetUploading(segment.Key);
                try
                {
                    if (closed)
                    {
                        await FinishAsync(segment, retry: _setAside.Contains(segment), stop);
                        pendingSegments--;
                        pendingBytes -= length;
                        EnforceBudget();
                        PublishStatus();
                    }
                    else
                    {
                        liveSynced &= await SendOpenAsync(segment, length, stop);
                    }

                    if (_setAside.Clear(segment))
                    {
                        LogBackFromAside(_logger, segment.Key);
                    }
                }
                catch (RecordingUploadException e)
                {
                    error = e;
                    closedLeft += closed ? 1 : 0;
                    liveSynced &= closed;
                    RecordError($"{segment.Key}: {e.Message}");
                    LogRetry(_logger, segment.Key, e.Message);
                }
                catch (SegmentFailedException e)
                {
                    liveSynced &= closed;
                    SetAside(segment, e.Message);
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException or JsonException)
                {
                    liveSynced &= closed;
                    SetAside(segment, e is SpoolFileException ? e.Message : $"{e.GetType().Name}: {e.Message}");
                }
                finally
                {
                    SetUploading(null);
                }
            }
        }

        _setAside.KeepOnly(inSpool);
        var closedAside = sessions.SelectMany(s => s.Segments).Count(s => !s.Uploaded && s.Closed && s.VideoLength() >= 0 && _setAside.Contains(s));
        lock (_lock)
        {
            _retrying = error is not null;
            _closedAside = closedAside;
            if (openSegments == 0)
            {
                _liveSyncedAt = null;
            }
            else if (liveSynced && _targets.Any(t => t.Live))
            {
                _liveSyncedAt = liveStartedAt;
            }

            _status = _status with { PendingSegments = pendingSegments, PendingBytes = Math.Max(0, pendingBytes), OpenSegments = openSegments };
        }

        return new PassResult(closedLeft, error);
    }

    /// <param name="retry">The segment was set aside: its video must still be what its sidecar says, else nothing is sent.</param>
    private async Task FinishAsync(SpoolSegment segment, bool retry, CancellationToken stop)
    {
        RecordingSegmentRecord sidecar;
        try
        {
            sidecar = RecordingSpool.ReadSidecar(segment.SidecarPath);
        }
        catch (Exception e) when (e is JsonException or IOException or InvalidOperationException)
        {
            throw new SegmentFailedException($"its sidecar {segment.SidecarPath} is unreadable: {e.Message}");
        }

        if (sidecar.Index != segment.Index || sidecar.Sha256 is not { Length: 64 } || sidecar.Bytes < 0)
        {
            throw new SegmentFailedException($"its sidecar {segment.SidecarPath} does not describe segment {segment.Index} (index {sidecar.Index}, {sidecar.Bytes} bytes, SHA-256 '{sidecar.Sha256}')");
        }

        if (retry)
        {
            await CheckUnchangedAsync(segment, sidecar, stop);
        }

        long sent = 0;
        foreach (var target in _targets)
        {
            sent += await target.FinishAsync(segment, sidecar, stop);
        }

        var marker = JsonSerializer.SerializeToUtf8Bytes(
            new UploadedMarker(_time.GetUtcNow(), [.. _targets.Select(t => t.Name)], sidecar.Bytes, sidecar.Sha256),
            UploadJsonContext.Default.UploadedMarker);
        AtomicFile.WriteAllBytes(segment.MarkerPath, marker);
        lock (_lock)
        {
            _uploadedSegments++;
            _uploadedBytes += sidecar.Bytes;
        }

        LogUploaded(_logger, segment.Key, sidecar.Bytes, sent, _options.Upload);
        NotableChange?.Invoke();
    }

    /// <summary>Throws <see cref="SegmentFailedException"/> when the first <c>sidecar.Bytes</c> bytes of the video are not the ones its sidecar describes.</summary>
    private static async Task CheckUnchangedAsync(SpoolSegment segment, RecordingSegmentRecord sidecar, CancellationToken stop)
    {
        string actual;
        long length;
        try
        {
            await using var video = new FileStream(segment.VideoPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 1, useAsync: true);
            length = video.Length;
            using var hash = System.Security.Cryptography.IncrementalHash.CreateHash(System.Security.Cryptography.HashAlgorithmName.SHA256);
            var buffer = new byte[64 * 1024];
            for (long left = sidecar.Bytes, read; left > 0 && (read = await video.ReadAsync(buffer.AsMemory(0, (int)Math.Min(buffer.Length, left)), stop)) > 0; left -= read)
            {
                hash.AppendData(buffer, 0, (int)read);
            }

            actual = Convert.ToHexStringLower(hash.GetHashAndReset());
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new SegmentFailedException($"its video {segment.VideoPath} cannot be read: {e.Message}", e);
        }

        if (length < sidecar.Bytes || !string.Equals(actual, sidecar.Sha256, StringComparison.OrdinalIgnoreCase))
        {
            throw new SegmentFailedException(
                $"its video {segment.VideoPath} ({length} bytes, SHA-256 of the first {Math.Min(length, sidecar.Bytes)}: {actual}) is not what its sidecar says ({sidecar.Bytes} bytes, SHA-256 {sidecar.Sha256}): it changed after the segment was closed; nothing was sent");
        }
    }

    /// <summary>Sends an open segment's new bytes to the live targets; true when they hold all that was on disk.</summary>
    private async Task<bool> SendOpenAsync(SpoolSegment segment, long length, CancellationToken stop)
    {
        var synced = true;
        foreach (var target in _targets.Where(t => t.Live))
        {
            var held = await target.SendOpenAsync(segment, stop);
            synced &= held >= length;
        }

        return synced;
    }

    private void EnforceBudget()
    {
        string? problem;
        try
        {
            problem = _budget.Enforce();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            problem = $"spool budget check failed: {e.Message}";
        }

        if (problem is not null)
        {
            RecordError(problem);
        }
    }

    private void PublishStatus()
    {
        lock (_lock)
        {
            _status = _status with
            {
                State = _budget.Full ? "spool full" : _retrying ? "retrying" : _status.PendingSegments - _status.OpenSegments - _closedAside > 0 ? "uploading" : "idle",
                SpoolBytes = _budget.Bytes,
                SpoolFull = _budget.Full,
                DeletedSegmentsTotal = _budget.Deleted,
            };
        }
    }

    private double? LiveLag()
    {
        if (_status.OpenSegments == 0 || !_targets.Any(t => t.Live))
        {
            return null;
        }

        if (_liveSyncedAt is not { } synced)
        {
            return null;
        }

        return Math.Round(Math.Max(0, (_time.GetUtcNow() - synced).TotalSeconds), 1);
    }

    private void SetUploading(string? key)
    {
        lock (_lock)
        {
            _uploadingNow = key;
        }
    }

    private void SetAside(SpoolSegment segment, string reason)
    {
        var first = _setAside.Fail(segment, reason);
        RecordError($"{segment.Key} set aside: {reason}");
        if (first)
        {
            LogSetAside(_logger, segment.Key, reason);
            NotableChange?.Invoke();
        }
        else
        {
            LogStillAside(_logger, segment.Key, reason);
        }
    }

    private void RecordError(string message)
    {
        lock (_lock)
        {
            _lastError = message;
            _lastErrorTime = _time.GetUtcNow();
        }
    }

    [LoggerMessage(EventId = 710, Level = LogLevel.Information, Message = "Recording segment {Segment} uploaded ({Bytes} bytes, {Sent} sent now) to {Targets}")]
    private static partial void LogUploaded(ILogger logger, string segment, long bytes, long sent, string targets);

    [LoggerMessage(EventId = 711, Level = LogLevel.Warning, Message = "Recording upload of {Segment} will be retried: {Problem}")]
    private static partial void LogRetry(ILogger logger, string segment, string problem);

    [LoggerMessage(EventId = 712, Level = LogLevel.Error, Message = "Recording segment {Segment} set aside (kept in the spool, retried with back-off; the other segments go on): {Problem}")]
    private static partial void LogSetAside(ILogger logger, string segment, string problem);

    [LoggerMessage(EventId = 713, Level = LogLevel.Information, Message = "Recording upload drained: every closed segment is uploaded (or set aside)")]
    private static partial void LogDrained(ILogger logger);

    [LoggerMessage(EventId = 714, Level = LogLevel.Warning, Message = "Recording segment {Segment} is still set aside after another attempt: {Problem}")]
    private static partial void LogStillAside(ILogger logger, string segment, string problem);

    [LoggerMessage(EventId = 715, Level = LogLevel.Information, Message = "Recording segment {Segment} went through after being set aside")]
    private static partial void LogBackFromAside(ILogger logger, string segment);
}

/// <summary>The content of a .uploaded marker.</summary>
public sealed record UploadedMarker(DateTimeOffset UploadedAt, IReadOnlyList<string> Targets, long Bytes, string Sha256);

[System.Text.Json.Serialization.JsonSourceGenerationOptions(WriteIndented = true, PropertyNamingPolicy = System.Text.Json.Serialization.JsonKnownNamingPolicy.CamelCase)]
[System.Text.Json.Serialization.JsonSerializable(typeof(UploadedMarker))]
internal sealed partial class UploadJsonContext : System.Text.Json.Serialization.JsonSerializerContext;
