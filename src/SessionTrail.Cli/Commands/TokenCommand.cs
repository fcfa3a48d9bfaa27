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
        var create = new Command("create", "Create an API token. Only its SHA-256 is stored; the token is printed once, alone on the last line.")
        {
            data,
            name,
        };
        create.SetAction((parse, _) => Failure.GuardAsync("token create", async () =>
        {
            var dir = CommonOptions.FullData(parse.GetValue(data)!);
            var token = TokenStore.CreateFor(dir, parse.GetValue(name)!);
            await Console.Error.WriteLineAsync($"Created token '{parse.GetValue(name)}' in {dir} (stored hashed; it cannot be shown again):");
            Console.WriteLine(token);
            return 0;
        }));

        return new Command("token", "Manage API tokens (agents send them as 'Authorization: Bearer TOKEN').") { create };
    }
}
