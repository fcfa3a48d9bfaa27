using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;
using SessionTrail.Agent;
using SessionTrail.Agent.Config;
using SessionTrail.Agent.Platform.Linux;
using SessionTrail.Agent.Sources;

namespace SessionTrail.Cli.Commands;

/// <summary>Builds the agent of this host (options from config + command line, the platform's sources) and runs it.</summary>
internal sealed class AgentRunner
{
    private readonly AgentOptions _options;
    private readonly LinuxProcessSource? _processes;
    private readonly ILoggerFactory _logs;

    private AgentRunner(AgentOptions options, LinuxProcessSource? processes, ILoggerFactory logs)
    {
        _options = options;
        _processes = processes;
        _logs = logs;
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

        if (!OperatingSystem.IsLinux())
        {
            throw new NotSupportedException("process capture on this operating system is not built yet (Windows 4688/4689 capture is issue 3); the agent runs on Linux.");
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

    private static string DescribeMode(CaptureMode mode) => mode switch
    {
        CaptureMode.Kernel => "kernel: netlink process connector + fanotify exec events",
        CaptureMode.Poll => "polling /proc: programs shorter than the poll interval are missed",
        _ => mode.ToString(),
    };
}
