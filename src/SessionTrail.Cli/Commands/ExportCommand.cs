using System.CommandLine;
using System.Globalization;
using SessionTrail.Core.Formats;
using SessionTrail.Server.Export;
using SessionTrail.Server.Store;

namespace SessionTrail.Cli.Commands;

/// <summary>`sessiontrail export`: the store as the seed's Athena data lake (per-session CSV or JSON lines), or as a Parquet lake.</summary>
internal static class ExportCommand
{
    public static Command Create()
    {
        var format = new Option<string>("--format")
        {
            Description = "athena-csv: the seed's CSV, byte-compatible with its script, DDL and queries (a comma or line break " +
                          "in a path breaks its rows: each is warned). athena-jsonl: JSON lines, safe for any path " +
                          "(deploy/athena/appstream_applications_jsonl.ddl.sql). parquet: runs, sessions (and --logs) as a " +
                          "Parquet lake, incrementally (deploy/athena/*.parquet.ddl.sql).",
            Required = true,
            HelpName = "athena-csv|athena-jsonl|parquet",
        };
        format.AcceptOnlyFromAmong("athena-csv", "athena-jsonl", "parquet");
        var output = new Option<string>("--out")
        {
            Description = "Folder to write DIR/appstream_applications/year=YYYY/month=MM/day=DD/<session>.csv into " +
                          "(appstream_applications_jsonl/.../<session>.jsonl for athena-jsonl); sync it to s3://bucket/. " +
                          "parquet: DIR or s3://BUCKET[/PREFIX], given TABLE/year=YYYY/month=MM/day=DD/TABLE.parquet.",
            Required = true,
            HelpName = "DIR",
        };
        var logs = new Option<bool>("--logs") { Description = "parquet: also write the log records (logs/, by the day of their time)." };
        var s3Endpoint = new Option<string?>("--s3-endpoint") { Description = "parquet to s3://: an S3-compatible endpoint URL (path-style); AWS credentials from the standard chain.", HelpName = "URL" };
        var s3Region = new Option<string>("--s3-region") { Description = "parquet to s3://: the bucket's region.", DefaultValueFactory = _ => "us-east-1", HelpName = "REGION" };
        var from = new Option<string?>("--from") { Description = "Only sessions that ended at or after this date/time (UTC).", HelpName = "D" };
        var to = new Option<string?>("--to") { Description = "Only sessions that ended before this date/time (UTC).", HelpName = "D" };
        var includeOpen = new Option<bool>("--include-open")
        {
            Description = "Also write sessions that have not ended, as if they ended now (the seed's script only writes ended sessions; " +
                          "a later export after the end replaces the object only if the end falls on the same day).",
        };
        var dateFormat = new Option<string>("--date-format")
        {
            Description = "The CSV 'date' column: the instance culture's ToShortDateString() pattern, e.g. M/d/yyyy (en-US, AppStream's default) or dd/MM/yyyy.",
            DefaultValueFactory = _ => AthenaWriteOptions.DefaultDateFormat,
            HelpName = "PATTERN",
        };
        var zone = new Option<string>("--time-zone")
        {
            Description = "The instances' time zone: the 'date'/'time' columns and the day partition are local times in the seed (AppStream runs UTC).",
            DefaultValueFactory = _ => "UTC",
            HelpName = "TZ",
        };
        var data = CommonOptions.Data();
        var command = new Command(
            "export",
            """
            Write the sessions in the data directory as the AppStream seed solution's Athena data lake: one
            object per ended session under appstream_applications/year=YYYY/month=MM/day=DD/ (the day the
            session ended). Read-only on the database; exporting again replaces the same files.
            --format parquet writes runs/, sessions/ (and with --logs logs/) as Parquet, one file per UTC day
            under year=YYYY/month=MM/day=DD/, to a folder or s3://BUCKET[/PREFIX]; each export rewrites only the
            days that changed since the last one to the same place (kept in the database's lake_exports table).
            """)
        {
            format, output, from, to, includeOpen, dateFormat, zone, logs, s3Endpoint, s3Region, data,
        };
        command.SetAction((parse, stop) => Failure.GuardAsync("export", async () =>
        {
            if (parse.GetValue(format) == "parquet")
            {
                if (parse.GetValue(from) is not null || parse.GetValue(to) is not null || parse.GetValue(includeOpen))
                {
                    throw new ArgumentException("--format parquet writes every day that changed (open runs and sessions included): --from, --to and --include-open go with athena-csv and athena-jsonl");
                }

                return await ExportLakeAsync(parse, output, logs, s3Endpoint, s3Region, data, stop);
            }

            if (parse.GetValue(logs) || parse.GetValue(s3Endpoint) is not null)
            {
                throw new ArgumentException("--logs and --s3-endpoint go with --format parquet");
            }

            var options = new AthenaWriteOptions
            {
                DateFormat = CheckDateFormat(parse.GetValue(dateFormat)!),
                TimeZone = FindZone(parse.GetValue(zone)!),
            };
            var request = new AthenaExportRequest(
                parse.GetValue(format) == "athena-jsonl" ? AthenaFormat.Jsonl : AthenaFormat.Csv,
                Path.GetFullPath(parse.GetValue(output)!),
                ReportCommand.ParseTime("--from", parse.GetValue(from)),
                ReportCommand.ParseTime("--to", parse.GetValue(to)),
                parse.GetValue(includeOpen),
                options);
            var dir = CommonOptions.FullData(parse.GetValue(data)!);
            using var store = OpenStore(dir);
            var summary = new AthenaExporter(store).Export(request, line => Console.Error.WriteLine("warning: " + line));
            Console.WriteLine(string.Create(
                CultureInfo.InvariantCulture,
                $"exported {summary.Sessions} sessions, {summary.Rows} rows, {summary.Bytes} bytes to {Path.Combine(request.OutDirectory, request.Format == AthenaFormat.Csv ? AthenaLayout.TableFolder : AthenaJsonlWriter.TableFolder)} in {summary.Elapsed.TotalSeconds:F1} s"));
            if (summary.Warnings > 0)
            {
                await Console.Error.WriteLineAsync($"warning: {summary.Warnings} fields contain a comma or line break that the seed's CSV cannot carry (see above); use --format athena-jsonl");
            }

            if (summary.OpenSkipped > 0)
            {
                await Console.Error.WriteLineAsync($"note: {summary.OpenSkipped} sessions have not ended and were not written (--include-open writes them as ending now)");
            }

            if (summary.StartsWithoutSession > 0)
            {
                await Console.Error.WriteLineAsync($"note: {summary.StartsWithoutSession} process starts have no session id and are not in any object");
            }

            return 0;
        }));
        return command;
    }

    private static async Task<int> ExportLakeAsync(
        ParseResult parse, Option<string> output, Option<bool> logs, Option<string?> s3Endpoint, Option<string> s3Region, Option<string> data, CancellationToken stop)
    {
        var dir = CommonOptions.FullData(parse.GetValue(data)!);
        using var store = OpenStore(dir);
        using var destination = LakeDestination.Open(parse.GetValue(output)!, parse.GetValue(s3Endpoint), parse.GetValue(s3Region)!);
        var summary = await new LakeExporter(store).ExportAsync(destination, parse.GetValue(logs), stop);
        var tables = string.Join(", ", summary.Tables.Select(t => string.Create(CultureInfo.InvariantCulture, $"{t.Table} {t.Days} days {t.Rows} rows")));
        Console.WriteLine(string.Create(
            CultureInfo.InvariantCulture,
            $"exported {(summary.First ? "every day" : "the days changed since the last export")}: {tables}, {summary.Bytes} bytes to {destination.Name} in {summary.Elapsed.TotalSeconds:F1} s"));
        return 0;
    }

    private static SqliteStore OpenStore(string dir) => File.Exists(Core.DataDirectory.DatabasePath(dir))
        ? SqliteStore.OpenReadOnly(dir)
        : throw new FileNotFoundException($"no SessionTrail database in {dir}: give --data DIR (the server's data directory)");

    private static string CheckDateFormat(string pattern)
    {
        string sample;
        try
        {
            sample = new DateTime(2026, 11, 30, 0, 0, 0, DateTimeKind.Utc).ToString(pattern, CultureInfo.InvariantCulture);
        }
        catch (FormatException ex)
        {
            throw new FormatException($"--date-format '{pattern}' is not a .NET date pattern ({ex.Message})", ex);
        }

        if (string.IsNullOrWhiteSpace(pattern) || sample.Contains(',', StringComparison.Ordinal) || sample.Contains('\n', StringComparison.Ordinal))
        {
            throw new FormatException($"--date-format '{pattern}' gives '{sample}': a date column must be non-empty and without commas or line breaks");
        }

        return pattern;
    }

    private static TimeZoneInfo FindZone(string id)
    {
        try
        {
            return TimeZoneInfo.FindSystemTimeZoneById(id);
        }
        catch (TimeZoneNotFoundException ex)
        {
            throw new ArgumentException($"--time-zone '{id}' is not a known time zone (use an IANA id such as Europe/Paris, or UTC)", ex);
        }
    }
}
