using System.Runtime.Versioning;

namespace SessionTrail.Agent.Platform;

/// <summary>
/// The one place the agent asks which operating system it runs on (outside <c>Platform/</c> and the
/// composition root, code asks here, so the platform decisions can be found in one search). The properties
/// are platform guards: code behind <c>if (HostOs.IsWindows)</c> may call Windows-only APIs.
/// </summary>
public static class HostOs
{
    [SupportedOSPlatformGuard("windows")]
    public static bool IsWindows => OperatingSystem.IsWindows();

    [SupportedOSPlatformGuard("linux")]
    public static bool IsLinux => OperatingSystem.IsLinux();

    /// <summary>For messages: "Linux", "macOS", "Windows" or "this OS".</summary>
    public static string Name => OperatingSystem.IsLinux() ? "Linux" : OperatingSystem.IsMacOS() ? "macOS" : OperatingSystem.IsWindows() ? "Windows" : "this OS";
}
