using SessionTrail.Agent.Recording.Upload;
using SessionTrail.Agent.Status;
using SessionTrail.Cli.Tests.Recordings;

namespace SessionTrail.Cli.Tests;

/// <summary>`sessiontrail agent status` (the real executable) over a status file as the agent writes it.</summary>
public sealed class AgentStatusCommandTests : IDisposable
{
    private static readonly DateTimeOffset T0 = new(2026, 12, 1, 8, 0, 0, TimeSpan.Zero);
    private readonly string dir = Directory.CreateTempSubdirectory("st-status-").FullName;

    public void Dispose() => Directory.Delete(dir, recursive: true);

    [Fact]
    public async Task ASetAsideSegmentIsShownWithItsReasonSinceWhenAndNextRetry()
    {
        new AgentStatus
        {
            WrittenAt = T0, AgentId = "a1", State = "running", StartedAt = T0, Sinks = [], Sources = [],
            RecordingUpload = new RecordingUploadStatus
            {
                State = "uploading", Upload = "server", PendingSegments = 3, UploadedSegmentsTotal = 7,
                SetAside = [new SetAsideSegment("s-stuck/0", "PATCH upload: the server answered 500", T0.AddMinutes(-30), 6, T0.AddMinutes(-2), T0.AddMinutes(3))],
            },
        }.Write(dir);

        var (code, output) = await RecordingVerifierTests.RunCliAsync("agent", "status", "--data", dir);
        var (jsonCode, json) = await RecordingVerifierTests.RunCliAsync("agent", "status", "--data", dir, "--json");

        Assert.True(code == 0, output);
        Assert.Contains("  recording upload (server): uploading, 3 segments", output, StringComparison.Ordinal);
        Assert.Contains(
            "    SET ASIDE s-stuck/0 since 2026-12-01 07:30:00Z, 6 attempt(s), next retry 2026-12-01 08:03:00Z: PATCH upload: the server answered 500",
            output,
            StringComparison.Ordinal);
        Assert.Equal(0, jsonCode);
        Assert.Contains("\"setAside\": [", json, StringComparison.Ordinal);
        Assert.Contains("\"nextRetry\": \"2026-12-01T08:03:00+00:00\"", json, StringComparison.Ordinal);
    }
}
