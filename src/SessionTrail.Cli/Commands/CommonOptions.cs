using System.CommandLine;
using SessionTrail.Core;

namespace SessionTrail.Cli.Commands;

/// <summary>Options that several commands share, each built fresh per command.</summary>
internal static class CommonOptions
{
    public const string DefaultUrls = "http://127.0.0.1:5080";

    public static Option<string> Data() => new("--data")
    {
        Description = $"Data directory (database, agent queues and state). Default: ${DataDirectory.EnvironmentVariable}, " +
                      "else /var/lib/sessiontrail as root, else ~/.local/share/sessiontrail.",
        DefaultValueFactory = _ => DataDirectory.Default(),
        HelpName = "DIR",
    };

    public static Option<bool> Record() => new("--record")
    {
        Description = "Record the screen of each session started with `sessiontrail session start` (ffmpeg: x11grab of $DISPLAY on Linux, " +
                      "gdigrab on Windows) into DIR/agent/recordings as 5-minute fragmented MP4 segments with a SHA-256 chain. " +
                      "Settings (fps, quality, policy, notice …) in the config section Agent:Recording; see docs/recording.md.",
    };

    public static Option<string> Urls() => new("--urls")
    {
        Description = "Where the server listens (Kestrel URLs, ';'-separated).",
        DefaultValueFactory = _ => DefaultUrls,
        HelpName = "URL",
    };

    public static Option<string?> Server() => new("--server")
    {
        Description = "Base URL of a SessionTrail server, e.g. http://127.0.0.1:5080.",
        HelpName = "URL",
    };

    public static Option<string?> Token() => new("--token")
    {
        Description = "Bearer token for the server (from `sessiontrail token create`). Default: $SESSIONTRAIL_TOKEN.",
        DefaultValueFactory = _ => Environment.GetEnvironmentVariable("SESSIONTRAIL_TOKEN"),
        HelpName = "TOKEN",
    };

    public static Option<string?> Config() => new("--config")
    {
        Description = "JSON configuration file (see docs/agent-configuration.md).",
        HelpName = "FILE",
    };

    /// <summary>Full path of a --data value (relative paths are relative to the current folder).</summary>
    public static string FullData(string value) => Path.GetFullPath(value);

    /// <summary>
    /// <see cref="FullData"/> of a directory this command writes into: what it creates there follows the directory's
    /// access (<see cref="DataAccess.Of"/>: owner only, or the group that server, agent or up --group gave it).
    /// </summary>
    public static string DataToWrite(string value)
    {
        var dir = FullData(value);
        DataAccess.Of(dir).UseInThisProcess();
        return dir;
    }
}
