using System.Diagnostics;
using Microsoft.Extensions.Logging;

namespace SessionTrail.Agent.Recording;

/// <summary>
/// One running ffmpeg: started through <see cref="ChildLauncher"/> and registered in the <see cref="ChildRegistry"/>,
/// stdin kept as a pipe (stop = `q`), stderr (`-loglevel level+warning`) copied to the agent log.
/// </summary>
public sealed partial class FfmpegRun : IDisposable
{
    private readonly Process _process;
    private readonly ChildRegistry _registry;
    private readonly ILogger _logger;
    private readonly Queue<string> _lastLines = new();
    private readonly TaskCompletionSource _exited = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private FfmpegRun(Process process, ChildRegistry registry, ILogger logger)
    {
        _process = process;
        _registry = registry;
        _logger = logger;
    }

    private bool _videoOnStdin;

    public int Pid { get; private set; }

    /// <summary>ffmpeg's stdin, for a run started with raw video on it.</summary>
    public Stream VideoInput => _process.StandardInput.BaseStream;

    /// <summary>Completes when ffmpeg has exited (and its stderr is read to the end).</summary>
    public Task Exited => _exited.Task;

    /// <summary>ffmpeg's exit code once <see cref="Exited"/> completed (also after <see cref="Dispose"/>).</summary>
    public int? ExitCode { get; private set; }

    /// <summary>The last lines ffmpeg wrote to stderr (for error messages).</summary>
    public string LastLines
    {
        get
        {
            lock (_lastLines)
            {
                return string.Join(" | ", _lastLines);
            }
        }
    }

    /// <summary>Starts ffmpeg; throws <see cref="System.ComponentModel.Win32Exception"/> when it cannot.</summary>
    /// <remarks>With <paramref name="videoOnStdin"/> stdin carries the frames (<see cref="VideoInput"/>): stop closes it instead of sending `q`.</remarks>
    public static async Task<FfmpegRun> StartAsync(string ffmpeg, IReadOnlyList<string> arguments, IReadOnlyDictionary<string, string?> environment, ChildRegistry registry, ILogger logger, bool videoOnStdin = false)
    {
        ArgumentNullException.ThrowIfNull(environment);
        ArgumentNullException.ThrowIfNull(registry);
        var psi = new ProcessStartInfo
        {
            RedirectStandardInput = true,
            RedirectStandardError = true,
            RedirectStandardOutput = true,
        };
        psi.Environment["TZ"] = "UTC";
        foreach (var (name, value) in environment)
        {
            psi.Environment[name] = value;
        }

        var process = await ChildLauncher.StartAsync(ffmpeg, arguments, psi);
        var run = new FfmpegRun(process, registry, logger) { Pid = process.Id, _videoOnStdin = videoOnStdin };
        registry.Add(process.Id);
        var commandLine = string.Join(' ', arguments);
        LogStarted(logger, process.Id, ffmpeg, commandLine);
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, e) => run.OnStderr(e.Data);
        process.BeginErrorReadLine();
        process.BeginOutputReadLine();
        _ = Task.Run(async () =>
        {
            await process.WaitForExitAsync();
            run.ExitCode = process.ExitCode;
            registry.Remove(run.Pid);
            run._exited.TrySetResult();
        });
        return run;
    }

    /// <summary>
    /// Asks ffmpeg to finish (`q` on stdin, or the end of its raw-video input: it closes the segment properly), waits <paramref name="timeout"/>,
    /// then kills its process tree. Returns true when it finished on its own.
    /// </summary>
    public async Task<bool> StopAsync(TimeSpan timeout)
    {
        if (!Exited.IsCompleted)
        {
            try
            {
                if (!_videoOnStdin)
                {
                    await _process.StandardInput.WriteAsync('q');
                    await _process.StandardInput.FlushAsync();
                }

                _process.StandardInput.Close(); // with raw video on stdin: end of input
            }
            catch (Exception ex) when (ex is IOException or ObjectDisposedException or InvalidOperationException)
            {
                // Already gone (broken pipe).
            }
        }

        if (await Task.WhenAny(Exited, Task.Delay(timeout)) == Exited)
        {
            return true;
        }

        LogStopTimeout(_logger, Pid, timeout);
        Kill();
        await Task.WhenAny(Exited, Task.Delay(TimeSpan.FromSeconds(5)));
        return false;
    }

    /// <summary>Kills the process tree at once (SIGKILL / TerminateProcess).</summary>
    public void Kill()
    {
        try
        {
            _process.Kill(entireProcessTree: true);
        }
        catch (Exception ex) when (ex is InvalidOperationException or System.ComponentModel.Win32Exception)
        {
        }
    }

    public void Dispose()
    {
        if (!Exited.IsCompleted)
        {
            Kill();
        }

        _registry.Remove(Pid);
        _process.Dispose();
    }

    private void OnStderr(string? line)
    {
        if (string.IsNullOrWhiteSpace(line))
        {
            return;
        }

        lock (_lastLines)
        {
            _lastLines.Enqueue(line.Trim());
            while (_lastLines.Count > 3)
            {
                _lastLines.Dequeue();
            }
        }

        if (line.Contains("[error]", StringComparison.Ordinal) || line.Contains("[fatal]", StringComparison.Ordinal) || line.Contains("[panic]", StringComparison.Ordinal))
        {
            LogStderrError(_logger, Pid, line);
        }
        else
        {
            LogStderrWarning(_logger, Pid, line);
        }
    }

    [LoggerMessage(EventId = 2011, Level = LogLevel.Information, Message = "ffmpeg {Pid} started: {Path} {Arguments}")]
    private static partial void LogStarted(ILogger logger, int pid, string path, string arguments);

    [LoggerMessage(EventId = 2012, Level = LogLevel.Warning, Message = "ffmpeg {Pid}: {Line}")]
    private static partial void LogStderrWarning(ILogger logger, int pid, string line);

    [LoggerMessage(EventId = 2013, Level = LogLevel.Error, Message = "ffmpeg {Pid}: {Line}")]
    private static partial void LogStderrError(ILogger logger, int pid, string line);

    [LoggerMessage(EventId = 2014, Level = LogLevel.Warning, Message = "ffmpeg {Pid} did not finish within {Timeout} of 'q'; killing its process tree")]
    private static partial void LogStopTimeout(ILogger logger, int pid, TimeSpan timeout);
}
