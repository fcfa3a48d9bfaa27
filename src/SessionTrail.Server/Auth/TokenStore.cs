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

    /// <summary>Creates, stores (hashed) and returns a new token labelled <paramref name="name"/> with <paramref name="role"/> (default admin).</summary>
    public string Create(string name, string role = Role.Admin)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        role = Role.Parse(role);
        var token = Prefix + Secrets.New();
        var hash = Hash(token);
        store.Write((connection, tx) =>
        {
            using var cmd = connection.CreateCommand();
            cmd.Transaction = tx;
            cmd.CommandText = "INSERT INTO tokens(name, hash, created, role) VALUES($name, $hash, $created, $role)";
            cmd.Parameters.AddWithValue("$role", role);
            cmd.Parameters.AddWithValue("$name", name);
            cmd.Parameters.AddWithValue("$hash", hash);
            cmd.Parameters.AddWithValue("$created", DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
            return cmd.ExecuteNonQuery();
        });
        return token;
    }

    /// <summary>True when <paramref name="token"/> is one this store created.</summary>
    public bool Validate(string? token) => Identify(token) is not null;

    /// <summary>The caller (name, role, id) of <paramref name="token"/> when this store created it, else null (never throws for any string).</summary>
    public Caller? Identify(string? token)
    {
        if (string.IsNullOrEmpty(token) || token.Length > 200 || !token.StartsWith(Prefix, StringComparison.Ordinal))
        {
            return null;
        }

        var hash = Hash(token);
        using var connection = store.OpenConnection();
        using var cmd = connection.CreateCommand();
        cmd.CommandText = "SELECT hash, id, name, role FROM tokens WHERE hash = $hash";
        cmd.Parameters.AddWithValue("$hash", hash);
        using var reader = cmd.ExecuteReader();
        return reader.Read() && reader.GetValue(0) is byte[] stored && CryptographicOperations.FixedTimeEquals(stored, hash)
            ? new Caller(reader.GetString(2), reader.GetString(3), reader.GetInt64(1))
            : null;
    }

    /// <summary>For the CLI: opens (creating if needed) the store in <paramref name="dataDir"/> and creates a token with <paramref name="role"/>.</summary>
    public static string CreateFor(string dataDir, string name, string role = Role.Admin)
    {
        using var store = SqliteStore.Open(dataDir);
        return new TokenStore(store).Create(name, role);
    }

    private static byte[] Hash(string token) => Secrets.Hash(token);
}
