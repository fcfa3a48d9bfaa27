using System.CommandLine;
using System.Text.Json;
using SessionTrail.Cli.Commands;
using SessionTrail.TestKit;

namespace SessionTrail.Cli.Tests;

/// <summary>`sessiontrail appstream config-json`: valid JSON of the seed's (AppStream's) shape that runs session start/end.</summary>
public sealed class AppStreamConfigJsonTests
{
    [Fact]
    public void Output_has_the_seeds_shape_and_runs_session_start_and_end_as_system()
    {
        var json = AppStreamSessionScripts.Build(new AppStreamSessionScripts.Settings());
        using var ours = JsonDocument.Parse(json);
        using var seed = JsonDocument.Parse(SeedConfigJson());

        Assert.Equal(Shape(seed.RootElement), Shape(ours.RootElement));

        var start = ours.RootElement.GetProperty("SessionStart");
        var system = start.GetProperty("executables")[0];
        Assert.Equal("system", system.GetProperty("context").GetString());
        Assert.Equal(@"C:\Program Files\SessionTrail\sessiontrail.exe", system.GetProperty("filename").GetString());
        Assert.Equal(@"session start --data ""C:\ProgramData\SessionTrail""", system.GetProperty("arguments").GetString());
        Assert.True(system.GetProperty("s3LogEnabled").GetBoolean());
        Assert.Equal(30, start.GetProperty("waitingTime").GetInt32());

        var end = ours.RootElement.GetProperty("SessionTermination");
        Assert.Equal(@"session end --data ""C:\ProgramData\SessionTrail""", end.GetProperty("executables")[0].GetProperty("arguments").GetString());
        Assert.Equal(60, end.GetProperty("waitingTime").GetInt32());

        // Nothing runs in the user's context (an empty filename is not run), so a user cannot stop or fake the capture.
        foreach (var e in new[] { start, end })
        {
            var user = e.GetProperty("executables")[1];
            Assert.Equal("user", user.GetProperty("context").GetString());
            Assert.Equal("", user.GetProperty("filename").GetString());
        }

        // Windows paths are escaped as the AppStream docs ask ("C:\\Scripts\\..."), with readable quotes.
        Assert.Contains(@"""filename"": ""C:\\Program Files\\SessionTrail\\sessiontrail.exe""", json, StringComparison.Ordinal);
        Assert.Contains(@"""arguments"": ""session start --data \""C:\\ProgramData\\SessionTrail\""""", json, StringComparison.Ordinal);
    }

    [Fact]
    public void Options_change_the_paths_and_waiting_times()
    {
        var json = AppStreamSessionScripts.Build(new AppStreamSessionScripts.Settings
        {
            Executable = @"D:\Tools\ST\sessiontrail.exe",
            DataDirectory = @"D:\Data\ST\",
            StartWaitSeconds = 10,
            EndWaitSeconds = 45,
            S3LogEnabled = false,
        });
        using var doc = JsonDocument.Parse(json);
        var start = doc.RootElement.GetProperty("SessionStart");
        Assert.Equal(@"D:\Tools\ST\sessiontrail.exe", start.GetProperty("executables")[0].GetProperty("filename").GetString());
        Assert.Equal(@"session start --data ""D:\Data\ST""", start.GetProperty("executables")[0].GetProperty("arguments").GetString());
        Assert.False(start.GetProperty("executables")[0].GetProperty("s3LogEnabled").GetBoolean());
        Assert.Equal(10, start.GetProperty("waitingTime").GetInt32());
        Assert.Equal(45, doc.RootElement.GetProperty("SessionTermination").GetProperty("waitingTime").GetInt32());
    }

    [Theory]
    [InlineData("--start-wait", "0", "--start-wait: 0 must be between 1 and 60 seconds")]
    [InlineData("--end-wait", "61", "--end-wait: 61 must be between 1 and 60 seconds")]
    [InlineData("--exe", "sessiontrail.exe", "--exe: 'sessiontrail.exe' must be an absolute Windows path")]
    [InlineData("--exe", @"C:\Tools\sessiontrail.dll", @"--exe: 'C:\Tools\sessiontrail.dll' must name an .exe")]
    [InlineData("--data", "/var/lib/sessiontrail", "--data: '/var/lib/sessiontrail' must be an absolute Windows path")]
    public async Task Bad_options_are_one_clear_error(string option, string value, string message)
    {
        var (code, stdout, stderr) = await RunAsync("appstream", "config-json", option, value);
        Assert.Equal(1, code);
        Assert.Equal("", stdout);
        Assert.Contains("sessiontrail appstream config-json: " + message, stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Out_writes_the_file_without_a_bom()
    {
        var dir = Path.Combine(Path.GetTempPath(), "st-appstream-" + Guid.NewGuid().ToString("N"));
        try
        {
            var file = Path.Combine(dir, "SessionScripts", "config.json");
            var (code, stdout, _) = await RunAsync("appstream", "config-json", "--out", file, "--start-wait", "20");
            Assert.Equal(0, code);
            Assert.Contains(file, stdout, StringComparison.Ordinal);
            var bytes = await File.ReadAllBytesAsync(file);
            Assert.NotEqual(0xEF, bytes[0]);
            using var doc = JsonDocument.Parse(bytes);
            Assert.Equal(20, doc.RootElement.GetProperty("SessionStart").GetProperty("waitingTime").GetInt32());
        }
        finally
        {
            if (Directory.Exists(dir))
            {
                Directory.Delete(dir, recursive: true);
            }
        }
    }

    private static async Task<(int Code, string Stdout, string Stderr)> RunAsync(params string[] args)
    {
        var root = new RootCommand { AppStreamCommand.Create() };
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var (oldOut, oldErr) = (Console.Out, Console.Error);
        Console.SetOut(stdout);
        Console.SetError(stderr);
        try
        {
            var code = await root.Parse(args).InvokeAsync();
            return (code, stdout.ToString(), stderr.ToString());
        }
        finally
        {
            Console.SetOut(oldOut);
            Console.SetError(oldErr);
        }
    }

    /// <summary>Object keys (sorted) and value kinds, recursively: the structure without the values.</summary>
    private static string Shape(JsonElement e) => e.ValueKind switch
    {
        JsonValueKind.Object => "{" + string.Join(",", e.EnumerateObject().OrderBy(p => p.Name, StringComparer.Ordinal).Select(p => p.Name + ":" + Shape(p.Value))) + "}",
        JsonValueKind.Array => "[" + string.Join(",", e.EnumerateArray().Select(Shape)) + "]",
        JsonValueKind.True or JsonValueKind.False => "bool",
        _ => e.ValueKind.ToString(),
    };

    /// <summary>
    /// The session scripts config.json format, as the repository's tests/data/appstream/session-scripts-config.json
    /// holds it (an instance of the documented shape, so that a clone alone can run this test).
    /// </summary>
    private static string SeedConfigJson() => File.ReadAllText(Repository.FindAbove(Path.Combine("tests", "data", "appstream", "session-scripts-config.json"))
        ?? throw new FileNotFoundException("tests/data/appstream/session-scripts-config.json (part of the repository) not found above " + AppContext.BaseDirectory));

    /// <summary>The seed (step 6 prints the config.json); not part of the repository, found above it when there.</summary>
    internal static readonly string? SeedPath = Repository.FindAbove(Path.Combine("shared", "seeds", "000_c605e90942746083.txt"));

    [SeedFact]
    public void TheRepositorysCopyOfTheFormatHasTheShapeTheSeedPrints()
    {
        var text = File.ReadAllText(SeedPath!);
        var start = text.LastIndexOf('{', text.IndexOf("\"SessionStart\"", StringComparison.Ordinal));
        var depth = 0;
        var end = start;
        for (; end < text.Length; end++)
        {
            depth += text[end] switch { '{' => 1, '}' => -1, _ => 0 };
            if (depth == 0)
            {
                break;
            }
        }

        using var seed = JsonDocument.Parse(text[start..(end + 1)]);
        using var ours = JsonDocument.Parse(SeedConfigJson());
        Assert.Equal(Shape(seed.RootElement), Shape(ours.RootElement));
    }
}

/// <summary>A test against the seed document; skipped, saying why, when shared/seeds is not above the repository.</summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class SeedFactAttribute : FactAttribute
{
    public SeedFactAttribute()
    {
        if (AppStreamConfigJsonTests.SeedPath is null)
        {
            Skip = "needs the seed document shared/seeds/000_c605e90942746083.txt above the repository (not part of it); the format's shape is in tests/data/appstream, which the other tests use";
        }
    }
}
