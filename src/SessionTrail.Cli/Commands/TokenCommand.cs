using System.CommandLine;
using SessionTrail.Server.Auth;

namespace SessionTrail.Cli.Commands;

/// <summary>`sessiontrail token create|list|revoke`: API tokens for agents and API clients.</summary>
internal static class TokenCommand
{
    public static Command Create()
    {
        var data = CommonOptions.Data();
        var name = new Option<string>("--name")
        {
            Description = "A label for the token, shown in logs (e.g. the host or fleet that uses it).",
            DefaultValueFactory = _ => "token " + DateTime.UtcNow.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", System.Globalization.CultureInfo.InvariantCulture),
        };
        var role = new Option<string>("--role")
        {
            Description = "What the token may do: agent (ingest and recording upload only — for agents), viewer, auditor or admin (everything). Default: admin.",
            DefaultValueFactory = _ => Role.Admin,
            HelpName = "ROLE",
        };
        var create = new Command("create", "Create an API token. Only its SHA-256 is stored; the token is printed once, alone on the last line.")
        {
            data,
            name,
            role,
        };
        create.SetAction((parse, _) => Failure.GuardAsync("token create", async () =>
        {
            var dir = CommonOptions.DataToWrite(parse.GetValue(data)!);
            var r = Role.Parse(parse.GetValue(role));
            var token = TokenStore.CreateFor(dir, parse.GetValue(name)!, r);
            await Console.Error.WriteLineAsync($"Created {r} token '{parse.GetValue(name)}' in {dir} (stored hashed; it cannot be shown again):");
            Console.WriteLine(token);
            return 0;
        }));

        var listData = CommonOptions.Data();
        var list = new Command("list", "List the API tokens: id, role, created (UTC), name (the tokens themselves are not stored).") { listData };
        list.SetAction((parse, _) => Failure.GuardAsync("token list", () =>
        {
            var tokens = TokenStore.With(CommonOptions.DataToWrite(parse.GetValue(listData)!), t => t.List());
            Console.WriteLine($"{"ID",6}  {"ROLE",-7}  {"CREATED",-20}  NAME");
            foreach (var t in tokens)
            {
                Console.WriteLine($"{t.Id,6}  {t.Role,-7}  {t.Created.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", System.Globalization.CultureInfo.InvariantCulture),-20}  {t.Name}");
            }

            return Task.FromResult(0);
        }));

        var revokeData = CommonOptions.Data();
        var id = new Argument<long>("ID") { Description = "The token's id (from `token list`)." };
        var revoke = new Command("revoke", "Revoke an API token: its next request is refused (401).") { id, revokeData };
        revoke.SetAction((parse, _) => Failure.GuardAsync("token revoke", () =>
        {
            var n = parse.GetValue(id);
            if (!TokenStore.With(CommonOptions.DataToWrite(parse.GetValue(revokeData)!), t => t.Revoke(n)))
            {
                throw new ArgumentException($"no token with id {n}");
            }

            Console.WriteLine($"Revoked token {n}.");
            return Task.FromResult(0);
        }));

        return new Command("token", "Manage API tokens (agents send them as 'Authorization: Bearer TOKEN').") { create, list, revoke };
    }
}
