using System.CommandLine;
using SessionTrail.Server.Auth;

namespace SessionTrail.Cli.Commands;

/// <summary>`sessiontrail token create`: a new API token for agents and API clients.</summary>
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
            var dir = CommonOptions.FullData(parse.GetValue(data)!);
            var r = Role.Parse(parse.GetValue(role));
            var token = TokenStore.CreateFor(dir, parse.GetValue(name)!, r);
            await Console.Error.WriteLineAsync($"Created {r} token '{parse.GetValue(name)}' in {dir} (stored hashed; it cannot be shown again):");
            Console.WriteLine(token);
            return 0;
        }));

        return new Command("token", "Manage API tokens (agents send them as 'Authorization: Bearer TOKEN').") { create };
    }
}
