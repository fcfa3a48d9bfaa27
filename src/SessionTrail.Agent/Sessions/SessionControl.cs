using System.Globalization;
using System.Text.Json;
using SessionTrail.Agent.Storage;
using SessionTrail.Core;

namespace SessionTrail.Agent.Sessions;

/// <summary>
/// `sessiontrail session start|end`: writes the explicit current session to DIR/agent/session.json
/// (atomically). The running agent watches that file and emits the session start/end records.
/// </summary>
public static class SessionControl
{
    public const string FileName = "session.json";

    public static string FilePath(string dataDir) => Path.Combine(DataDirectory.AgentDirectory(dataDir), FileName);

    /// <summary>
    /// Starts (or replaces) the current session. Empty fields default from the AppStream environment;
    /// with no id at all, "{host}-{yyyyMMddTHHmmssZ}" is used. Returns what was written.
    /// Throws <see cref="IOException"/> / <see cref="UnauthorizedAccessException"/> when the file cannot be written.
    /// </summary>
    public static CurrentSession Start(string dataDir, SessionStartRequest request, DateTimeOffset now, Func<string, string?>? getVariable = null)
    {
        var filled = SessionEnvironment.WithDefaults(request, getVariable);
        var session = new CurrentSession
        {
            Id = filled.Id ?? Environment.MachineName + "-" + now.UtcDateTime.ToString("yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture),
            Fields = filled.Fields,
            Started = now,
        };
        Write(dataDir, session);
        return session;
    }

    /// <summary>
    /// Ends the current session (sets its end time). Returns the ended session, or null when no session
    /// was active. Throws like <see cref="Start"/>.
    /// </summary>
    public static CurrentSession? End(string dataDir, DateTimeOffset now)
    {
        var current = Read(dataDir);
        if (current is null || !current.IsActive)
        {
            return null;
        }

        var ended = current with { Ended = now };
        Write(dataDir, ended);
        return ended;
    }

    /// <summary>The session in DIR/agent/session.json, or null when there is none or it is unreadable.</summary>
    public static CurrentSession? Read(string dataDir)
    {
        try
        {
            var bytes = File.ReadAllBytes(FilePath(dataDir));
            return JsonSerializer.Deserialize(bytes, SessionJsonContext.Default.CurrentSession);
        }
        catch (Exception ex) when (ex is IOException or JsonException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    private static void Write(string dataDir, CurrentSession session) =>
        AtomicFile.WriteAllBytes(FilePath(dataDir), JsonSerializer.SerializeToUtf8Bytes(session, SessionJsonContext.Default.CurrentSession));
}
