using Microsoft.Extensions.Logging;
using SessionTrail.Agent.Platform;
using SessionTrail.Agent.Sessions;
using SessionTrail.Agent.Sources;
using SessionTrail.Core.Records;

namespace SessionTrail.Agent.Recording;

/// <summary>
/// Records the explicit session (`sessiontrail session start`, DIR/agent/session.json via
/// <see cref="SessionTracker.Explicit"/>): when one becomes active and the policy says so, shows the notice and
/// runs the <see cref="ScreenRecorder"/> until the session ends (reason session-end) or the agent stops
/// (agent-stop). A session the policy excludes gets a not-recorded event. At start it kills ffmpeg left by a
/// crashed agent and closes the segments that crash left open.
/// </summary>
public sealed partial class RecordingSource : IRecordSource
{
    private readonly RecordingOptions _options;
    private readonly string _dataDir;
    private readonly string _host;
    private readonly SessionTracker _tracker;
    private readonly IUserGroups _groups;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly ChildRegistry _registry;
    private readonly Func<FfmpegInstallation, ScreenRecorder> _createRecorder;
    private readonly Func<CancellationToken, Task<FfmpegInstallation>> _findFfmpeg;
    private readonly Func<ISessionNotice?> _createNotice;
    private ScreenRecorder? _recorder;
    private RecorderStatus _status = new() { State = "idle" };

    /// <param name="probe">Geometry probe; null picks the platform's (xrandr on Linux, GetSystemMetrics on Windows).</param>
    public RecordingSource(RecordingOptions options, string dataDir, string host, SessionTracker tracker, TimeProvider time, ILoggerFactory loggers, IGeometryProbe? probe = null, IUserGroups? groups = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(loggers);
        _options = options;
        _dataDir = dataDir;
        _host = host;
        _tracker = tracker;
        _time = time;
        _logger = loggers.CreateLogger<RecordingSource>();
        _groups = groups ?? new IdCommandUserGroups();
        _registry = new ChildRegistry(ScreenRecorder.Root(dataDir));
        var display = ScreenRecorder.ResolveDisplay(options.Display);
        var env = ScreenRecorder.XEnvironment(options, display);
        var backend = CaptureBackends.Resolve(options.Backend);
        probe ??= PlatformProbe(display, env);
        var recorderLogger = loggers.CreateLogger<ScreenRecorder>();
        _createRecorder = ffmpeg => new ScreenRecorder(options, dataDir, host, ffmpeg, probe, _registry, time, recorderLogger) { Budget = Budget, SegmentClosed = SegmentClosed };
        _findFfmpeg = ct => FfmpegDiscovery.CheckAsync(options.FfmpegPath, backend, ct);
        _createNotice = () => HostOs.IsWindows ? new MsgExeNotice() : new XmessageNotice(display, env, _registry);
    }

    public string Name => "screen-recorder";

    /// <summary>The uploader's spool budget; while it says no, recording pauses (a gap) instead of filling the disk.</summary>
    public Upload.ISpoolBudget? Budget { get; init; }

    /// <summary>Called when a segment is closed (e.g. the uploader's Wake).</summary>
    public Action? SegmentClosed { get; init; }

    /// <summary>The recorder's state for the agent status.</summary>
    public RecorderStatus GetStatus() => _recorder?.GetStatus() ?? _status;

    public async Task RunAsync(IRecordOutput output, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(output);
        foreach (var pid in _registry.KillLeftovers())
        {
            LogLeftoverKilled(_logger, pid, _registry.FilePath);
        }

        try
        {
            FfmpegInstallation ffmpeg;
            try
            {
                ffmpeg = await _findFfmpeg(cancellationToken);
            }
            catch (RecordingSetupException ex)
            {
                // Not fatal for the agent: the status and every session's timeline say why nothing is recorded.
                _status = new RecorderStatus { State = "failed", LastError = ex.Message, LastErrorTime = _time.GetUtcNow() };
                LogSetupFailed(_logger, ex.Message);
                await ReportUnrecordableAsync(output, ex.Message, cancellationToken);
                return;
            }

            LogReady(_logger, ffmpeg.Path, ffmpeg.Version, ChildLauncher.HasParentDeathSignal);
            var recorder = _createRecorder(ffmpeg);
            await recorder.RecoverAsync(output, cancellationToken);
            _recorder = recorder;
            await RunSessionsAsync(recorder, output, cancellationToken);
        }
        finally
        {
            foreach (var pid in _registry.KillAll())
            {
                LogLeftoverKilled(_logger, pid, _registry.FilePath);
            }
        }
    }

    private async Task RunSessionsAsync(ScreenRecorder recorder, IRecordOutput output, CancellationToken cancellationToken)
    {
        string? decided = null;
        while (!cancellationToken.IsCancellationRequested)
        {
            var session = _tracker.Explicit;
            if (session is not null && session.Id != decided)
            {
                decided = session.Id;
                var whyNot = await RecordingPolicyCheck.WhyNotAsync(_options.Policy, session, _groups, cancellationToken);
                if (whyNot is not null)
                {
                    LogNotRecorded(_logger, session.Id, whyNot);
                    recorder.SetState("not-recorded", session.Id);
                    await output.WriteAsync(Event(session.Id, RecordingEventTypes.NotRecorded, whyNot), cancellationToken);
                }
                else
                {
                    await RecordSessionAsync(recorder, session, output, cancellationToken);
                    continue;
                }
            }
            else if (session is null && decided is not null)
            {
                decided = null;
                recorder.SetState("idle");
            }

            try
            {
                await Task.Delay(TimeSpan.FromMilliseconds(250), _time, cancellationToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    private async Task RecordSessionAsync(ScreenRecorder recorder, CurrentSession session, IRecordOutput output, CancellationToken cancellationToken)
    {
        var notice = string.IsNullOrWhiteSpace(_options.NoticeText) ? null : _createNotice();
        if (notice is not null)
        {
            try
            {
                var how = await notice.ShowAsync(_options.NoticeText!, cancellationToken);
                await output.WriteAsync(Event(session.Id, RecordingEventTypes.Notice, $"{_options.NoticeText} ({how})"), cancellationToken);
            }
            catch (RecordingSetupException ex)
            {
                LogNoticeFailed(_logger, session.Id, ex.Message);
                await output.WriteAsync(Event(session.Id, RecordingEventTypes.Error, "notice not shown: " + ex.Message), cancellationToken);
            }
        }

        // Stops with session-end when the explicit session ends or is replaced, with agent-stop when the agent stops.
        var stop = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        using var agentStop = cancellationToken.Register(() => stop.TrySetResult(SegmentEndReasons.AgentStop));
        using var watchStop = new CancellationTokenSource();
        var watch = Task.Run(async () =>
        {
            while (!watchStop.IsCancellationRequested)
            {
                if (_tracker.Explicit?.Id != session.Id)
                {
                    stop.TrySetResult(SegmentEndReasons.SessionEnd);
                    return;
                }

                try
                {
                    await Task.Delay(TimeSpan.FromMilliseconds(250), _time, watchStop.Token);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }, CancellationToken.None);
        try
        {
            LogRecording(_logger, session.Id, session.Fields.User);
            await recorder.RecordAsync(session, output, stop.Task);
        }
        finally
        {
            await watchStop.CancelAsync();
            await watch;
            notice?.Close();
        }
    }

    private async Task ReportUnrecordableAsync(IRecordOutput output, string why, CancellationToken cancellationToken)
    {
        string? reported = null;
        while (!cancellationToken.IsCancellationRequested)
        {
            if (_tracker.Explicit is { } session && session.Id != reported)
            {
                reported = session.Id;
                await output.WriteAsync(Event(session.Id, RecordingEventTypes.Error, "not recorded: " + why), cancellationToken);
            }

            try
            {
                await Task.Delay(TimeSpan.FromSeconds(1), _time, cancellationToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    private RecordingEventRecord Event(string session, string type, string message) => new()
    {
        Time = _time.GetUtcNow(),
        Host = _host,
        Session = session,
        Type = type,
        Message = message,
    };

    /// <summary>The geometry probe of this OS for <paramref name="display"/> (X11) with the X clients' environment <paramref name="env"/>.</summary>
    public static IGeometryProbe PlatformProbe(string display, IReadOnlyDictionary<string, string?> env)
    {
        if (HostOs.IsWindows)
        {
            return new WindowsGeometryProbe();
        }

        // In-process RandR when libXrandr is there (no process started every second), else the xrandr tool.
        return new X11.X11RandrProbe(display, new XrandrGeometryProbe(display, ExternalTool.Resolve("xrandr") ?? "xrandr", env));
    }

    [LoggerMessage(EventId = 2201, Level = LogLevel.Information, Message = "Screen recorder ready: {Ffmpeg} ({Version}); children die with the agent (pdeathsig): {Pdeathsig}")]
    private static partial void LogReady(ILogger logger, string ffmpeg, FfmpegVersion version, bool pdeathsig);

    [LoggerMessage(EventId = 2202, Level = LogLevel.Error, Message = "Screen recording is not possible: {Message}")]
    private static partial void LogSetupFailed(ILogger logger, string message);

    [LoggerMessage(EventId = 2203, Level = LogLevel.Information, Message = "Session {Session} is not recorded: {Why}")]
    private static partial void LogNotRecorded(ILogger logger, string session, string why);

    [LoggerMessage(EventId = 2204, Level = LogLevel.Information, Message = "Recording session {Session} (user {User})")]
    private static partial void LogRecording(ILogger logger, string session, string? user);

    [LoggerMessage(EventId = 2205, Level = LogLevel.Warning, Message = "Session {Session}: recording notice not shown: {Message}")]
    private static partial void LogNoticeFailed(ILogger logger, string session, string message);

    [LoggerMessage(EventId = 2206, Level = LogLevel.Warning, Message = "Killed ffmpeg/child {Pid} left by a previous run (registry {Registry})")]
    private static partial void LogLeftoverKilled(ILogger logger, int pid, string registry);
}
