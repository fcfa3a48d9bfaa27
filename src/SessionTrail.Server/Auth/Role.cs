namespace SessionTrail.Server.Auth;

/// <summary>
/// The roles of accounts and API tokens. <c>viewer</c> &lt; <c>auditor</c> &lt; <c>admin</c>, each including
/// the rights of the ones below. <c>agent</c> is for API tokens only: ingest and recording upload, nothing
/// else (an admin may call those too).
/// </summary>
public static class Role
{
    /// <summary>Ingest and recording upload only (API tokens of agents).</summary>
    public const string Agent = "agent";

    /// <summary>Reports, logs, sessions, recording listings (metadata) — no recording bytes.</summary>
    public const string Viewer = "viewer";

    /// <summary>A viewer who may also watch and download recordings.</summary>
    public const string Auditor = "auditor";

    /// <summary>Everything: legal holds, the access audit log, users and tokens.</summary>
    public const string Admin = "admin";

    /// <summary>Every role, for help texts and errors.</summary>
    public static IReadOnlyList<string> All { get; } = [Viewer, Auditor, Admin, Agent];

    /// <summary>The roles a user account may have (not <see cref="Agent"/>).</summary>
    public static IReadOnlyList<string> ForAccounts { get; } = [Viewer, Auditor, Admin];

    /// <summary>True when a caller with role <paramref name="have"/> may call what needs <paramref name="need"/>.</summary>
    public static bool Allows(string have, string need) => need switch
    {
        Agent => have is Agent or Admin,
        Viewer => have is Viewer or Auditor or Admin,
        Auditor => have is Auditor or Admin,
        _ => have is Admin,
    };

    /// <summary>The known role named <paramref name="value"/> (case-insensitive); <see cref="ArgumentException"/> naming the choices otherwise.</summary>
    public static string Parse(string? value, bool forAccount = false)
    {
        var choices = forAccount ? ForAccounts : All;
        var match = choices.FirstOrDefault(r => string.Equals(r, value?.Trim(), StringComparison.OrdinalIgnoreCase));
        return match ?? throw new ArgumentException(
            $"unknown role '{value}'; expected one of: {string.Join(", ", choices)}" +
            (forAccount && string.Equals(value?.Trim(), Agent, StringComparison.OrdinalIgnoreCase) ? " ('agent' is for API tokens only)" : ""));
    }
}
