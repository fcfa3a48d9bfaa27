using System.CommandLine;
using SessionTrail.Cli.Import;

namespace SessionTrail.Cli.Commands;

/// <summary>
/// `sessiontrail import FILE|DIR...`: the seed solution's per-session CSVs, Windows Security event
/// files and the agent's NDJSON, into a data directory or a server. Exit codes: 0 everything imported;
/// 2 some rows or files were rejected (listed; the rest was imported); 1 nothing could be done
/// (bad arguments, a path that does not exist, the store or server failing).
/// </summary>
internal static class ImportCommand
{
    public const int RejectedExitCode = 2;

    public static Command Create()
    {
        var inputs = new Argument<string[]>("FILE|DIR")
        {
            Description = "Files or folders (read recursively) to import.",
            Arity = ArgumentArity.OneOrMore,
        };
        var data = CommonOptions.Data();
        var server = CommonOptions.Server();
        var token = CommonOptions.Token();
        var batch = new Option<int>("--batch-size")
        {
            Description = "Records per transaction (or per POST with --server).",
            DefaultValueFactory = _ => Importer.DefaultBatchSize,
            HelpName = "N",
        };
        var command = new Command(
            "import",
            """
            Bring existing data in: the seed solution's per-session CSVs (the S3 tree
            appstream_applications/year=YYYY/month=MM/day=DD/<session>.csv or single files),
            Windows Security 4688/4689 event XML, and the agent's NDJSON (gzip or not). Writes into
            DIR/sessiontrail.db directly (also while the server runs) or posts to --server URL --token T.
            Importing the same files again changes nothing. Exit code 0: all imported; 2: some rows
            were rejected (listed with file:line); 1: nothing could be done.
            """)
        {
            inputs, data, server, token, batch,
        };
        command.SetAction((parse, ct) => Failure.GuardAsync("import", async () =>
        {
            var size = parse.GetValue(batch);
            if (size is < 1 or > 100_000)
            {
                throw new ArgumentException($"--batch-size must be between 1 and 100000, got {size}");
            }

            var (files, skipped) = ImportInput.Expand(parse.GetValue(inputs)!);
            await using IImportTarget target = parse.GetValue(server) is { } url
                ? new ServerImportTarget(url, parse.GetValue(token) ?? throw new ArgumentException("--server needs --token (or $SESSIONTRAIL_TOKEN)"))
                : new StoreImportTarget(CommonOptions.FullData(parse.GetValue(data)!));
            var progress = Console.IsErrorRedirected ? null : Console.Error;
            var summary = await new Importer(target, size, progress).RunAsync(files, ct);
            summary.Skipped.AddRange(skipped);
            summary.Write(Console.Out);
            return summary.ExitCode;
        }));
        return command;
    }
}
