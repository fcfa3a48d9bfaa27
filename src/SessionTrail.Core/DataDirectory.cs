namespace SessionTrail.Core;

/// <summary>Where SessionTrail keeps its data when no --data is given.</summary>
public static class DataDirectory
{
    /// <summary>Environment variable that overrides the default data directory.</summary>
    public const string EnvironmentVariable = "SESSIONTRAIL_DATA";

    /// <summary>
    /// $SESSIONTRAIL_DATA if set; else /var/lib/sessiontrail for root on Linux;
    /// else $XDG_DATA_HOME/sessiontrail or ~/.local/share/sessiontrail; on Windows
    /// %ProgramData%\SessionTrail.
    /// </summary>
    public static string Default()
    {
        var fromEnv = Environment.GetEnvironmentVariable(EnvironmentVariable);
        if (!string.IsNullOrWhiteSpace(fromEnv))
        {
            return Path.GetFullPath(fromEnv);
        }

        if (OperatingSystem.IsWindows())
        {
            return Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.CommonApplicationData), "SessionTrail");
        }

        if (Environment.UserName == "root")
        {
            return "/var/lib/sessiontrail";
        }

        var xdg = Environment.GetEnvironmentVariable("XDG_DATA_HOME");
        var baseDir = string.IsNullOrWhiteSpace(xdg)
            ? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".local", "share")
            : xdg;
        return Path.Combine(baseDir, "sessiontrail");
    }

    /// <summary>The server's SQLite database inside a data directory.</summary>
    public static string DatabasePath(string dataDir) => Path.Combine(dataDir, "sessiontrail.db");

    /// <summary>The agent's state (queues, bookmarks, current session, status) inside a data directory.</summary>
    public static string AgentDirectory(string dataDir) => Path.Combine(dataDir, "agent");

    /// <summary>The server's private keys (the recording signing key) inside a data directory.</summary>
    public static string ServerKeysDirectory(string dataDir) => Path.Combine(dataDir, "server-keys");

    /// <summary>The API token of the agent that <c>sessiontrail up</c> runs.</summary>
    public static string UpTokenPath(string dataDir) => Path.Combine(AgentDirectory(dataDir), "up-token");

    /// <summary>
    /// Whether <paramref name="name"/>, an entry directly in a data directory, is one SessionTrail makes there: the
    /// database and its -wal/-shm/-journal, <c>agent/</c>, <c>server-keys/</c>, <c>recordings/</c>. The start-up pass
    /// that makes a data directory private touches only these (a --data that names a folder holding other things,
    /// a home directory or /srv, keeps everything else as it is).
    /// </summary>
    public static bool IsOwnEntry(string name) =>
        name is "agent" or "server-keys" or "recordings" || name.StartsWith("sessiontrail.db", StringComparison.Ordinal);

    /// <summary>What stays owner-only (0700/0600) even when a group may read the data directory (see <see cref="DataAccess"/>).</summary>
    public static IReadOnlyCollection<string> Secrets(string dataDir) => [ServerKeysDirectory(dataDir), UpTokenPath(dataDir)];
}
