using SessionTrail.Agent.Sessions;

namespace SessionTrail.Agent.Platform.Windows;

/// <summary>
/// The AppStream 2.0 variables of a Windows session. AppStream sets the user variables in the user's
/// registry environment (<c>HKEY_USERS\{SID}\Environment</c>) and the machine variables in the machine
/// environment. Platform-neutral: the Windows shell passes the two lookups.
/// </summary>
public static class AppStreamContext
{
    /// <summary>AppStream_Resource_Type (fleet or image-builder); read, logged, not a session field.</summary>
    public const string ResourceType = "AppStream_Resource_Type";

    /// <summary>Set per user session, in the user's environment.</summary>
    public static IReadOnlyList<string> UserVariables { get; } =
    [
        SessionEnvironment.StackName, SessionEnvironment.SessionId, SessionEnvironment.UserName,
        SessionEnvironment.ReservationTime, SessionEnvironment.AccessMode,
    ];

    /// <summary>Set per instance, in the machine environment.</summary>
    public static IReadOnlyList<string> MachineVariables { get; } =
    [
        SessionEnvironment.InstanceType, SessionEnvironment.Region, SessionEnvironment.ImageArn,
        SessionEnvironment.Fleet, ResourceType,
    ];

    /// <summary>The session fields the two environments give (user variables from the user, machine ones from the machine).</summary>
    public static SessionStartRequest Read(Func<string, string?> user, Func<string, string?> machine)
    {
        ArgumentNullException.ThrowIfNull(user);
        ArgumentNullException.ThrowIfNull(machine);
        return SessionEnvironment.WithDefaults(new SessionStartRequest(), name => UserVariables.Contains(name) ? user(name) : machine(name));
    }

    /// <summary>
    /// The lookup `sessiontrail session start` uses when it runs in the system context (AppStream's
    /// session scripts): its own environment first, then the streaming user's registry environment for
    /// the user variables and the machine environment for the rest. <paramref name="users"/> are the
    /// loaded user hives (SID and lookup); the streaming user is the one with an
    /// <c>AppStream_Session_ID</c> — with several, the latest reservation time, then the highest SID.
    /// </summary>
    public static Func<string, string?> ForSessionStart(
        Func<string, string?> own, IEnumerable<(string Sid, Func<string, string?> Lookup)> users, Func<string, string?> machine)
    {
        ArgumentNullException.ThrowIfNull(own);
        ArgumentNullException.ThrowIfNull(users);
        ArgumentNullException.ThrowIfNull(machine);
        var streaming = users
            .Where(u => !string.IsNullOrEmpty(u.Lookup(SessionEnvironment.SessionId)))
            .OrderByDescending(u => DateTimeOffset.TryParse(u.Lookup(SessionEnvironment.ReservationTime), System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.AssumeUniversal, out var t) ? t : DateTimeOffset.MinValue)
            .ThenByDescending(u => u.Sid, StringComparer.Ordinal)
            .Select(u => u.Lookup)
            .FirstOrDefault();
        return name =>
        {
            var value = own(name);
            if (!string.IsNullOrEmpty(value))
            {
                return value;
            }

            return UserVariables.Contains(name) ? streaming?.Invoke(name) : machine(name);
        };
    }
}
