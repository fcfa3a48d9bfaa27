using System.Diagnostics;

namespace SessionTrail.EndToEnd.Tests.Infrastructure;

/// <summary>What the end-to-end tests need from the machine: root, a non-root user, short programs.</summary>
public static class Machine
{
    /// <summary>Uid of the throw-away interactive user the tests run programs as (in the default capture range).</summary>
    public const int TestUid = 47011;

    public const string TestUserName = "sttest";

    public static bool IsRoot => Environment.UserName == "root";

    /// <summary>Creates the test user once (a real passwd entry, so names resolve); needs root.</summary>
    public static void EnsureTestUser()
    {
        if (File.ReadLines("/etc/passwd").Any(l => l.StartsWith(TestUserName + ":", StringComparison.Ordinal)))
        {
            return;
        }

        Run("useradd", "--no-create-home", "--uid", TestUid.ToString(System.Globalization.CultureInfo.InvariantCulture), "--shell", "/bin/sh", TestUserName);
    }

    /// <summary>
    /// <paramref name="count"/> distinct copies of /bin/true in a new folder everyone can read and run.
    /// Names are prefix-000, prefix-001, ...
    /// </summary>
    public static IReadOnlyList<string> MakePrograms(string dir, string prefix, int count)
    {
        Directory.CreateDirectory(dir);
        File.SetUnixFileMode(dir, (UnixFileMode)0b111_101_101);
        var paths = new List<string>();
        for (var i = 0; i < count; i++)
        {
            var path = Path.Combine(dir, $"{prefix}-{i:000}");
            File.Copy("/bin/true", path, overwrite: true);
            File.SetUnixFileMode(path, (UnixFileMode)0b111_101_101);
            paths.Add(path);
        }

        return paths;
    }

    /// <summary>Runs each program once, one after another, as the test user, from one shell.</summary>
    public static Task RunAsTestUserAsync(IEnumerable<string> programs) =>
        RunShellAsTestUserAsync(string.Join('\n', programs.Select(p => $"'{p}'")) + "\n");

    /// <summary>Runs a shell script (read by /bin/sh from stdin) as the test user.</summary>
    public static async Task RunShellAsTestUserAsync(string script)
    {
        var (exitCode, output) = await TryShellAsTestUserAsync(script);
        if (exitCode != 0)
        {
            throw new InvalidOperationException($"the programs did not all run (exit {exitCode}): {output}");
        }
    }

    /// <summary>
    /// Runs a shell script (read by /bin/sh from stdin) as the test user, with <paramref name="group"/> as its only
    /// supplementary group (none when null); its exit code and output (stdout, then stderr).
    /// </summary>
    public static async Task<(int ExitCode, string Output)> TryShellAsTestUserAsync(string script, int? group = null)
    {
        var psi = new ProcessStartInfo("setpriv")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        var groups = group is { } g ? "--groups=" + g.ToString(System.Globalization.CultureInfo.InvariantCulture) : "--clear-groups";
        foreach (var a in new[] { $"--reuid={TestUid}", $"--regid={TestUid}", groups, "--", "/bin/sh", "-s" })
        {
            psi.ArgumentList.Add(a);
        }

        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        await p.StandardInput.WriteAsync(script);
        p.StandardInput.Close();
        await p.WaitForExitAsync();
        return (p.ExitCode, await stdout + await stderr);
    }

    private static void Run(string file, params string[] args)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }

        using var p = Process.Start(psi)!;
        var err = p.StandardError.ReadToEnd();
        p.WaitForExit();
        if (p.ExitCode != 0)
        {
            throw new InvalidOperationException($"{file} {string.Join(' ', args)} failed: {err}");
        }
    }
}
