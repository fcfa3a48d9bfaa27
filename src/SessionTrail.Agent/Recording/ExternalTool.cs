using System.Diagnostics;
using System.Text;
using SessionTrail.Agent.Platform;

namespace SessionTrail.Agent.Recording;

/// <summary>Runs a short-lived helper program (ffmpeg -version, ffprobe, xrandr, id) and collects its output.</summary>
internal static class ExternalTool
{
    /// <summary>What the program printed and how it ended.</summary>
    public sealed record Result(int ExitCode, string Stdout, string Stderr);

    /// <summary>
    /// Finds <paramref name="nameOrPath"/>: a path (absolute or with a directory part) is taken as it is when
    /// the file exists; a bare name is looked up on PATH (with .exe on Windows). Null when not found.
    /// </summary>
    public static string? Resolve(string nameOrPath)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(nameOrPath);
        if (Path.IsPathRooted(nameOrPath) || nameOrPath.Contains('/', StringComparison.Ordinal) || nameOrPath.Contains('\\', StringComparison.Ordinal))
        {
            var full = Path.GetFullPath(nameOrPath);
            return File.Exists(full) ? full : null;
        }

        var names = HostOs.IsWindows && !nameOrPath.EndsWith(".exe", StringComparison.OrdinalIgnoreCase) ? new[] { nameOrPath + ".exe", nameOrPath } : [nameOrPath];
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            foreach (var name in names)
            {
                var candidate = Path.Combine(dir, name);
                if (File.Exists(candidate))
                {
                    return candidate;
                }
            }
        }

        return null;
    }

    /// <summary>
    /// <see cref="Process.Start(ProcessStartInfo)"/>, but a program that cannot be started (not found, not executable)
    /// is an <see cref="ExternalProgramException"/> naming it and why, not a <see cref="System.ComponentModel.Win32Exception"/>.
    /// </summary>
    public static Process Start(ProcessStartInfo start)
    {
        ArgumentNullException.ThrowIfNull(start);
        try
        {
            return Process.Start(start) ?? throw new InvalidOperationException($"{start.FileName} did not start");
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            throw ExternalProgramException.From(start.FileName, ex);
        }
    }

    /// <summary>
    /// Runs the program to its end (stdin closed) or kills it after <paramref name="timeout"/>.
    /// Throws <see cref="TimeoutException"/> on timeout and <see cref="ExternalProgramException"/> when it cannot start.
    /// </summary>
    public static async Task<Result> RunAsync(string path, IEnumerable<string> arguments, IReadOnlyDictionary<string, string?>? environment, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        var psi = new ProcessStartInfo(path)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
        };
        foreach (var a in arguments)
        {
            psi.ArgumentList.Add(a);
        }

        foreach (var (name, value) in environment ?? new Dictionary<string, string?>())
        {
            psi.Environment[name] = value;
        }

        using var process = Start(psi);
        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var stderr = process.StandardError.ReadToEndAsync(cancellationToken);
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        limit.CancelAfter(timeout);
        try
        {
            await process.WaitForExitAsync(limit.Token);
        }
        catch (OperationCanceledException)
        {
            try
            {
                process.Kill(entireProcessTree: true);
            }
            catch (InvalidOperationException)
            {
            }

            cancellationToken.ThrowIfCancellationRequested();
            throw new TimeoutException($"{path} {string.Join(' ', psi.ArgumentList)} did not finish within {timeout.TotalSeconds:0.#} s");
        }

        return new Result(process.ExitCode, await stdout, await stderr);
    }
}
