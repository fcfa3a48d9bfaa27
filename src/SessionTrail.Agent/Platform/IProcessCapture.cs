using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;
using SessionTrail.Agent.Pipes;
using SessionTrail.Agent.Platform.Linux;
using SessionTrail.Agent.Platform.Windows;
using SessionTrail.Agent.Sessions;
using SessionTrail.Agent.Sources;

namespace SessionTrail.Agent.Platform;

/// <summary>
/// The process capture of this operating system, as the agent runs it: one source of process records, the
/// pipes that go before the agent's own session attribution, and the probe that ends dead audit sessions.
/// Linux (<see cref="LinuxProcessCapture"/>) and Windows (<see cref="WindowsCapture"/>) implement it.
/// </summary>
public interface IProcessCapture
{
    IRecordSource Source { get; }

    /// <summary>Pipes run before session attribution (e.g. the Windows logon-session pipe).</summary>
    IReadOnlyList<IRecordPipe> Pipes { get; }

    /// <summary>Ends audit sessions that have no live process; null when the platform has none.</summary>
    ILiveSessionProbe? SessionProbe { get; }

    /// <summary>Completes when the source captures.</summary>
    Task Ready { get; }

    /// <summary>One line for the console, once <see cref="Ready"/> (how it captures, what it filters).</summary>
    string Describe();
}

/// <summary>Chooses the process capture of the operating system the agent runs on.</summary>
public static class ProcessCapture
{
    /// <summary>The config section of this OS's capture: "WindowsProcesses" on Windows, "Processes" elsewhere.</summary>
    public static string SectionName => OperatingSystem.IsWindows() ? WindowsCaptureOptions.SectionName : ProcessCaptureOptions.SectionName;

    /// <summary>Reads and validates this OS's capture section. Throws naming a bad setting.</summary>
    public static void Validate(IConfiguration configuration)
    {
        if (OperatingSystem.IsWindows())
        {
            WindowsCaptureOptions.FromConfiguration(configuration).ThrowIfInvalid();
        }
        else
        {
            ProcessCaptureOptions.FromConfiguration(configuration).ThrowIfInvalid();
        }
    }

    /// <summary>
    /// Builds this OS's capture from its config section. Throws naming a bad setting, and
    /// <see cref="NotSupportedException"/> on an operating system without a capture.
    /// </summary>
    public static IProcessCapture Create(IConfiguration configuration, string dataDir, string host, ILoggerFactory logs)
    {
        if (OperatingSystem.IsWindows())
        {
            return WindowsCapture.Create(configuration, dataDir, host, logs);
        }

        if (!OperatingSystem.IsLinux())
        {
            throw new NotSupportedException("process capture on this operating system is not built; the agent runs on Linux and Windows.");
        }

        return LinuxProcessCapture.Create(configuration, logs);
    }
}
