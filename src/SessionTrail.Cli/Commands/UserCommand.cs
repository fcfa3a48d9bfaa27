using System.CommandLine;
using System.Globalization;
using System.Text;
using SessionTrail.Server.Auth;

namespace SessionTrail.Cli.Commands;

/// <summary>
/// `sessiontrail user add|passwd|role|list|remove|disable|enable`: local sign-in accounts of a server's
/// data directory (works while the server runs; a changed or removed account is signed out at once).
/// </summary>
internal static class UserCommand
{
    public static Command Create() => new(
        "user",
        $"""
        Local accounts for signing in to the web UI and API, each with a role: viewer (reports, logs,
        sessions, recording listings), auditor (viewer + watch and download recordings), admin (everything:
        legal hold, the access audit log, users). Passwords: at least {AccountStore.MinPasswordLength} characters, stored as salted
        PBKDF2 hashes (ASP.NET Core Identity's format).
        """)
    {
        Add(), Passwd(), SetRole(), List(), Remove(), Disable(true), Disable(false),
    };

    /// <summary>
    /// What `up` and `server` print at start when the data directory has no account yet: how to add the
    /// first admin (they do not make one themselves, so that no password is ever printed or logged).
    /// </summary>
    internal static string? FirstAdminHint(IServiceProvider services, string dir)
    {
        if (((AccountStore)services.GetService(typeof(AccountStore))!).Any())
        {
            return null;
        }

        var data = dir == Core.DataDirectory.Default() ? "" : " --data " + dir;
        return $"no users yet; add the first admin to sign in: sessiontrail user add NAME --role admin{data}";
    }

    private static Argument<string> NameArgument() => new("NAME") { Description = "The user name (1–64 letters, digits or . _ - @; unique without regard to case)." };

    private static Option<bool> PasswordStdin() => new("--password-stdin")
    {
        Description = "Read the password from the first line of standard input (for scripts) instead of asking twice on the terminal.",
    };

    private static Command Add()
    {
        var name = NameArgument();
        var role = new Option<string>("--role") { Description = "viewer, auditor or admin.", Required = true, HelpName = "ROLE" };
        var stdin = PasswordStdin();
        var data = CommonOptions.Data();
        var command = new Command("add", "Add a user with a role and a password.") { name, role, stdin, data };
        command.SetAction((parse, _) => Failure.GuardAsync("user add", async () =>
        {
            var dir = CommonOptions.DataToWrite(parse.GetValue(data)!);
            var user = AccountStore.CheckName(parse.GetValue(name));
            var r = Role.Parse(parse.GetValue(role), forAccount: true);
            var password = await ReadPasswordAsync(user, parse.GetValue(stdin));
            var account = AccountStore.With(dir, accounts => accounts.Add(user, r, password));
            Console.WriteLine($"Added user '{account.Name}' ({account.Role}) in {dir}.");
            return 0;
        }));
        return command;
    }

    private static Command Passwd()
    {
        var name = NameArgument();
        var stdin = PasswordStdin();
        var data = CommonOptions.Data();
        var command = new Command("passwd", "Set a user's password (the user is signed out everywhere).") { name, stdin, data };
        command.SetAction((parse, _) => Failure.GuardAsync("user passwd", async () =>
        {
            var dir = CommonOptions.DataToWrite(parse.GetValue(data)!);
            var user = parse.GetValue(name)!;
            if (AccountStore.With(dir, accounts => accounts.Find(user)) is null)
            {
                throw new AccountException(404, $"no user '{user}' in {dir}");
            }

            var password = await ReadPasswordAsync(user, parse.GetValue(stdin));
            var account = AccountStore.With(dir, accounts => accounts.SetPassword(user, password));
            Console.WriteLine($"New password set for '{account.Name}'; signed out everywhere.");
            return 0;
        }));
        return command;
    }

    private static Command SetRole()
    {
        var name = NameArgument();
        var role = new Argument<string>("ROLE") { Description = "viewer, auditor or admin." };
        var data = CommonOptions.Data();
        var command = new Command("role", "Change a user's role (the user is signed out everywhere).") { name, role, data };
        command.SetAction((parse, _) => Failure.GuardAsync("user role", () =>
        {
            var dir = CommonOptions.DataToWrite(parse.GetValue(data)!);
            var account = AccountStore.With(dir, accounts => accounts.SetRole(parse.GetValue(name)!, parse.GetValue(role)!));
            Console.WriteLine($"'{account.Name}' is now {account.Role}; signed out everywhere.");
            return Task.FromResult(0);
        }));
        return command;
    }

    private static Command List()
    {
        var data = CommonOptions.Data();
        var command = new Command("list", "List the users: name, role, created (UTC), disabled.") { data };
        command.SetAction((parse, _) => Failure.GuardAsync("user list", () =>
        {
            var dir = CommonOptions.DataToWrite(parse.GetValue(data)!);
            var accounts = AccountStore.With(dir, a => a.List());
            if (accounts.Count == 0)
            {
                Console.Error.WriteLine($"No users in {dir}. Add the first admin: sessiontrail user add NAME --role admin --data {dir}");
                return Task.FromResult(0);
            }

            var width = Math.Max(4, accounts.Max(a => a.Name.Length));
            var table = new StringBuilder();
            table.AppendLine(CultureInfo.InvariantCulture, $"{"USER".PadRight(width)}  {"ROLE",-7}  {"CREATED",-20}  DISABLED");
            foreach (var a in accounts)
            {
                table.AppendLine(CultureInfo.InvariantCulture, $"{a.Name.PadRight(width)}  {a.Role,-7}  {a.Created.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture),-20}  {(a.Disabled ? "yes" : "no")}");
            }

            Console.Write(table.ToString());
            return Task.FromResult(0);
        }));
        return command;
    }

    private static Command Remove()
    {
        var name = NameArgument();
        var data = CommonOptions.Data();
        var command = new Command("remove", "Remove a user and end its sign-in sessions (the last enabled admin cannot be removed).") { name, data };
        command.SetAction((parse, _) => Failure.GuardAsync("user remove", () =>
        {
            var dir = CommonOptions.DataToWrite(parse.GetValue(data)!);
            var account = AccountStore.With(dir, accounts => accounts.Remove(parse.GetValue(name)!));
            Console.WriteLine($"Removed user '{account.Name}'.");
            return Task.FromResult(0);
        }));
        return command;
    }

    private static Command Disable(bool disable)
    {
        var verb = disable ? "disable" : "enable";
        var name = NameArgument();
        var data = CommonOptions.Data();
        var command = new Command(verb, disable ? "Disable a user: it cannot sign in and is signed out everywhere." : "Enable a disabled user again.") { name, data };
        command.SetAction((parse, _) => Failure.GuardAsync("user " + verb, () =>
        {
            var dir = CommonOptions.DataToWrite(parse.GetValue(data)!);
            var account = AccountStore.With(dir, accounts => accounts.SetDisabled(parse.GetValue(name)!, disable));
            Console.WriteLine($"'{account.Name}' is {verb}d.");
            return Task.FromResult(0);
        }));
        return command;
    }

    /// <summary>The password from stdin's first line, or typed twice (not echoed) on the terminal; checked for length.</summary>
    private static async Task<string> ReadPasswordAsync(string user, bool fromStdin)
    {
        string password;
        if (fromStdin)
        {
            password = await Console.In.ReadLineAsync()
                ?? throw new ArgumentException("--password-stdin: standard input is empty (expected the password on its first line)");
        }
        else
        {
            if (Console.IsInputRedirected)
            {
                throw new ArgumentException("no terminal to type the password on: pipe it in with --password-stdin");
            }

            password = Prompt($"Password for '{user}': ");
            AccountStore.CheckPassword(password);
            if (Prompt("Again: ") != password)
            {
                throw new ArgumentException("the two passwords differ; nothing changed");
            }
        }

        AccountStore.CheckPassword(password);
        return password;
    }

    private static string Prompt(string prompt)
    {
        Console.Error.Write(prompt);
        var typed = new StringBuilder();
        while (true)
        {
            var key = Console.ReadKey(intercept: true);
            if (key.Key == ConsoleKey.Enter)
            {
                Console.Error.WriteLine();
                return typed.ToString();
            }

            if (key.Key == ConsoleKey.Backspace)
            {
                if (typed.Length > 0)
                {
                    typed.Length--;
                }
            }
            else if (!char.IsControl(key.KeyChar))
            {
                typed.Append(key.KeyChar);
            }
        }
    }
}
