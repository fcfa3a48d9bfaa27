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
        var retention = RetentionDays();
        var s3 = new Option<string?>("--recordings-s3") { Description = "Keep session recordings in S3 (BUCKET or BUCKET/PREFIX) instead of DIR/recordings; AWS credentials from the standard chain.", HelpName = "BUCKET[/PREFIX]" };
        var s3Endpoint = new Option<string?>("--recordings-s3-endpoint") { Description = "S3-compatible endpoint URL for --recordings-s3 (path-style).", HelpName = "URL" };
        var reportMaxRows = new Option<int>("--report-max-rows")
        {
            Description = $"The most rows a report or dashboard chart answers; past it the API answers 422 naming the count and how to narrow. Default {Server.Reports.ReportService.DefaultMaxRows:N0}.",
            DefaultValueFactory = _ => Server.Reports.ReportService.DefaultMaxRows,
            HelpName = "N",
        };
        var logRetention = new Option<int>("--log-retention-days")
        {
            Description = "Delete log records (and their search index entries) older than this many days, in the background in steps of 10,000 records. Default 0: keep them forever.",
            HelpName = "N",
        };
        var s3Region = new Option<string>("--recordings-s3-region") { Description = "Region of --recordings-s3.", DefaultValueFactory = _ => "us-east-1", HelpName = "REGION" };
        var group = DataPrivacy.Group();
        var command = new Command(
            "server",
            """
            Run the collector: POST /api/v1/ingest (NDJSON, gzip, bearer token), GET /api/v1/reports/NAME,
            GET /healthz. Data is kept in DIR/sessiontrail.db (SQLite, WAL). Create tokens for agents with
            `sessiontrail token create --role agent --data DIR`, and users who sign in with
            `sessiontrail user add NAME --role viewer|auditor|admin --data DIR`.
            """)
        {
            data, urls, retention, logRetention, s3, s3Endpoint, s3Region, reportMaxRows, group,
        };
        command.SetAction((parse, stop) => Failure.GuardAsync("server", async () =>
        {
            var options = new ServerOptions
            {
                DataDir = CommonOptions.FullData(parse.GetValue(data)!),
                Urls = parse.GetValue(urls)!,
                RecordingRetentionDays = parse.GetValue(retention),
                LogRetentionDays = parse.GetValue(logRetention),
                RecordingsS3 = parse.GetValue(s3),
                RecordingsS3Endpoint = parse.GetValue(s3Endpoint),
                RecordingsS3Region = parse.GetValue(s3Region)!,
                ReportMaxRows = parse.GetValue(reportMaxRows),
            };
            using (var logs = Logging.Create())
            {
                DataPrivacy.Prepare(DataPrivacy.Use(parse.GetValue(group)), options.DataDir, logs.CreateLogger("SessionTrail.DataDirectory"));
            }

            await using var app = ServerApp.Build(options);
            await app.StartAsync(CancellationToken.None);
            Console.WriteLine($"sessiontrail server: listening on {string.Join(", ", ServerApp.Addresses(app))}; data in {options.DataDir}");
            if (UserCommand.FirstAdminHint(app.Services, options.DataDir) is { } hint)
            {
                Console.WriteLine($"sessiontrail server: {hint}");
            }
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

    /// <summary>--recording-retention-days N (default: $SESSIONTRAIL_RECORDING_RETENTION_DAYS, else 90).</summary>
    internal static Option<int> RetentionDays() => new("--recording-retention-days")
    {
        Description = "Delete session recordings this many days after the session ended, unless on legal hold; 0 keeps them forever. " +
                      "Default: $SESSIONTRAIL_RECORDING_RETENTION_DAYS, else 90.",
        DefaultValueFactory = _ => int.TryParse(Environment.GetEnvironmentVariable("SESSIONTRAIL_RECORDING_RETENTION_DAYS"), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var days) ? days : 90,
        HelpName = "N",
    };
}
