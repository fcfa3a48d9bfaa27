using System.Security.Cryptography;
using System.Text;

namespace SessionTrail.Server.Auth;

/// <summary>Random bearer secrets (tokens, session ids, CSRF tokens) and the hash under which they are stored.</summary>
internal static class Secrets
{
    /// <summary>32 random bytes, base64url without padding (43 characters).</summary>
    public static string New() =>
        Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    /// <summary>SHA-256 of the secret's UTF-8 bytes (what the database keeps).</summary>
    public static byte[] Hash(string secret) => SHA256.HashData(Encoding.UTF8.GetBytes(secret));

    /// <summary>Constant-time comparison of two strings' UTF-8 bytes (false for a null).</summary>
    public static bool FixedTimeEquals(string? a, string? b) =>
        a is not null && b is not null && CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(a), Encoding.UTF8.GetBytes(b));
}
