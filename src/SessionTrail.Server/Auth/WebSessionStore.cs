using SessionTrail.Server.Store;

namespace SessionTrail.Server.Auth;

/// <summary>A signed-in browser session as <see cref="WebSessionStore.Find"/> returns it.</summary>
public sealed record WebSession(byte[] Hash, long AccountId, string User, string Role, string Csrf, DateTimeOffset Created, DateTimeOffset LastSeen);

/// <summary>
/// Server-side sign-in sessions (table <c>web_sessions</c>). The cookie value is 32 random bytes (base64url);
/// only its SHA-256 is stored, so a copy of the database holds no usable session. Each session has its
/// own CSRF token. A session ends after <see cref="IdleTimeout"/> without a request, after
/// <see cref="AbsoluteTimeout"/> in any case, on sign-out, and when its account is removed, disabled or
/// gets a new password or role (see <see cref="AccountStore"/>).
/// </summary>
public sealed class WebSessionStore(SqliteStore store, TimeProvider clock)
{
    /// <summary>A session unused for this long is over.</summary>
    public static readonly TimeSpan IdleTimeout = TimeSpan.FromHours(8);

    /// <summary>A session is over this long after sign-in, used or not.</summary>
    public static readonly TimeSpan AbsoluteTimeout = TimeSpan.FromHours(24);

    /// <summary>How stale <c>seen</c> may get before a request writes it again (saves a write per request).</summary>
    private static readonly TimeSpan TouchEvery = TimeSpan.FromMinutes(1);

    /// <summary>Starts a session for <paramref name="account"/>; returns the cookie value and the CSRF token.</summary>
    public (string Id, string Csrf) Create(Account account, string? remote)
    {
        ArgumentNullException.ThrowIfNull(account);
        var id = Secrets.New();
        var csrf = Secrets.New();
        var now = clock.GetUtcNow().ToUnixTimeMilliseconds();
        store.Write((connection, tx) =>
        {
            using (var sweep = connection.CreateCommand())
            {
                sweep.Transaction = tx;
                sweep.CommandText = "DELETE FROM web_sessions WHERE seen < $idle OR created < $absolute";
                sweep.Parameters.AddWithValue("$idle", now - (long)IdleTimeout.TotalMilliseconds);
                sweep.Parameters.AddWithValue("$absolute", now - (long)AbsoluteTimeout.TotalMilliseconds);
                sweep.ExecuteNonQuery();
            }

            using var cmd = connection.CreateCommand();
            cmd.Transaction = tx;
            cmd.CommandText = "INSERT INTO web_sessions(hash, account, csrf, created, seen, remote) VALUES($hash, $account, $csrf, $now, $now, $remote)";
            cmd.Parameters.AddWithValue("$hash", Hash(id));
            cmd.Parameters.AddWithValue("$account", account.Id);
            cmd.Parameters.AddWithValue("$csrf", csrf);
            cmd.Parameters.AddWithValue("$now", now);
            cmd.Parameters.AddWithValue("$remote", (object?)remote ?? DBNull.Value);
            return cmd.ExecuteNonQuery();
        });
        return (id, csrf);
    }

    /// <summary>
    /// The live session whose cookie value is <paramref name="id"/> (and marks it used), else null. An expired
    /// session, or one whose account is disabled, is deleted. Never throws for any string.
    /// </summary>
    public WebSession? Find(string? id)
    {
        if (string.IsNullOrEmpty(id) || id.Length > 100)
        {
            return null;
        }

        var hash = Hash(id);
        WebSession? session;
        bool disabled;
        using (var connection = store.OpenConnection())
        using (var cmd = connection.CreateCommand())
        {
            cmd.CommandText = """
                SELECT s.account, a.name, a.role, s.csrf, s.created, s.seen, a.disabled
                FROM web_sessions s JOIN accounts a ON a.id = s.account WHERE s.hash = $hash
                """;
            cmd.Parameters.AddWithValue("$hash", hash);
            using var reader = cmd.ExecuteReader();
            if (!reader.Read())
            {
                return null;
            }

            session = new WebSession(hash, reader.GetInt64(0), reader.GetString(1), reader.GetString(2), reader.GetString(3),
                DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(4)), DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(5)));
            disabled = reader.GetInt64(6) != 0;
        }

        var now = clock.GetUtcNow();
        if (disabled || now - session.LastSeen >= IdleTimeout || now - session.Created >= AbsoluteTimeout)
        {
            Delete(hash);
            return null;
        }

        if (now - session.LastSeen >= TouchEvery)
        {
            try
            {
                Execute("UPDATE web_sessions SET seen = $now WHERE hash = $hash", hash, now.ToUnixTimeMilliseconds());
            }
            catch (Exception e) when (DiskFullException.IsDiskFull(e))
            {
                // A full disk must not turn a signed-in user's reads into 507s: the idle clock is touched again
                // on a later request, once there is room (at worst the session ends TouchEvery early).
            }
        }

        return session;
    }

    /// <summary>Ends the session with this hash (sign-out).</summary>
    public void Delete(byte[] hash) => Execute("DELETE FROM web_sessions WHERE hash = $hash", hash, null);

    /// <summary>How many sessions are stored (expired ones included until swept), for tests and status.</summary>
    public long Count()
    {
        using var connection = store.OpenConnection();
        using var cmd = connection.CreateCommand();
        cmd.CommandText = "SELECT count(*) FROM web_sessions";
        return Convert.ToInt64(cmd.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture);
    }

    private void Execute(string sql, byte[] hash, long? now) => store.Write((connection, tx) =>
    {
        using var cmd = connection.CreateCommand();
        cmd.Transaction = tx;
        cmd.CommandText = sql;
        cmd.Parameters.AddWithValue("$hash", hash);
        if (now is { } n)
        {
            cmd.Parameters.AddWithValue("$now", n);
        }

        return cmd.ExecuteNonQuery();
    });

    private static byte[] Hash(string id) => Secrets.Hash(id);
}
