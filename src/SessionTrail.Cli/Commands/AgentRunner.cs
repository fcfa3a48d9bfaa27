using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;
using SessionTrail.Agent;
using SessionTrail.Agent.Config;
using SessionTrail.Agent.Ids;
using SessionTrail.Agent.Platform;
using SessionTrail.Agent.Sinks;
using SessionTrail.Agent.Sinks.S3;
using SessionTrail.Agent.Sources;
using SessionTrail.Agent.Status;

namespace SessionTrail.Cli.Commands;

/// <summary>
/// Builds the agent of this host (options from config + command line, the platform's sources, the log
/// sources/sinks/pipes of the config) and runs it; with a config file, it watches the file and restarts
/// the agent with a changed config once that config is valid (see <see cref="ConfigReloader"/>).
/// </summary>
internal sealed partial class AgentRunner : IAgentRun
{
    private readonly string? _configFile;
    private readonly IReadOnlyDictionary<string, string?> _overrides;
    private readonly AgentOptions _options;
    private readonly IProcessCapture _capture;
    private readonly IReadOnlyList<S3Sink> _sinks;
    private readonly LogShipping _logShipping;
    private readonly ILoggerFactory _logs;
    private AgentHost? _host;

    private AgentRunner(string? configFile, IReadOnlyDictionary<string, string?> overrides, AgentOptions options, IProcessCapture capture, IReadOnlyList<S3Sink> sinks, LogShipping logShipping, ILoggerFactory logs)
    {
        _configFile = configFile;
        _overrides = overrides;
        _options = options;
        _capture = capture;
        _sinks = sinks;
        _logShipping = logShipping;
        _logs = logs;
    }

    public string DataDir => _options.DataDir;

    /// <summary>The config state shown in the status (set while running under the reloader).</summary>
    private ConfigState? Config { get; set; }

    /// <summary>
    /// Reads <paramref name="configFile"/> (sections "Agent", "Processes"/"WindowsProcesses", the data-lake
    /// "Sinks" and the log "Sources"/"Sinks"/"Pipes"), applies the command-line <paramref name="overrides"/>,
    /// validates everything and creates the sources and sinks. Throws an exception naming the bad setting.
    /// </summary>
    public static AgentRunner Create(string? configFile, IReadOnlyDictionary<string, string?> overrides, ILoggerFactory logs)
    {
        var built = ReadConfiguration(configFile);
        var s3 = SinkConfiguration.LoadS3(built);
        var options = AgentConfiguration.Load(configFile, overrides);
        var logShipping = BuildLogShipping(configFile, built, options, logs);
        try
        {
            var sinks = new List<S3Sink>();
            foreach (var (sink, i) in s3.Select((o, i) => (o, i)))
            {
                var path = SinkConfiguration.SectionName + ":" + i.ToString(System.Globalization.CultureInfo.InvariantCulture);
                sinks.Add(S3SinkFactory.Create(sink, path, new LogSinkContext(sink.Name, options.DataDir, options.Host, logs, TimeProvider.System)));
            }

            return new AgentRunner(configFile, overrides, options, ProcessCapture.Create(built, options.DataDir, options.Host, logs), sinks, logShipping, logs);
        }
        catch
        {
            logShipping.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Checks <paramref name="configFile"/> as the agent would load it, without running anything: every
    /// problem (errors and warnings, each naming its key path) and the log sources, sinks and pipes found.
    /// Log sources and sinks are built with their factories (and disposed) so that their own keys are checked.
    /// </summary>
    public static ConfigCheck Check(string configFile, IReadOnlyDictionary<string, string?> overrides, ILoggerFactory logs)
    {
        var problems = new List<ConfigProblem>();
        void Fail(string path, Exception ex) => problems.Add(new ConfigProblem(ConfigProblemSeverity.Error, path, ex.Message));

        byte[] bytes;
        try
        {
            bytes = ConfigJson.ReadFile(configFile);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            Fail(configFile, ex);
            return new ConfigCheck(configFile, LogShippingPlan.Empty, problems);
        }

        if (LogConfigLoader.CheckJson(bytes, configFile) is { } json)
        {
            return new ConfigCheck(configFile, LogShippingPlan.Empty, [json]);
        }

        IConfiguration built;
        try
        {
            built = ReadConfiguration(configFile);
        }
        catch (Exception ex) when (Failure.IsUserError(ex))
        {
            Fail(configFile, ex);
            return new ConfigCheck(configFile, LogShippingPlan.Empty, problems);
        }

        try
        {
            SinkConfiguration.LoadS3(built);
        }
        catch (Exception ex) when (ex is AgentOptionsException or InvalidDataException)
        {
            Fail(SinkConfiguration.SectionName, ex);
        }

        AgentOptions? options = null;
        try
        {
            options = AgentConfiguration.Load(configFile, overrides);
        }
        catch (Exception ex) when (ex is AgentOptionsException or InvalidDataException)
        {
            Fail(AgentConfiguration.SectionName, ex);
        }

        try
        {
            ProcessCapture.Validate(built);
        }
        catch (Exception ex) when (Failure.IsUserError(ex))
        {
            Fail(ProcessCapture.SectionName, ex);
        }

        var registry = AgentPlugins.Registry();
        var serverUrl = options?.ServerUrl ?? (overrides.GetValueOrDefault("ServerUrl") ?? built["Agent:ServerUrl"] ?? new AgentOptions().ServerUrl);
        var plan = LogConfigLoader.Load(built, registry, serverUrl);
        problems.AddRange(plan.Problems);
        if (!plan.HasErrors)
        {
            var context = new LogShippingContext(options?.DataDir ?? overrides.GetValueOrDefault("DataDir") ?? new AgentOptions().DataDir, options?.Host ?? Environment.MachineName, serverUrl, options?.Token ?? "check", logs, TimeProvider.System);
            LogShipping.Build(plan, registry, context, problems)?.Dispose();
        }

        return new ConfigCheck(configFile, plan, problems);
    }

    /// <summary>
    /// Runs until <paramref name="stop"/> is cancelled, then stops softly (stop intake, flush with the
    /// deadline, persist). With a config file, a valid change of it restarts the agent with the new config.
    /// <paramref name="onCapturing"/> is called once the process source captures.
    /// </summary>
    public async Task RunAsync(Action<string> onCapturing, CancellationToken stop)
    {
        if (_configFile is null)
        {
            try
            {
                await RunOnceAsync(onCapturing, stop);
            }
            finally
            {
                Dispose();
            }

            return;
        }

        var first = true;
        var reloader = new ConfigReloader(
            _configFile,
            () => Check(_configFile, _overrides, _logs) is { HasErrors: true } check ? string.Join(Environment.NewLine, check.Problems.Where(p => p.IsError).Select(p => p.Message)) : null,
            state =>
            {
                var runner = first ? this : Create(_configFile, _overrides, _logs);
                first = false;
                runner.Config = state;
                return new ReloadableRun(runner, onCapturing);
            },
            _options.SessionFilePollInterval,
            TimeProvider.System,
            _logs.CreateLogger(ConfigReloader.LogCategory));
        await reloader.RunAsync(stop);
    }

    Task IAgentRun.RunAsync(CancellationToken stop) => RunOnceAsync(_ => { }, stop);

    public void StatusChanged() => _host?.StatusChanged();

    public void Dispose()
    {
        foreach (var sink in _sinks)
        {
            sink.Dispose();
        }

        _logShipping.Dispose();
    }

    private async Task RunOnceAsync(Action<string> onCapturing, CancellationToken stop)
    {
        using var host = new AgentHost(_options, [_capture.Source], _sinks, _logs, TimeProvider.System, _capture.Pipes, _capture.SessionProbe, _logShipping) { Config = Config };
        _host = host;
        var running = host.RunAsync(stop);
        if (await Task.WhenAny(_capture.Ready, running) == _capture.Ready)
        {
            onCapturing("capturing processes (" + _capture.Describe() + ")" + DescribeLogs());
        }

        await running;
    }

    private static IConfiguration ReadConfiguration(string? configFile)
    {
        var configuration = new ConfigurationBuilder();
        if (configFile is not null && File.Exists(Path.GetFullPath(configFile)))
        {
            var full = Path.GetFullPath(configFile);
            var bytes = ConfigJson.ReadFile(full);
            if (LogConfigLoader.CheckJson(bytes, full) is { } problem)
            {
                throw new InvalidDataException(problem.Message);
            }

            configuration.AddJsonStream(new MemoryStream(bytes));
        }

        return configuration.Build();
    }

    private static LogShipping BuildLogShipping(string? configFile, IConfiguration built, AgentOptions options, ILoggerFactory logs)
    {
        if (configFile is null)
        {
            return LogShipping.None;
        }

        var registry = AgentPlugins.Registry();
        var plan = LogConfigLoader.Load(built, registry, options.ServerUrl);
        plan.ThrowIfInvalid();
        var logger = logs.CreateLogger<AgentRunner>();
        foreach (var warning in plan.Problems)
        {
            LogConfigWarning(logger, warning.Message);
        }

        var problems = new List<ConfigProblem>();
        var context = new LogShippingContext(options.DataDir, options.Host, options.ServerUrl, options.Token, logs, TimeProvider.System);
        var shipping = LogShipping.Build(plan, registry, context, problems);
        if (shipping is null)
        {
            new LogShippingPlan([], [], [], problems).ThrowIfInvalid();
            return LogShipping.None;
        }

        return shipping;
    }

    private string DescribeLogs() => _logShipping.Sources.Count + _logShipping.Sinks.Count == 0
        ? ""
        : $", shipping logs: {_logShipping.Sources.Count} sources, {_logShipping.Sinks.Count} sinks, {_logShipping.Pipes.Count} pipes";

    [LoggerMessage(EventId = 5010, Level = LogLevel.Warning, Message = "{Warning}")]
    private static partial void LogConfigWarning(ILogger logger, string warning);

    /// <summary>A run under the reloader: the first prints "capturing"; each is disposed when replaced.</summary>
    private sealed class ReloadableRun(AgentRunner runner, Action<string> onCapturing) : IAgentRun
    {
        public Task RunAsync(CancellationToken stop) => runner.RunOnceAsync(onCapturing, stop);

        public void StatusChanged() => runner.StatusChanged();

        public void Dispose() => runner.Dispose();
    }
}

/// <summary>What `sessiontrail agent --check-config` found.</summary>
internal sealed record ConfigCheck(string File, LogShippingPlan Plan, IReadOnlyList<ConfigProblem> Problems)
{
    public bool HasErrors => Problems.Any(p => p.IsError);
}
