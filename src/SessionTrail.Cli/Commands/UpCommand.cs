using System.CommandLine;
using SessionTrail.Core;
using SessionTrail.Server;
using SessionTrail.Server.Auth;

namespace SessionTrail.Cli.Commands;

/// <summary>
/// `sessiontrail up`: the main job on one machine — the server and this host's agent in one
/// process, with embedded storage in one data directory.
/// </summary>
internal static class UpCommand
{
    public static Command Create()
    {
        var data = CommonOptions.Data();
        var urls = CommonOptions.Urls();
        var config = CommonOptions.Config();
        var record = CommonOptions.Record();
        var group = DataPrivacy.Group();
        var command = new Command(
            "up",
            """
            Run everything on this machine: the server (API on --urls, SQLite in DIR) and an agent that
            captures every process users start here and delivers it to that server. Then ask it with
            `sessiontrail report top-apps`. Ctrl+C stops the agent first (its queue is flushed, the rest
            kept on disk for next time), then the server.
            """)
        {
            data, urls, config, record, group,
        };
        command.SetAction((parse, stop) => Failure.GuardAsync("up", async () =>
        {
            var dir = CommonOptions.FullData(parse.GetValue(data)!);
            using var logs = Logging.Create(agentDiagnostics: true);
            DataPrivacy.Prepare(DataPrivacy.Use(parse.GetValue(group)), dir, logs.CreateLogger("SessionTrail.DataDirectory"));
            var options = new ServerOptions { DataDir = dir, Urls = parse.GetValue(urls)! };
            await using var app = ServerApp.Build(options);
            await app.StartAsync(CancellationToken.None);
            var url = LocalUrl(ServerApp.Addresses(app));

            var overrides = new Dictionary<string, string?>
            {
                ["DataDir"] = dir,
                ["ServerUrl"] = url,
                ["Token"] = LocalAgentToken(dir),
                ["Recording:Enabled"] = parse.GetValue(record) ? "true" : null,
            };
            var agent = AgentRunner.Create(parse.GetValue(config), overrides, logs);
            Console.WriteLine($"SessionTrail is up: {url}  (API: {url}/api/v1/reports/top-apps)");
            Console.WriteLine($"  data: {dir}  (database {DataDirectory.DatabasePath(dir)}, agent queue {DataDirectory.AgentDirectory(dir)})");
            Console.WriteLine($"  try:  sessiontrail report top-apps{(dir == DataDirectory.Default() ? "" : " --data " + dir)}");
            if (UserCommand.FirstAdminHint(app.Services, dir) is { } hint)
            {
                Console.WriteLine($"  sign-in: {hint}");
            }

            await agent.RunAsync(line => Console.WriteLine($"  agent: {line}"), stop);

            await app.StopAsync(CancellationToken.None);
            Console.WriteLine("SessionTrail stopped.");
            return 0;
        }));
        return command;
    }

    /// <summary>The URL the local agent uses: the first listening address, with a wildcard host made loopback.</summary>
    internal static string LocalUrl(IReadOnlyList<string> addresses)
    {
        var first = addresses.Count > 0 ? addresses[0] : CommonOptions.DefaultUrls;
        var uri = new UriBuilder(first.Replace("://+", "://localhost", StringComparison.Ordinal).Replace("://*", "://localhost", StringComparison.Ordinal));
        if (uri.Host is "0.0.0.0" or "[::]" or "::" or "localhost")
        {
            uri.Host = "127.0.0.1";
        }

        return uri.Uri.GetLeftPart(UriPartial.Authority);
    }

    /// <summary>
    /// The token of the agent that `up` runs, created once with role agent (ingest and upload only) and kept
    /// (mode 0600, also when a group may read the data) in DIR/agent/up-token. A token kept from before roles existed stays admin.
    /// </summary>
    private static string LocalAgentToken(string dir)
    {
        var path = DataDirectory.UpTokenPath(dir);
        if (File.Exists(path))
        {
            var existing = File.ReadAllText(path).Trim();
            if (existing.Length > 0)
            {
                return existing;
            }
        }

        DataAccess.Current.CreateDirectory(Path.GetDirectoryName(path)!);
        var token = TokenStore.CreateFor(dir, "up: local agent", Role.Agent);
        var temp = path + ".tmp";
        File.Delete(temp); // a stale one would keep its mode
        using (var file = new StreamWriter(temp, new System.Text.UTF8Encoding(encoderShouldEmitUTF8Identifier: false), DataAccess.Current.Options(FileMode.CreateNew, FileAccess.Write, secret: true)))
        {
            file.Write(token);
        }

        File.Move(temp, path, overwrite: true);
        return token;
    }
}
