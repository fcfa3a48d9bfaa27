using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using SessionTrail.Agent.Recording;
using SessionTrail.Agent.Recording.Upload;
using SessionTrail.Agent.Tests.Fakes;
using SessionTrail.Server.Recordings;
using Xunit.Abstractions;

namespace SessionTrail.Agent.Tests.Recording.Upload;

/// <summary>The uploader against the real server (in process, real Kestrel and filesystem store) over real fragmented MP4s.</summary>
public sealed class RecordingUploaderTests(ITestOutputHelper output) : IAsyncLifetime, IDisposable
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 30, 8, 0, 0, TimeSpan.Zero);
    private readonly TempDir _agentDir = new();
    private readonly TempDir _serverDir = new();
    private InProcessServer _server = null!;

    private SpoolWriter Spool => new(_agentDir.Path);

    public async Task InitializeAsync() => _server = await InProcessServer.StartAsync(_serverDir.Path);

    public async Task DisposeAsync() => await _server.DisposeAsync();

    public void Dispose()
    {
        _agentDir.Dispose();
        _serverDir.Dispose();
    }

    private RecordingUploader Uploader(CountingHandler? handler = null, Uri? url = null, Action<RecordingOptions>? configure = null, TimeSpan? timeout = null, TimeProvider? time = null)
    {
        var options = new RecordingOptions { ChunkBytes = 64 * 1024, LiveUploadInterval = TimeSpan.FromSeconds(1) };
        configure?.Invoke(options);
        var target = new ServerRecordingTarget(url ?? _server.Url, _server.Token, options.ChunkBytes, handler ?? new CountingHandler(), timeout ?? TimeSpan.FromSeconds(10));
        return new RecordingUploader(options, _agentDir.Path, [target], NullLoggerFactory.Instance, time ?? TimeProvider.System, () => 0.5);
    }

    /// <summary>Runs the uploader with drain already requested: it finishes every closed segment and returns.</summary>
    private static async Task DrainAsync(RecordingUploader uploader, TimeSpan? timeout = null)
    {
        using var stop = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(60));
        await uploader.RunAsync(new CancellationToken(canceled: true), stop.Token);
        Assert.False(stop.IsCancellationRequested, "the uploader did not drain in time: " + uploader.GetStatus());
    }

    private static async Task<bool> EventuallyAsync(Func<Task<bool>> probe, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!await probe())
        {
            if (DateTime.UtcNow > deadline)
            {
                return false;
            }

            await Task.Delay(20);
        }

        return true;
    }

    [Fact]
    public async Task AGrowingSegmentReachesTheServerLiveAndEndsByteIdenticalAndPlayable()
    {
        // The recorder's 5 s default interval: the delay measured is the one an auditor sees.
        var mp4 = Mp4Samples.Small;
        var ends = Mp4Samples.FragmentEnds(mp4);
        Assert.True(ends.Count >= 8, $"expected ~10 fragments, got {ends.Count}");
        Spool.Session("live-1", """{"id":"live-1","started":"2026-11-30T08:00:00Z"}""");
        using var uploader = Uploader(configure: o => o.LiveUploadInterval = TimeSpan.FromSeconds(5));
        using var drain = new CancellationTokenSource();
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        var run = uploader.RunAsync(drain.Token, stop.Token);
        // The recorder's clock: one fragment hits the disk every second, whatever the uploader does; a poller
        // notes when the server first holds each fragment whole (servable).
        var written = 0;
        var appendedAt = new DateTime[ends.Count - 1];
        var servableAt = new DateTime?[ends.Count - 1];
        using var polling = new CancellationTokenSource();
        var partialCopy = Path.Combine(_agentDir.Path, "partial.mp4");
        var poller = Task.Run(async () =>
        {
            while (!polling.IsCancellationRequested)
            {
                var held = (await _server.Store.GetInfoAsync("live-1", 0, default))?.Length ?? 0;
                var now = DateTime.UtcNow;
                for (var f = 0; f < servableAt.Length; f++)
                {
                    if (servableAt[f] is null && appendedAt[f] != default && held >= ends[f])
                    {
                        servableAt[f] = now;
                        if (f == 4)
                        {
                            // what an auditor would get now: the server's copy of the segment still being recorded
                            await File.WriteAllBytesAsync(partialCopy, (await _server.HeldBytesAsync("live-1", 0))!);
                        }
                    }
                }

                await Task.Delay(20);
            }
        });
        var schedule = Stopwatch.StartNew();
        for (var f = 0; f < ends.Count - 1; f++)
        {
            await Task.Delay(TimeSpan.FromSeconds(f) - schedule.Elapsed is { } wait && wait > TimeSpan.Zero ? wait : TimeSpan.Zero);
            Spool.Append("live-1", 0, mp4.AsSpan(written, ends[f] - written));
            appendedAt[f] = DateTime.UtcNow;
            written = ends[f];
        }

        Assert.True(await EventuallyAsync(() => Task.FromResult(servableAt.All(t => t is not null)), TimeSpan.FromSeconds(15)), "not every fragment reached the server within 15 s");
        await polling.CancelAsync();
        await poller;
        var delays = servableAt.Select((t, f) => (t!.Value - appendedAt[f]).TotalSeconds).ToList();
        Assert.NotNull(uploader.GetStatus().LiveLagSeconds);

        Spool.Append("live-1", 0, mp4.AsSpan(written));
        var sidecar = Spool.Close("live-1", 0, T0);
        uploader.Wake();
        Assert.True(await EventuallyAsync(() => Task.FromResult(File.Exists(Spool.MarkerPath("live-1", 0))), TimeSpan.FromSeconds(15)));
        await drain.CancelAsync();
        await run;

        output.WriteLine($"disk → servable delay per fragment (s), LiveUploadInterval 5 s: {string.Join(", ", delays.Select(d => d.ToString("0.00", CultureInfo.InvariantCulture)))}; mean {delays.Average():0.00}, max {delays.Max():0.00}");
        Assert.True(delays.Max() < 15, $"max delay {delays.Max():0.0} s");
        Assert.Equal(mp4, await _server.HeldBytesAsync("live-1", 0));
        var info = await _server.Store.GetInfoAsync("live-1", 0, default);
        Assert.True(info!.Complete);
        Assert.Equal(sidecar.Sha256, info.Sha256);
        Assert.InRange(Mp4Samples.ProbeFrames(partialCopy), 1, 49); // the server's copy mid-segment plays
        var status = uploader.GetStatus();
        Assert.Equal(1, status.UploadedSegmentsTotal);
        Assert.Equal(0, status.PendingSegments);
        Assert.Null(status.LiveLagSeconds);
    }

    [Fact]
    public async Task AServerStoppedMidUploadIsResumedFromItsOffsetWithoutResendingMoreThanTheChunkInFlight()
    {
        var mp4 = Mp4Samples.Noisy;
        var sidecar = Spool.Segment("s-stop", 0, mp4, T0);
        var handler = new CountingHandler { PatchDelay = TimeSpan.FromMilliseconds(20) };
        using var uploader = Uploader(handler);
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        var run = uploader.RunAsync(new CancellationToken(canceled: true), stop.Token);

        Assert.True(await EventuallyAsync(async () => (await _server.OfflineStore.GetInfoAsync("s-stop", 0, default))?.Length > mp4.Length / 3, TimeSpan.FromSeconds(30)));
        await _server.StopAsync();
        var heldWhileDown = (await _server.OfflineStore.GetInfoAsync("s-stop", 0, default))!.Length;
        await Task.Delay(2500);
        Assert.Equal("retrying", uploader.GetStatus().State);
        Assert.Contains("s-stop/0", uploader.GetStatus().LastError, StringComparison.Ordinal);
        await _server.StartAgainAsync();
        await run;

        Assert.False(stop.IsCancellationRequested);
        Assert.Equal(mp4, await _server.HeldBytesAsync("s-stop", 0));
        Assert.True((await _server.Store.GetInfoAsync("s-stop", 0, default))!.Complete);
        Assert.True(File.Exists(Spool.MarkerPath("s-stop", 0)));
        var resent = handler.PatchedBytes - mp4.Length;
        output.WriteLine($"{mp4.Length} bytes, server held {heldWhileDown} when stopped; PATCH bytes on the wire {handler.PatchedBytes} (resent {resent}); requests {handler.Requests.Count}");
        Assert.InRange(resent, 0, 2 * 64 * 1024); // at most the chunk(s) in flight when the server died
        var resumed = handler.Requests.Where(r => r.Method == "PATCH" && r.Status == 204).Select(r => r.Offset).ToList();
        Assert.Equal(resumed.Distinct().Count(), resumed.Count); // no offset accepted twice
        Assert.Equal(sidecar.Sha256, uploader.GetStatus().SetAside.Count == 0 ? sidecar.Sha256 : "failed");
    }

    [Fact]
    public async Task AConnectionCutMidChunkResumesFromWhatTheServerKept()
    {
        var mp4 = Mp4Samples.Noisy[..(600 * 1024)];
        Spool.Segment("s-cut", 0, mp4, T0);
        await using var proxy = new CuttingProxy(_server.Port) { CutAfterBytes = 200_000 };
        var handler = new CountingHandler();
        using var uploader = Uploader(handler, proxy.Url);

        await DrainAsync(uploader);

        Assert.Equal(1, proxy.Cuts);
        Assert.Equal(mp4, await _server.HeldBytesAsync("s-cut", 0));
        Assert.True(File.Exists(Spool.MarkerPath("s-cut", 0)));
        var failed = handler.Requests.First(r => r.Method == "PATCH" && r.Status != 204);
        var next = handler.Requests.SkipWhile(r => r != failed).First(r => r.Method == "PATCH" && r.Status == 204);
        output.WriteLine($"cut PATCH at {failed.Offset}; resumed at {next.Offset}; PATCH bytes {handler.PatchedBytes} for {mp4.Length}");
        Assert.True(next.Offset > failed.Offset && next.Offset % (64 * 1024) != 0, $"resumed at {next.Offset} after the cut chunk at {failed.Offset}: the server's partial chunk was not used");
        Assert.InRange(handler.PatchedBytes - mp4.Length, 0, 64 * 1024);
    }

    [Fact]
    public async Task AHashMismatchRestartsFromZeroOnceThenTheSegmentIsSetAsideKeptAndTheNextOneStillGoes()
    {
        var bad = Mp4Samples.Small;
        Spool.Segment("s-bad", 0, bad, T0, sha256: new string('a', 64));
        var good = Spool.Segment("s-bad", 1, Mp4Samples.Small[..20_000], T0.AddMinutes(5));
        var handler = new CountingHandler();
        using var uploader = Uploader(handler);

        await DrainAsync(uploader);

        var status = uploader.GetStatus();
        var failed = Assert.Single(status.SetAside);
        Assert.Equal("s-bad/0", failed.Segment);
        Assert.Contains("422", failed.Reason, StringComparison.Ordinal);
        Assert.True(File.Exists(Spool.VideoPath("s-bad", 0)));
        Assert.False(File.Exists(Spool.MarkerPath("s-bad", 0)));
        Assert.Equal(2, handler.Requests.Count(r => r.Method == "POST" && r.Status == 422));
        Assert.Equal(2 * bad.Length + good.Bytes, handler.PatchedBytes); // sent, discarded, sent once more; then segment 1
        Assert.True(File.Exists(Spool.MarkerPath("s-bad", 1)));
        Assert.Contains("s-bad/0 set aside", status.LastError, StringComparison.Ordinal);
        Assert.Equal(0, (await _server.Store.GetInfoAsync("s-bad", 0, default))?.Length ?? 0);
    }

    [Fact]
    public async Task ACrashBetweenCompleteAndMarkerIsHealedByTheNextRunWithoutSendingBytes()
    {
        var sidecar = Spool.Segment("s-crash", 0, Mp4Samples.Small, T0);
        using (var first = Uploader())
        {
            await DrainAsync(first);
        }

        File.Delete(Spool.MarkerPath("s-crash", 0)); // the agent died after the server's 200, before the marker's rename
        var handler = new CountingHandler();
        using var second = Uploader(handler);

        await DrainAsync(second);

        Assert.True(File.Exists(Spool.MarkerPath("s-crash", 0)));
        Assert.Equal(0, handler.PatchedBytes);
        Assert.Equal(["GET"], handler.Requests.Select(r => r.Method));
        Assert.Contains(sidecar.Sha256, await File.ReadAllTextAsync(Spool.MarkerPath("s-crash", 0)), StringComparison.Ordinal);
    }

    [Fact]
    public async Task AnUploaderStoppedMidSegmentLeavesNoMarkerAndTheNextRunResumesFromTheServer()
    {
        var mp4 = Mp4Samples.Noisy;
        Spool.Segment("s-kill", 0, mp4, T0);
        using (var first = Uploader(new CountingHandler { PatchDelay = TimeSpan.FromMilliseconds(20) }))
        {
            using var stop = new CancellationTokenSource();
            var run = first.RunAsync(CancellationToken.None, stop.Token);
            Assert.True(await EventuallyAsync(async () => (await _server.Store.GetInfoAsync("s-kill", 0, default))?.Length > mp4.Length / 4, TimeSpan.FromSeconds(30)));
            await stop.CancelAsync(); // the agent's hard stop: mid-chunk
            await run;
        }

        var held = (await _server.Store.GetInfoAsync("s-kill", 0, default))!.Length;
        Assert.False(File.Exists(Spool.MarkerPath("s-kill", 0)));
        var handler = new CountingHandler();
        using var second = Uploader(handler);

        await DrainAsync(second);

        Assert.Equal(mp4, await _server.HeldBytesAsync("s-kill", 0));
        Assert.Equal(held, handler.Requests.First(r => r.Method == "PATCH").Offset);
        Assert.Equal(mp4.Length - held, handler.PatchedBytes);
    }

    [Fact]
    public async Task SessionsGoOldestFirstAndSegmentsInIndexOrder()
    {
        Spool.Session("newer", """{"id":"newer","started":"2026-11-30T09:00:00Z"}""");
        Spool.Session("older", """{"id":"older","started":"2026-11-30T07:00:00Z"}""");
        foreach (var index in new[] { 2, 0, 1 })
        {
            Spool.Segment("newer", index, Mp4Samples.Small[..(1000 + index)], T0);
            Spool.Segment("older", index, Mp4Samples.Small[..(2000 + index)], T0);
        }

        var handler = new CountingHandler();
        using var uploader = Uploader(handler);

        await DrainAsync(uploader);

        var completes = handler.Requests.Where(r => r.Method == "POST").ToList();
        Assert.Equal(6, completes.Count);
        var order = new List<string>();
        foreach (var dir in new[] { "older", "newer" })
        {
            for (var i = 0; i < 3; i++)
            {
                order.Add($"{dir}/{i}: {File.GetLastWriteTimeUtc(Spool.MarkerPath(dir, i)).Ticks}");
            }
        }

        var times = order.Select(o => long.Parse(o.Split(": ")[1], CultureInfo.InvariantCulture)).ToList();
        Assert.Equal(times.Order().ToList(), times);
    }

    [Fact]
    public async Task TheBudgetDeletesOnlyUploadedVideosOldestFirstThenReportsSpoolFull()
    {
        Spool.Session("old", """{"id":"old","started":"2026-11-30T07:00:00Z"}""");
        Spool.Session("new", """{"id":"new","started":"2026-11-30T09:00:00Z"}""");
        var chunk = Mp4Samples.Small[..20_000];
        Spool.Segment("old", 0, chunk, T0);
        Spool.Segment("old", 1, chunk, T0);
        using (var first = Uploader())
        {
            await DrainAsync(first);
        }

        Spool.Segment("new", 0, chunk, T0); // not uploaded: the next uploader cannot reach any server
        var sidecarsAndMarkers = Directory.EnumerateFiles(Spool.SessionDirectory("old")).Where(f => !f.EndsWith(".mp4", StringComparison.Ordinal)).ToList();
        var spoolRoot = RecordingSpool.Root(_agentDir.Path);
        var total = Directory.EnumerateFiles(spoolRoot, "*", SearchOption.AllDirectories).Sum(f => new FileInfo(f).Length);

        // Cap: room for everything but one video → the oldest uploaded one goes, nothing else.
        var cap = total - 10_000;
        using (var uploader = Uploader(url: new Uri("http://127.0.0.1:9/"), configure: o => o.SpoolMaxBytes = cap))
        {
            using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(3));
            await uploader.RunAsync(CancellationToken.None, stop.Token);
            Assert.True(uploader.Budget.CanRecord);
            Assert.False(File.Exists(Spool.VideoPath("old", 0)));
            Assert.True(File.Exists(Spool.VideoPath("old", 1)));
            Assert.Equal(1, uploader.GetStatus().DeletedSegmentsTotal);
        }

        // Cap below what is not uploaded: the other uploaded video goes, the not-uploaded one stays → spool full.
        var log = new ListLoggerProvider();
        using (var loggers = new LoggerFactory([log]))
        using (var uploader = new RecordingUploader(
            new RecordingOptions { SpoolMaxBytes = 10_000, LiveUploadInterval = TimeSpan.FromSeconds(1) },
            _agentDir.Path,
            [new ServerRecordingTarget(new Uri("http://127.0.0.1:9/"), "st_x", 64 * 1024)],
            loggers,
            TimeProvider.System))
        {
            using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(3));
            await uploader.RunAsync(CancellationToken.None, stop.Token);
            var status = uploader.GetStatus();
            Assert.False(uploader.Budget.CanRecord);
            Assert.True(status.SpoolFull);
            Assert.Equal("spool full", status.State);
            Assert.Contains("spool full", status.LastError, StringComparison.Ordinal);
            Assert.False(File.Exists(Spool.VideoPath("old", 1)));
            Assert.True(File.Exists(Spool.VideoPath("new", 0)));
            Assert.All(sidecarsAndMarkers, f => Assert.True(File.Exists(f), f));
            Assert.Equal(1, status.PendingSegments);
            Assert.Equal(chunk.Length, status.PendingBytes);
            Assert.Single(log.Messages, m => m.StartsWith("Error Recording spool full:", StringComparison.Ordinal)); // said once, not every pass
        }

        // The server comes back (the real one): the pending segment uploads, its video may go, recording may continue.
        using (var uploader = Uploader(configure: o => o.SpoolMaxBytes = 10_000))
        {
            await DrainAsync(uploader);
            Assert.True(uploader.Budget.CanRecord);
            Assert.False(uploader.GetStatus().SpoolFull);
            Assert.True(File.Exists(Spool.MarkerPath("new", 0)));
            Assert.False(File.Exists(Spool.VideoPath("new", 0)));
        }
    }

    [Fact]
    public async Task WithUploadNoneSegmentsStayInTheSpoolAreNeverDeletedAndAFullSpoolPausesTheRecorder()
    {
        Spool.Session("local", """{"id":"local","started":"2026-11-30T07:00:00Z"}""");
        var chunk = Mp4Samples.Small[..20_000];
        Spool.Segment("local", 0, chunk, T0);
        Spool.Segment("local", 1, chunk, T0);
        var options = new RecordingOptions { Upload = "none", SpoolMaxBytes = 30_000, LiveUploadInterval = TimeSpan.FromSeconds(1) };
        Assert.Empty(RecordingUploader.CreateTargets(options, server: null, token: null));
        using var uploader = new RecordingUploader(options, _agentDir.Path, null, null, NullLoggerFactory.Instance, TimeProvider.System);
        await DrainAsync(uploader, TimeSpan.FromSeconds(10)); // nothing to send: drained at once

        Assert.True(File.Exists(Spool.VideoPath("local", 0)));
        Assert.True(File.Exists(Spool.VideoPath("local", 1)));
        Assert.False(File.Exists(Spool.MarkerPath("local", 0)));
        var status = uploader.GetStatus();
        Assert.Equal(2, status.PendingSegments);
        Assert.True(status.SpoolFull);
        Assert.False(uploader.Budget.CanRecord); // over the cap with nothing uploaded to delete: the recorder pauses
    }

    [Fact]
    public async Task TheStatusRoundTripsThroughTheAgentStatusFile()
    {
        Spool.Segment("st", 0, Mp4Samples.Small, T0);
        Spool.Append("st", 1, Mp4Samples.Small.AsSpan(0, 1000));
        using var uploader = Uploader(configure: o => o.SpoolMaxBytes = 1 << 20);
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(2));
        await uploader.RunAsync(CancellationToken.None, stop.Token);
        var status = new Status.AgentStatus
        {
            WrittenAt = T0, AgentId = "a", State = "running", StartedAt = T0, Sinks = [], Sources = [], RecordingUpload = uploader.GetStatus(),
        };

        status.Write(_agentDir.Path);
        var read = Status.AgentStatus.Read(_agentDir.Path)!.RecordingUpload!;

        Assert.Equal(1, read.UploadedSegmentsTotal);
        Assert.Equal(Mp4Samples.Small.Length, read.UploadedBytesTotal);
        Assert.Equal(1, read.OpenSegments);
        Assert.Equal(1, read.PendingSegments);
        Assert.Equal(1 << 20, read.SpoolMaxBytes);
        Assert.True(read.SpoolBytes > Mp4Samples.Small.Length);
        Assert.NotNull(read.LiveLagSeconds);
        Assert.Equal("idle", read.State);
        Assert.Contains("\"recordingUpload\"", status.ToJson(), StringComparison.Ordinal);
        Assert.Equal(1000, (await _server.Store.GetInfoAsync("st", 1, default))!.Length); // the open segment went live
    }

    [Fact]
    public void TheTargetsFollowTheUploadSettingAndBadSettingsAreNamed()
    {
        var server = new Uri("http://127.0.0.1:5080/");
        var both = RecordingUploader.CreateTargets(new RecordingOptions { Upload = "both", S3 = new RecordingS3Options { Bucket = "b", ServiceUrl = "http://127.0.0.1:9", Region = "us-east-1" } }, server, "st_x");
        Assert.Equal(["server", "s3"], both.Select(t => t.Name));
        foreach (var t in both)
        {
            t.Dispose();
        }

        var e1 = Assert.Throws<SessionTrail.Agent.Config.AgentOptionsException>(() => RecordingUploader.CreateTargets(new RecordingOptions { Upload = "ftp" }, server, "st_x"));
        Assert.Contains("Agent:Recording:Upload", e1.Message, StringComparison.Ordinal);
        var e2 = Assert.Throws<SessionTrail.Agent.Config.AgentOptionsException>(() => RecordingUploader.CreateTargets(new RecordingOptions { Upload = "s3" }, server, "st_x"));
        Assert.Contains("Agent:Recording:S3:Bucket", e2.Message, StringComparison.Ordinal);
        var e3 = Assert.Throws<SessionTrail.Agent.Config.AgentOptionsException>(() => RecordingUploader.CreateTargets(new RecordingOptions(), null, null));
        Assert.Contains("no ServerUrl", e3.Message, StringComparison.Ordinal);
        var e4 = Assert.Throws<SessionTrail.Agent.Config.AgentOptionsException>(() => RecordingUploader.CreateTargets(new RecordingOptions { ChunkBytes = 32 << 20 }, server, "st_x"));
        Assert.Contains("ChunkBytes", e4.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("s-1")]
    [InlineData("a/b %2F c")]
    [InlineData("ünï")]
    [InlineData(".x")]
    public async Task SessionIdsThatNeedEscapingArriveUnchanged(string session)
    {
        var sidecar = Spool.Segment(session, 0, Mp4Samples.Small[..5000], T0);
        using var uploader = Uploader();

        await DrainAsync(uploader);

        Assert.Empty(uploader.GetStatus().SetAside);
        Assert.Equal(sidecar.Sha256, (await _server.Store.GetInfoAsync(session, 0, default))?.Sha256);
        Assert.Equal(session, SpoolScan.DecodeDirectoryName(RecordingSpool.SessionDirectoryName(session)));
    }

    [Fact]
    public async Task ADotSessionIdIsSetAsideNamingTheReasonNotRetriedInALoop()
    {
        Spool.Segment("..", 0, Mp4Samples.Small[..5000], T0);
        using var uploader = Uploader();

        await DrainAsync(uploader);

        var failed = Assert.Single(uploader.GetStatus().SetAside);
        Assert.Contains("cannot be named in a URL", failed.Reason, StringComparison.Ordinal);
        Assert.True(File.Exists(Spool.VideoPath("..", 0)));
    }

    [Fact]
    public async Task TheIssueReproductionAZeroByteSegmentNoLongerStallsTheUploadsQueuedBehindIt()
    {
        // Issue 12: a 0-byte segment (a crash can leave one) got "409 … 0 of 0 bytes uploaded so far" forever, and
        // a 70,000-byte segment of another session stayed at offset 0.
        Spool.Session("s-crashed", """{"id":"s-crashed","started":"2026-11-30T07:00:00Z"}""");
        Spool.Session("s-other", """{"id":"s-other","started":"2026-11-30T09:00:00Z"}""");
        var empty = Spool.Segment("s-crashed", 0, [], T0);
        var other = Spool.Segment("s-other", 0, Mp4Samples.Noisy[..70_000], T0);
        var handler = new CountingHandler();
        using var uploader = Uploader(handler);

        await DrainAsync(uploader, TimeSpan.FromSeconds(30));

        Assert.Equal((0L, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"), (empty.Bytes, empty.Sha256));
        var crashed = (await _server.Store.GetInfoAsync("s-crashed", 0, default))!;
        Assert.Equal((0L, true, empty.Sha256), (crashed.Length, crashed.Complete, crashed.Sha256));
        var held = (await _server.Store.GetInfoAsync("s-other", 0, default))!;
        Assert.Equal((70_000L, true, other.Sha256), (held.Length, held.Complete, held.Sha256));
        Assert.True(File.Exists(Spool.MarkerPath("s-crashed", 0)));
        Assert.True(File.Exists(Spool.MarkerPath("s-other", 0)));
        Assert.Equal(["GET", "POST"], handler.Requests.Where(r => r.Path.Contains("/s-crashed/", StringComparison.Ordinal)).Select(r => r.Method));
        Assert.Empty(uploader.GetStatus().SetAside);
    }

    [Fact]
    public async Task AZeroByteSegmentFirstInTheQueueAndANormalOneBehindItBothArrive()
    {
        var empty = Spool.Segment("s-zero", 0, [], T0);
        var normal = Spool.Segment("s-zero", 1, Mp4Samples.Small, T0.AddMinutes(5));
        using var uploader = Uploader();

        await DrainAsync(uploader, TimeSpan.FromSeconds(30));

        Assert.Equal(empty.Sha256, (await _server.Store.GetInfoAsync("s-zero", 0, default))?.Sha256);
        Assert.Equal(normal.Sha256, (await _server.Store.GetInfoAsync("s-zero", 1, default))?.Sha256);
        Assert.Equal(Mp4Samples.Small, await _server.HeldBytesAsync("s-zero", 1));
        Assert.Equal(2, uploader.GetStatus().UploadedSegmentsTotal);
    }

    [Fact]
    public async Task ASegmentTheServerKeepsRefusingIsSetAsideShownInStatusAndRetriedLaterWhileTheRestFlow()
    {
        using var clock = new FakeTimeProvider(T0);
        Spool.Session("s-stuck", """{"id":"s-stuck","started":"2026-11-30T07:00:00Z"}""");
        Spool.Session("s-flow", """{"id":"s-flow","started":"2026-11-30T09:00:00Z"}""");
        var stuck = Spool.Segment("s-stuck", 0, Mp4Samples.Small[..30_000], T0);
        Spool.Segment("s-flow", 0, Mp4Samples.Small[..20_000], T0);
        Spool.Segment("s-flow", 1, Mp4Samples.Small[..10_000], T0);

        // The real server cannot store s-stuck: a file sits where its folder goes, so every PATCH of it answers 500.
        var blocker = Path.Combine(_serverDir.Path, "recordings", FileSystemRecordingStore.SessionDirectoryName("s-stuck"));
        await File.WriteAllTextAsync(blocker, "not a folder");
        var handler = new CountingHandler();
        using var uploader = Uploader(handler, time: clock);
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        var run = uploader.RunAsync(CancellationToken.None, stop.Token);

        Assert.True(
            await EventuallyAsync(() => Task.FromResult(File.Exists(Spool.MarkerPath("s-flow", 1)) && uploader.GetStatus().SetAside.Count == 1), TimeSpan.FromSeconds(30)),
            "the segments behind the refused one did not go: " + uploader.GetStatus());
        var aside = Assert.Single(uploader.GetStatus().SetAside);
        Assert.Equal("s-stuck/0", aside.Segment);
        Assert.Contains("answered 500", aside.Reason, StringComparison.Ordinal);
        Assert.Equal((T0, 1, T0), (aside.Since, aside.Attempts, aside.LastAttempt));
        Assert.Equal(T0 + TimeSpan.FromSeconds(7.5), aside.NextRetry); // 10 s, jitter 0.5 × random 0.5
        Assert.True(File.Exists(Spool.MarkerPath("s-flow", 0)));
        Assert.Contains("s-stuck/0 set aside", uploader.GetStatus().LastError, StringComparison.Ordinal);
        Assert.Equal(("idle", 1), (uploader.GetStatus().State, uploader.GetStatus().PendingSegments)); // kept and counted, but no work until its retry
        var status = new Status.AgentStatus { WrittenAt = T0, AgentId = "a", State = "running", StartedAt = T0, Sinks = [], Sources = [], RecordingUpload = uploader.GetStatus() };
        status.Write(_agentDir.Path);
        Assert.Equal(aside, Assert.Single(Status.AgentStatus.Read(_agentDir.Path)!.RecordingUpload!.SetAside));
        Assert.Contains("\"setAside\"", status.ToJson(), StringComparison.Ordinal);

        // A pass before the retry is due leaves it aside (nothing of it is sent) while a new segment behind it goes.
        var tried = handler.CountFor("s-stuck", 0);
        Spool.Segment("s-flow", 2, Mp4Samples.Small[..5_000], T0);
        uploader.Wake();
        Assert.True(await EventuallyAsync(() => Task.FromResult(File.Exists(Spool.MarkerPath("s-flow", 2))), TimeSpan.FromSeconds(30)));
        Assert.Equal(tried, handler.CountFor("s-stuck", 0));

        // The cause goes away; once the retry is due the segment goes through and leaves the list.
        File.Delete(blocker);
        clock.Advance(TimeSpan.FromSeconds(8));
        uploader.Wake();
        Assert.True(await EventuallyAsync(() => Task.FromResult(File.Exists(Spool.MarkerPath("s-stuck", 0))), TimeSpan.FromSeconds(30)), "not retried: " + uploader.GetStatus());
        Assert.Equal(stuck.Sha256, (await _server.Store.GetInfoAsync("s-stuck", 0, default))?.Sha256);
        Assert.Empty(uploader.GetStatus().SetAside);
        await stop.CancelAsync();
        await run;
    }

    [Fact]
    public async Task AnOpenSegmentThatShrinksWhileItIsSentIsSetAsideNamingItsFileAndTheRestFlow()
    {
        Spool.Session("s-shrink", """{"id":"s-shrink","started":"2026-11-30T07:00:00Z"}""");
        Spool.Session("s-after", """{"id":"s-after","started":"2026-11-30T09:00:00Z"}""");
        Spool.Append("s-shrink", 0, Mp4Samples.Noisy.AsSpan(0, 200_000)); // open: no sidecar
        Spool.Segment("s-after", 0, Mp4Samples.Small[..20_000], T0);
        var handler = new CountingHandler();
        var cut = false;
        handler.BeforeSend = request =>
        {
            if (!cut && request.Method == HttpMethod.Patch && request.RequestUri!.AbsolutePath.Contains("/s-shrink/", StringComparison.Ordinal))
            {
                cut = true;
                using var video = new FileStream(Spool.VideoPath("s-shrink", 0), FileMode.Open, FileAccess.Write, FileShare.ReadWrite);
                video.SetLength(1000); // the file is cut under the upload
            }
        };
        using var uploader = Uploader(handler);

        await DrainAsync(uploader, TimeSpan.FromSeconds(30));

        Assert.True(cut);
        var aside = Assert.Single(uploader.GetStatus().SetAside);
        Assert.Equal("s-shrink/0", aside.Segment);
        Assert.Contains(Spool.VideoPath("s-shrink", 0), aside.Reason, StringComparison.Ordinal);
        Assert.Contains("shrank after the upload started", aside.Reason, StringComparison.Ordinal);
        Assert.DoesNotContain("unreachable", uploader.GetStatus().LastError, StringComparison.Ordinal);
        Assert.True(File.Exists(Spool.MarkerPath("s-after", 0)));
        Assert.Equal(1, handler.Requests.Count(r => r.Path.Contains("/s-after/", StringComparison.Ordinal) && r.Method == "POST")); // in the first pass, no retry
    }

    [Fact]
    public async Task VanishedAndChangedSegmentsAreSetAsideEachWithItsReasonNeverSentChangedAndGoOnceRestored()
    {
        using var clock = new FakeTimeProvider(T0);
        var first = Mp4Samples.Small[..9_000];
        var second = Mp4Samples.Small[..12_000];
        Spool.Segment("s-odd", 0, first, T0);
        Spool.Segment("s-odd", 1, second, T0);
        var third = Spool.Segment("s-odd", 2, Mp4Samples.Small[..3_000], T0);
        var moved = Spool.VideoPath("s-odd", 0) + ".moved";
        File.Move(Spool.VideoPath("s-odd", 0), moved); // vanished
        await File.WriteAllBytesAsync(Spool.VideoPath("s-odd", 1), second[..5_000]); // shrank after it was closed
        var handler = new CountingHandler();
        using var uploader = Uploader(handler, time: clock);
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        var run = uploader.RunAsync(CancellationToken.None, stop.Token);

        Assert.True(await EventuallyAsync(() => Task.FromResult(File.Exists(Spool.MarkerPath("s-odd", 2)) && uploader.GetStatus().SetAside.Count == 2), TimeSpan.FromSeconds(30)));
        var aside = uploader.GetStatus().SetAside;
        Assert.Equal(["s-odd/0", "s-odd/1"], aside.Select(a => a.Segment));
        Assert.Contains("video is missing from the spool", aside[0].Reason, StringComparison.Ordinal);
        Assert.Contains("holds 5000 bytes but its sidecar says 12000", aside[1].Reason, StringComparison.Ordinal);
        Assert.Equal(third.Sha256, (await _server.Store.GetInfoAsync("s-odd", 2, default))?.Sha256);

        // Retry due, segment 1 now the right size but other bytes: checked locally, still aside, not one byte sent.
        var changed = (byte[])second.Clone();
        changed[^1] ^= 0xFF;
        await File.WriteAllBytesAsync(Spool.VideoPath("s-odd", 1), changed);
        clock.Advance(TimeSpan.FromSeconds(8));
        uploader.Wake();
        Assert.True(await EventuallyAsync(() => Task.FromResult(uploader.GetStatus().SetAside.All(a => a.Attempts == 2)), TimeSpan.FromSeconds(30)));
        aside = uploader.GetStatus().SetAside;
        Assert.Contains("it changed after the segment was closed; nothing was sent", aside[1].Reason, StringComparison.Ordinal);
        Assert.All(aside, a => Assert.Equal(T0, a.Since));
        Assert.Equal(T0 + TimeSpan.FromSeconds(8 + 15), aside[1].NextRetry); // second retry: 20 s × 0.75
        Assert.Equal(0, handler.CountFor("s-odd", 1));

        // Both restored: the next due retry sends them.
        File.Move(moved, Spool.VideoPath("s-odd", 0));
        await File.WriteAllBytesAsync(Spool.VideoPath("s-odd", 1), second);
        clock.Advance(TimeSpan.FromSeconds(16));
        uploader.Wake();
        Assert.True(await EventuallyAsync(() => Task.FromResult(File.Exists(Spool.MarkerPath("s-odd", 0)) && File.Exists(Spool.MarkerPath("s-odd", 1))), TimeSpan.FromSeconds(30)), "not retried: " + uploader.GetStatus());
        Assert.Equal(second, await _server.HeldBytesAsync("s-odd", 1));
        Assert.Empty(uploader.GetStatus().SetAside);
        await stop.CancelAsync();
        await run;
    }
}
