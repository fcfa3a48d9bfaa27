using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text.Json;
using SessionTrail.EndToEnd.Tests.Infrastructure;
using Xunit.Abstractions;

namespace SessionTrail.EndToEnd.Tests;

/// <summary>
/// Session recording with the real things: `sessiontrail up --record` recording a real X display (Xvnc)
/// with windows drawing on it through real ffmpeg; the display is resized with xrandr mid-session and
/// ffmpeg is SIGKILLed once; then the session ends and the server's copy is checked with ffprobe, the
/// hash chain, the signed manifest (`recordings verify`), HTTP Range and the access audit log.
/// </summary>
[Collection(EndToEnd.Serial)]
public sealed class RecordingEndToEndTests(ITestOutputHelper log) : IAsyncLifetime, IAsyncDisposable
{
    private const string SessionId = "rec-e2e-1";
    private readonly Trail trail = new();
    private XvncDisplay? display;

    public Task InitializeAsync() => Task.CompletedTask;

    ValueTask IAsyncDisposable.DisposeAsync() => new(DisposeAsync());

    // IAsyncLifetime: xunit 2 never calls IAsyncDisposable on a test class.
    public async Task DisposeAsync()
    {
        await trail.DisposeAsync();
        display?.Dispose();
    }

    [RootFact]
    public async Task ARecordedSessionSurvivesAResizeAndAKilledFfmpegAndVerifiesOnTheServer()
    {
        display = new XvncDisplay(1280, 800); // with an xterm printing non-stop

        var data = Path.Combine(trail.Root, "data");
        var config = Path.Combine(trail.Root, "recording.json");
        await File.WriteAllTextAsync(config, $$"""
            { "Agent": { "Recording": {
                "Display": "{{display.Display}}",
                "Fps": 5,
                "MaxSegmentLength": "00:01:00",
                "LiveUploadInterval": "00:00:02" } } }
            """);
        var up = trail.Track(TrailProcess.Start(new Dictionary<string, string> { ["DISPLAY"] = display.Display }, "up", "--data", data, "--urls", trail.Url, "--record", "--config", config));
        await up.WaitForOutputAsync("capturing processes", TimeSpan.FromSeconds(60));
        var token = await CreateTokenAsync(data);
        Assert.Contains("sign-in: no users yet; add the first admin", up.Output, StringComparison.Ordinal);

        var start = await TrailProcess.RunAsync(TimeSpan.FromSeconds(30), "session", "start", "--data", data, "--id", SessionId, "--user", "alice", "--stack", "stack-a", "--fleet", "fleet-a");
        Assert.True(start.ExitCode == 0, start.Stderr);
        var first = await WaitForFfmpegAsync(display.Display, except: null, TimeSpan.FromSeconds(30), up);
        await Task.Delay(TimeSpan.FromSeconds(6));

        // (1) The screen grows: the recorder closes the segment and starts a new one at the new size.
        var resize = display.Xrandr("-s", "1920x1080");
        Assert.True(resize.ExitCode == 0, resize.Output);
        var afterResize = await WaitForFfmpegAsync(display.Display, except: first, TimeSpan.FromSeconds(10), up);
        await Task.Delay(TimeSpan.FromSeconds(6));

        // (2) Someone kills ffmpeg: it is back within 2 s (a little slack for this shared machine) and the gap is on the timeline.
        try
        {
            Process.GetProcessById(afterResize).Kill();
        }
        catch (ArgumentException)
        {
            Assert.Fail($"the ffmpeg recording at 1920x1080 ({afterResize}) is gone before the test killed it:\n{up.Output}");
        }

        var killedAt = Stopwatch.StartNew();
        var restarted = await WaitForFfmpegAsync(display.Display, except: afterResize, TimeSpan.FromSeconds(10), up);
        var restartSeconds = killedAt.Elapsed.TotalSeconds;
        log.WriteLine($"ffmpeg {afterResize} killed; ffmpeg {restarted} recording again after {restartSeconds:F2} s");
        Assert.True(restartSeconds < 3.5, $"ffmpeg came back only after {restartSeconds:F2} s");
        await Task.Delay(TimeSpan.FromSeconds(6));

        // Near-live: before the session ends, the open segment's bytes are already on the server.
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(60) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        var live = await Trail.EventuallyAsync(
            () => ListAsync(http),
            l => l.GetProperty("segments").EnumerateArray().Any(s => s.GetProperty("state").GetString() == "uploading" && s.GetProperty("uploadedBytes").GetInt64() > 0),
            TimeSpan.FromSeconds(20));
        log.WriteLine("while recording: " + live);
        Assert.Contains(live.GetProperty("segments").EnumerateArray(), s => s.GetProperty("state").GetString() == "uploading");

        var end = await TrailProcess.RunAsync(TimeSpan.FromSeconds(30), "session", "end", "--data", data);
        Assert.True(end.ExitCode == 0, end.Stderr);
        var listing = await Trail.EventuallyAsync(
            () => ListAsync(http),
            l => l.GetProperty("segments").GetArrayLength() >= 3
                 && l.GetProperty("segments").EnumerateArray().All(s => s.GetProperty("state").GetString() == "complete")
                 && l.GetProperty("events").EnumerateArray().Any(e => e.GetProperty("type").GetString() == "stopped"),
            TimeSpan.FromSeconds(90));
        log.WriteLine("after the end: " + listing);
        Assert.True(listing.GetProperty("chain").GetProperty("ok").GetBoolean(), listing.ToString());

        // Every segment: complete, chained, plays to its last frame, H.264 yuv420p at the geometry of its time.
        var segments = listing.GetProperty("segments").EnumerateArray().ToList();
        Assert.True(segments.Count >= 3, $"expected a segment before the resize, one after it and one after the kill, got {segments.Count}");
        string? previous = null;
        var resized = false;
        for (var i = 0; i < segments.Count; i++)
        {
            var s = segments[i];
            Assert.Equal(i, s.GetProperty("index").GetInt32());
            Assert.Equal(previous, s.TryGetProperty("prevSha256", out var p) && p.ValueKind == JsonValueKind.String ? p.GetString() : null);
            var bytes = await http.GetByteArrayAsync(new Uri($"{trail.Url}/api/v1/sessions/{SessionId}/recordings/{i}"));
            var sha = Convert.ToHexStringLower(SHA256.HashData(bytes));
            Assert.Equal(s.GetProperty("sha256").GetString(), sha);
            Assert.Equal(s.GetProperty("bytes").GetInt64(), bytes.LongLength);
            previous = sha;

            var file = Path.Combine(trail.Root, $"segment{i}.mp4");
            await File.WriteAllBytesAsync(file, bytes);
            var probe = ProbedVideo.Probe(file);
            log.WriteLine($"segment {i}: {s}\n  ffprobe: {probe}");
            Assert.NotNull(probe); // ffprobe decoded every frame without an error
            Assert.Equal("h264", probe.Codec);
            Assert.Equal("yuv420p", probe.PixelFormat);
            var (width, height) = (probe.Width, probe.Height);
            Assert.Equal(s.GetProperty("width").GetInt32(), width);
            Assert.Equal(s.GetProperty("height").GetInt32(), height);
            Assert.True(probe.Frames > 0, $"segment {i} has no decodable frame");
            if (i == 0)
            {
                Assert.Equal((1280, 800), (width, height));
            }

            resized |= (width, height) == (1920, 1080);
            if (resized)
            {
                Assert.Equal((1920, 1080), (width, height)); // never back to the old size, never distorted
            }
        }

        Assert.True(resized, "no segment was recorded at 1920x1080 after the resize");
        var events = listing.GetProperty("events").EnumerateArray().ToList();
        var gap = Assert.Single(events, e => e.GetProperty("type").GetString() == "gap");
        var gapStart = gap.GetProperty("gapStart").GetDateTimeOffset();
        var gapEnd = gap.GetProperty("gapEnd").GetDateTimeOffset();
        Assert.True(gapEnd > gapStart && gapEnd - gapStart < TimeSpan.FromSeconds(5), $"gap {gapStart:O} … {gapEnd:O}");
        Assert.Contains(events, e => e.GetProperty("type").GetString() == "geometry" && e.GetProperty("width").GetInt32() == 1920 && e.GetProperty("height").GetInt32() == 1080);

        // HTTP Range, as a browser's <video> asks.
        var full = await File.ReadAllBytesAsync(Path.Combine(trail.Root, "segment0.mp4"));
        using (var range = new HttpRequestMessage(HttpMethod.Get, new Uri($"{trail.Url}/api/v1/sessions/{SessionId}/recordings/0")))
        {
            range.Headers.Range = new RangeHeaderValue(100, 199);
            using var response = await http.SendAsync(range);
            Assert.Equal(HttpStatusCode.PartialContent, response.StatusCode);
            Assert.Equal($"bytes 100-199/{full.Length}", response.Content.Headers.ContentRange?.ToString());
            Assert.Equal(full.AsSpan(100, 100).ToArray(), await response.Content.ReadAsByteArrayAsync());
        }

        using (var suffix = new HttpRequestMessage(HttpMethod.Get, new Uri($"{trail.Url}/api/v1/sessions/{SessionId}/recordings/0")))
        {
            suffix.Headers.Range = new RangeHeaderValue(null, 64);
            using var response = await http.SendAsync(suffix);
            Assert.Equal(HttpStatusCode.PartialContent, response.StatusCode);
            Assert.Equal(full.AsSpan(full.Length - 64).ToArray(), await response.Content.ReadAsByteArrayAsync());
        }

        // The chain and the server's signature verify from the CLI; every download above is in the access audit log.
        var verify = await TrailProcess.RunAsync(TimeSpan.FromSeconds(120), "recordings", "verify", SessionId, "--server", trail.Url, "--token", token);
        log.WriteLine(verify.Stdout + verify.Stderr);
        Assert.True(verify.ExitCode == 0, verify.Stdout + verify.Stderr);
        var audit = JsonDocument.Parse(await http.GetStringAsync(new Uri($"{trail.Url}/api/v1/audit/access?session={SessionId}"))).RootElement;
        var entries = audit.ValueKind == JsonValueKind.Array ? audit.EnumerateArray().ToList() : audit.GetProperty("entries").EnumerateArray().ToList();
        Assert.True(entries.Count >= segments.Count + 2, $"expected every download in the audit log, got {entries.Count}: {audit}");

        // The spool is the agent's alone: folders 0700, files 0600 (the session's user cannot read or alter them).
        var spool = Path.Combine(data, "agent", "recordings");
        foreach (var dir in Directory.EnumerateDirectories(spool, "*", SearchOption.AllDirectories).Prepend(spool))
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(dir));
        }

        foreach (var f in Directory.EnumerateFiles(spool, "*.mp4", SearchOption.AllDirectories))
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(f));
        }

        // `up`'s own agent uploaded all of this with a token of role agent: it may not read anything back.
        using (var agentHttp = new HttpClient { Timeout = TimeSpan.FromSeconds(60) })
        {
            agentHttp.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", (await File.ReadAllTextAsync(Path.Combine(data, "agent", "up-token"))).Trim());
            var refused = await agentHttp.GetAsync(new Uri($"{trail.Url}/api/v1/sessions/{SessionId}/recordings/0"));
            Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
            Assert.Contains("role 'agent' may not", await refused.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        // Stopping `up` leaves no ffmpeg behind.
        Assert.Equal(0, await up.StopAsync(TimeSpan.FromSeconds(60)));
        Assert.Empty(FfmpegPids(display.Display));
    }

    private async Task<JsonElement> ListAsync(HttpClient http)
    {
        using var response = await http.GetAsync(new Uri($"{trail.Url}/api/v1/sessions/{SessionId}/recordings"));
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"{(int)response.StatusCode}: {body}");
        return JsonDocument.Parse(body).RootElement.Clone();
    }

    private static async Task<string> CreateTokenAsync(string data)
    {
        var (code, stdout, stderr) = await TrailProcess.RunAsync(TimeSpan.FromSeconds(60), "token", "create", "--data", data);
        Assert.True(code == 0, $"token create failed ({code}): {stderr}");
        return stdout.TrimEnd().Split('\n')[^1].Trim();
    }

    /// <summary>Waits for an ffmpeg grabbing <paramref name="displayName"/> other than <paramref name="except"/>; returns its pid.</summary>
    private static async Task<int> WaitForFfmpegAsync(string displayName, int? except, TimeSpan timeout, TrailProcess up)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            var pids = FfmpegPids(displayName).Where(p => p != except).ToList();
            if (pids.Count == 1)
            {
                return pids[0];
            }

            Assert.True(pids.Count <= 1, $"more than one ffmpeg records {displayName}: {string.Join(", ", pids)}");
            await Task.Delay(50);
        }

        throw new TimeoutException($"no (new) ffmpeg recording {displayName} within {timeout}:\n{up.Output}");
    }

    /// <summary>Running ffmpeg processes whose arguments or environment name <paramref name="displayName"/>.</summary>
    private static List<int> FfmpegPids(string displayName)
    {
        var pids = new List<int>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out var pid))
            {
                continue;
            }

            try
            {
                var args = File.ReadAllText(Path.Combine(dir, "cmdline")).Split('\0', StringSplitOptions.RemoveEmptyEntries);
                var state = File.ReadAllText(Path.Combine(dir, "stat"));
                var zombie = state[(state.LastIndexOf(')') + 2)..].StartsWith('Z');
                // x11grab names the display in its arguments; with x11damage (frames on stdin) it is in ffmpeg's environment
                // only — as in the short `ffmpeg -version`/`-encoders` checks', so a recording ffmpeg also writes segments.
                if (!zombie && args.Length > 0 && Path.GetFileName(args[0]) == "ffmpeg" && args.Contains("segment")
                    && (args.Any(a => a == displayName || a.StartsWith(displayName + ".", StringComparison.Ordinal) || a.StartsWith(displayName + "+", StringComparison.Ordinal))
                        || File.ReadAllText(Path.Combine(dir, "environ")).Split('\0').Contains("DISPLAY=" + displayName)))
                {
                    pids.Add(pid);
                }
            }
            catch (IOException)
            {
            }
            catch (UnauthorizedAccessException)
            {
            }
        }

        return pids;
    }
}
