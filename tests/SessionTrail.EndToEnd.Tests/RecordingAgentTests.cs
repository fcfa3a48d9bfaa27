using System.Globalization;
using System.Text.Json;
using SessionTrail.EndToEnd.Tests.Infrastructure;

namespace SessionTrail.EndToEnd.Tests;

/// <summary>
/// The real `sessiontrail agent --record` on a real X server: a SIGKILLed agent leaves no ffmpeg (nor notice
/// window) behind, and the next start closes the segment the crash left open as recovered — it plays.
/// </summary>
public sealed class RecordingAgentTests : IAsyncLifetime, IDisposable
{
    private readonly XvncDisplay _x = new();
    private readonly string _root = Directory.CreateTempSubdirectory("st-e2e-rec-").FullName;
    private readonly List<TrailProcess> _agents = [];

    private string Data => Path.Combine(_root, "data");

    private string SessionDir => Path.Combine(Data, "agent", "recordings", "e2e-rec");

    public Task InitializeAsync() => Task.CompletedTask;

    public void Dispose() => _x.Dispose();

    public async Task DisposeAsync()
    {
        foreach (var a in _agents)
        {
            await a.DisposeAsync();
        }

        _x.Dispose();
        Directory.Delete(_root, recursive: true);
    }

    [RootFact]
    public async Task A_SIGKILLed_agent_leaves_no_ffmpeg_and_the_next_start_recovers_its_segment()
    {
        var config = Path.Combine(_root, "agent.json");
        File.WriteAllText(config, $$"""
            { "Agent": { "ServerUrl": "", "Recording": { "Upload": "none", "Display": "{{_x.Display}}", "MaxSegmentLength": "00:01:00", "NoticeText": "This session is recorded." } } }
            """);
        var agent = await StartAgentAsync(config);
        var (code, _, stderr) = await TrailProcess.RunAsync(TimeSpan.FromSeconds(60), "session", "start", "--id", "e2e-rec", "--user", "root", "--data", Data);
        Assert.True(code == 0, stderr);
        var recording = await WaitForRecorderAsync(r => r.GetProperty("state").GetString() == "recording" && r.TryGetProperty("segmentBytes", out var b) && b.GetInt64() > 5000, agent);
        var ffmpegPid = recording.GetProperty("ffmpegPid").GetInt32();
        var children = ReadRegistry();
        Assert.Contains(ffmpegPid, children);
        Assert.True(children.Count >= 2, "the notice (xmessage) is registered too: " + string.Join(",", children));
        Assert.All(children, pid => Assert.True(IsAlive(pid), $"child {pid} is not running"));
        var (statusCode, statusText, _) = await TrailProcess.RunAsync(TimeSpan.FromSeconds(60), "agent", "status", "--data", Data);
        Assert.Equal(0, statusCode);
        Assert.Contains($"recorder: recording, session e2e-rec, segment 0", statusText, StringComparison.Ordinal);
        Assert.Contains($"ffmpeg pid {ffmpegPid}", statusText, StringComparison.Ordinal);

        // SIGKILL: the agent gets no chance to stop anything; the kernel (parent-death signal) takes its children.
        await agent.KillHardAsync();
        var deadline = DateTime.UtcNow.AddSeconds(2);
        while (children.Any(IsAlive) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(50);
        }

        Assert.True(!children.Any(IsAlive), "orphaned after SIGKILL of the agent: " + string.Join(", ", children.Where(IsAlive)));
        Assert.False(File.Exists(Path.Combine(SessionDir, "000000.json")), "segment 0 cannot be closed by a killed agent");

        // Next start: the open segment is closed as recovered (it plays: fragmented MP4), recording resumes at index 1.
        var again = await StartAgentAsync(config);
        var resumed = await WaitForRecorderAsync(r => r.TryGetProperty("segmentIndex", out var i) && i.GetInt32() == 1, again);
        Assert.NotEqual(ffmpegPid, resumed.GetProperty("ffmpegPid").GetInt32());
        var sidecar = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(SessionDir, "000000.json"))).RootElement;
        Assert.Equal("recovered", sidecar.GetProperty("endReason").GetString());
        var video = ProbedVideo.Probe(Path.Combine(SessionDir, "000000.mp4"));
        Assert.True(video is { Codec: "h264", PixelFormat: "yuv420p", Width: 1280, Height: 800, Frames: >= 10 }, $"recovered segment: {video}");

        // Session end closes segment 1 (session-end, chained to segment 0); a soft stop leaves no child.
        (code, _, stderr) = await TrailProcess.RunAsync(TimeSpan.FromSeconds(60), "session", "end", "--data", Data);
        Assert.True(code == 0, stderr);
        var d = DateTime.UtcNow.AddSeconds(30);
        while (!File.Exists(Path.Combine(SessionDir, "000001.json")))
        {
            Assert.True(DateTime.UtcNow < d, "segment 1 not closed at session end:\n" + again.Output);
            await Task.Delay(100);
        }

        var second = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(SessionDir, "000001.json"))).RootElement;
        Assert.Equal("session-end", second.GetProperty("endReason").GetString());
        Assert.Equal(sidecar.GetProperty("sha256").GetString(), second.GetProperty("previousSha256").GetString());
        Assert.Equal(0, await again.StopAsync(TimeSpan.FromSeconds(30)));
        Assert.Empty(ReadRegistry());
    }

    private async Task<TrailProcess> StartAgentAsync(string config)
    {
        var agent = TrailProcess.Start("agent", "--record", "--config", config, "--data", Data);
        _agents.Add(agent);
        await agent.WaitForOutputAsync("capturing processes", TimeSpan.FromSeconds(60));
        return agent;
    }

    private async Task<JsonElement> WaitForRecorderAsync(Func<JsonElement, bool> condition, TrailProcess agent)
    {
        var path = Path.Combine(Data, "agent", "status.json");
        var deadline = DateTime.UtcNow.AddSeconds(40);
        while (true)
        {
            try
            {
                if (File.Exists(path) && JsonDocument.Parse(File.ReadAllBytes(path)).RootElement.TryGetProperty("recorder", out var r) && condition(r))
                {
                    return r.Clone();
                }
            }
            catch (JsonException)
            {
            }

            Assert.True(DateTime.UtcNow < deadline, "recorder state not reached; status:\n" + (File.Exists(path) ? File.ReadAllText(path) : "(none)") + "\nagent output:\n" + agent.Output);
            await Task.Delay(100);
        }
    }

    private List<int> ReadRegistry()
    {
        var path = Path.Combine(Data, "agent", "recorder", "children");
        return File.Exists(path) ? [.. File.ReadAllLines(path).Where(l => l.Length > 0).Select(l => int.Parse(l.Split(' ')[0], CultureInfo.InvariantCulture))] : [];
    }

    /// <summary>Running (a zombie, killed but not yet reaped by init, is dead).</summary>
    private static bool IsAlive(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            return stat[(stat.LastIndexOf(')') + 2)..][0] != 'Z';
        }
        catch (IOException)
        {
            return false;
        }
    }
}
