using System.Globalization;
using Microsoft.Extensions.Logging;
using SessionTrail.Agent.Sessions;
using SessionTrail.Agent.Sources;
using SessionTrail.Core.Records;

namespace SessionTrail.Agent.Recording;

/// <summary>
/// Records one session's screen: supervises one ffmpeg at a time (<see cref="FfmpegArguments"/>), closes its
/// segments into the spool (<see cref="SessionSpool"/>) and emits a <see cref="RecordingSegmentRecord"/> per
/// closed segment and <see cref="RecordingEventRecord"/>s (started, stopped, gap, geometry, error).
/// </summary>
/// <remarks>
/// <para>ffmpeg is restarted when it dies (at once the first time, within 2 s; backing off to 10 s while it
/// keeps failing at start) and the hole is a <c>gap</c> event with its start and end. When the geometry probe
/// (every <see cref="RecordingOptions.GeometryPollInterval"/>) sees another size or monitor layout, ffmpeg is
/// stopped, its segment closed (reason geometry) and a new ffmpeg started at the new size — x11grab itself
/// stops on a RandR shrink; an exit that the probe explains is a geometry change, not a crash.</para>
/// <para>Every child is in the <see cref="ChildRegistry"/> and launched by <see cref="ChildLauncher"/>
/// (parent-death signal / job object), so no ffmpeg outlives the agent.</para>
/// </remarks>
public sealed partial class ScreenRecorder(
    RecordingOptions options,
    string dataDir,
    string host,
    FfmpegInstallation ffmpeg,
    IGeometryProbe probe,
    ChildRegistry registry,
    TimeProvider time,
    ILogger logger)
{
    private static readonly TimeSpan Tick = TimeSpan.FromMilliseconds(200);
    private readonly Lock _lock = new();

    /// <summary>The spool budget (the uploader's): while it says no, recording pauses with a gap instead of filling the disk.</summary>
    public Upload.ISpoolBudget? Budget { get; set; }

    /// <summary>Called when a segment is closed (its sidecar written), e.g. to wake the uploader.</summary>
    public Action? SegmentClosed { get; set; }
    private readonly string _backend = CaptureBackends.Resolve(options.Backend);
    private RecorderStatus _status = new() { State = "idle" };
    private X11.X11DamageCapture? _capture;

    /// <summary>The X display recorded (x11grab).</summary>
    public string Display { get; } = ResolveDisplay(options.Display);

    public RecorderStatus GetStatus()
    {
        lock (_lock)
        {
            if (_capture is { } capture && _status.FfmpegPid is not null)
            {
                var stats = capture.Stats;
                _status = _status with { FramesSent = stats.FramesSent, FramesChanged = stats.ScreenChanges + stats.CursorChanges };
            }

            if (_status.SegmentIndex is { } index && _status.Session is { } session)
            {
                var path = Path.Combine(RecordingSpool.SessionDirectory(dataDir, session), RecordingSpool.SegmentFileName(index));
                return _status with { SegmentBytes = File.Exists(path) ? new FileInfo(path).Length : null };
            }

            return _status;
        }
    }

    /// <summary>Sets the state shown by the status (used by the source for idle / not-recorded / failed).</summary>
    public void SetState(string state, string? session = null, string? error = null)
    {
        lock (_lock)
        {
            _status = _status with { State = state, Session = session, SegmentIndex = null, FfmpegPid = null };
            if (error is not null)
            {
                _status = _status with { LastError = error, LastErrorTime = time.GetUtcNow() };
            }
        }
    }

    public static string ResolveDisplay(string? configured) =>
        !string.IsNullOrWhiteSpace(configured) ? configured.Trim() : Environment.GetEnvironmentVariable("DISPLAY") is { Length: > 0 } d ? d : ":0";

    /// <summary>The environment of every X client the recorder starts (DISPLAY, XAUTHORITY when configured).</summary>
    public static IReadOnlyDictionary<string, string?> XEnvironment(RecordingOptions options, string display)
    {
        ArgumentNullException.ThrowIfNull(options);
        var env = new Dictionary<string, string?> { ["DISPLAY"] = display };
        if (!string.IsNullOrWhiteSpace(options.XAuthority))
        {
            env["XAUTHORITY"] = options.XAuthority;
        }

        return env;
    }

    /// <summary>
    /// At agent start, after <see cref="ChildRegistry.KillLeftovers"/>: closes every open segment a crash left in
    /// the spool (reason recovered — it plays, the fMP4 was flushed) and sends again the segment records that
    /// may not have reached the queues.
    /// </summary>
    public async Task RecoverAsync(IRecordOutput output, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(output);
        foreach (var session in SessionSpool.SessionIds(dataDir))
        {
            var spool = SessionSpool.Open(dataDir, session);
            await RecoverAsync(spool, output, cancellationToken);
        }
    }

    /// <summary>
    /// Records <paramref name="session"/> until <paramref name="stopRequested"/> completes with the end reason
    /// (<see cref="SegmentEndReasons.SessionEnd"/> or <see cref="SegmentEndReasons.AgentStop"/>); then stops ffmpeg
    /// (`q`, <see cref="RecordingOptions.StopTimeout"/>, kill), closes the last segment and emits <c>stopped</c>.
    /// </summary>
    public async Task RecordAsync(CurrentSession session, IRecordOutput output, Task<string> stopRequested)
    {
        ArgumentNullException.ThrowIfNull(session);
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(stopRequested);
        var spool = SessionSpool.Open(dataDir, session.Id);
        spool.WriteSessionInfo(session);
        await RecoverAsync(spool, output, CancellationToken.None);
        lock (_lock)
        {
            _status = new RecorderStatus { State = "starting", Session = session.Id, Restarts = _status.Restarts, LastError = _status.LastError, LastErrorTime = _status.LastErrorTime };
        }

        var listDir = Path.Combine(Root(dataDir), "runs");
        RecordingFiles.CreatePrivateDirectory(listDir);
        var listPath = Path.Combine(listDir, RecordingSpool.SessionDirectoryName(session.Id) + ".segments.csv");
        var env = XEnvironment(options, Display);

        // A resumed session (agent restart) has a hole since its last segment.
        Gap? pendingGap = spool.State.LastEnd is { } lastEnd ? new Gap(lastEnd, "recording resumed after the agent restarted") : null;
        var backend = _backend;
        if (backend == CaptureBackends.X11damage)
        {
            X11.X11DamageCapture.UseXAuthority(options.XAuthority);
            if (X11.X11DamageCapture.Unavailable(Display) is { } why)
            {
                backend = CaptureBackends.X11grab;
                LogDamageUnavailable(logger, Display, why);
            }
        }

        var started = false;
        var failures = 0;
        ScreenGeometry? lastGeometry = null;
        string? lastProbeError = null;
        var spoolFullReported = false;
        while (!stopRequested.IsCompleted)
        {
            if (Budget is { CanRecord: false })
            {
                if (!spoolFullReported)
                {
                    spoolFullReported = true;
                    await FailAsync(session.Id, output, $"recording paused: the spool ({RecordingSpool.Root(dataDir)}) is at its cap of {options.SpoolMaxBytes} bytes with segments not yet uploaded; it resumes when uploads free space");
                }

                pendingGap ??= started ? new Gap(time.GetUtcNow(), "recording paused: the spool is full of segments not yet uploaded") : null;
                SetState("paused: spool full", session.Id);
                await Task.WhenAny(stopRequested, Task.Delay(TimeSpan.FromSeconds(2), time));
                continue;
            }

            spoolFullReported = false;
            ScreenGeometry geometry;
            try
            {
                geometry = await probe.ProbeAsync(CancellationToken.None);
                lastProbeError = null;
            }
            catch (GeometryProbeException ex)
            {
                if (lastProbeError != ex.Message)
                {
                    lastProbeError = ex.Message;
                    await FailAsync(session.Id, output, "geometry probe failed: " + ex.Message);
                }

                pendingGap ??= started ? new Gap(time.GetUtcNow(), "the screen could not be read") : null;
                await Task.WhenAny(stopRequested, Task.Delay(TimeSpan.FromSeconds(1), time));
                continue;
            }

            if (geometry.EvenWidth < 2 || geometry.EvenHeight < 2)
            {
                await FailAsync(session.Id, output, $"screen {geometry} is too small to record");
                await Task.WhenAny(stopRequested, Task.Delay(TimeSpan.FromSeconds(1), time));
                continue;
            }

            if (lastGeometry is not null && !geometry.Equals(lastGeometry))
            {
                await EmitGeometryAsync(session.Id, output, lastGeometry, geometry);
            }

            lastGeometry = geometry;
            var plan = new CapturePlan
            {
                Backend = backend,
                Display = Display,
                Geometry = geometry,
                Directory = spool.Directory,
                FirstIndex = spool.State.NextIndex,
                FpsModeOption = ffmpeg.Version.IsAtLeast(new FfmpegVersion(5, 1, "5.1", false)),
                SegmentListPath = listPath,
            };
            File.Delete(listPath);
            FfmpegRun run;
            try
            {
                run = await FfmpegRun.StartAsync(ffmpeg.Path, FfmpegArguments.Build(options, plan), env, registry, logger, videoOnStdin: backend == CaptureBackends.X11damage);
            }
            catch (Exception ex) when (ex is System.ComponentModel.Win32Exception or InvalidOperationException or IOException)
            {
                failures++;
                await FailAsync(session.Id, output, $"{ffmpeg.Path} could not start: {ex.Message}");
                await Task.WhenAny(stopRequested, Task.Delay(Backoff(failures), time));
                continue;
            }

            RunOutcome outcome;
            using var capture = backend == CaptureBackends.X11damage ? X11.X11DamageCapture.Start(Display, geometry, options, run.VideoInput, logger) : null;
            using (run)
            {
                lock (_lock)
                {
                    _capture = capture;
                    _status = _status with { State = started ? "recording" : "starting", FfmpegPid = run.Pid, Width = geometry.EvenWidth, Height = geometry.EvenHeight, Backend = backend, FramesSent = null, FramesChanged = null };
                }

                outcome = await SuperviseAsync(run, capture, plan, spool, output, stopRequested, async anchor =>
                {
                    lock (_lock)
                    {
                        _status = _status with { State = "recording" };
                    }

                    if (!started)
                    {
                        started = true;
                        await EmitAsync(output, Event(session.Id, RecordingEventTypes.Started, $"recording {geometry} at {options.Fps} fps with {ffmpeg.Path} ({ffmpeg.Version.Text}, {backend})", anchor) with { Width = geometry.EvenWidth, Height = geometry.EvenHeight });
                    }

                    if (pendingGap is { } gap)
                    {
                        pendingGap = null;
                        await EmitAsync(output, Event(session.Id, RecordingEventTypes.Gap, gap.Why, anchor) with { GapStart = gap.Start, GapEnd = anchor });
                    }
                });
            }

            lock (_lock)
            {
                _capture = null;
                _status = _status with { FfmpegPid = null, SegmentIndex = null };
            }

            switch (outcome.Kind)
            {
                case OutcomeKind.Stopped:
                    await EmitAsync(output, Event(session.Id, RecordingEventTypes.Stopped, $"recording stopped ({outcome.Reason})", time.GetUtcNow()) with { Segments = spool.State.NextIndex });
                    SetState("stopped", session.Id);
                    return;
                case OutcomeKind.Paused:
                    failures = 0;
                    pendingGap ??= new Gap(outcome.LastRecorded ?? time.GetUtcNow(), "recording paused: the spool is full of segments not yet uploaded");
                    break;
                case OutcomeKind.Geometry:
                    failures = 0;
                    await EmitGeometryAsync(session.Id, output, geometry, outcome.NewGeometry!);
                    lastGeometry = outcome.NewGeometry;
                    break;
                default:
                    var why = capture is { CaptureFailed: true, Error: { } captureError }
                        ? $"screen capture failed: {captureError}"
                        : $"ffmpeg {run.Pid} exited (code {run.ExitCode?.ToString(CultureInfo.InvariantCulture) ?? "?"}){(run.LastLines.Length > 0 ? ": " + run.LastLines : "")}";
                    failures = outcome.Recorded ? 0 : failures + 1;
                    pendingGap ??= new Gap(outcome.LastRecorded ?? time.GetUtcNow(), why);
                    lock (_lock)
                    {
                        _status = _status with { State = "restarting", Restarts = _status.Restarts + 1 };
                    }

                    LogFfmpegDied(logger, session.Id, why);
                    if (failures > 0)
                    {
                        await FailAsync(session.Id, output, why, emit: failures == 1);
                        await Task.WhenAny(stopRequested, Task.Delay(Backoff(failures), time));
                    }

                    break;
            }
        }

        await EmitAsync(output, Event(session.Id, RecordingEventTypes.Stopped, $"recording stopped ({await stopRequested})", time.GetUtcNow()) with { Segments = spool.State.NextIndex });
        SetState("stopped", session.Id);
    }

    /// <summary>The recorder's own state folder (children registry, ffmpeg's segment lists), outside the spool.</summary>
    public static string Root(string dataDir) => Path.Combine(SessionTrail.Core.DataDirectory.AgentDirectory(dataDir), "recorder");

    private static TimeSpan Backoff(int failures) => failures <= 1 ? TimeSpan.Zero : TimeSpan.FromSeconds(Math.Min(10, 1 << Math.Min(failures - 2, 4)));

    /// <summary>Stops the frame feeder (if any) after its current frame, then ffmpeg.</summary>
    private static async Task StopAsync(FfmpegRun run, X11.X11DamageCapture? capture, TimeSpan timeout)
    {
        if (capture is not null)
        {
            await capture.StopAsync();
        }

        await run.StopAsync(timeout);
    }

    private async Task<RunOutcome> SuperviseAsync(FfmpegRun run, X11.X11DamageCapture? capture, CapturePlan plan, SessionSpool spool, IRecordOutput output, Task<string> stopRequested, Func<DateTimeOffset, Task> onFirstSegment)
    {
        var list = new SegmentListReader(plan.SegmentListPath);
        DateTimeOffset? anchor = null;
        var current = plan.FirstIndex - 1;
        var closedThrough = plan.FirstIndex - 1;
        var nextProbe = time.GetUtcNow() + options.GeometryPollInterval;
        DateTimeOffset? lastRecorded = null;
        var fallback = (plan.Geometry.EvenWidth, plan.Geometry.EvenHeight);

        async Task CloseAsync(int index, string reason, DateTimeOffset? end)
        {
            var times = list.Times(RecordingSpool.SegmentFileName(index));

            // An unlisted (killed, still open) segment starts where the one before it ended, or at the run's first frame.
            var startOffset = times?.Start ?? (index == plan.FirstIndex ? TimeSpan.Zero : list.Times(RecordingSpool.SegmentFileName(index - 1))?.End);
            var start = anchor is { } a && startOffset is { } offset ? a + offset : (DateTimeOffset?)null;
            var stop = anchor is { } a2 && times is { } t2 ? a2 + t2.End : end;
            var sidecar = await spool.CloseAsync(index, start, stop, options.Fps, reason, fallback, ffmpeg.FfprobePath, CancellationToken.None, endIsClose: times is null);
            closedThrough = index;
            lastRecorded = sidecar.End;
            lock (_lock)
            {
                _status = _status with { SegmentsClosed = _status.SegmentsClosed + 1 };
            }

            await EmitSegmentAsync(spool, output, sidecar);
        }

        // New segment files: the open one is the highest.
        async Task ScanAsync()
        {
            while (File.Exists(spool.SegmentPath(current + 1)))
            {
                current++;
                spool.Reserve(current);
                RecordingFiles.MakePrivate(spool.SegmentPath(current));
                if (anchor is null)
                {
                    anchor = time.GetUtcNow();
                    await onFirstSegment(anchor.Value);
                }

                lock (_lock)
                {
                    _status = _status with { SegmentIndex = current };
                }
            }
        }

        async Task CloseRestAsync(string lastReason)
        {
            await ScanAsync();
            list.Read();
            var end = time.GetUtcNow();
            for (var i = closedThrough + 1; i <= current; i++)
            {
                if (File.Exists(spool.SegmentPath(i)))
                {
                    await CloseAsync(i, i == current ? lastReason : SegmentEndReasons.MaxLength, i == current ? end : null);
                }
            }
        }

        while (true)
        {
            await Task.WhenAny(run.Exited, stopRequested, Task.Delay(Tick, time));
            await ScanAsync();

            // Segments ffmpeg finished (listed, and the next one opened): cut at the maximum length.
            list.Read();
            while (closedThrough + 1 < current && list.Times(RecordingSpool.SegmentFileName(closedThrough + 1)) is not null)
            {
                await CloseAsync(closedThrough + 1, SegmentEndReasons.MaxLength, null);
            }

            if (stopRequested.IsCompleted)
            {
                var reason = await stopRequested;
                await StopAsync(run, capture, options.StopTimeout);
                await CloseRestAsync(reason);
                return new RunOutcome(OutcomeKind.Stopped, reason, null, true, lastRecorded);
            }

            if (run.Exited.IsCompleted)
            {
                // An exit the probe explains (x11grab stops on a RandR change) is a geometry change, not a crash.
                var changed = await ProbeChangeAsync(plan.Geometry);
                await CloseRestAsync(changed is null ? SegmentEndReasons.FfmpegExit : SegmentEndReasons.Geometry);
                return changed is null
                    ? new RunOutcome(OutcomeKind.Exited, null, null, anchor is not null, lastRecorded)
                    : new RunOutcome(OutcomeKind.Geometry, null, changed, true, lastRecorded);
            }

            if (time.GetUtcNow() >= nextProbe)
            {
                nextProbe = time.GetUtcNow() + options.GeometryPollInterval;
                if (Budget is { CanRecord: false })
                {
                    await StopAsync(run, capture, options.StopTimeout);
                    await CloseRestAsync(SegmentEndReasons.SpoolFull);
                    return new RunOutcome(OutcomeKind.Paused, SegmentEndReasons.SpoolFull, null, anchor is not null, lastRecorded);
                }

                if (await ProbeChangeAsync(plan.Geometry) is { } changed)
                {
                    await StopAsync(run, capture, options.StopTimeout < TimeSpan.FromSeconds(3) ? options.StopTimeout : TimeSpan.FromSeconds(3));
                    await CloseRestAsync(SegmentEndReasons.Geometry);
                    return new RunOutcome(OutcomeKind.Geometry, null, changed, true, lastRecorded);
                }
            }
        }
    }

    /// <summary>The new geometry when it differs from <paramref name="recorded"/>; null when the same or unreadable (logged).</summary>
    private async Task<ScreenGeometry?> ProbeChangeAsync(ScreenGeometry recorded)
    {
        try
        {
            var now = await probe.ProbeAsync(CancellationToken.None);
            if (now.Equals(recorded))
            {
                return null;
            }

            // A change is acted on once it has settled: `xrandr -s` sets the screen size and then the monitor in
            // separate requests, and a probe between them sees a layout that lasts milliseconds (a second restart).
            for (var i = 0; i < 5; i++)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(200), time);
                var again = await probe.ProbeAsync(CancellationToken.None);
                if (again.Equals(now))
                {
                    break;
                }

                now = again;
            }

            return now.Equals(recorded) ? null : now;
        }
        catch (GeometryProbeException ex)
        {
            LogProbeFailed(logger, ex.Message);
            return null;
        }
    }

    private async Task RecoverAsync(SessionSpool spool, IRecordOutput output, CancellationToken cancellationToken)
    {
        foreach (var index in spool.OpenSegments())
        {
            var sidecar = await spool.CloseAsync(index, null, null, options.Fps, SegmentEndReasons.Recovered, null, ffmpeg.FfprobePath, cancellationToken);
            LogRecovered(logger, spool.SessionId, index, sidecar.Bytes);
        }

        foreach (var sidecar in spool.Sidecars().Where(s => s.Index > spool.State.EmittedThrough))
        {
            await EmitSegmentAsync(spool, output, sidecar);
        }
    }

    private async Task EmitSegmentAsync(SessionSpool spool, IRecordOutput output, RecordingSegmentRecord sidecar)
    {
        SegmentClosed?.Invoke(); // the sidecar is on disk: the uploader can finish this segment now
        await output.WriteAsync(sidecar with { Id = SessionSpool.RecordId(spool.SessionId, sidecar.Index), Host = host }, CancellationToken.None);
        if (output is IDurableRecordOutput durable)
        {
            try
            {
                await durable.WhenDurableAsync(CancellationToken.None);
            }
            catch (System.Threading.Channels.ChannelClosedException)
            {
                return;
            }
        }

        spool.MarkEmitted(sidecar.Index);
        LogSegmentClosed(logger, spool.SessionId, sidecar.Index, sidecar.Width, sidecar.Height, sidecar.Bytes, sidecar.EndReason);
    }

    private async Task EmitGeometryAsync(string session, IRecordOutput output, ScreenGeometry from, ScreenGeometry to)
    {
        LogGeometry(logger, session, from, to);
        await EmitAsync(output, Event(session, RecordingEventTypes.Geometry, $"screen changed from {from} to {to}", time.GetUtcNow()) with { Width = to.EvenWidth, Height = to.EvenHeight });
    }

    private async Task FailAsync(string session, IRecordOutput output, string message, bool emit = true)
    {
        lock (_lock)
        {
            _status = _status with { LastError = message, LastErrorTime = time.GetUtcNow() };
        }

        LogRecorderError(logger, session, message);
        if (emit)
        {
            await EmitAsync(output, Event(session, RecordingEventTypes.Error, message, time.GetUtcNow()));
        }
    }

    private RecordingEventRecord Event(string session, string type, string message, DateTimeOffset at) => new()
    {
        Time = at,
        Host = host,
        Session = session,
        Type = type,
        Message = message,
    };

    private static ValueTask EmitAsync(IRecordOutput output, RecordingEventRecord record) => output.WriteAsync(record, CancellationToken.None);

    private sealed record Gap(DateTimeOffset Start, string Why);

    private enum OutcomeKind
    {
        Paused,
        Stopped,
        Geometry,
        Exited,
    }

    private sealed record RunOutcome(OutcomeKind Kind, string? Reason, ScreenGeometry? NewGeometry, bool Recorded, DateTimeOffset? LastRecorded);

    [LoggerMessage(EventId = 2001, Level = LogLevel.Information, Message = "Recording {Session}: segment {Index} closed ({Width}x{Height}, {Bytes} bytes, {Reason})")]
    private static partial void LogSegmentClosed(ILogger logger, string session, int index, int width, int height, long bytes, string? reason);

    [LoggerMessage(EventId = 2002, Level = LogLevel.Information, Message = "Recording {Session}: screen changed from {From} to {To}; new segment")]
    private static partial void LogGeometry(ILogger logger, string session, ScreenGeometry from, ScreenGeometry to);

    [LoggerMessage(EventId = 2003, Level = LogLevel.Warning, Message = "Recording {Session}: {Why}; restarting ffmpeg")]
    private static partial void LogFfmpegDied(ILogger logger, string session, string why);

    [LoggerMessage(EventId = 2004, Level = LogLevel.Error, Message = "Recording {Session}: {Message}")]
    private static partial void LogRecorderError(ILogger logger, string session, string message);

    [LoggerMessage(EventId = 2005, Level = LogLevel.Warning, Message = "Geometry probe failed: {Message}")]
    private static partial void LogProbeFailed(ILogger logger, string message);

    [LoggerMessage(EventId = 2007, Level = LogLevel.Warning, Message = "Recording {Display} with x11grab (every frame grabbed and converted): damage capture is unavailable: {Why}")]
    private static partial void LogDamageUnavailable(ILogger logger, string display, string why);

    [LoggerMessage(EventId = 2006, Level = LogLevel.Warning, Message = "Recording {Session}: segment {Index} was left open by a crash; closed as recovered ({Bytes} bytes)")]
    private static partial void LogRecovered(ILogger logger, string session, int index, long bytes);
}

/// <summary>Reads ffmpeg's segment list (CSV "file,start,end" per finished segment, times in seconds from the run's first frame).</summary>
internal sealed class SegmentListReader(string path)
{
    private readonly Dictionary<string, (TimeSpan Start, TimeSpan End)> _entries = new(StringComparer.Ordinal);

    public void Read()
    {
        string[] lines;
        try
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            using var reader = new StreamReader(stream);
            lines = reader.ReadToEnd().Split('\n');
        }
        catch (FileNotFoundException)
        {
            return;
        }
        catch (DirectoryNotFoundException)
        {
            return;
        }

        // The last line may be half written: only complete lines (followed by '\n') count.
        foreach (var line in lines[..^1])
        {
            if (Parse(line) is { } e)
            {
                _entries[e.File] = (e.Start, e.End);
            }
        }
    }

    public (TimeSpan Start, TimeSpan End)? Times(string file) => _entries.TryGetValue(file, out var t) ? t : null;

    /// <summary>One CSV line; null when it is not "name,start,end" with numbers.</summary>
    public static (string File, TimeSpan Start, TimeSpan End)? Parse(string line)
    {
        var parts = line.Trim().Split(',');
        if (parts.Length != 3
            || !double.TryParse(parts[1], NumberStyles.Float, CultureInfo.InvariantCulture, out var s)
            || !double.TryParse(parts[2], NumberStyles.Float, CultureInfo.InvariantCulture, out var e)
            || !(s >= 0) || !(e >= s) || !(e <= 1e7))
        {
            return null;
        }

        return (Path.GetFileName(parts[0]), TimeSpan.FromSeconds(s), TimeSpan.FromSeconds(e));
    }
}
