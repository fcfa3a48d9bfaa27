using SessionTrail.Agent.Recording;
using SessionTrail.Agent.Sessions;
using SessionTrail.Agent.Tests.Fakes;
using SessionTrail.Agent.Tests.Sources;
using SessionTrail.Core.Records;

namespace SessionTrail.Agent.Tests.Recording;

/// <summary>The recording source follows the explicit session, applies the policy and shows the notice (real Xvnc, ffmpeg, xmessage).</summary>
[Collection(XvncCollection.Name)]
public sealed class RecordingSourceTests : IDisposable
{
    private readonly XvncDisplay _x = new();
    private readonly TempDir _dir = new();

    public void Dispose()
    {
        _x.Dispose();
        _dir.Dispose();
    }

    private static CurrentSession Session(string id, string user) => new() { Id = id, Fields = new() { User = user }, Started = DateTimeOffset.UtcNow };

    [Fact]
    public async Task Records_the_explicit_session_by_policy_with_a_notice_until_it_ends_or_the_agent_stops()
    {
        var options = RecorderHarness.Options(_x, segmentSeconds: 60);
        options.NoticeText = "This session is recorded.";
        options.Policy.ExcludeUsers.Add("bob");
        var tracker = new SessionTracker();
        var log = new ListLogger();
        var output = new CollectingOutput();
        var source = new RecordingSource(options, _dir.Path, "host1", tracker, TimeProvider.System, log);
        using var stop = new CancellationTokenSource();
        var running = Task.Run(() => source.RunAsync(output, stop.Token));
        string Describe() => string.Join("\n", output.Records.Select(r => r is RecordingEventRecord e ? $"{e.Session} {e.Type}: {e.Message}" : r.ToString())) + "\n" + string.Join("\n", log.Entries.Select(e => e.Message));
        async Task WaitAsync(Func<bool> condition, string what)
        {
            var deadline = DateTime.UtcNow.AddSeconds(20);
            while (!condition())
            {
                Assert.False(running.IsFaulted, running.Exception?.ToString());
                Assert.True(DateTime.UtcNow < deadline, $"timed out waiting for {what}\n{Describe()}");
                await Task.Delay(50);
            }
        }

        IEnumerable<RecordingEventRecord> Events(string session, string type) => output.Records.OfType<RecordingEventRecord>().Where(e => e.Session == session && e.Type == type);

        Assert.Equal("idle", source.GetStatus().State);

        // Excluded by the policy: a not-recorded event, no recording.
        tracker.Explicit = Session("s-bob", "bob");
        await WaitAsync(() => Events("s-bob", RecordingEventTypes.NotRecorded).Any(), "not-recorded for bob");
        Assert.Contains("excluded", Events("s-bob", RecordingEventTypes.NotRecorded).Single().Message, StringComparison.Ordinal);
        Assert.Equal("not-recorded", source.GetStatus().State);
        Assert.False(Directory.Exists(RecordingSpool.SessionDirectory(_dir.Path, "s-bob")));

        // Recorded: the notice on the display, then the recording; the session end stops it.
        tracker.Explicit = Session("s-alice", "alice");
        await WaitAsync(() => source.GetStatus() is { State: "recording", SegmentBytes: > 3000 }, "alice's recording");
        var notice = Events("s-alice", RecordingEventTypes.Notice).Single();
        Assert.Contains("This session is recorded.", notice.Message, StringComparison.Ordinal);
        Assert.Contains("xmessage on " + _x.Display, notice.Message, StringComparison.Ordinal);
        tracker.Explicit = null;
        await WaitAsync(() => Events("s-alice", RecordingEventTypes.Stopped).Any(), "alice's recording to stop");
        var closed = output.Records.OfType<RecordingSegmentRecord>().Single(s => s.Session == "s-alice");
        Assert.Equal(SegmentEndReasons.SessionEnd, closed.EndReason);
        Assert.True(ProbedVideo.Probe(Path.Combine(RecordingSpool.SessionDirectory(_dir.Path, "s-alice"), closed.File)) is { Frames: > 0 });

        // The agent stops mid-session: the segment is closed as agent-stop and no child is left.
        tracker.Explicit = Session("s-carol", "carol");
        await WaitAsync(() => source.GetStatus() is { State: "recording", Session: "s-carol", SegmentBytes: > 3000 }, "carol's recording");
        var pid = source.GetStatus().FfmpegPid!.Value;
        await stop.CancelAsync();
        await running.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(SegmentEndReasons.AgentStop, output.Records.OfType<RecordingSegmentRecord>().Single(s => s.Session == "s-carol").EndReason);
        Assert.False(File.Exists($"/proc/{pid}/cmdline") && File.ReadAllText($"/proc/{pid}/cmdline").Contains("ffmpeg", StringComparison.Ordinal), "ffmpeg still runs after the source stopped");
        Assert.Equal("", File.ReadAllText(Path.Combine(ScreenRecorder.Root(_dir.Path), "children")));
    }

    [Fact]
    public async Task A_missing_ffmpeg_is_reported_in_the_status_and_on_each_sessions_timeline()
    {
        var options = RecorderHarness.Options(_x, segmentSeconds: 60);
        options.FfmpegPath = "/nonexistent/ffmpeg";
        var tracker = new SessionTracker();
        var output = new CollectingOutput();
        var source = new RecordingSource(options, _dir.Path, "host1", tracker, TimeProvider.System, new ListLogger());
        using var stop = new CancellationTokenSource();
        var running = Task.Run(() => source.RunAsync(output, stop.Token));
        tracker.Explicit = Session("s-1", "alice");
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (!output.Records.OfType<RecordingEventRecord>().Any(e => e.Type == RecordingEventTypes.Error))
        {
            Assert.True(DateTime.UtcNow < deadline, "no error event");
            await Task.Delay(50);
        }

        var error = output.Records.OfType<RecordingEventRecord>().Single();
        Assert.Equal("s-1", error.Session);
        Assert.Contains("/nonexistent/ffmpeg", error.Message, StringComparison.Ordinal);
        Assert.Equal("failed", source.GetStatus().State);
        Assert.Contains("not found", source.GetStatus().LastError, StringComparison.Ordinal);
        await stop.CancelAsync();
        await running.WaitAsync(TimeSpan.FromSeconds(10));
    }
}
