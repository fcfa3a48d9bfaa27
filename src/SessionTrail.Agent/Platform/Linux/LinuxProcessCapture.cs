using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;
using SessionTrail.Agent.Pipes;
using SessionTrail.Agent.Sessions;
using SessionTrail.Agent.Sources;

namespace SessionTrail.Agent.Platform.Linux;

/// <summary>What the agent runs on Linux: <see cref="LinuxProcessSource"/> and the /proc session probe.</summary>
public sealed class LinuxProcessCapture(LinuxProcessSource processes) : IProcessCapture
{
    public IRecordSource Source => processes;

    public IReadOnlyList<IRecordPipe> Pipes => [];

    public ILiveSessionProbe? SessionProbe { get; } = new LinuxSessionProbe();

    public Task Ready => processes.Ready;

    /// <summary>Reads and validates the "Processes" section and builds the source. Throws naming a bad setting.</summary>
    public static LinuxProcessCapture Create(IConfiguration configuration, ILoggerFactory logs)
    {
        ArgumentNullException.ThrowIfNull(logs);
        var options = ProcessCaptureOptions.FromConfiguration(configuration);
        options.ThrowIfInvalid();
        return new LinuxProcessCapture(new LinuxProcessSource(options, logs.CreateLogger<LinuxProcessSource>(), TimeProvider.System));
    }

    public string Describe() => processes.Stats.Mode switch
    {
        CaptureMode.Kernel => "kernel: netlink process connector + fanotify exec events",
        CaptureMode.Poll => "polling /proc: programs shorter than the poll interval are missed",
        var mode => mode.ToString(),
    };
}
