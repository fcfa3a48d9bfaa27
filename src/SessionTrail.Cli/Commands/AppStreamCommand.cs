using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace SessionTrail.Cli.Commands;

/// <summary>
/// `sessiontrail appstream config-json`: prints (or writes) the AppStream 2.0 session-scripts file
/// <c>C:\AppStream\SessionScripts\config.json</c> that runs <c>sessiontrail session start</c> at session
/// start and <c>sessiontrail session end</c> at session termination, both in the system context.
/// </summary>
internal static class AppStreamCommand
{
    public static Command Create()
    {
        var exe = new Option<string>("--exe")
        {
            Description = "Where sessiontrail.exe is installed on the image.",
            DefaultValueFactory = _ => AppStreamSessionScripts.DefaultExecutable,
            HelpName = "PATH",
        };
        var data = new Option<string>("--data")
        {
            Description = "The agent's data folder on the image (the session state is written there).",
            DefaultValueFactory = _ => AppStreamSessionScripts.DefaultDataDirectory,
            HelpName = "DIR",
        };
        var startWait = new Option<int>("--start-wait")
        {
            Description = "SessionStart waitingTime in seconds (1-60; AppStream stops scripts after it).",
            DefaultValueFactory = _ => AppStreamSessionScripts.DefaultStartWait,
            HelpName = "SECONDS",
        };
        var endWait = new Option<int>("--end-wait")
        {
            Description = "SessionTermination waitingTime in seconds (1-60).",
            DefaultValueFactory = _ => AppStreamSessionScripts.DefaultEndWait,
            HelpName = "SECONDS",
        };
        var s3Log = new Option<bool>("--s3-log")
        {
            Description = "s3LogEnabled: AppStream copies the scripts' output to its S3 log bucket (when the stack has one).",
            DefaultValueFactory = _ => true,
        };
        var output = new Option<string?>("--out")
        {
            Description = "Write the file here (e.g. C:\\AppStream\\SessionScripts\\config.json) instead of printing it.",
            HelpName = "FILE",
        };
        var configJson = new Command(
            "config-json",
            """
            Print the AppStream session-scripts config.json: at session start (system context)
            `sessiontrail session start`, at session termination (system context) `sessiontrail session end`.
            No user-context script: nothing runs as the user, so users cannot stop or fake the capture.
            """)
        {
            exe, data, startWait, endWait, s3Log, output,
        };
        configJson.SetAction((parse, _) => Failure.GuardAsync("appstream config-json", async () =>
        {
            var json = AppStreamSessionScripts.Build(new AppStreamSessionScripts.Settings
            {
                Executable = parse.GetValue(exe)!,
                DataDirectory = parse.GetValue(data)!,
                StartWaitSeconds = parse.GetValue(startWait),
                EndWaitSeconds = parse.GetValue(endWait),
                S3LogEnabled = parse.GetValue(s3Log),
            });
            if (parse.GetValue(output) is { } path)
            {
                var full = Path.GetFullPath(path);
                Directory.CreateDirectory(Path.GetDirectoryName(full)!);
                await File.WriteAllTextAsync(full, json, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false));
                Console.WriteLine($"wrote {full}");
            }
            else
            {
                Console.Write(json);
            }

            return 0;
        }));

        return new Command("appstream", "Amazon AppStream 2.0 installation helpers (see docs/appstream.md).") { configJson };
    }
}

/// <summary>Builds the AppStream session-scripts <c>config.json</c> (the shape AppStream documents and the seed uses).</summary>
internal static class AppStreamSessionScripts
{
    public const string DefaultExecutable = @"C:\Program Files\SessionTrail\sessiontrail.exe";
    public const string DefaultDataDirectory = @"C:\ProgramData\SessionTrail";
    public const int DefaultStartWait = 30;
    public const int DefaultEndWait = 60;

    /// <summary>AppStream stops a session script after at most 60 seconds.</summary>
    public const int MaxWait = 60;

    public sealed record Settings
    {
        public string Executable { get; init; } = DefaultExecutable;

        public string DataDirectory { get; init; } = DefaultDataDirectory;

        public int StartWaitSeconds { get; init; } = DefaultStartWait;

        public int EndWaitSeconds { get; init; } = DefaultEndWait;

        public bool S3LogEnabled { get; init; } = true;
    }

    /// <summary>The file's text (indented JSON, LF line ends). Throws <see cref="ArgumentException"/> naming the bad option.</summary>
    public static string Build(Settings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        RequireWindowsPath("--exe", settings.Executable);
        if (!settings.Executable.EndsWith(".exe", StringComparison.OrdinalIgnoreCase))
        {
            throw new ArgumentException($"--exe: '{settings.Executable}' must name an .exe (AppStream runs .exe, .bat and .ps1 files)");
        }

        RequireWindowsPath("--data", settings.DataDirectory);
        RequireWait("--start-wait", settings.StartWaitSeconds);
        RequireWait("--end-wait", settings.EndWaitSeconds);

        var data = "--data \"" + settings.DataDirectory.TrimEnd('\\') + "\"";
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping, NewLine = "\n" }))
        {
            w.WriteStartObject();
            Event(w, "SessionStart", "session start " + data, settings.StartWaitSeconds, settings);
            Event(w, "SessionTermination", "session end " + data, settings.EndWaitSeconds, settings);
            w.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.ToArray()) + "\n";
    }

    private static void Event(Utf8JsonWriter w, string name, string arguments, int wait, Settings settings)
    {
        w.WriteStartObject(name);
        w.WriteStartArray("executables");
        Executable(w, "system", settings.Executable, arguments, settings.S3LogEnabled);
        Executable(w, "user", "", "", false); // empty filename: AppStream runs nothing in the user's context
        w.WriteEndArray();
        w.WriteNumber("waitingTime", wait);
        w.WriteEndObject();
    }

    private static void Executable(Utf8JsonWriter w, string context, string filename, string arguments, bool s3Log)
    {
        w.WriteStartObject();
        w.WriteString("context", context);
        w.WriteString("filename", filename);
        w.WriteString("arguments", arguments);
        w.WriteBoolean("s3LogEnabled", s3Log);
        w.WriteEndObject();
    }

    private static void RequireWindowsPath(string option, string path)
    {
        var absolute = path.Length >= 3 && char.IsAsciiLetter(path[0]) && path[1] == ':' && path[2] == '\\';
        if (!absolute || path.Contains('"', StringComparison.Ordinal) || path.Length > 1000)
        {
            throw new ArgumentException($"{option}: '{path}' must be an absolute Windows path like C:\\Program Files\\... (no quotes, at most 1000 characters)");
        }
    }

    private static void RequireWait(string option, int seconds)
    {
        if (seconds is < 1 or > MaxWait)
        {
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"{option}: {seconds} must be between 1 and {MaxWait} seconds (AppStream's limit)"));
        }
    }
}
