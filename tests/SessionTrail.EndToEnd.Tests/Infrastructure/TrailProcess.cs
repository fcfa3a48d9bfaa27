using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text;

namespace SessionTrail.EndToEnd.Tests.Infrastructure;

/// <summary>
/// One running `sessiontrail` executable (the real one, built beside the tests), its output kept
/// in memory for failure messages. Disposing kills it (and its children) if it still runs.
/// </summary>
public sealed partial class TrailProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();

    private TrailProcess(Process process)
    {
        _process = process;
    }

    public int Pid => _process.Id;

    public bool HasExited => _process.HasExited;

    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    /// <summary>The built `sessiontrail.dll` next to the test assembly.</summary>
    public static string ExecutablePath => Path.Combine(AppContext.BaseDirectory, "sessiontrail.dll");

    public static TrailProcess Start(params string[] args) => Start(null, args);

    /// <summary>Starts `sessiontrail ARGS` with extra <paramref name="environment"/> variables (e.g. AWS credentials).</summary>
    public static TrailProcess Start(IReadOnlyDictionary<string, string>? environment, params string[] args)
    {
        var psi = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        psi.ArgumentList.Add(ExecutablePath);
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }

        psi.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            psi.Environment[name] = value;
        }

        var p = new Process { StartInfo = psi, EnableRaisingEvents = true };
        var t = new TrailProcess(p);
        p.OutputDataReceived += (_, e) => t.Append(e.Data);
        p.ErrorDataReceived += (_, e) => t.Append(e.Data);
        p.Start();
        p.BeginOutputReadLine();
        p.BeginErrorReadLine();
        return t;
    }

    /// <summary>Runs `sessiontrail ARGS` to completion and returns its exit code and output.</summary>
    public static Task<(int ExitCode, string Stdout, string Stderr)> RunAsync(TimeSpan timeout, params string[] args) => RunAsync(timeout, null, args);

    /// <summary>Runs `sessiontrail ARGS` with extra <paramref name="environment"/> variables to completion.</summary>
    public static Task<(int ExitCode, string Stdout, string Stderr)> RunAsync(TimeSpan timeout, IReadOnlyDictionary<string, string>? environment, params string[] args) =>
        RunWithInputAsync(timeout, environment, null, args);

    /// <summary>Runs `sessiontrail ARGS` with <paramref name="input"/> on its standard input (then closed; not redirected when null).</summary>
    public static async Task<(int ExitCode, string Stdout, string Stderr)> RunWithInputAsync(TimeSpan timeout, IReadOnlyDictionary<string, string>? environment, string? input, params string[] args)
    {
        var psi = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = input is not null,
            UseShellExecute = false,
        };
        psi.ArgumentList.Add(ExecutablePath);
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }

        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            psi.Environment[name] = value;
        }

        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (input is not null)
        {
            await p.StandardInput.WriteAsync(input);
            p.StandardInput.Close();
        }
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await p.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            p.Kill(entireProcessTree: true);
            throw new TimeoutException($"sessiontrail {string.Join(' ', args)} did not finish in {timeout}");
        }

        return (p.ExitCode, await stdout, await stderr);
    }

    /// <summary>SIGTERM: the soft stop (Ctrl+C equivalent); waits for the exit.</summary>
    public async Task<int> StopAsync(TimeSpan timeout)
    {
        if (!_process.HasExited)
        {
            _ = Kill(_process.Id, 15);
        }

        using var cts = new CancellationTokenSource(timeout);
        await _process.WaitForExitAsync(cts.Token);
        return _process.ExitCode;
    }

    /// <summary>SIGKILL: no chance to flush or persist anything.</summary>
    public async Task KillHardAsync()
    {
        if (!_process.HasExited)
        {
            _ = Kill(_process.Id, 9);
        }

        await _process.WaitForExitAsync();
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
    }

    /// <summary>A free TCP port on 127.0.0.1.</summary>
    public static int FreePort()
    {
        using var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        return ((IPEndPoint)l.LocalEndpoint).Port;
    }

    /// <summary>Waits until GET {url}/healthz answers 200.</summary>
    public async Task WaitHealthyAsync(string url, TimeSpan timeout)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"sessiontrail exited with {_process.ExitCode}:\n{Output}");
            }

            try
            {
                using var r = await http.GetAsync(new Uri(url + "/healthz"));
                if (r.IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
            }
            catch (TaskCanceledException)
            {
            }

            await Task.Delay(200);
        }

        throw new TimeoutException($"{url}/healthz not ready after {timeout}:\n{Output}");
    }

    /// <summary>Waits until the process output contains <paramref name="text"/>.</summary>
    public async Task WaitForOutputAsync(string text, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!Output.Contains(text, StringComparison.Ordinal))
        {
            if (DateTime.UtcNow > deadline || _process.HasExited)
            {
                throw new TimeoutException($"no '{text}' in the output after {timeout}:\n{Output}");
            }

            await Task.Delay(100);
        }
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_output)
        {
            _output.AppendLine(line);
        }
    }

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);
}
