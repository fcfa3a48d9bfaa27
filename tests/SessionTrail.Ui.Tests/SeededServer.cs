using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using SessionTrail.Agent.Recording;
using SessionTrail.Server;
using SessionTrail.Server.Auth;

namespace SessionTrail.Ui.Tests;

/// <summary>
/// A real SessionTrail server (in-process Kestrel on 127.0.0.1, port 0, its own data folder) seeded through its
/// public APIs only: accounts (<c>POST /api/v1/users</c>), sessions, process runs and log records (<c>POST /api/v1/ingest</c>),
/// and a real two-segment recording made the way the Linux recorder makes it — ffmpeg with the agent's own x11damage
/// arguments (<see cref="FfmpegArguments.Build"/>), fed raw frames at irregular times, so a variable frame rate
/// fragmented MP4 — uploaded with the resumable upload API and chained by its segment records.
/// </summary>
public sealed class SeededServer : IAsyncLifetime
{
    public const string Password = "correct horse battery staple";

    /// <summary>The recorded session.</summary>
    public const string RecordedSession = "as-rec-0001";

    /// <summary>A recorded session whose second segment record breaks the hash chain.</summary>
    public const string BrokenSession = "as-rec-0002";

    private readonly string dir = Path.Combine(Path.GetTempPath(), "st-ui-" + Guid.NewGuid().ToString("N")[..8]);
    private WebApplication? app;

    /// <summary>The recorded session's start; everything of it is seconds after this.</summary>
    public DateTimeOffset T0 { get; } = new DateTimeOffset(DateTime.UtcNow.Date, TimeSpan.Zero).AddDays(-1).AddHours(8);

    public Uri BaseAddress { get; private set; } = null!;

    /// <summary>A client with the admin token (Bearer).</summary>
    public HttpClient Admin { get; private set; } = null!;

    /// <summary>Recorded segments: start/end (session time) and their bytes.</summary>
    public IReadOnlyList<(DateTimeOffset Start, DateTimeOffset End, byte[] Bytes)> Segments { get; private set; } = [];

    /// <summary>Where screenshots go: TestResults/screenshots/ beside the test assembly's project output.</summary>
    public static string ScreenshotDir { get; } = Path.Combine(AppContext.BaseDirectory, "TestResults", "screenshots");

    public DateTimeOffset At(double seconds) => T0.AddSeconds(seconds);

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(dir);
        app = ServerApp.Build(new ServerOptions { DataDir = dir, Urls = "http://127.0.0.1:0" }, ["--Logging:LogLevel:Default=Warning"]);
        await app.StartAsync();
        BaseAddress = new Uri(ServerApp.Addresses(app)[0]);
        var token = app.Services.GetRequiredService<TokenStore>().Create("ui-tests");
        Admin = new HttpClient { BaseAddress = BaseAddress };
        Admin.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);

        foreach (var (user, role) in new[] { ("alice", "auditor"), ("victor", "viewer"), ("ada", "admin") })
        {
            var created = await Admin.PostAsJsonAsync("/api/v1/users", new { user, role, password = Password });
            Assert.True(created.IsSuccessStatusCode, $"POST /api/v1/users {user}: {(int)created.StatusCode} {await created.Content.ReadAsStringAsync()}");
        }

        await IngestAsync(Records());
        await RecordAsync();
    }

    /// <summary>The recorded session (runs, logs, a recording gap) and 60 more sessions over three days for the lists and the dashboard.</summary>
    private IEnumerable<string> Records()
    {
        var s = RecordedSession;
        yield return Session("ss1", s, "start", T0, "alice", "h-rec", "stack-a", "fleet-a");
        yield return ProcessLine("p1s", s, "h-rec", "start", At(1), 101, @"C:\Windows\notepad.exe", "alice", null);
        yield return ProcessLine("p1e", s, "h-rec", "exit", At(7), 101, null, null, 0);
        yield return ProcessLine("p2s", s, "h-rec", "start", At(11), 102, @"C:\Program Files\Microsoft Office\winword.exe", "alice", null);
        yield return ProcessLine("p2e", s, "h-rec", "exit", At(15), 102, null, null, 1);
        yield return ProcessLine("p3s", s, "h-rec", "start", At(12), 103, @"C:\Program Files\Microsoft Office\excel.exe", "alice", null);
        yield return Log("l1", s, "h-rec", At(4), "Information", "Document opened: report.txt");
        yield return Log("l2", s, "h-rec", At(13.5), "Error", "winword crashed with code 1");
        yield return Log("l3", s, "h-rec", At(16), "Warning", "disk almost full");
        yield return $$"""{"id":"ev-gap","kind":"recording","time":"{{F(At(10))}}","host":"h-rec","session":"{{s}}","type":"gap","message":"ffmpeg restarted","gapStart":"{{F(At(8))}}","gapEnd":"{{F(At(10))}}"}""";
        yield return Session("ss2", s, "end", At(20), "alice", "h-rec", "stack-a", "fleet-a");
        yield return Session("sb1", BrokenSession, "start", T0, "alice", "h-rec", "stack-a", "fleet-a");
        yield return Session("sb2", BrokenSession, "end", At(20), "alice", "h-rec", "stack-a", "fleet-a");

        string[] apps = [@"C:\Windows\notepad.exe", @"C:\Program Files\Microsoft Office\winword.exe", @"C:\Program Files\Microsoft Office\excel.exe", @"C:\Tools\putty.exe"];
        string[] users = ["bob", "carol", "dave"];
        for (var i = 0; i < 60; i++)
        {
            var id = $"bs-{i:D4}";
            var start = T0.AddDays(-(i % 3)).AddHours(1 + (i % 7)).AddMinutes(i);
            var user = users[i % users.Length];
            var stack = i % 2 == 0 ? "stack-a" : "stack-b";
            var fleet = i % 3 == 0 ? "fleet-a" : "fleet-b";
            yield return Session($"{id}-s", id, "start", start, user, $"h-{i % 5}", stack, fleet);
            for (var r = 0; r <= i % 3; r++)
            {
                var app = apps[(i + r) % apps.Length];
                yield return ProcessLine($"{id}-p{r}s", id, $"h-{i % 5}", "start", start.AddMinutes(1 + r), 1000 + r, app, user, null);
                yield return ProcessLine($"{id}-p{r}e", id, $"h-{i % 5}", "exit", start.AddMinutes(5 + (3 * r) + (i % 4)), 1000 + r, null, null, 0);
            }

            yield return Log($"{id}-l", id, $"h-{i % 5}", start.AddMinutes(2), i % 4 == 0 ? "Error" : "Information", $"event {i} from {user}");
            // The last session of the batch is still running ("active now").
            if (i != 59)
            {
                yield return Session($"{id}-e", id, "end", start.AddMinutes(30 + i), user, $"h-{i % 5}", stack, fleet);
            }
        }
    }

    private static string F(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);

    private static string Session(string id, string session, string type, DateTimeOffset t, string user, string host, string stack, string fleet) =>
        $$"""{"id":"{{id}}","kind":"session","time":"{{F(t)}}","host":"{{host}}","session":"{{session}}","type":"{{type}}","user":"{{user}}","stack":"{{stack}}","fleet":"{{fleet}}","accessMode":"userpool","instanceType":"stream.standard.medium","region":"eu-west-1"}""";

    private static string ProcessLine(string id, string session, string host, string type, DateTimeOffset t, int pid, string? exe, string? user, int? exitCode)
    {
        var json = new Dictionary<string, object?>
        {
            ["id"] = id, ["kind"] = "process", ["time"] = F(t), ["host"] = host, ["session"] = session, ["type"] = type, ["pid"] = pid,
        };
        if (exe is not null)
        {
            json["exe"] = exe;
            json["user"] = user;
        }

        if (exitCode is not null)
        {
            json["exitCode"] = exitCode;
        }

        return JsonSerializer.Serialize(json);
    }

    private static string Log(string id, string session, string host, DateTimeOffset t, string level, string message) =>
        JsonSerializer.Serialize(new Dictionary<string, object?>
        {
            ["id"] = id, ["kind"] = "log", ["time"] = F(t), ["host"] = host, ["session"] = session, ["source"] = "winlog-app",
            ["channel"] = "Application", ["provider"] = "SessionTrailTest", ["eventId"] = 1000, ["level"] = level, ["message"] = message,
            ["fields"] = new Dictionary<string, string> { ["Document"] = "report.txt", ["Status"] = level },
        });

    public async Task IngestAsync(IEnumerable<string> lines)
    {
        using var content = new StringContent(string.Join('\n', lines) + "\n", Encoding.UTF8, "application/x-ndjson");
        var response = await Admin.PostAsync("/api/v1/ingest", content);
        Assert.True(response.IsSuccessStatusCode, $"ingest: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
    }

    /// <summary>
    /// Two 6 s segments (T0+2..8 s and T0+10..16 s, a gap between), made as the recorder makes them (both at once, each
    /// takes ~6 s of real time), uploaded and recorded for
    /// <see cref="RecordedSession"/>; the same bytes for <see cref="BrokenSession"/>, whose second record names a wrong
    /// previous hash (a broken chain).
    /// </summary>
    private async Task RecordAsync()
    {
        var segments = new List<(DateTimeOffset, DateTimeOffset, byte[])>();
        var lines = new List<string>();
        var made = await Task.WhenAll(FfmpegAsync("testsrc2", Path.Combine(dir, "seg0")), FfmpegAsync("testsrc", Path.Combine(dir, "seg1")));
        for (var i = 0; i < made.Length; i++)
        {
            var start = At(i == 0 ? 2 : 10);
            segments.Add((start, start.AddSeconds(6), made[i]));
        }

        foreach (var session in new[] { RecordedSession, BrokenSession })
        {
            string? previous = null;
            for (var i = 0; i < segments.Count; i++)
            {
                var (start, end, bytes) = segments[i];
                var sha = await UploadAsync(session, i, bytes);
                var claimed = session == BrokenSession && i == 1 ? new string('0', 64) : previous;
                lines.Add(JsonSerializer.Serialize(new Dictionary<string, object?>
                {
                    ["id"] = $"rec:{session}:{i}", ["kind"] = "segment", ["time"] = F(end), ["host"] = "h-rec", ["session"] = session,
                    ["index"] = i, ["start"] = F(start), ["end"] = F(end), ["width"] = 640, ["height"] = 360, ["fps"] = 5, ["codec"] = "h264",
                    ["bytes"] = bytes.Length, ["sha256"] = sha, ["prevSha256"] = claimed, ["file"] = $"{i:D6}.mp4", ["endReason"] = i == 0 ? "crash" : "session-end",
                }.Where(kv => kv.Value is not null).ToDictionary()));
                previous = sha;
            }
        }

        await IngestAsync(lines);
        Segments = segments;
    }

    /// <summary>The agent's resumable upload: one PATCH from offset 0, then complete with size and SHA-256 (returned).</summary>
    private async Task<string> UploadAsync(string session, int index, byte[] bytes)
    {
        var url = $"/api/v1/sessions/{Uri.EscapeDataString(session)}/recordings/{index}";
        using (var patch = new HttpRequestMessage(HttpMethod.Patch, url + "/upload") { Content = new ByteArrayContent(bytes) })
        {
            patch.Content.Headers.ContentType = new MediaTypeHeaderValue("application/offset+octet-stream");
            patch.Headers.TryAddWithoutValidation("Upload-Offset", "0");
            var r = await Admin.SendAsync(patch);
            Assert.True(r.StatusCode == HttpStatusCode.NoContent, $"PATCH {url}/upload: {(int)r.StatusCode} {await r.Content.ReadAsStringAsync()}");
        }

        var sha = Convert.ToHexStringLower(SHA256.HashData(bytes));
        var complete = await Admin.PostAsJsonAsync(url + "/complete", new { bytes = bytes.Length, sha256 = sha });
        Assert.True(complete.IsSuccessStatusCode, $"complete {url}: {(int)complete.StatusCode} {await complete.Content.ReadAsStringAsync()}");
        return sha;
    }

    /// <summary>
    /// When damage capture sends a frame (seconds after the first): a few changes, a 1 s idle pause (the idle frame),
    /// bursts at 10 fps and 5 fps, irregular gaps — up to 6 s, so the segment lasts ~6 s.
    /// </summary>
    public static IReadOnlyList<double> FrameTimes { get; } =
        [0, 0.2, 0.4, 1.4, 1.5, 1.6, 1.7, 1.8, 2.0, 2.3, 3.3, 3.45, 3.6, 4.0, 4.2, 4.3, 4.4, 5.0, 5.6, 5.8, 6.0];

    private const int Width = 640;
    private const int Height = 360;

    /// <summary>
    /// One segment as the Linux recorder makes it: the encoding ffmpeg runs with <see cref="FfmpegArguments.Build"/>'s
    /// x11damage arguments (raw bgr0 on stdin, each frame stamped on arrival, -fps_mode vfr, libx264, the segment muxer,
    /// fragmented MP4); the frames (a test pattern from a second ffmpeg) are written at <see cref="FrameTimes"/> in real
    /// time, then stdin is closed and ffmpeg finishes the segment. ffprobe must find every frame and unequal frame durations.
    /// </summary>
    private static async Task<byte[]> FfmpegAsync(string source, string folder)
    {
        Directory.CreateDirectory(folder);
        var frameBytes = Width * Height * 4;
        var frames = new List<byte[]>();
        using (var src = Start("ffmpeg", ["-hide_banner", "-loglevel", "error", "-f", "lavfi", "-i", $"{source}=size={Width}x{Height}:rate=5",
                   "-frames:v", FrameTimes.Count.ToString(CultureInfo.InvariantCulture), "-f", "rawvideo", "-pix_fmt", "bgr0", "-"]))
        {
            var srcErr = src.StandardError.ReadToEndAsync();
            var stdout = src.StandardOutput.BaseStream;
            for (var i = 0; i < FrameTimes.Count; i++)
            {
                var frame = new byte[frameBytes];
                await stdout.ReadExactlyAsync(frame);
                frames.Add(frame);
            }

            await src.WaitForExitAsync();
            Assert.True(src.ExitCode == 0, $"ffmpeg ({source} frames) failed: {await srcErr}");
        }

        var args = FfmpegArguments.Build(
            new RecordingOptions { Fps = 5, MaxSegmentLength = TimeSpan.FromMinutes(1) },
            new CapturePlan
            {
                Backend = CaptureBackends.X11damage,
                Geometry = new ScreenGeometry(0, 0, Width, Height, []),
                Directory = folder,
                FirstIndex = 0,
                SegmentListPath = Path.Combine(folder, "list.csv"),
            });
        using var encoder = Start("ffmpeg", args, stdin: true);
        var err = encoder.StandardError.ReadToEndAsync();
        var stdin = encoder.StandardInput.BaseStream;
        // ffmpeg stamps a frame when it reads it: give it time to start, or the first frames queue in the pipe and are
        // stamped together (as the agent's are while ffmpeg starts).
        await Task.Delay(TimeSpan.FromSeconds(1));
        var clock = Stopwatch.StartNew();
        for (var i = 0; i < frames.Count; i++)
        {
            var wait = TimeSpan.FromSeconds(FrameTimes[i]) - clock.Elapsed;
            if (wait > TimeSpan.Zero)
            {
                await Task.Delay(wait);
            }

            await stdin.WriteAsync(frames[i]);
            await stdin.FlushAsync();
        }

        stdin.Close();
        using (var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60)))
        {
            await encoder.WaitForExitAsync(timeout.Token);
        }

        Assert.True(encoder.ExitCode == 0, $"ffmpeg (x11damage arguments: {string.Join(' ', args)}) failed: {await err}");
        var path = Path.Combine(folder, "000000.mp4");
        Assert.True(File.Exists(path), $"ffmpeg wrote no {path}: {string.Join(", ", Directory.GetFiles(folder))}; {await err}");
        Assert.False(File.Exists(Path.Combine(folder, "000001.mp4")), "ffmpeg cut a second segment");
        await AssertVariableFrameRateAsync(path);
        return await File.ReadAllBytesAsync(path);
    }

    /// <summary>ffprobe: every frame written is in the file, they span ~6 s, and their durations differ (a variable frame rate).</summary>
    private static async Task AssertVariableFrameRateAsync(string path)
    {
        using var probe = Start("ffprobe", ["-v", "error", "-select_streams", "v:0", "-show_entries", "packet=pts_time", "-of", "csv=p=0", path]);
        var outText = probe.StandardOutput.ReadToEndAsync();
        var errText = probe.StandardError.ReadToEndAsync();
        await probe.WaitForExitAsync();
        Assert.True(probe.ExitCode == 0, $"ffprobe {path} failed: {await errText}");
        var times = (await outText).Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(t => double.Parse(t.TrimEnd(','), CultureInfo.InvariantCulture)).Order().ToList();
        var durations = times.Zip(times.Skip(1), (a, b) => Math.Round(b - a, 3)).ToList();
        var evidence = $"{path}: {times.Count} frames at [{string.Join(", ", times.Select(t => t.ToString("0.000", CultureInfo.InvariantCulture)))}]";
        Assert.True(times.Count == FrameTimes.Count, $"expected {FrameTimes.Count} frames (one per frame written); {evidence}");
        // ffmpeg stamps each frame when it reads it: on a loaded machine (load ~20 seen) the writes run late by up to ~0.6 s.
        Assert.True(times[^1] - times[0] is > 5.5 and < 7.5, $"the frames should span ~6 s; {evidence}");
        Assert.True(durations.Max() - durations.Min() > 0.5, $"not a variable frame rate (durations {durations.Min()}..{durations.Max()} s); {evidence}");
        Console.WriteLine($"seeded VFR segment {evidence}; durations {durations.Min()}..{durations.Max()} s");
    }

    private static System.Diagnostics.Process Start(string file, IEnumerable<string> args, bool stdin = false)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardError = true, RedirectStandardOutput = true, RedirectStandardInput = stdin };
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }

        return System.Diagnostics.Process.Start(psi)!;
    }

    public async Task DisposeAsync()
    {
        Admin?.Dispose();
        if (app is not null)
        {
            await app.StopAsync();
            await app.DisposeAsync();
        }

        try
        {
            Directory.Delete(dir, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
