using System.CommandLine;
using System.Globalization;
using SessionTrail.Core.Formats;
using SessionTrail.Server.Export;
using SessionTrail.Server.Store;

namespace SessionTrail.Cli.Commands;

/// <summary>`sessiontrail export`: the store as the seed's Athena data lake (per-session CSV or JSON lines).</summary>
internal static class ExportCommand
{
    public static Command Create()
    {
        var format = new Option<string>("--format")
        {
            Description = "athena-csv: the seed's CSV, byte-compatible with its script, DDL and queries (a comma or line break " +
                          "in a path breaks its rows: each is warned). athena-jsonl: JSON lines, safe for any path " +
                          "(deploy/athena/appstream_applications_jsonl.ddl.sql).",
            Required = true,
            HelpName = "athena-csv|athena-jsonl",
        };
        format.AcceptOnlyFromAmong("athena-csv", "athena-jsonl");
        var output = new Option<string>("--out")
        {
            Description = "Folder to write DIR/appstream_applications/year=YYYY/month=MM/day=DD/<session>.csv into " +
                          "(appstream_applications_jsonl/.../<session>.jsonl for athena-jsonl); sync it to s3://bucket/.",
            Required = true,
            HelpName = "DIR",
        };
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
            """)
        {
            format, output, from, to, includeOpen, dateFormat, zone, data,
        };
        command.SetAction((parse, _) => Failure.GuardAsync("export", async () =>
        {
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
            if (!File.Exists(Core.DataDirectory.DatabasePath(dir)))
            {
                throw new FileNotFoundException($"no SessionTrail database in {dir}: give --data DIR (the server's data directory)");
            }

            using var store = SqliteStore.OpenReadOnly(dir);
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
