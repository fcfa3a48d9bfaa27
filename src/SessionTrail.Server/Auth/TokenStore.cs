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
    public string Create(string name, string role = Role.Admin) => Issue(name, role).Token;

    /// <summary><see cref="Create"/>, also answering the new token's id.</summary>
    public (long Id, string Token) Issue(string name, string role)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        role = Role.Parse(role);
        var token = Prefix + Secrets.New();
        var hash = Hash(token);
        var id = store.Write((connection, tx) =>
        {
            using var cmd = connection.CreateCommand();
            cmd.Transaction = tx;
            cmd.CommandText = "INSERT INTO tokens(name, hash, created, role) VALUES($name, $hash, $created, $role) RETURNING id";
            cmd.Parameters.AddWithValue("$role", role);
            cmd.Parameters.AddWithValue("$name", name);
            cmd.Parameters.AddWithValue("$hash", hash);
            cmd.Parameters.AddWithValue("$created", DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
            return Convert.ToInt64(cmd.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture);
        });
        return (id, token);
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

    /// <summary>Every token (never the token itself), oldest first.</summary>
    public IReadOnlyList<TokenInfo> List()
    {
        using var connection = store.OpenConnection();
        using var cmd = connection.CreateCommand();
        cmd.CommandText = "SELECT id, name, role, created FROM tokens ORDER BY id";
        using var reader = cmd.ExecuteReader();
        var list = new List<TokenInfo>();
        while (reader.Read())
        {
            list.Add(new TokenInfo(reader.GetInt64(0), reader.GetString(1), reader.GetString(2), DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(3))));
        }

        return list;
    }

    /// <summary>Deletes token <paramref name="id"/> (its next request is 401); false when there is none.</summary>
    public bool Revoke(long id) => store.Write((connection, tx) =>
    {
        using var cmd = connection.CreateCommand();
        cmd.Transaction = tx;
        cmd.CommandText = "DELETE FROM tokens WHERE id = $id";
        cmd.Parameters.AddWithValue("$id", id);
        return cmd.ExecuteNonQuery() > 0;
    });

    /// <summary>For the CLI: runs <paramref name="action"/> on the tokens of the store in <paramref name="dataDir"/> (created if needed).</summary>
    public static T With<T>(string dataDir, Func<TokenStore, T> action)
    {
        ArgumentNullException.ThrowIfNull(action);
        using var store = SqliteStore.Open(dataDir);
        return action(new TokenStore(store));
    }

    /// <summary>For the CLI: opens (creating if needed) the store in <paramref name="dataDir"/> and creates a token with <paramref name="role"/>.</summary>
    public static string CreateFor(string dataDir, string name, string role = Role.Admin)
    {
        return With(dataDir, tokens => tokens.Create(name, role));
    }

    private static byte[] Hash(string token) => Secrets.Hash(token);
}

/// <summary>One API token as listed: id, label, role, creation time (the token itself is not stored).</summary>
public sealed record TokenInfo(long Id, string Name, string Role, DateTimeOffset Created);
