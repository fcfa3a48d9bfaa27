using System.Runtime.Versioning;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;
using SessionTrail.Agent.Pipes;
using SessionTrail.Agent.Sessions;
using SessionTrail.Agent.Sources;

namespace SessionTrail.Agent.Platform.Windows;

/// <summary>What the agent runs on Windows: the process source chosen in config and the logon-session pipe.</summary>
/// <param name="Source">Security log (4688/4689) or ETW.</param>
/// <param name="Pipes">Pipes before the agent's own session attribution.</param>
/// <param name="Ready">Completes when the source captures.</param>
/// <param name="Description">One line for the console.</param>
public sealed record WindowsCapture(IRecordSource Source, IReadOnlyList<IRecordPipe> Pipes, Task Ready, string Description) : IProcessCapture
{
    /// <summary>None: a logon session ends with its logoff events.</summary>
    public ILiveSessionProbe? SessionProbe => null;

    public string Describe() => Description;

    /// <summary>Reads and validates the "WindowsProcesses" section and builds the parts. Throws naming a bad setting.</summary>
    [SupportedOSPlatform("windows")]
    public static WindowsCapture Create(IConfiguration configuration, string dataDir, string host, ILoggerFactory logs)
    {
        ArgumentNullException.ThrowIfNull(logs);
        var options = WindowsCaptureOptions.FromConfiguration(configuration);
        options.ThrowIfInvalid();
        IRecordPipe[] pipes = [new WindowsLogonSessionPipe(WindowsRegistryEnvironment.User, WindowsRegistryEnvironment.Machine)];
        var filters = $"excluding paths containing [{string.Join(", ", options.EffectiveExcludePaths)}], users [{string.Join(", ", options.EffectiveUserSidPrefixes)}*]";
        if (options.Source == WindowsCaptureSource.Etw)
        {
            var etw = new WindowsEtwProcessSource(options, host, logs.CreateLogger<WindowsEtwProcessSource>());
            return new WindowsCapture(etw, pipes, Task.CompletedTask, "ETW Microsoft-Windows-Kernel-Process, live only, " + filters);
        }

        var log = new WindowsEventLogSource(options, dataDir, logs.CreateLogger<WindowsEventLogSource>(), TimeProvider.System);
        return new WindowsCapture(log, pipes, log.Ready, "Security log 4688/4689 with a bookmark, " + filters);
    }
}
