using System.CommandLine;
using SessionTrail.Server;

namespace SessionTrail.Cli.Commands;

/// <summary>`sessiontrail server`: the collector only (ingest API, reports API, embedded SQLite).</summary>
internal static class ServerCommand
{
    public static Command Create()
    {
        var data = CommonOptions.Data();
        var urls = CommonOptions.Urls();
        var command = new Command(
            "server",
            """
            Run the collector: POST /api/v1/ingest (NDJSON, gzip, bearer token), GET /api/v1/reports/NAME,
            GET /healthz. Data is kept in DIR/sessiontrail.db (SQLite, WAL). Create tokens for agents with
            `sessiontrail token create --data DIR`.
            """)
        {
            data, urls,
        };
        command.SetAction((parse, stop) => Failure.GuardAsync("server", async () =>
        {
            var options = new ServerOptions { DataDir = CommonOptions.FullData(parse.GetValue(data)!), Urls = parse.GetValue(urls)! };
            await using var app = ServerApp.Build(options);
            await app.StartAsync(CancellationToken.None);
            Console.WriteLine($"sessiontrail server: listening on {string.Join(", ", ServerApp.Addresses(app))}; data in {options.DataDir}");
            try
            {
                await Task.Delay(Timeout.Infinite, stop);
            }
            catch (OperationCanceledException)
            {
            }

            await app.StopAsync(CancellationToken.None);
            Console.WriteLine("sessiontrail server: stopped");
            return 0;
        }));
        return command;
    }
}
