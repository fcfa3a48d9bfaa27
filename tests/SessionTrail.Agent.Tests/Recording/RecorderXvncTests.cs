using System.Diagnostics;
using System.Security.Cryptography;
using SessionTrail.Agent.Recording;
using SessionTrail.Agent.Tests.Fakes;
using SessionTrail.Core.Records;
using Xunit.Abstractions;

namespace SessionTrail.Agent.Tests.Recording;

/// <summary>The recorder with the real thing: Xvnc, xrandr, ffmpeg, ffprobe (fail, not skip, when missing).</summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
[Collection(XvncCollection.Name)]
public sealed class RecorderXvncTests(ITestOutputHelper log) : IDisposable
{
    private readonly XvncDisplay _x = new();
    private readonly TempDir _dir = new();

    public void Dispose()
    {
        _x.Dispose();
        _dir.Dispose();
    }

    [Fact]
    public async Task Geometry_changes_give_segments_at_each_size_all_playable_and_chained()
    {
        await using var h = await RecorderHarness.StartAsync(_x, _dir.Path, "geo-1", RecorderHarness.Options(_x, segmentSeconds: 3));
        await h.WaitForAsync(() => h.Segments.Count >= 1, TimeSpan.FromSeconds(20), "a first segment cut at the maximum length");
        Assert.True(h.Recorder.GetStatus() is { Backend: CaptureBackends.X11damage, FramesSent: > 0, FramesChanged: > 0 }, $"damage capture by default: {h.Recorder.GetStatus()}");

        // An odd size is cropped to even, never scaled.
        Assert.Equal(0, _x.Xrandr("--fb", "1283x801").ExitCode);
        await h.WaitForAsync(() => h.Events(RecordingEventTypes.Geometry).Count >= 1 && h.Recorder.GetStatus() is { Width: 1282, SegmentBytes: > 1000 }, TimeSpan.FromSeconds(15), "the recording at 1283x801");
        await Task.Delay(2500);

        Assert.Equal(0, _x.Xrandr("-s", "1920x1080").ExitCode);
        await h.WaitForAsync(() => h.Events(RecordingEventTypes.Geometry).Count >= 2 && h.Recorder.GetStatus() is { Width: 1920, SegmentBytes: > 1000 }, TimeSpan.FromSeconds(15), "the recording at 1920x1080");
        await Task.Delay(2500);

        // Shrinking: x11grab stops on its own ("Cannot get the image data"); the probe explains it: a geometry change, not a gap.
        var before = h.Recorder.GetStatus().FfmpegPid;
        Assert.Equal(0, _x.Xrandr("-s", "1280x800").ExitCode);
        await h.WaitForAsync(() => h.Events(RecordingEventTypes.Geometry).Count >= 3 && h.Recorder.GetStatus() is { Width: 1280, SegmentBytes: > 1000 } s && s.FfmpegPid != before, TimeSpan.FromSeconds(15), "the recording back at 1280x800");
        await Task.Delay(1500);
        await h.StopAsync(SegmentEndReasons.SessionEnd);

        var segments = h.Segments;
        Assert.Contains(segments, s => (s.Width, s.Height) == (1280, 800));
        Assert.Contains(segments, s => (s.Width, s.Height) == (1920, 1080));
        Assert.Contains(segments, s => (s.Width, s.Height) == (1282, 800));
        Assert.Contains(segments, s => s.EndReason == SegmentEndReasons.MaxLength);
        Assert.Equal(3, segments.Count(s => s.EndReason == SegmentEndReasons.Geometry));
        Assert.Equal(0, h.Recorder.GetStatus().Restarts);
        Assert.Equal(SegmentEndReasons.SessionEnd, segments[^1].EndReason);
        var geometry = h.Events(RecordingEventTypes.Geometry);
        Assert.Equal([(1282, 800), (1920, 1080), (1280, 800)], geometry.Select(e => (e.Width!.Value, e.Height!.Value)));
        Assert.Single(h.Events(RecordingEventTypes.Started));
        Assert.Equal(segments.Count, Assert.Single(h.Events(RecordingEventTypes.Stopped)).Segments);
        Assert.Empty(h.Events(RecordingEventTypes.Gap));
        AssertPlayableChain(h, segments);
        for (var i = 1; i < segments.Count; i++)
        {
            log.WriteLine($"segment {i} ({segments[i].Width}x{segments[i].Height}, after {segments[i - 1].EndReason}): starts {(segments[i].Start - segments[i - 1].End).TotalSeconds:F2} s after the previous one ended; {segments[i].Bytes} bytes for {(segments[i].End - segments[i].Start).TotalSeconds:F1} s");
        }
    }

    [Fact]
    public async Task A_SIGKILLed_ffmpeg_is_restarted_within_2s_with_a_gap_and_its_segment_plays()
    {
        await using var h = await RecorderHarness.StartAsync(_x, _dir.Path, "kill-1", RecorderHarness.Options(_x, segmentSeconds: 60));
        await h.WaitForAsync(() => h.Recorder.GetStatus() is { State: "recording", SegmentBytes: > 5000 }, TimeSpan.FromSeconds(20), "recording with a first fragment on disk");
        await Task.Delay(6000);
        var victim = h.Recorder.GetStatus().FfmpegPid!.Value;
        using (var p = Process.GetProcessById(victim))
        {
            Assert.Contains("ffmpeg", p.ProcessName, StringComparison.Ordinal);
        }

        var killedAt = Stopwatch.StartNew();
        var killTime = DateTimeOffset.UtcNow;
        using (var kill = Process.Start("kill", ["-KILL", victim.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
        {
            await kill.WaitForExitAsync();
            Assert.Equal(0, kill.ExitCode);
        }

        await h.WaitForAsync(() => h.Recorder.GetStatus().FfmpegPid is { } pid && pid != victim, TimeSpan.FromSeconds(2), "a new ffmpeg within 2 s of the kill");
        var restartedAfter = killedAt.Elapsed;
        await h.WaitForAsync(() => h.Events(RecordingEventTypes.Gap).Count == 1, TimeSpan.FromSeconds(10), "the gap event");
        await Task.Delay(2500);
        await h.StopAsync(SegmentEndReasons.SessionEnd);

        var gap = h.Events(RecordingEventTypes.Gap)[0];
        Assert.NotNull(gap.GapStart);
        Assert.NotNull(gap.GapEnd);
        Assert.True(gap.GapEnd > gap.GapStart, h.Describe());
        Assert.True(gap.GapEnd - gap.GapStart < TimeSpan.FromSeconds(8), $"gap {gap.GapEnd - gap.GapStart} too long\n{h.Describe()}");
        Assert.Contains($"ffmpeg {victim} exited", gap.Message, StringComparison.Ordinal);
        var killed = h.Segments.Single(s => s.EndReason == SegmentEndReasons.FfmpegExit);
        Assert.Equal(killed.End, gap.GapStart);
        var video = ProbedVideo.Probe(Path.Combine(h.SpoolDirectory, killed.File));
        Assert.True(video is { Frames: >= 30 }, $"the segment of the killed ffmpeg does not play: {video}\n{h.Describe()}");

        // Every fragment before the kill plays: only the last (≤ 2 s) fragment and x264's look-ahead (10 frames) may be lost.
        var recorded = (killTime - killed.Start).TotalSeconds;
        log.WriteLine($"restarted after {restartedAfter.TotalMilliseconds:F0} ms; gap {(gap.GapEnd - gap.GapStart)!.Value.TotalSeconds:F2} s; killed segment: {video.Frames} frames for {recorded:F1} s recorded at 5 fps");
        Assert.True(video.Frames >= (recorded - 4.5) * 5, $"{video.Frames} frames for {recorded:F1} s recorded before the kill\n{h.Describe()}");
        Assert.Equal(1, h.Recorder.GetStatus().Restarts);
        Assert.True(restartedAfter < TimeSpan.FromSeconds(2), restartedAfter.ToString());
        AssertPlayableChain(h, h.Segments);
    }

    [Fact]
    public async Task A_full_spool_pauses_the_recording_with_a_gap_and_an_error_and_it_resumes_when_space_is_back()
    {
        var budget = new SwitchableBudget();
        await using var h = await RecorderHarness.StartAsync(_x, _dir.Path, "full-1", RecorderHarness.Options(_x, segmentSeconds: 60), budget);
        await h.WaitForAsync(() => h.Recorder.GetStatus() is { State: "recording", SegmentBytes: > 5000 }, TimeSpan.FromSeconds(20), "recording with a first fragment on disk");

        budget.CanRecord = false; // the uploader: over the cap, and nothing uploaded left to delete
        await h.WaitForAsync(() => h.Recorder.GetStatus() is { FfmpegPid: null, State: "paused: spool full" }, TimeSpan.FromSeconds(15), "ffmpeg stopped and the recorder paused");
        Assert.Contains(SegmentEndReasons.SpoolFull, h.Segments.Select(s => s.EndReason));
        Assert.Contains(h.Events(RecordingEventTypes.Error), e => e.Message.Contains("spool", StringComparison.Ordinal) && e.Message.Contains("paused", StringComparison.Ordinal));
        await Task.Delay(3000);
        Assert.Null(h.Recorder.GetStatus().FfmpegPid); // still paused: nothing is written while the spool is full

        budget.CanRecord = true;
        await h.WaitForAsync(() => h.Events(RecordingEventTypes.Gap).Count == 1, TimeSpan.FromSeconds(20), "recording again, the pause as a gap");
        await Task.Delay(1500);
        await h.StopAsync(SegmentEndReasons.SessionEnd);
        var gap = h.Events(RecordingEventTypes.Gap)[0];
        Assert.Contains("spool is full", gap.Message, StringComparison.Ordinal);
        Assert.True(gap.GapEnd - gap.GapStart >= TimeSpan.FromSeconds(3), $"gap {gap.GapStart:O} … {gap.GapEnd:O}");
        AssertPlayableChain(h, h.Segments);
    }

    private sealed class SwitchableBudget : SessionTrail.Agent.Recording.Upload.ISpoolBudget
    {
        public volatile bool CanRecordNow = true;

        public bool CanRecord
        {
            get => CanRecordNow;
            set => CanRecordNow = value;
        }
    }

    [Fact]
    public async Task The_chain_continues_across_a_recorder_restart_and_files_are_private()
    {
        var options = RecorderHarness.Options(_x, segmentSeconds: 3);
        List<RecordingSegmentRecord> first;
        await using (var h = await RecorderHarness.StartAsync(_x, _dir.Path, "restart-1", options))
        {
            await h.WaitForAsync(() => h.Segments.Count >= 1, TimeSpan.FromSeconds(20), "a first segment");
            await h.StopAsync(SegmentEndReasons.AgentStop);
            first = [.. h.Segments];
            Assert.Equal(SegmentEndReasons.AgentStop, first[^1].EndReason);
            Assert.Empty(new SessionSpoolProbe(h.DataDir, h.Session).OpenSegments);
        }

        await using var again = await RecorderHarness.StartAsync(_x, _dir.Path, "restart-1", options);
        await again.WaitForAsync(() => again.Segments.Any(s => s.Index > first[^1].Index), TimeSpan.FromSeconds(20), "a segment after the restart");
        await again.StopAsync(SegmentEndReasons.SessionEnd);
        var second = again.Segments.Where(s => s.Index > first[^1].Index).ToList();
        Assert.Equal(first[^1].Index + 1, second[0].Index);
        Assert.Equal(first[^1].Sha256, second[0].PreviousSha256);
        Assert.True(again.Events(RecordingEventTypes.Gap).Count == 1, again.Describe());
        var resumed = again.Events(RecordingEventTypes.Gap)[0];
        Assert.Equal(first[^1].End, resumed.GapStart);
        AssertPlayableChain(again, [.. first, .. second]);

        // Private to the agent: 0700 folders, 0600 files, and another user can neither list nor read them.
        Assert.True(OperatingSystem.IsLinux() && Environment.UserName == "root", "this test runs as root (as the agent does) to check another user's access");
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(RecordingSpool.Root(_dir.Path)));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(again.SpoolDirectory));
        foreach (var file in Directory.GetFiles(again.SpoolDirectory))
        {
            Assert.True(File.GetUnixFileMode(file) == (UnixFileMode.UserRead | UnixFileMode.UserWrite), $"{file} is {File.GetUnixFileMode(file)}");
        }

        // The session's user, even with the folder path known, gets nothing (nobody = 65534).
        File.SetUnixFileMode(_dir.Path, (UnixFileMode)0b111_101_101);
        var segment = Path.Combine(again.SpoolDirectory, RecordingSpool.SegmentFileName(0));
        var (code, output) = await AsNobodyAsync("cat", segment);
        Assert.True(code != 0 && output.Contains("Permission denied", StringComparison.Ordinal), output);
        (code, output) = await AsNobodyAsync("sh", "-c", $"echo x >> '{segment}'");
        Assert.True(code != 0 && output.Contains("Permission denied", StringComparison.Ordinal), output);
        (code, output) = await AsNobodyAsync("ls", RecordingSpool.Root(_dir.Path));
        Assert.True(code != 0 && output.Contains("Permission denied", StringComparison.Ordinal), output);
    }

    [Fact]
    public async Task After_a_crash_the_leftover_ffmpeg_is_killed_and_its_open_segment_recovered()
    {
        // The "crashed agent": an ffmpeg recording into the spool, registered, never stopped.
        var options = RecorderHarness.Options(_x, segmentSeconds: 60);
        var spool = SessionSpool.Open(_dir.Path, "crash-1");
        var plan = new CapturePlan
        {
            Backend = CaptureBackends.X11grab,
            Display = _x.Display,
            Geometry = XrandrParser.Parse(_x.Xrandr("--current").Output),
            Directory = spool.Directory,
            FirstIndex = 0,
            SegmentListPath = Path.Combine(_dir.Path, "list.csv"),
        };
        var crashed = new ChildRegistry(ScreenRecorder.Root(_dir.Path));
        var run = await FfmpegRun.StartAsync("/usr/bin/ffmpeg", FfmpegArguments.Build(options, plan), ScreenRecorder.XEnvironment(options, _x.Display), crashed, new Sources.ListLogger());
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (!(File.Exists(spool.SegmentPath(0)) && new FileInfo(spool.SegmentPath(0)).Length > 5000))
        {
            Assert.True(DateTime.UtcNow < deadline, "ffmpeg wrote no fragment: " + run.LastLines);
            await Task.Delay(100);
        }

        // A registered pid whose start time does not match (a reused pid) is left alone.
        using var stranger = Process.Start("sleep", "60");
        File.AppendAllText(crashed.FilePath, $"{stranger.Id} 12345\n");

        // The next start: leftovers killed, the open segment closed as recovered.
        var registry = new ChildRegistry(ScreenRecorder.Root(_dir.Path));
        Assert.Equal([run.Pid], registry.KillLeftovers());
        Assert.True(await Task.WhenAny(run.Exited, Task.Delay(5000)) == run.Exited, "the leftover ffmpeg still runs");
        Assert.False(stranger.HasExited);
        stranger.Kill();
        Assert.Empty(registry.Pids);

        var output = new CollectingOutput();
        var ffmpeg = await FfmpegDiscovery.CheckAsync("ffmpeg", CaptureBackends.X11grab);
        var recorder = new ScreenRecorder(options, _dir.Path, "host1", ffmpeg, new XrandrGeometryProbe(_x.Display, "xrandr", ScreenRecorder.XEnvironment(options, _x.Display)), registry, TimeProvider.System, new Sources.ListLogger());
        await recorder.RecoverAsync(output, default);
        var record = Assert.Single(output.Records.OfType<RecordingSegmentRecord>());
        Assert.Equal(("rec:crash-1:0", SegmentEndReasons.Recovered, 1280, 800, "h264"), (record.Id, record.EndReason, record.Width, record.Height, record.Codec));
        Assert.True(record.End > record.Start, $"{record.Start} {record.End}");
        Assert.True(ProbedVideo.Probe(spool.SegmentPath(0)) is { Frames: >= 10, PixelFormat: "yuv420p" });
        Assert.Equal(record.Sha256, Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(spool.SegmentPath(0)))));

        // Sent once: a second recovery finds nothing open and nothing unsent.
        var again = new CollectingOutput();
        await recorder.RecoverAsync(again, default);
        Assert.Empty(again.Records);
        run.Dispose();
    }

    private static async Task<(int Code, string Output)> AsNobodyAsync(params string[] command)
    {
        var psi = new ProcessStartInfo("setpriv") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[] { "--reuid=65534", "--regid=65534", "--clear-groups" }.Concat(command))
        {
            psi.ArgumentList.Add(a);
        }

        using var p = Process.Start(psi)!;
        var output = await p.StandardOutput.ReadToEndAsync() + await p.StandardError.ReadToEndAsync();
        await p.WaitForExitAsync();
        return (p.ExitCode, output);
    }

    /// <summary>Every segment decodes (ffprobe counts its frames) at its recorded size, its sidecar and record agree, and prevSha256 links each to the one before.</summary>
    private static void AssertPlayableChain(RecorderHarness h, IReadOnlyList<RecordingSegmentRecord> segments)
    {
        string? previous = null;
        for (var i = 0; i < segments.Count; i++)
        {
            var s = segments[i];
            Assert.Equal(i, s.Index);
            Assert.Equal($"rec:{h.Session}:{i}", s.Id);
            Assert.Equal(previous, s.PreviousSha256);
            var path = Path.Combine(h.SpoolDirectory, s.File);
            var bytes = File.ReadAllBytes(path);
            Assert.Equal(s.Bytes, bytes.LongLength);
            Assert.Equal(s.Sha256, Convert.ToHexStringLower(SHA256.HashData(bytes)));
            var video = ProbedVideo.Probe(path);
            Assert.True(video is not null && video.Frames > 0, $"segment {i} does not play: {video}\n{h.Describe()}");
            Assert.Equal(("h264", "yuv420p", s.Width, s.Height), (video.Codec, video.PixelFormat, video.Width, video.Height));
            Assert.True(s.End >= s.Start);
            var sidecar = RecordingSpool.ReadSidecar(Path.Combine(h.SpoolDirectory, RecordingSpool.SidecarFileName(i)));
            Assert.Equal(s, sidecar with { Id = s.Id, Host = "host1" });
            previous = s.Sha256;
        }

        var chain = System.Text.Json.JsonDocument.Parse(File.ReadAllBytes(Path.Combine(h.SpoolDirectory, "chain.json"))).RootElement;
        Assert.Equal(previous, chain.GetProperty("lastSha256").GetString());
        Assert.Equal(segments.Count, chain.GetProperty("nextIndex").GetInt32());
    }
}
