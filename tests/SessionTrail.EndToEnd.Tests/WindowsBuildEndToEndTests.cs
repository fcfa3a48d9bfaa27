using SessionTrail.EndToEnd.Tests.Infrastructure;

namespace SessionTrail.EndToEnd.Tests;

/// <summary>The Windows side as far as it can be checked on Linux: the CLI's answer, and the win-x64 build run-tests publishes.</summary>
public sealed class WindowsBuildEndToEndTests : IDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);
    private readonly string _dir = Directory.CreateTempSubdirectory("st-win-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task EnableAuditPolicyOnLinuxIsOneClearError()
    {
        var (code, _, stderr) = await TrailProcess.RunAsync(Timeout, "agent", "--data", _dir, "--token", "t", "--enable-audit-policy");
        Assert.Equal(1, code);
        Assert.StartsWith("sessiontrail agent: --enable-audit-policy is for Windows", stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ServiceModeOnLinuxIsOneClearErrorNamingSystemd()
    {
        var (code, _, stderr) = await TrailProcess.RunAsync(Timeout, "agent", "--data", _dir, "--token", "t", "--service");
        Assert.Equal(1, code);
        Assert.StartsWith("sessiontrail agent: --service is for Windows", stderr, StringComparison.Ordinal);
        Assert.Contains("systemd", stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", stderr, StringComparison.Ordinal);
    }

    /// <summary>
    /// run-tests publishes artifacts/win-x64/sessiontrail.exe (self-contained, single file) before the tests;
    /// it must be a PE32+ executable for x64 with the Windows console subsystem.
    /// </summary>
    [WindowsExeFact]
    public void TheWindowsExecutableIsAnX64ConsolePe()
    {
        var bytes = File.ReadAllBytes(WindowsExeFactAttribute.ExePath!);
        Assert.True(bytes.Length > 10_000_000, $"{bytes.Length} bytes is too small for a self-contained single file");
        Assert.Equal("MZ", System.Text.Encoding.ASCII.GetString(bytes, 0, 2));
        var pe = BitConverter.ToInt32(bytes, 0x3c);
        Assert.Equal("PE\0\0", System.Text.Encoding.ASCII.GetString(bytes, pe, 4));
        Assert.Equal(0x8664, BitConverter.ToUInt16(bytes, pe + 4));       // IMAGE_FILE_MACHINE_AMD64
        Assert.Equal(0x20b, BitConverter.ToUInt16(bytes, pe + 24));       // PE32+ optional header
        Assert.Equal(3, BitConverter.ToUInt16(bytes, pe + 24 + 68));      // IMAGE_SUBSYSTEM_WINDOWS_CUI
    }
}

/// <summary>Skipped, saying why, when artifacts/win-x64/sessiontrail.exe has not been published (run ./run-tests).</summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class WindowsExeFactAttribute : FactAttribute
{
    public WindowsExeFactAttribute()
    {
        if (ExePath is null)
        {
            Skip = "artifacts/win-x64/sessiontrail.exe not found above " + AppContext.BaseDirectory + "; ./run-tests publishes it first";
        }
    }

    public static string? ExePath =>
        Repository.PathOf("artifacts", "win-x64", "sessiontrail.exe") is var exe && File.Exists(exe) ? exe : null;
}
