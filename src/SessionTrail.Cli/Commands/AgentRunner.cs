using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;
using SessionTrail.Agent;
using SessionTrail.Agent.Config;
using SessionTrail.Agent.Pipes;
using SessionTrail.Agent.Platform.Linux;
using SessionTrail.Agent.Platform.Windows;
using SessionTrail.Agent.Sources;

namespace SessionTrail.Cli.Commands;

/// <summary>Builds the agent of this host (options from config + command line, the platform's sources) and runs it.</summary>
internal sealed class AgentRunner
{
    private readonly AgentOptions _options;
    private readonly LinuxProcessSource? _processes;
    private readonly ILoggerFactory _logs;
    private readonly WindowsCapture? _windows;

    private AgentRunner(AgentOptions options, LinuxProcessSource? processes, ILoggerFactory logs, WindowsCapture? windows = null)
    {
        _options = options;
        _processes = processes;
        _logs = logs;
        _windows = windows;
    }

    public string DataDir => _options.DataDir;

    /// <summary>
    /// Reads <paramref name="configFile"/> (sections "Agent" and "Processes"), applies the command-line
    /// <paramref name="overrides"/>, validates both and creates the sources. Throws an exception naming
    /// the bad setting.
    /// </summary>
    public static AgentRunner Create(string? configFile, IReadOnlyDictionary<string, string?> overrides, ILoggerFactory logs)
    {
        var options = AgentConfiguration.Load(configFile, overrides);
        var configuration = new ConfigurationBuilder();
        if (configFile is not null)
        {
            configuration.AddJsonFile(Path.GetFullPath(configFile), optional: false);
        }

        if (OperatingSystem.IsWindows())
        {
            return new AgentRunner(options, null, logs, WindowsCapture.Create(configuration.Build(), options.DataDir, options.Host, logs));
        }

        if (!OperatingSystem.IsLinux())
        {
            throw new NotSupportedException("process capture on this operating system is not built; the agent runs on Linux and Windows.");
        }

        var capture = ProcessCaptureOptions.FromConfiguration(configuration.Build());
        capture.ThrowIfInvalid();
        var processes = new LinuxProcessSource(capture, logs.CreateLogger<LinuxProcessSource>(), TimeProvider.System);
        return new AgentRunner(options, processes, logs);
    }

    /// <summary>
    /// Runs until <paramref name="stop"/> is cancelled, then stops softly (stop intake, flush with the
    /// deadline, persist). <paramref name="onCapturing"/> is called once the process source captures.
    /// </summary>
    public async Task RunAsync(Action<string> onCapturing, CancellationToken stop)
    {
        var sources = new List<IRecordSource>();
        if (_processes is not null)
        {
            sources.Add(_processes);
        }

        if (_windows is not null)
        {
            await RunWindowsAsync(_windows, onCapturing, stop);
            return;
        }

        using var host = new AgentHost(_options, sources, extraSinks: null, _logs, TimeProvider.System);
        var running = host.RunAsync(stop);
        if (_processes is not null)
        {
            var ready = await Task.WhenAny(_processes.Ready, running);
            if (ready == _processes.Ready)
            {
                onCapturing($"capturing processes ({DescribeMode(_processes.Stats.Mode)})");
            }
        }

        await running;
    }

    private async Task RunWindowsAsync(WindowsCapture windows, Action<string> onCapturing, CancellationToken stop)
    {
        using var host = new AgentHost(_options, [windows.Source], extraSinks: null, _logs, TimeProvider.System, windows.Pipes, sessionProbe: null);
        var running = host.RunAsync(stop);
        if (await Task.WhenAny(windows.Ready, running) == windows.Ready)
        {
            onCapturing("capturing processes (" + windows.Description + ")");
        }

        await running;
    }

    private static string DescribeMode(CaptureMode mode) => mode switch
    {
        CaptureMode.Kernel => "kernel: netlink process connector + fanotify exec events",
        CaptureMode.Poll => "polling /proc: programs shorter than the poll interval are missed",
        _ => mode.ToString(),
    };
}
