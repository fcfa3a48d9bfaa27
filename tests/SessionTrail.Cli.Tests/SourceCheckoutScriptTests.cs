using System.Diagnostics;
using SessionTrail.TestKit;

namespace SessionTrail.Cli.Tests;

/// <summary>
/// The `sessiontrail` script at the repository root builds the executable when it is missing or a build
/// input is newer, else runs the one it has. It runs here in a copy of itself inside a small source tree,
/// with a stand-in `dotnet` first on PATH: the real publish takes minutes, and what is under test is the
/// script's decision. The stand-in does what the real publish does to the file times: it writes the
/// executable, then files under src/*/bin and src/*/obj (the real build's file lists are written last).
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class SourceCheckoutScriptTests : IDisposable
{
    private const string Building = "sessiontrail: building";

    private const string FakeDotnet = """
        #!/bin/sh
        # Stand-in for `dotnet publish PROJECT ... -o OUT`: counts the call, writes OUT/sessiontrail, then the
        # build's own files under src/App/bin and src/App/obj, after the executable.
        echo publish >> "$FAKE_DOTNET_LOG"
        out=""
        while [ $# -gt 0 ]; do
          if [ "$1" = "-o" ]; then out="$2"; shift; fi
          shift
        done
        mkdir -p "$out"
        printf '#!/bin/sh\necho "ran $*"\n' > "$out/sessiontrail"
        chmod 755 "$out/sessiontrail"
        mkdir -p "$FAKE_SRC/App/bin/Release" "$FAKE_SRC/App/obj/Release"
        echo built > "$FAKE_SRC/App/bin/Release/App.dll"
        echo list > "$FAKE_SRC/App/obj/Release/App.csproj.FileListAbsolute.txt"
        """;

    private readonly string _root = Directory.CreateTempSubdirectory("st-script-").FullName;

    public SourceCheckoutScriptTests()
    {
        File.Copy(Path.Combine(Repository.Root, "sessiontrail"), Path.Combine(_root, "sessiontrail"));
        File.SetUnixFileMode(Path.Combine(_root, "sessiontrail"), (UnixFileMode)0b111_101_101);
        Write("src/App/Program.cs", "return 0;\n");
        Write("src/App/App.csproj", "<Project />\n");
        Write("src/App/Web/wwwroot/index.html", "<html></html>\n");
        Write("Directory.Build.props", "<Project />\n");
        Write("Directory.Packages.props", "<Project />\n");
        Write("global.json", "{}\n");
        Write("tools/dotnet", FakeDotnet);
        File.SetUnixFileMode(Path.Combine(_root, "tools/dotnet"), (UnixFileMode)0b111_101_101);
    }

    [Fact]
    public async Task The_second_run_uses_the_executable_the_first_one_built()
    {
        var first = await RunAsync("report", "top-apps");
        Assert.Contains(Building, first.Stderr, StringComparison.Ordinal);
        Assert.Equal("ran report top-apps", first.Stdout.Trim());

        var second = await RunAsync("report", "top-apps");
        Assert.DoesNotContain(Building, second.Stderr, StringComparison.Ordinal);
        Assert.Equal("ran report top-apps", second.Stdout.Trim());
        Assert.Equal(1, Publishes());
    }

    [Theory]
    [InlineData("src/App/Program.cs")]
    [InlineData("src/App/App.csproj")]
    [InlineData("src/App/Web/wwwroot/index.html")]
    [InlineData("src/App/NewFile.cs")]
    [InlineData("Directory.Build.props")]
    [InlineData("Directory.Packages.props")]
    [InlineData("global.json")]
    public async Task A_changed_build_input_builds_again_once(string input)
    {
        await RunAsync("--help");
        AgeTheExecutable();
        Write(input, "// changed\n");

        Assert.Contains(Building, (await RunAsync("--help")).Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain(Building, (await RunAsync("--help")).Stderr, StringComparison.Ordinal);
        Assert.Equal(2, Publishes());
    }

    [Fact]
    public async Task Files_under_bin_and_obj_are_not_build_inputs()
    {
        await RunAsync("--help");
        foreach (var written in new[] { "src/App/obj/project.assets.json", "src/App/bin/Debug/App.dll" })
        {
            Write(written, "x\n");
            File.SetLastWriteTimeUtc(Path.Combine(_root, written), DateTime.UtcNow.AddMinutes(1));
        }

        Assert.DoesNotContain(Building, (await RunAsync("--help")).Stderr, StringComparison.Ordinal);
        Assert.Equal(1, Publishes());
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private void Write(string relative, string content)
    {
        var path = Path.Combine(_root, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, content);
    }

    /// <summary>Dates the executable a minute back, so that what the test writes next is newer whatever the clock's resolution.</summary>
    private void AgeTheExecutable()
    {
        var exe = Directory.GetFiles(Path.Combine(_root, "artifacts"), "sessiontrail", SearchOption.AllDirectories).Single();
        File.SetLastWriteTimeUtc(exe, DateTime.UtcNow.AddMinutes(-1));
    }

    private int Publishes()
    {
        var log = Path.Combine(_root, "publishes.log");
        return File.Exists(log) ? File.ReadAllLines(log).Length : 0;
    }

    private async Task<(string Stdout, string Stderr)> RunAsync(params string[] args)
    {
        var psi = new ProcessStartInfo(Path.Combine(_root, "sessiontrail"))
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }

        psi.Environment["PATH"] = Path.Combine(_root, "tools") + ":" + Environment.GetEnvironmentVariable("PATH");
        psi.Environment["FAKE_DOTNET_LOG"] = Path.Combine(_root, "publishes.log");
        psi.Environment["FAKE_SRC"] = Path.Combine(_root, "src");
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await p.WaitForExitAsync(timeout.Token);
        Assert.True(p.ExitCode == 0, $"exit {p.ExitCode}: {await stderr}");
        return (await stdout, await stderr);
    }
}
