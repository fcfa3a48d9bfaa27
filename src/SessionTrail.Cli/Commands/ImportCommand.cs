using System.CommandLine;
using SessionTrail.Cli.Import;

namespace SessionTrail.Cli.Commands;

/// <summary>
/// `sessiontrail import FILE|DIR...`: the seed solution's per-session CSVs, Windows Security event
/// files and the agent's NDJSON, into a data directory or a server. Exit codes: 0 everything imported;
/// 2 some rows or files were rejected (listed; the rest was imported); 1 bad arguments or a path that
/// does not exist (nothing imported), or the store/server failing or Ctrl+C part way (the batches stored
/// so far stay; the same import run again completes it).
/// </summary>
internal static class ImportCommand
{

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
            were rejected (listed with file:line); 1: bad arguments, a missing path, or the store or
            server failing part way (run the same import again to complete it).
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

            if (parse.GetValue(server) is not null && parse.GetResult(data) is { Implicit: false })
            {
                throw new ArgumentException("give --data DIR or --server URL, not both");
            }

            var (files, skipped) = ImportInput.Expand(parse.GetValue(inputs)!);
            await using IImportTarget target = parse.GetValue(server) is { } url
                ? new ServerImportTarget(url, parse.GetValue(token) ?? throw new ArgumentException("--server needs --token (or $SESSIONTRAIL_TOKEN)"))
                : new StoreImportTarget(CommonOptions.DataToWrite(parse.GetValue(data)!));
            var importer = new Importer(target, size, Console.IsErrorRedirected ? null : Console.Error);
            importer.Summary.Skipped.AddRange(skipped);
            try
            {
                await importer.RunAsync(files, ct);
            }
            catch (Exception e) when (e is OperationCanceledException || Failure.IsUserError(e))
            {
                // What was stored stays stored (one transaction per batch); the same import run again completes it.
                importer.Summary.Write(Console.Out);
                await Console.Error.WriteLineAsync(
                    $"sessiontrail import: {(e is OperationCanceledException ? "interrupted" : e.Message)} — stopped after {importer.Summary.Stored} records stored; run the same import again to complete it (what is stored counts as duplicates).");
                return Failure.ExitCode;
            }

            importer.Summary.Write(Console.Out);
            return importer.Summary.ExitCode;
        }));
        return command;
    }
}
