using SessionTrail.Agent.Recording;
using SessionTrail.Agent.Sessions;
using SessionTrail.Agent.Tests.Fakes;
using SessionTrail.Agent.Tests.Sources;
using SessionTrail.Core.Records;

namespace SessionTrail.Agent.Tests.Recording;

/// <summary>A real <see cref="ScreenRecorder"/> (real ffmpeg, xrandr probe) recording one session on an <see cref="XvncDisplay"/>.</summary>
public sealed class RecorderHarness : IAsyncDisposable
{
    private readonly TaskCompletionSource<string> _stop = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Task? _running;

    private RecorderHarness(string dataDir, string session, ScreenRecorder recorder, ChildRegistry registry, ListLogger log)
    {
        Log = log;
        DataDir = dataDir;
        Session = session;
        Recorder = recorder;
        Registry = registry;
    }

    public string DataDir { get; }

    public string Session { get; }

    public ScreenRecorder Recorder { get; }

    public ChildRegistry Registry { get; }

    public CollectingOutput Output { get; } = new();

    public ListLogger Log { get; }

    public string SpoolDirectory => RecordingSpool.SessionDirectory(DataDir, Session);

    public static RecordingOptions Options(XvncDisplay x, int segmentSeconds) => new()
    {
        Enabled = true,
        Display = x.Display,
        Fps = 5,
        MaxSegmentLength = TimeSpan.FromSeconds(segmentSeconds),
        GeometryPollInterval = TimeSpan.FromMilliseconds(500),
        StopTimeout = TimeSpan.FromSeconds(5),
    };

    public static async Task<RecorderHarness> StartAsync(XvncDisplay x, string dataDir, string session, RecordingOptions options, SessionTrail.Agent.Recording.Upload.ISpoolBudget? budget = null)
    {
        var ffmpeg = await FfmpegDiscovery.CheckAsync("ffmpeg", CaptureBackends.X11grab);
        var registry = new ChildRegistry(ScreenRecorder.Root(dataDir));
        var probe = new XrandrGeometryProbe(x.Display, "xrandr", ScreenRecorder.XEnvironment(options, x.Display));
        var log = new ListLogger();
        var recorder = new ScreenRecorder(options, dataDir, "host1", ffmpeg, probe, registry, TimeProvider.System, log) { Budget = budget };
        var h = new RecorderHarness(dataDir, session, recorder, registry, log);
        var s = new CurrentSession { Id = session, Fields = new() { User = "alice" }, Started = DateTimeOffset.UtcNow };
        h._running = Task.Run(() => recorder.RecordAsync(s, h.Output, h._stop.Task));
        return h;
    }

    public IReadOnlyList<RecordingEventRecord> Events(string? type = null) =>
        [.. Output.Records.OfType<RecordingEventRecord>().Where(e => type is null || e.Type == type)];

    public IReadOnlyList<RecordingSegmentRecord> Segments => [.. Output.Records.OfType<RecordingSegmentRecord>()];

    /// <summary>Waits for <paramref name="condition"/>; fails with the recorder's log and records when it does not come.</summary>
    public async Task WaitForAsync(Func<bool> condition, TimeSpan timeout, string what)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!condition())
        {
            if (_running is { IsFaulted: true })
            {
                await _running;
            }

            Assert.True(DateTime.UtcNow < deadline, $"timed out after {timeout.TotalSeconds} s waiting for {what}\n{Describe()}");
            await Task.Delay(50);
        }
    }

    public async Task StopAsync(string reason)
    {
        _stop.TrySetResult(reason);
        var finished = await Task.WhenAny(_running!, Task.Delay(TimeSpan.FromSeconds(30)));
        Assert.True(finished == _running, "the recorder did not stop within 30 s\n" + Describe());
        await _running!;
    }

    public string Describe() =>
        "records:\n  " + string.Join("\n  ", Output.Records.Select(r => r switch
        {
            RecordingSegmentRecord s => $"segment {s.Index} {s.Width}x{s.Height} {s.Bytes} bytes {s.EndReason} {s.Start:HH:mm:ss.fff}-{s.End:HH:mm:ss.fff}",
            RecordingEventRecord e => $"{e.Type} {e.Message} {e.GapStart:HH:mm:ss.fff} {e.GapEnd:HH:mm:ss.fff}",
            _ => r.ToString(),
        })) + "\nlog:\n  " + string.Join("\n  ", Log.Entries.Select(e => e.Level + " " + e.Message));

    public async ValueTask DisposeAsync()
    {
        if (_running is not null && !_running.IsCompleted)
        {
            _stop.TrySetResult(SegmentEndReasons.AgentStop);
            await Task.WhenAny(_running, Task.Delay(TimeSpan.FromSeconds(20)));
        }

        Registry.KillAll();
    }
}

/// <summary>What the spool holds for a session (without changing it).</summary>
public sealed class SessionSpoolProbe(string dataDir, string session)
{
    public IReadOnlyList<string> OpenSegments => [.. Directory.GetFiles(RecordingSpool.SessionDirectory(dataDir, session), "*.mp4")
        .Where(f => !File.Exists(Path.ChangeExtension(f, ".json")))];
}
