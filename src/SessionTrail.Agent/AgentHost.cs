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
    private readonly List<SourceState> _sourceStates = [];
    private readonly SinkLanes _lanes = new();
    private readonly LogShipping _logShipping;
    private readonly Dictionary<IRecordSource, string> _sourceTypes = new(ReferenceEqualityComparer.Instance);
    private readonly StatusWriter _status;
    private readonly Supervisor _supervisor;
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
        _status = new StatusWriter(GetStatus, options.DataDir, options.StatusInterval, time, _logger);
        _supervisor = new Supervisor(options.SourceRestartDelay, time, _logger, _status.Signal);
    }

    /// <summary>The config file's state (loaded, reload failures), shown in the status; set by whoever reloads the config.</summary>
    public ConfigState? Config { get; init; }

    /// <summary>Rewrites the status soon (e.g. after <see cref="Config"/> changed).</summary>
    public void StatusChanged() => _status.Signal();

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
        try
        {
            var defaultRoute = new List<string>();
            var sinks = new List<(ISink Sink, LogSinkBinding? Log)>();
            string? serverName = null;
            if (!string.IsNullOrWhiteSpace(_options.ServerUrl))
            {
                var server = new SessionTrailServerSink(new Uri(_options.ServerUrl), _options.Token!, _loggerFactory.CreateLogger<SessionTrailServerSink>());
                ownedSinks.Add(server);
                sinks.Add((server, null));
                serverName = server.Name;
            }

            sinks.AddRange(_extraSinks.Select(s => (s, (LogSinkBinding?)null)));
            defaultRoute.AddRange(sinks.Select(s => s.Sink.Name));
            foreach (var log in _logShipping.Sinks)
            {
                if (log.Sink is not null)
                {
                    sinks.Add((log.Sink, log));
                }
                else if (serverName is null)
                {
                    throw new InvalidOperationException($"Log sink '{log.Id}' is the agent's server sink, but the agent has no ServerUrl.");
                }
            }

            SinkNames.Validate(sinks.Select(s => s.Sink));
            OpenLanes(agentDir, sinks);
            await RunPipelineAsync(ids, defaultRoute, serverName, stop);
        }
        finally
        {
            foreach (var lane in _lanes.All)
            {
                lane.Queue.Dispose();
            }

            foreach (var owned in ownedSinks)
            {
                owned.Dispose();
            }
        }
    }

    /// <summary>Gives each sink its own durable queue (DIR/agent/queues/NAME) and sender; a log sink's entry may set its queue's cap and policy.</summary>
    private void OpenLanes(string agentDir, List<(ISink Sink, LogSinkBinding? Log)> sinks)
    {
        var queueLogger = _loggerFactory.CreateLogger<DiskQueue>();
        var senderLogger = _loggerFactory.CreateLogger<SinkSender>();
        var backoff = new Backoff(_options.RetryInitialDelay, _options.RetryMaxDelay);
        foreach (var (sink, log) in sinks)
        {
            var options = new DiskQueueOptions
            {
                MaxBytes = log?.QueueMaxBytes ?? _options.QueueMaxBytes,
                FullPolicy = log?.QueueFullPolicy ?? _options.QueueFullPolicy,
                Fsync = _options.FsyncPolicy,
                FsyncInterval = _options.FsyncInterval,
            };
            var queue = DiskQueue.Open(Path.Combine(agentDir, "queues", sink.Name), options, queueLogger, _time);
            var sender = new SinkSender(sink, queue, _options.BatchMaxRecords, _options.BatchMaxBytes, backoff, Path.Combine(agentDir, "dead-letter"), _time, senderLogger);
            sender.NotableChange += _status.Signal;
            _lanes.Add(new SinkLane(sender, log?.SinkType, options.FullPolicy));
        }
    }

    /// <summary>
    /// Null when there is no log shipping (every record to every queue, as before). Otherwise log records of a
    /// configured source go to the sinks its pipes name; every other record to <paramref name="defaultRoute"/>.
    /// A SessionTrail log sink that is the agent's own server sink (no sink of its own) routes to <paramref name="serverName"/>.
    /// </summary>
    private LogRouter? BuildRouter(IReadOnlyList<string> defaultRoute, string? serverName, SessionTracker tracker)
    {
        if (_logShipping.Sinks.Count == 0 && _logShipping.Sources.Count == 0)
        {
            return null;
        }

        var targets = new List<RouteTarget>();
        var decorations = new Dictionary<string, ObjectDecoration>(StringComparer.Ordinal);
        foreach (var sink in _logShipping.Sinks)
        {
            var queue = _lanes[sink.Sink?.Name ?? serverName!].Queue;

            // Sinks with the same decoration text share one object, so the pump serialises their line once.
            var decoration = sink.Decoration is null ? null : decorations.TryAdd(sink.Decoration.Text, sink.Decoration) ? sink.Decoration : decorations[sink.Decoration.Text];
            targets.Add(new RouteTarget(sink.Id, queue, decoration));
        }

        var pipes = new Dictionary<string, IReadOnlyList<RoutePipe>>(StringComparer.OrdinalIgnoreCase);
        foreach (var source in _logShipping.Sources)
        {
            pipes[source.Id] = [.. _logShipping.Pipes
                .Where(p => string.Equals(p.SourceId, source.Id, StringComparison.OrdinalIgnoreCase))
                .Select(p => new RoutePipe(p.Id, p.SinkId, p.Filter))];
        }

        return new LogRouter([.. defaultRoute.Select(name => _lanes[name].Queue)], targets, pipes, () => tracker.Explicit);
    }

    private async Task RunPipelineAsync(RecordIdGenerator ids, IReadOnlyList<string> defaultRoute, string? serverName, CancellationToken stop)
    {
        var tracker = new SessionTracker();
        var userNames = new UserNames();
        IReadOnlyList<IRecordPipe> pipes = [.. _pipes, new SessionAttributionPipe(tracker, userNames.Lookup)];
        var router = BuildRouter(defaultRoute, serverName, tracker);
        var queues = _lanes.Queues.ToList();
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
            _uploader.NotableChange += _status.Signal;
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
        var senderTasks = _lanes.All.Select(l => Task.Run(() => _supervisor.RunDeliveryAsync(l.Name, l.Sender.RunAsync, drain.Token, deadline.Token, ex => l.Sender.Errors.Add(_time.GetUtcNow(), "sender failed: " + ex.Message)), CancellationToken.None)).ToList();
        using var backgroundDrain = new CancellationTokenSource();
        var backgroundTasks = _lanes.All.Select(l => l.Sink).OfType<IBackgroundSink>()
            .Select(b => Task.Run(() => RunBackgroundAsync(b, backgroundDrain.Token, deadline.Token), CancellationToken.None)).ToList();
        if (_uploader is { } uploader)
        {
            backgroundTasks.Add(Task.Run(() => _supervisor.RunDeliveryAsync("recording-upload", uploader.RunAsync, backgroundDrain.Token, deadline.Token), CancellationToken.None));
        }

        var statusTask = Task.Run(() => _status.RunAsync(statusStop.Token), CancellationToken.None);
        _state = "running";
        LogStarted(_logger, ids.AgentId, _lanes.All.Count, sources.Count);
        var sourceTasks = sources.Select(s =>
        {
            var state = new SourceState(s.Name, _sourceTypes.GetValueOrDefault(s));
            lock (_sourceStates)
            {
                _sourceStates.Add(state);
            }

            return Task.Run(() => _supervisor.RunSourceAsync(s, state, pump, stop), CancellationToken.None);
        }).ToList();

        // (1) Intake: sources run until the stop token; they return (or are abandoned when they throw).
        await Task.WhenAll(sourceTasks);
        _state = "stopping";
        LogStopping(_logger, _options.FlushDeadline);
        _status.Signal();
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
        _status.Write();
        var pending = queues.Sum(q => q.GetStats().PendingRecords);
        LogStopped(_logger, pending);
    }

    /// <summary>A sink that delivers in its own loop (S3 objects): supervised like a sender; its notable changes rewrite status.</summary>
    private async Task RunBackgroundAsync(IBackgroundSink sink, CancellationToken drain, CancellationToken deadline)
    {
        sink.NotableChange += _status.Signal;
        try
        {
            await _supervisor.RunDeliveryAsync(sink.Name, sink.RunAsync, drain, deadline);
        }
        finally
        {
            sink.NotableChange -= _status.Signal;
        }
    }

    public void Dispose()
    {
        _status.Dispose();
        _uploader?.Dispose();
    }

    /// <summary>The current status (also written to DIR/agent/status.json).</summary>
    public AgentStatus GetStatus()
    {
        var now = _time.GetUtcNow();
        List<SourceStatus> sources;
        lock (_sourceStates)
        {
            sources = [.. _sourceStates.Select(s => s.Snapshot())];
        }

        return new AgentStatus
        {
            WrittenAt = now,
            AgentId = _agentId,
            State = _state,
            StartedAt = _startedAt,
            Sinks = [.. _lanes.All.Select(l => AgentStatusBuilder.Sink(l, now))],
            Sources = sources,
            Pipes = [.. _logShipping.Pipes.Select(AgentStatusBuilder.Pipe)],
            Config = Config?.Snapshot(),
            Recorder = _recording?.GetStatus(),
            RecordingUpload = _uploader?.GetStatus(),
        };
    }

    [LoggerMessage(EventId = 1001, Level = LogLevel.Information, Message = "Agent {AgentId} started: {Sinks} sinks, {Sources} sources")]
    private static partial void LogStarted(ILogger logger, string agentId, int sinks, int sources);

    [LoggerMessage(EventId = 1002, Level = LogLevel.Information, Message = "Agent stopping: intake stopped, flushing sinks (deadline {Deadline})")]
    private static partial void LogStopping(ILogger logger, TimeSpan deadline);

    [LoggerMessage(EventId = 1003, Level = LogLevel.Information, Message = "Agent stopped; {Pending} records remain queued for the next run")]
    private static partial void LogStopped(ILogger logger, long pending);
}
