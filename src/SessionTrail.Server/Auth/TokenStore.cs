using System.Security.Cryptography;
using System.Text;
using Microsoft.Data.Sqlite;
using SessionTrail.Server.Store;

namespace SessionTrail.Server.Auth;

/// <summary>
/// API tokens. A token is "st_" + 32 random bytes in base64url; only its SHA-256 is stored, so a copy
/// of the database does not reveal usable tokens. <see cref="Validate"/> never throws for any input
/// string (it answers false); database errors propagate.
/// </summary>
public sealed class TokenStore(SqliteStore store)
{
    /// <summary>Every token starts with this prefix (easy to spot in a leaked log or config).</summary>
    public const string Prefix = "st_";

    /// <summary>Creates, stores (hashed) and returns a new token labelled <paramref name="name"/>.</summary>
    public string Create(string name)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        var token = Prefix + Base64Url(RandomNumberGenerator.GetBytes(32));
        var hash = Hash(token);
        store.Write((connection, tx) =>
        {
            using var cmd = connection.CreateCommand();
            cmd.Transaction = tx;
            cmd.CommandText = "INSERT INTO tokens(name, hash, created) VALUES($name, $hash, $created)";
            cmd.Parameters.AddWithValue("$name", name);
            cmd.Parameters.AddWithValue("$hash", hash);
            cmd.Parameters.AddWithValue("$created", DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
            return cmd.ExecuteNonQuery();
        });
        return token;
    }

    /// <summary>True when <paramref name="token"/> is one this store created.</summary>
    public bool Validate(string? token) => Identify(token) is not null;

    /// <summary>The id and name of <paramref name="token"/> when this store created it, else null (never throws for any string).</summary>
    public TokenIdentity? Identify(string? token)
    {
        if (string.IsNullOrEmpty(token) || token.Length > 200 || !token.StartsWith(Prefix, StringComparison.Ordinal))
        {
            return null;
        }

        var hash = Hash(token);
        using var connection = store.OpenConnection();
        using var cmd = connection.CreateCommand();
        cmd.CommandText = "SELECT hash, id, name FROM tokens WHERE hash = $hash";
        cmd.Parameters.AddWithValue("$hash", hash);
        using var reader = cmd.ExecuteReader();
        return reader.Read() && reader.GetValue(0) is byte[] stored && CryptographicOperations.FixedTimeEquals(stored, hash)
            ? new TokenIdentity(reader.GetInt64(1), reader.GetString(2))
            : null;
    }

    /// <summary>For the CLI: opens (creating if needed) the store in <paramref name="dataDir"/> and creates a token.</summary>
    public static string CreateFor(string dataDir, string name)
    {
        using var store = SqliteStore.Open(dataDir);
        return new TokenStore(store).Create(name);
    }

    private static byte[] Hash(string token) => SHA256.HashData(Encoding.UTF8.GetBytes(token));

    private static string Base64Url(byte[] bytes) =>
        Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}

/// <summary>Who called: the token's id and name (set on the request by <see cref="BearerTokenFilter"/>).</summary>
public sealed record TokenIdentity(long Id, string Name)
{
    /// <summary>The caller of <paramref name="http"/>'s request, when a token let it through.</summary>
    public static TokenIdentity? Of(Microsoft.AspNetCore.Http.HttpContext http) =>
        http?.Items.TryGetValue(typeof(TokenIdentity), out var who) == true ? who as TokenIdentity : null;
}
