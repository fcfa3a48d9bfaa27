using Microsoft.AspNetCore.Identity;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Options;
using SessionTrail.Server.Store;

namespace SessionTrail.Server.Auth;

/// <summary>One local user account (the password hash never leaves <see cref="AccountStore"/>).</summary>
public sealed record Account(long Id, string Name, string Role, DateTimeOffset Created, bool Disabled);

/// <summary>
/// A user error about accounts, with the HTTP status the users API answers (400 bad input, 404 unknown
/// user, 409 exists / last admin). It is an <see cref="InvalidOperationException"/>, so the CLI prints its message.
/// </summary>
public sealed class AccountException(int status, string message) : InvalidOperationException(message)
{
    /// <summary>400, 404 or 409.</summary>
    public int Status { get; } = status;
}

/// <summary>
/// Local user accounts (table <c>accounts</c>) with ASP.NET Core Identity's <see cref="PasswordHasher{TUser}"/>:
/// PBKDF2-HMAC-SHA512, 128-bit random salt, <see cref="Iterations"/> iterations, in its versioned format (V3, base64),
/// so a stored hash is never the password and can be upgraded in place. Changing an account's password,
/// role or disabled flag and removing it delete its web sessions in the same transaction.
/// Names are unique without regard to case and keep the case they were created with.
/// </summary>
public sealed class AccountStore
{
    /// <summary>PBKDF2-HMAC-SHA512 iterations (OWASP's 2023 figure; Identity's default is 100,000).</summary>
    public const int Iterations = 210_000;

    /// <summary>The shortest password accepted.</summary>
    public const int MinPasswordLength = 12;

    /// <summary>The longest password accepted (hashing is deliberately slow; this bounds its cost).</summary>
    public const int MaxPasswordLength = 1024;

    /// <summary>The longest account name.</summary>
    public const int MaxNameLength = 64;

    private static readonly PasswordHasher<Account> Hasher = new(Options.Create(new PasswordHasherOptions
    {
        CompatibilityMode = PasswordHasherCompatibilityMode.IdentityV3,
        IterationCount = Iterations,
    }));

    private static readonly Lazy<string> DummyHash = new(() => Hasher.HashPassword(null!, Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(16))));

    private readonly SqliteStore store;
    private readonly TimeProvider clock;

    /// <summary>Accounts in <paramref name="store"/>; <paramref name="clock"/> stamps <c>created</c>.</summary>
    public AccountStore(SqliteStore store, TimeProvider clock)
    {
        this.store = store;
        this.clock = clock;
    }

    /// <summary>Creates account <paramref name="name"/>; <see cref="AccountException"/> (400/409) for a bad name, role or password or an existing name.</summary>
    public Account Add(string name, string role, string password)
    {
        name = CheckName(name);
        role = ParseRole(role);
        CheckPassword(password);
        var hash = Hasher.HashPassword(null!, password);
        var created = clock.GetUtcNow();
        return store.Write((connection, tx) =>
        {
            if (Find(connection, tx, name) is { } existing)
            {
                throw new AccountException(409, $"user '{existing.Name}' already exists");
            }

            using var cmd = Command(connection, tx, "INSERT INTO accounts(name, hash, role, created, disabled) VALUES($name, $hash, $role, $created, 0) RETURNING id");
            cmd.Parameters.AddWithValue("$name", name);
            cmd.Parameters.AddWithValue("$hash", hash);
            cmd.Parameters.AddWithValue("$role", role);
            cmd.Parameters.AddWithValue("$created", created.ToUnixTimeMilliseconds());
            var id = Convert.ToInt64(cmd.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture);
            return new Account(id, name, role, DateTimeOffset.FromUnixTimeMilliseconds(created.ToUnixTimeMilliseconds()), false);
        });
    }

    /// <summary>Every account, by name.</summary>
    public IReadOnlyList<Account> List()
    {
        using var connection = store.OpenConnection();
        using var cmd = Command(connection, null, "SELECT id, name, role, created, disabled FROM accounts ORDER BY name COLLATE NOCASE");
        using var reader = cmd.ExecuteReader();
        var list = new List<Account>();
        while (reader.Read())
        {
            list.Add(Read(reader));
        }

        return list;
    }

    /// <summary>The account named <paramref name="name"/> (any case), or null.</summary>
    public Account? Find(string name)
    {
        using var connection = store.OpenConnection();
        return Find(connection, null, name);
    }

    /// <summary>True when at least one account exists.</summary>
    public bool Any() => List().Count > 0;

    /// <summary>
    /// The enabled account named <paramref name="name"/> when <paramref name="password"/> is its password, else null.
    /// An unknown or disabled user costs one hash verification too, so the answer time does not tell them apart.
    /// A hash made with weaker settings is upgraded.
    /// </summary>
    public Account? Verify(string name, string password)
    {
        ArgumentNullException.ThrowIfNull(password);
        string? hash = null;
        Account? account = null;
        if (name.Length is > 0 and <= MaxNameLength && password.Length <= MaxPasswordLength)
        {
            using var connection = store.OpenConnection();
            using var cmd = Command(connection, null, "SELECT id, name, role, created, disabled, hash FROM accounts WHERE name = $name COLLATE NOCASE");
            cmd.Parameters.AddWithValue("$name", name);
            using var reader = cmd.ExecuteReader();
            if (reader.Read())
            {
                account = Read(reader);
                hash = reader.GetString(5);
            }
        }

        if (password.Length > MaxPasswordLength)
        {
            return null;
        }

        var result = Hasher.VerifyHashedPassword(null!, hash ?? DummyHash.Value, password);
        if (hash is null || account is null || account.Disabled || result == PasswordVerificationResult.Failed)
        {
            return null;
        }

        if (result == PasswordVerificationResult.SuccessRehashNeeded)
        {
            var upgraded = Hasher.HashPassword(null!, password);
            store.Write((connection, tx) =>
            {
                using var cmd = Command(connection, tx, "UPDATE accounts SET hash = $hash WHERE id = $id AND hash = $old");
                cmd.Parameters.AddWithValue("$hash", upgraded);
                cmd.Parameters.AddWithValue("$id", account.Id);
                cmd.Parameters.AddWithValue("$old", hash);
                return cmd.ExecuteNonQuery();
            });
        }

        return account;
    }

    /// <summary>Sets a new password and signs the user out everywhere.</summary>
    public Account SetPassword(string name, string password)
    {
        CheckPassword(password);
        var hash = Hasher.HashPassword(null!, password);
        return Change(name, "hash = $value", hash, (_, _, _) => { });
    }

    /// <summary>Sets the role and signs the user out everywhere; refuses to demote the last enabled admin.</summary>
    public Account SetRole(string name, string role)
    {
        role = ParseRole(role);
        return Change(name, "role = $value", role, (c, tx, a) =>
        {
            if (role != Role.Admin)
            {
                KeepAnAdmin(c, tx, a, "demote");
            }
        });
    }

    /// <summary>Disables (or enables) the account; disabling signs it out everywhere and refuses the last enabled admin.</summary>
    public Account SetDisabled(string name, bool disabled) =>
        Change(name, "disabled = $value", disabled ? 1 : 0, (c, tx, a) =>
        {
            if (disabled)
            {
                KeepAnAdmin(c, tx, a, "disable");
            }
        });

    /// <summary>Removes the account and its web sessions; refuses the last enabled admin.</summary>
    public Account Remove(string name) => store.Write((connection, tx) =>
    {
        var account = Find(connection, tx, name) ?? throw Unknown(name);
        KeepAnAdmin(connection, tx, account, "remove");
        DeleteSessions(connection, tx, account.Id);
        using var cmd = Command(connection, tx, "DELETE FROM accounts WHERE id = $id");
        cmd.Parameters.AddWithValue("$id", account.Id);
        cmd.ExecuteNonQuery();
        return account;
    });

    /// <summary>The stored hash of <paramref name="name"/> (for tests that check it is never the password).</summary>
    internal string? StoredHash(string name)
    {
        using var connection = store.OpenConnection();
        using var cmd = Command(connection, null, "SELECT hash FROM accounts WHERE name = $name COLLATE NOCASE");
        cmd.Parameters.AddWithValue("$name", name);
        return cmd.ExecuteScalar() as string;
    }

    /// <summary>Opens (creating if needed) the store in <paramref name="dataDir"/> for the CLI's <c>user</c> commands.</summary>
    public static T With<T>(string dataDir, Func<AccountStore, T> action)
    {
        ArgumentNullException.ThrowIfNull(action);
        using var store = SqliteStore.Open(dataDir);
        return action(new AccountStore(store, TimeProvider.System));
    }

    /// <summary>Throws <see cref="AccountException"/> (400) unless <paramref name="password"/> is acceptable.</summary>
    public static void CheckPassword(string? password)
    {
        if (password is null || password.Length < MinPasswordLength)
        {
            throw new AccountException(400, $"password too short: at least {MinPasswordLength} characters, got {password?.Length ?? 0}");
        }

        if (password.Length > MaxPasswordLength)
        {
            throw new AccountException(400, $"password too long: at most {MaxPasswordLength} characters, got {password.Length}");
        }

        if (string.IsNullOrWhiteSpace(password))
        {
            throw new AccountException(400, "password must not be only white space");
        }
    }

    /// <summary>The trimmed name when it is 1–64 letters, digits or <c>. _ - @</c>; <see cref="AccountException"/> (400) otherwise.</summary>
    public static string CheckName(string? name)
    {
        var trimmed = name?.Trim() ?? "";
        if (trimmed.Length is 0 or > MaxNameLength || !trimmed.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-' or '@'))
        {
            throw new AccountException(400, $"bad user name '{name}': 1 to {MaxNameLength} letters, digits or . _ - @");
        }

        return trimmed;
    }

    private static string ParseRole(string role)
    {
        try
        {
            return Role.Parse(role, forAccount: true);
        }
        catch (ArgumentException ex)
        {
            throw new AccountException(400, ex.Message);
        }
    }

    private Account Change(string name, string set, object value, Action<SqliteConnection, SqliteTransaction, Account> check) => store.Write((connection, tx) =>
    {
        var account = Find(connection, tx, name) ?? throw Unknown(name);
        check(connection, tx, account);
        DeleteSessions(connection, tx, account.Id);
        using var cmd = Command(connection, tx, $"UPDATE accounts SET {set} WHERE id = $id");
        cmd.Parameters.AddWithValue("$value", value);
        cmd.Parameters.AddWithValue("$id", account.Id);
        cmd.ExecuteNonQuery();
        return Find(connection, tx, name)!;
    });

    private static void KeepAnAdmin(SqliteConnection connection, SqliteTransaction? tx, Account account, string what)
    {
        if (account.Role != Role.Admin || account.Disabled)
        {
            return;
        }

        using var cmd = Command(connection, tx, "SELECT count(*) FROM accounts WHERE role = 'admin' AND disabled = 0 AND id <> $id");
        cmd.Parameters.AddWithValue("$id", account.Id);
        if (Convert.ToInt64(cmd.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture) == 0)
        {
            throw new AccountException(409, $"cannot {what} '{account.Name}': it is the last enabled admin account (add another admin first)");
        }
    }

    private static void DeleteSessions(SqliteConnection connection, SqliteTransaction tx, long accountId)
    {
        using var cmd = Command(connection, tx, "DELETE FROM web_sessions WHERE account = $id");
        cmd.Parameters.AddWithValue("$id", accountId);
        cmd.ExecuteNonQuery();
    }

    private static AccountException Unknown(string name) => new(404, $"no user '{name}'");

    private static Account? Find(SqliteConnection connection, SqliteTransaction? tx, string name)
    {
        using var cmd = Command(connection, tx, "SELECT id, name, role, created, disabled FROM accounts WHERE name = $name COLLATE NOCASE");
        cmd.Parameters.AddWithValue("$name", name.Trim());
        using var reader = cmd.ExecuteReader();
        return reader.Read() ? Read(reader) : null;
    }

    private static Account Read(SqliteDataReader reader) =>
        new(reader.GetInt64(0), reader.GetString(1), reader.GetString(2), DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(3)), reader.GetInt64(4) != 0);

    private static SqliteCommand Command(SqliteConnection connection, SqliteTransaction? tx, string sql)
    {
        var cmd = connection.CreateCommand();
        cmd.Transaction = tx;
        cmd.CommandText = sql;
        return cmd;
    }
}
