using System.Runtime.Versioning;
using Microsoft.Win32;

namespace SessionTrail.Agent.Platform.Windows;

/// <summary>The Windows lookups for <see cref="WindowsLogonSessionPipe"/>: a user's registry environment and the machine environment.</summary>
[SupportedOSPlatform("windows")]
public static class WindowsRegistryEnvironment
{
    /// <summary><c>HKEY_USERS\{sid}\Environment</c> as a lookup, or null when that user's hive is not loaded.</summary>
    public static Func<string, string?>? User(string sid)
    {
        try
        {
            using var key = Registry.Users.OpenSubKey(sid + @"\Environment", writable: false);
            if (key is null)
            {
                return null;
            }

            var values = key.GetValueNames().ToDictionary(n => n, n => key.GetValue(n)?.ToString(), StringComparer.OrdinalIgnoreCase);
            return name => values.GetValueOrDefault(name);
        }
        catch (Exception ex) when (ex is System.Security.SecurityException or UnauthorizedAccessException or IOException)
        {
            return null;
        }
    }

    /// <summary>A machine-level environment variable (HKLM ... Session Manager\Environment).</summary>
    public static string? Machine(string name) => Environment.GetEnvironmentVariable(name, EnvironmentVariableTarget.Machine);

    /// <summary>The loaded hives of domain and local users (<c>S-1-5-21-*</c>) with their environment.</summary>
    public static IEnumerable<(string Sid, Func<string, string?> Lookup)> LoadedUsers()
    {
        string[] sids;
        try
        {
            sids = Registry.Users.GetSubKeyNames();
        }
        catch (Exception ex) when (ex is System.Security.SecurityException or UnauthorizedAccessException or IOException)
        {
            yield break;
        }

        foreach (var sid in sids)
        {
            if (sid.StartsWith("S-1-5-21-", StringComparison.Ordinal) && !sid.EndsWith("_Classes", StringComparison.Ordinal) && User(sid) is { } lookup)
            {
                yield return (sid, lookup);
            }
        }
    }
}
