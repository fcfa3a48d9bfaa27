using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;
using SessionTrail.Agent;
using SessionTrail.Agent.Config;
using SessionTrail.Agent.Platform.Linux;
using SessionTrail.Agent.Platform.Windows;
using SessionTrail.Agent.Sinks.S3;
using SessionTrail.Agent.Sources;

namespace SessionTrail.Cli.Commands;

/// <summary>Builds the agent of this host (options from config + command line, the platform's sources) and runs it.</summary>
internal sealed class AgentRunner
{
    private readonly AgentOptions _options;
    private readonly LinuxProcessSource? _processes;
    private readonly IReadOnlyList<S3Sink> _sinks;
    private readonly ILoggerFactory _logs;
    private readonly WindowsCapture? _windows;

    private AgentRunner(AgentOptions options, LinuxProcessSource? processes, IReadOnlyList<S3Sink> sinks, ILoggerFactory logs, WindowsCapture? windows = null)
    {
        _windows = windows;
        _options = options;
        _processes = processes;
        _sinks = sinks;
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
        var configuration = new ConfigurationBuilder();
        if (configFile is not null && File.Exists(Path.GetFullPath(configFile)))
        {
            configuration.AddJsonFile(Path.GetFullPath(configFile), optional: false);
        }

        var built = configuration.Build();
        var s3 = SinkConfiguration.LoadS3(built);
        AgentOptions options;
        try
        {
            options = AgentConfiguration.Load(configFile, overrides);
        }
        catch (AgentOptionsException ex) when (ex.Setting == nameof(AgentOptions.Token) && s3.Count > 0)
        {
            throw new AgentOptionsException(ex.Setting, "is required when ServerUrl is set; to deliver only to the configured Sinks set \"Agent\": { \"ServerUrl\": \"\" }");
        }

        var sinks = new List<S3Sink>();
        foreach (var (sink, i) in s3.Select((o, i) => (o, i)))
        {
            var store = new AwsS3ObjectStore(sink, SinkConfiguration.SectionName + ":" + i.ToString(System.Globalization.CultureInfo.InvariantCulture));
            sinks.Add(new S3Sink(sink, options.DataDir, store, logs.CreateLogger<S3Sink>(), TimeProvider.System));
        }

        if (OperatingSystem.IsWindows())
        {
            return new AgentRunner(options, null, sinks, logs, WindowsCapture.Create(built, options.DataDir, options.Host, logs));
        }

        if (!OperatingSystem.IsLinux())
        {
            throw new NotSupportedException("process capture on this operating system is not built; the agent runs on Linux and Windows.");
        }

        var capture = ProcessCaptureOptions.FromConfiguration(built);
        capture.ThrowIfInvalid();
        var processes = new LinuxProcessSource(capture, logs.CreateLogger<LinuxProcessSource>(), TimeProvider.System);
        return new AgentRunner(options, processes, sinks, logs);
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

        try
        {
            if (_windows is not null)
            {
                await RunWindowsAsync(_windows, onCapturing, stop);
            }
            else
            {
                await RunHostAsync(sources, onCapturing, stop);
            }
        }
        finally
        {
            foreach (var sink in _sinks)
            {
                sink.Dispose();
            }
        }
    }

    private async Task RunHostAsync(List<IRecordSource> sources, Action<string> onCapturing, CancellationToken stop)
    {
        using var host = new AgentHost(_options, sources, _sinks, _logs, TimeProvider.System);
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
        using var host = new AgentHost(_options, [windows.Source], _sinks, _logs, TimeProvider.System, windows.Pipes, sessionProbe: null);
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
