using SessionTrail.Agent.Sessions;

namespace SessionTrail.Agent.Recording;

/// <summary>Looks up the groups of a user (Linux: `id -Gn USER`); null when they cannot be found.</summary>
public interface IUserGroups
{
    Task<IReadOnlyList<string>?> GroupsOfAsync(string user, CancellationToken cancellationToken);
}

/// <summary>Linux/Unix: `id -Gn USER` (NSS: /etc/group, LDAP, sssd — whatever getent sees).</summary>
public sealed class IdCommandUserGroups : IUserGroups
{
    public async Task<IReadOnlyList<string>?> GroupsOfAsync(string user, CancellationToken cancellationToken)
    {
        var id = ExternalTool.Resolve("id");
        if (id is null || string.IsNullOrWhiteSpace(user) || user.StartsWith('-'))
        {
            return null;
        }

        try
        {
            var r = await ExternalTool.RunAsync(id, ["-Gn", user], null, TimeSpan.FromSeconds(10), cancellationToken);
            return r.ExitCode == 0 ? r.Stdout.Split((char[])[' ', '\n', '\t'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries) : null;
        }
        catch (Exception ex) when (ex is System.ComponentModel.Win32Exception or TimeoutException or InvalidOperationException or IOException)
        {
            return null;
        }
    }
}

/// <summary>
/// Decides whether a session is recorded (<see cref="RecordingPolicy"/>): every non-empty list must match
/// (names compared case-insensitively; a DOMAIN\user or user@domain user also matches by its bare name),
/// and an excluded user is never recorded. With a group list, a user whose groups cannot be read is not recorded.
/// </summary>
public static class RecordingPolicyCheck
{
    /// <summary>Null when recorded, else why not (for the not-recorded event).</summary>
    public static async Task<string?> WhyNotAsync(RecordingPolicy policy, CurrentSession session, IUserGroups groups, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(policy);
        ArgumentNullException.ThrowIfNull(session);
        ArgumentNullException.ThrowIfNull(groups);
        if (session.Fields.User is { } u && policy.ExcludeUsers.Any(x => SameUser(x, u)))
        {
            return $"user {u} is excluded from recording (Policy.ExcludeUsers)";
        }

        if (policy.Users.Count > 0 && (session.Fields.User is null || !policy.Users.Any(x => SameUser(x, session.Fields.User))))
        {
            return $"user {session.Fields.User ?? "(unknown)"} is not in Policy.Users";
        }

        if (policy.Stacks.Count > 0 && (session.Fields.Stack is null || !policy.Stacks.Contains(session.Fields.Stack, StringComparer.OrdinalIgnoreCase)))
        {
            return $"stack {session.Fields.Stack ?? "(unknown)"} is not in Policy.Stacks";
        }

        if (policy.Fleets.Count > 0 && (session.Fields.Fleet is null || !policy.Fleets.Contains(session.Fields.Fleet, StringComparer.OrdinalIgnoreCase)))
        {
            return $"fleet {session.Fields.Fleet ?? "(unknown)"} is not in Policy.Fleets";
        }

        if (policy.Groups.Count > 0)
        {
            if (session.Fields.User is null)
            {
                return "the session has no user, so its groups are unknown (Policy.Groups is set)";
            }

            var of = await groups.GroupsOfAsync(BareName(session.Fields.User), cancellationToken);
            if (of is null)
            {
                return $"the groups of user {session.Fields.User} could not be read (Policy.Groups is set)";
            }

            if (!of.Any(g => policy.Groups.Contains(g, StringComparer.OrdinalIgnoreCase)))
            {
                return $"user {session.Fields.User} is in none of Policy.Groups ({string.Join(", ", policy.Groups)})";
            }
        }

        return null;
    }

    private static bool SameUser(string listed, string user) =>
        string.Equals(listed, user, StringComparison.OrdinalIgnoreCase) || string.Equals(BareName(listed), BareName(user), StringComparison.OrdinalIgnoreCase) && (!listed.Contains('\\', StringComparison.Ordinal) && !listed.Contains('@', StringComparison.Ordinal));

    private static string BareName(string user)
    {
        var slash = user.LastIndexOf('\\');
        var name = slash >= 0 ? user[(slash + 1)..] : user;
        var at = name.IndexOf('@', StringComparison.Ordinal);
        return at > 0 ? name[..at] : name;
    }
}
