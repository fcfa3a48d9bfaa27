using System.Text.Json;
using SessionTrail.EndToEnd.Tests.Infrastructure;

namespace SessionTrail.EndToEnd.Tests;

/// <summary>`sessiontrail appstream config-json` from the real executable: what install.ps1 writes to the image.</summary>
public sealed class AppStreamEndToEndTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task ConfigJsonPrintsValidSessionScriptsThatRunSessionStartAndEnd()
    {
        var (code, stdout, stderr) = await TrailProcess.RunAsync(Timeout, "appstream", "config-json", "--exe", @"C:\ST\sessiontrail.exe");
        Assert.True(code == 0, stderr);
        using var doc = JsonDocument.Parse(stdout);
        var start = doc.RootElement.GetProperty("SessionStart").GetProperty("executables")[0];
        Assert.Equal("system", start.GetProperty("context").GetString());
        Assert.Equal(@"C:\ST\sessiontrail.exe", start.GetProperty("filename").GetString());
        Assert.StartsWith("session start ", start.GetProperty("arguments").GetString(), StringComparison.Ordinal);
        var end = doc.RootElement.GetProperty("SessionTermination").GetProperty("executables")[0];
        Assert.StartsWith("session end ", end.GetProperty("arguments").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ABadWaitingTimeIsOneClearLine()
    {
        var (code, stdout, stderr) = await TrailProcess.RunAsync(Timeout, "appstream", "config-json", "--start-wait", "0");
        Assert.Equal(1, code);
        Assert.Equal("", stdout);
        Assert.Equal("sessiontrail appstream config-json: --start-wait: 0 must be between 1 and 60 seconds (AppStream's limit)", stderr.Trim());
    }
}
