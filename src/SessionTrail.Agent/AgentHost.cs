using Microsoft.Extensions.Logging;
using SessionTrail.Agent.Config;
using SessionTrail.Agent.Delivery;
using SessionTrail.Agent.Ids;
using SessionTrail.Agent.Pipeline;
using SessionTrail.Agent.Pipes;
using SessionTrail.Agent.Platform.Linux;
using SessionTrail.Agent.Queue;
using SessionTrail.Agent.Recording;
using SessionTrail.Agent.Sessions;
using SessionTrail.Agent.Sinks;
using SessionTrail.Agent.Sources;
using SessionTrail.Agent.Status;
using SessionTrail.Core;

namespace SessionTrail.Agent;

/// <summary>
/// The agent: sources → bounded channel → pump (pipes, ids) → one durable queue per sink → one sender per sink.
/// </summary>
/// <remarks>
/// Soft stop (cancelling <see cref="RunAsync"/>'s token), in this order: (1) sources are cancelled and
/// awaited (intake stops); (2) the channel is drained into the queues; (3) senders keep delivering until
/// their queue is empty or <see cref="AgentOptions.FlushDeadline"/> (counted from the stop) passes;
/// (4) queues are fsynced and closed (cursors are persisted at each acknowledgement), the id sequence is
/// persisted, and a final status is written. Nothing accepted from a source is lost: what was not
/// delivered stays in the queues for the next run.
/// </remarks>
public sealed partial class AgentHost : IDisposable
{
    private readonly AgentOptions _options;
    private readonly IReadOnlyList<IRecordSource> _sources;
    private readonly IReadOnlyList<ISink> _extraSinks;
    private readonly IReadOnlyList<IRecordPipe> _pipes;
    private readonly ILiveSessionProbe? _sessionProbe;
    private readonly ILoggerFactory _loggerFactory;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly SemaphoreSlim _notable = new(0, 1);
    private readonly List<SourceState> _sourceStates = [];
    private readonly List<SinkSender> _senders = [];
    private readonly LogShipping _logShipping;
    private readonly Dictionary<string, string> _sinkTypes = new(StringComparer.OrdinalIgnoreCase);
    private readonly Dictionary<string, QueueFullPolicy> _sinkPolicies = new(StringComparer.OrdinalIgnoreCase);
    private readonly Dictionary<IRecordSource, string> _sourceTypes = new(ReferenceEqualityComparer.Instance);
    private string _state = "starting";
    private string _agentId = "";
    private DateTimeOffset _startedAt;
    private RecordingSource? _recording;
    private Recording.Upload.RecordingUploader? _uploader;

    public AgentHost(AgentOptions options, IEnumerable<IRecordSource> sources, IEnumerable<ISink>? extraSinks, ILoggerFactory loggerFactory, TimeProvider time)
        : this(options, sources, extraSinks, loggerFactory, time, pipes: null, sessionProbe: OperatingSystem.IsLinux() ? new LinuxSessionProbe() : null)
    {
    }

    /// <param name="pipes">Pipes run before session attribution (e.g. filters); null for none.</param>
    /// <param name="sessionProbe">Ends audit sessions that have no live process; null disables it.</param>
    /// <param name="logShipping">Log sources, sinks and pipes from the config (KinesisTap's Sources/Sinks/Pipes); null for none. Not disposed by the host.</param>
    public AgentHost(AgentOptions options, IEnumerable<IRecordSource> sources, IEnumerable<ISink>? extraSinks, ILoggerFactory loggerFactory, TimeProvider time, IEnumerable<IRecordPipe>? pipes, ILiveSessionProbe? sessionProbe, LogShipping? logShipping = null)
    {
        _logShipping = logShipping ?? LogShipping.None;
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(sources);
        ArgumentNullException.ThrowIfNull(loggerFactory);
        options.Validate();
        _options = options;
        _sources = [.. sources];
        _extraSinks = [.. extraSinks ?? []];
        _pipes = [.. pipes ?? []];
        _sessionProbe = sessionProbe;
        _loggerFactory = loggerFactory;
        _logger = loggerFactory.CreateLogger<AgentHost>();
        _time = time;
    }

    /// <summary>The config file's state (loaded, reload failures), shown in the status; set by whoever reloads the config.</summary>
    public ConfigState? Config { get; init; }

    /// <summary>Rewrites the status soon (e.g. after <see cref="Config"/> changed).</summary>
    public void StatusChanged() => SignalNotable();

    /// <summary>
    /// Runs until <paramref name="stop"/> is cancelled, then stops softly (see remarks) and returns.
    /// Throws at start-up when the data directory or a queue cannot be opened.
    /// </summary>
    public async Task RunAsync(CancellationToken stop)
    {
        var agentDir = DataDirectory.AgentDirectory(_options.DataDir);
        DataAccess.Current.CreateDirectory(agentDir);
        _startedAt = _time.GetUtcNow();
        var ids = RecordIdGenerator.Open(agentDir);
        _agentId = ids.AgentId;

        var ownedSinks = new List<IDisposable>();
        var sinks = new List<ISink>();
        if (!string.IsNullOrWhiteSpace(_options.ServerUrl))
        {
            var server = new SessionTrailServerSink(new Uri(_options.ServerUrl), _options.Token!, _loggerFactory.CreateLogger<SessionTrailServerSink>());
            ownedSinks.Add(server);
            sinks.Add(server);
        }

        sinks.AddRange(_extraSinks);
        var defaultSinkCount = sinks.Count;
        var serverIndex = string.IsNullOrWhiteSpace(_options.ServerUrl) ? -1 : 0;
        foreach (var log in _logShipping.Sinks)
        {
            if (log.Sink is not null)
            {
                sinks.Add(log.Sink);
            }
            else if (serverIndex < 0)
            {
                throw new InvalidOperationException($"Log sink '{log.Id}' is the agent's server sink, but the agent has no ServerUrl.");
            }
        }

        var badName = sinks.FirstOrDefault(s => string.IsNullOrEmpty(s.Name) || !s.Name.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.') || s.Name.StartsWith('.'));
        if (badName is not null)
        {
            throw new InvalidOperationException($"Sink name '{badName.Name}' must be letters, digits, '-', '_' or '.' (it names a folder).");
        }

        var duplicate = sinks.GroupBy(s => s.Name, StringComparer.OrdinalIgnoreCase).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null)
        {
            throw new InvalidOperationException($"Two sinks are named '{duplicate.Key}'; sink names must be unique.");
        }

        var queueOptions = new DiskQueueOptions
        {
            MaxBytes = _options.QueueMaxBytes,
            FullPolicy = _options.QueueFullPolicy,
            Fsync = _options.FsyncPolicy,
            FsyncInterval = _options.FsyncInterval,
        };
        var queueLogger = _loggerFactory.CreateLogger<DiskQueue>();
        var senderLogger = _loggerFactory.CreateLogger<SinkSender>();
        var backoff = new Backoff(_options.RetryInitialDelay, _options.RetryMaxDelay);
        var queues = new List<DiskQueue>();
        try
        {
            foreach (var sink in sinks)
            {
                var log = _logShipping.Sinks.FirstOrDefault(l => ReferenceEquals(l.Sink, sink));
                var options = queueOptions;
                if (log is not null)
                {
                    options = new DiskQueueOptions { MaxBytes = log.QueueMaxBytes ?? _options.QueueMaxBytes, FullPolicy = log.QueueFullPolicy, Fsync = _options.FsyncPolicy, FsyncInterval = _options.FsyncInterval };
                    _sinkTypes[sink.Name] = log.SinkType;
                }

                _sinkPolicies[sink.Name] = options.FullPolicy;
                var queue = DiskQueue.Open(Path.Combine(agentDir, "queues", sink.Name), options, queueLogger, _time);
                queues.Add(queue);
                var sender = new SinkSender(sink, queue, _options.BatchMaxRecords, _options.BatchMaxBytes, backoff, Path.Combine(agentDir, "dead-letter"), _time, senderLogger);
                sender.NotableChange += SignalNotable;
                _senders.Add(sender);
            }

            await RunPipelineAsync(ids, queues, defaultSinkCount, serverIndex, stop);
        }
        finally
        {
            foreach (var queue in queues)
            {
                queue.Dispose();
            }

            foreach (var owned in ownedSinks)
            {
                owned.Dispose();
            }
        }
    }

    /// <summary>Null when there is no log shipping (every record to every queue, as before).</summary>
    private LogRouter? BuildRouter(List<DiskQueue> queues, int defaultSinkCount, int serverIndex, SessionTracker tracker)
    {
        if (_logShipping.Sinks.Count == 0 && _logShipping.Sources.Count == 0)
        {
            return null;
        }

        var targets = new List<RouteTarget>();
        var own = defaultSinkCount;
        var decorations = new Dictionary<string, ObjectDecoration>(StringComparer.Ordinal);
        foreach (var sink in _logShipping.Sinks)
        {
            var queue = sink.Sink is null ? queues[serverIndex] : queues[own++];

            // Sinks with the same decoration text share one object, so the pump serialises their line once.
            var decoration = sink.Decoration is null ? null : decorations.TryAdd(sink.Decoration.Text, sink.Decoration) ? sink.Decoration : decorations[sink.Decoration.Text];
            targets.Add(new RouteTarget(sink.Id, queue, decoration));
        }

        var pipes = new Dictionary<string, IReadOnlyList<RoutePipe>>(StringComparer.OrdinalIgnoreCase);
        foreach (var source in _logShipping.Sources)
        {
            pipes[source.Id] = [.. _logShipping.Pipes
                .Where(p => string.Equals(p.SourceId, source.Id, StringComparison.OrdinalIgnoreCase))
                .Select(p => new RoutePipe(p.Id, targets.FindIndex(t => string.Equals(t.SinkId, p.SinkId, StringComparison.OrdinalIgnoreCase)), p.Filter))];
        }

        return new LogRouter(queues[..defaultSinkCount], targets, pipes, () => tracker.Explicit);
    }

    private async Task RunPipelineAsync(RecordIdGenerator ids, List<DiskQueue> queues, int defaultSinkCount, int serverIndex, CancellationToken stop)
    {
        var tracker = new SessionTracker();
        var userNames = new UserNames();
        IReadOnlyList<IRecordPipe> pipes = [.. _pipes, new SessionAttributionPipe(tracker, userNames.Lookup)];
        var router = BuildRouter(queues, defaultSinkCount, serverIndex, tracker);
        var pump = new RecordPump(_options.ChannelCapacity, pipes, ids, queues, _loggerFactory.CreateLogger<RecordPump>(), router);

        foreach (var log in _logShipping.Sources)
        {
            _sourceTypes[log.Source] = log.SourceType;
        }

        var sources = new List<IRecordSource>(_sources.Concat(_logShipping.Sources.Select(s => s.Source)))
        {
            new SessionFileSource(_options.DataDir, tracker, _options.Host, _options.SessionFilePollInterval, _time, _loggerFactory.CreateLogger<SessionFileSource>()),
        };
        if (_options.Recording.Enabled)
        {
            // The screen recorder follows the explicit session the session file source tracks; the uploader
            // sends what it writes to the spool (segment records travel through the server sink's queue).
            _uploader = new Recording.Upload.RecordingUploader(
                _options.Recording, _options.DataDir, string.IsNullOrWhiteSpace(_options.ServerUrl) ? null : new Uri(_options.ServerUrl), _options.Token, _loggerFactory, _time);
            _uploader.NotableChange += SignalNotable;
            _recording = new RecordingSource(_options.Recording, _options.DataDir, _options.Host, tracker, _time, _loggerFactory) { Budget = _uploader.Budget, SegmentClosed = _uploader.Wake };
            sources.Add(_recording);
        }

        if (_sessionProbe is not null)
        {
            sources.Add(new AuditSessionReaper(tracker, _sessionProbe, _options.SessionProbeInterval, _time, _loggerFactory.CreateLogger<AuditSessionReaper>()));
        }

        using var deadline = new CancellationTokenSource();
        using var drain = new CancellationTokenSource();
        using var statusStop = new CancellationTokenSource();
        var pumpTask = Task.Run(() => pump.RunAsync(deadline.Token), CancellationToken.None);
        var senderTasks = _senders.Select(s => Task.Run(() => SuperviseSenderAsync(s, drain.Token, deadline.Token), CancellationToken.None)).ToList();
        using var backgroundDrain = new CancellationTokenSource();
        var backgroundTasks = _senders.Select(s => s.Sink).OfType<IBackgroundSink>()
            .Select(b => Task.Run(() => SuperviseBackgroundAsync(b, backgroundDrain.Token, deadline.Token), CancellationToken.None)).ToList();
        if (_uploader is { } uploader)
        {
            backgroundTasks.Add(Task.Run(() => SuperviseUploaderAsync(uploader, backgroundDrain.Token, deadline.Token), CancellationToken.None));
        }
        var statusTask = Task.Run(() => StatusLoopAsync(statusStop.Token), CancellationToken.None);
        _state = "running";
        LogStarted(_logger, ids.AgentId, _senders.Count, sources.Count);
        var sourceTasks = sources.Select(s =>
        {
            var state = new SourceState(s.Name, _sourceTypes.GetValueOrDefault(s));
            lock (_sourceStates)
            {
                _sourceStates.Add(state);
            }

            return Task.Run(() => SuperviseSourceAsync(s, state, pump, stop), CancellationToken.None);
        }).ToList();

        // (1) Intake: sources run until the stop token; they return (or are abandoned when they throw).
        await Task.WhenAll(sourceTasks);
        _state = "stopping";
        LogStopping(_logger, _options.FlushDeadline);
        SignalNotable();
        using var deadlineTimer = _time.CreateTimer(_ => deadline.Cancel(), null, _options.FlushDeadline, Timeout.InfiniteTimeSpan);

        // (2) Drain the channel into the queues.
        pump.Complete();
        await pumpTask;

        // (3) Flush: senders deliver what is queued, until empty or the deadline.
        await drain.CancelAsync();
        await Task.WhenAll(senderTasks);

        // (3b) Sinks that deliver in their own loop (S3 objects) finish what is ready, until the deadline.
        await backgroundDrain.CancelAsync();
        await Task.WhenAll(backgroundTasks);

        // (4) Persist: fsync queues (cursors were persisted at each ack), persist the sequence.
        foreach (var queue in queues)
        {
            queue.Flush();
        }

        ids.Persist();
        await statusStop.CancelAsync();
        await statusTask;
        _state = "stopped";
        WriteStatus();
        var pending = queues.Sum(q => q.GetStats().PendingRecords);
        LogStopped(_logger, pending);
    }

    private async Task SuperviseSourceAsync(IRecordSource source, SourceState state, IRecordOutput output, CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            state.State = "running";
            try
            {
                await source.RunAsync(output, stop);
                if (!stop.IsCancellationRequested)
                {
                    state.State = "completed";
                    LogSourceCompleted(_logger, source.Name);
                    SignalNotable();
                    return;
                }
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
            }
            catch (Exception ex)
            {
                // A program that cannot be started is a setup problem: its one-line message says what to do, a stack trace would hide it.
                var missing = ex as ExternalProgramException;
                state.Fail(_time.GetUtcNow(), missing?.Message ?? ex.GetType().Name + ": " + ex.Message);
                if (missing is null)
                {
                    LogSourceFailed(_logger, source.Name, _options.SourceRestartDelay, ex);
                }
                else
                {
                    LogSourceCannotStartProgram(_logger, source.Name, _options.SourceRestartDelay, missing.Message);
                }

                SignalNotable();
                try
                {
                    await Task.Delay(_options.SourceRestartDelay, _time, stop);
                }
                catch (OperationCanceledException)
                {
                    break;
                }

                state.Restarts++;
            }
        }

        state.State = "stopped";
    }

    private async Task SuperviseSenderAsync(SinkSender sender, CancellationToken drain, CancellationToken deadline)
    {
        while (!deadline.IsCancellationRequested)
        {
            try
            {
                await sender.RunAsync(drain, deadline);
                return;
            }
            catch (Exception ex)
            {
                sender.Errors.Add(_time.GetUtcNow(), "sender failed: " + ex.Message);
                LogSenderFailed(_logger, sender.Sink.Name, ex);
                SignalNotable();
                try
                {
                    await Task.Delay(_options.SourceRestartDelay, _time, deadline);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    private async Task SuperviseBackgroundAsync(IBackgroundSink sink, CancellationToken drain, CancellationToken deadline)
    {
        sink.NotableChange += SignalNotable;
        try
        {
            while (!deadline.IsCancellationRequested)
            {
                try
                {
                    await sink.RunAsync(drain, deadline);
                    return;
                }
                catch (Exception ex) when (ex is not OperationCanceledException || !deadline.IsCancellationRequested)
                {
                    LogSenderFailed(_logger, sink.Name, ex);
                    SignalNotable();
                    try
                    {
                        await Task.Delay(_options.SourceRestartDelay, _time, deadline);
                    }
                    catch (OperationCanceledException)
                    {
                        return;
                    }
                }
            }
        }
        finally
        {
            sink.NotableChange -= SignalNotable;
        }
    }

    private async Task SuperviseUploaderAsync(Recording.Upload.RecordingUploader uploader, CancellationToken drain, CancellationToken deadline)
    {
        while (!deadline.IsCancellationRequested)
        {
            try
            {
                await uploader.RunAsync(drain, deadline);
                return;
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !deadline.IsCancellationRequested)
            {
                LogSenderFailed(_logger, "recording-upload", ex);
                SignalNotable();
                try
                {
                    await Task.Delay(_options.SourceRestartDelay, _time, deadline);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    public void Dispose()
    {
        _notable.Dispose();
        _uploader?.Dispose();
    }

    private void SignalNotable()
    {
        try
        {
            _notable.Release();
        }
        catch (Exception ex) when (ex is SemaphoreFullException or ObjectDisposedException)
        {
        }
    }

    private async Task StatusLoopAsync(CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            WriteStatus();
            try
            {
                using var interval = new CancellationTokenSource(_options.StatusInterval, _time);
                using var wait = CancellationTokenSource.CreateLinkedTokenSource(stop, interval.Token);
                await _notable.WaitAsync(wait.Token);
            }
            catch (OperationCanceledException)
            {
            }
        }
    }

    /// <summary>The current status (also written to DIR/agent/status.json).</summary>
    public AgentStatus GetStatus()
    {
        var now = _time.GetUtcNow();
        var sinks = _senders.Select(s =>
        {
            var q = s.Queue.GetStats();
            var background = (s.Sink as IBackgroundSink)?.GetBackgroundStatus();
            var policy = _sinkPolicies.GetValueOrDefault(s.Sink.Name, _options.QueueFullPolicy);
            IReadOnlyList<ErrorEntry> errors = background is null ? s.Errors.Snapshot() : [.. s.Errors.Snapshot().Concat(background.RecentErrors).OrderBy(e => e.Time).TakeLast(10)];
            if (q.Full)
            {
                errors = [.. errors, new ErrorEntry(now, QueueFullText(policy))];
            }

            return new SinkStatus
            {
                Name = s.Sink.Name,
                SinkType = _sinkTypes.GetValueOrDefault(s.Sink.Name),
                State = q.Full ? "queue full" : "ok",
                QueueFullPolicy = policy.ToString(),
                PendingRecords = q.PendingRecords,
                PendingBytes = q.PendingBytes,
                OldestPendingSeconds = q.OldestPendingSince is { } since ? Math.Max(0, (now - since).TotalSeconds) : null,
                AckedTotal = q.AckedTotal,
                DroppedTotal = q.DroppedTotal,
                DeadLetteredTotal = s.DeadLetteredTotal,
                RetriesTotal = s.RetriesTotal,
                Full = q.Full,
                RecentErrors = errors,
                OpenObjects = background?.OpenObjects,
                PendingUploads = background?.PendingUploads,
                UploadedTotal = background?.UploadedTotal,
            };
        }).ToList();
        List<SourceStatus> sources;
        lock (_sourceStates)
        {
            sources = [.. _sourceStates.Select(s => s.Snapshot())];
        }

        var pipes = _logShipping.Pipes.Select(p => new PipeStatus
        {
            Id = p.Id,
            Source = p.SourceId,
            Sink = p.SinkId,
            Filter = p.Filter is null ? null : (p.Filter.Negate ? "not " : "") + p.Filter.FilterPattern,
            Passed = p.Filter?.Passed,
            Blocked = p.Filter?.Blocked,
            Timeouts = p.Filter?.Timeouts,
        }).ToList();
        return new AgentStatus { WrittenAt = now, AgentId = _agentId, State = _state, StartedAt = _startedAt, Sinks = sinks, Sources = sources, Pipes = pipes, Config = Config?.Snapshot(), Recorder = _recording?.GetStatus(), RecordingUpload = _uploader?.GetStatus() };
    }

    private static string QueueFullText(QueueFullPolicy policy) => "queue full: its size cap is reached; " + policy switch
    {
        QueueFullPolicy.Block => "policy Block: the pump waits (sources wait, their bookmarks do not advance, nothing is lost) until the sink takes records",
        QueueFullPolicy.RejectNew => "policy RejectNew: new records for this sink are dropped",
        _ => "policy DropOldest: the oldest undelivered records are dropped",
    };

    private void WriteStatus()
    {
        try
        {
            GetStatus().Write(_options.DataDir);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ObjectDisposedException)
        {
            LogStatusWriteFailed(_logger, ex);
        }
    }

    private sealed class SourceState(string name, string? sourceType)
    {
        private readonly Lock _lock = new();
        private string? _lastError;
        private DateTimeOffset? _lastErrorTime;

        public volatile string State = "starting";

        public int Restarts { get; set; }

        public void Fail(DateTimeOffset at, string error)
        {
            lock (_lock)
            {
                State = "restarting";
                _lastError = error;
                _lastErrorTime = at;
            }
        }

        public SourceStatus Snapshot()
        {
            lock (_lock)
            {
                return new SourceStatus { Name = name, SourceType = sourceType, State = State, Restarts = Restarts, LastError = _lastError, LastErrorTime = _lastErrorTime };
            }
        }
    }

    [LoggerMessage(EventId = 1001, Level = LogLevel.Information, Message = "Agent {AgentId} started: {Sinks} sinks, {Sources} sources")]
    private static partial void LogStarted(ILogger logger, string agentId, int sinks, int sources);

    [LoggerMessage(EventId = 1002, Level = LogLevel.Information, Message = "Agent stopping: intake stopped, flushing sinks (deadline {Deadline})")]
    private static partial void LogStopping(ILogger logger, TimeSpan deadline);

    [LoggerMessage(EventId = 1003, Level = LogLevel.Information, Message = "Agent stopped; {Pending} records remain queued for the next run")]
    private static partial void LogStopped(ILogger logger, long pending);

    [LoggerMessage(EventId = 1004, Level = LogLevel.Error, Message = "Source {Source} failed; restarting in {Delay}")]
    private static partial void LogSourceFailed(ILogger logger, string source, TimeSpan delay, Exception exception);

    [LoggerMessage(EventId = 1008, Level = LogLevel.Error, Message = "Source {Source} failed; restarting in {Delay}: {Problem}")]
    private static partial void LogSourceCannotStartProgram(ILogger logger, string source, TimeSpan delay, string problem);

    [LoggerMessage(EventId = 1005, Level = LogLevel.Warning, Message = "Source {Source} completed on its own")]
    private static partial void LogSourceCompleted(ILogger logger, string source);

    [LoggerMessage(EventId = 1006, Level = LogLevel.Error, Message = "Sender for sink {Sink} failed; restarting")]
    private static partial void LogSenderFailed(ILogger logger, string sink, Exception exception);

    [LoggerMessage(EventId = 1007, Level = LogLevel.Warning, Message = "Could not write agent status")]
    private static partial void LogStatusWriteFailed(ILogger logger, Exception exception);
}
