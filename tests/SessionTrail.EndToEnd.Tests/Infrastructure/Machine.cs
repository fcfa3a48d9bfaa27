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

    private static readonly Lazy<string> ExecutableForOthers = new(CopyExecutableForOthers);

    /// <summary>
    /// The path of <c>sessiontrail.dll</c> that another user (the test user) can run: the test's own when every
    /// folder above it lets others through, else a copy of the test's output folder in a new folder everyone can
    /// read (a clone made under a 0700 folder, as <c>mktemp -d</c> makes, is closed to other users).
    /// </summary>
    public static string ExecutableForTestUser => ExecutableForOthers.Value;

    private static string CopyExecutableForOthers()
    {
        var own = TrailProcess.ExecutablePath;
        var open = true;
        for (var dir = new DirectoryInfo(Path.GetDirectoryName(own)!); dir is not null && open; dir = dir.Parent)
        {
            open = File.GetUnixFileMode(dir.FullName).HasFlag(UnixFileMode.OtherExecute);
        }

        if (open && File.GetUnixFileMode(own).HasFlag(UnixFileMode.OtherRead))
        {
            return own;
        }

        var from = Path.GetDirectoryName(own)!;
        var to = Directory.CreateTempSubdirectory("st-e2e-bin-").FullName;
        File.SetUnixFileMode(to, (UnixFileMode)0b111_101_101);
        foreach (var path in Directory.EnumerateFileSystemEntries(from, "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(to, Path.GetRelativePath(from, path));
            if (Directory.Exists(path))
            {
                Directory.CreateDirectory(target);
                File.SetUnixFileMode(target, (UnixFileMode)0b111_101_101);
            }
            else
            {
                Directory.CreateDirectory(Path.GetDirectoryName(target)!);
                File.SetUnixFileMode(Path.GetDirectoryName(target)!, (UnixFileMode)0b111_101_101);
                File.Copy(path, target);
                File.SetUnixFileMode(target, (UnixFileMode)0b110_100_100);
            }
        }

        AppDomain.CurrentDomain.ProcessExit += (_, _) => Directory.Delete(to, recursive: true);
        return Path.Combine(to, Path.GetFileName(own));
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
