using System.Diagnostics;
using SessionTrail.Cli.Import;
using SessionTrail.Testing;

namespace SessionTrail.Bench;

/// <summary>
/// `sessiontrail import` speed on a generated seed-format tree (appstream_applications/year=/month=/day=/
/// SESSION.csv as the seed's script writes them, cultures mixed): imports it into a fresh data directory,
/// then a second time (everything a duplicate).
/// Usage: bench import [--sessions N=1000] [--processes N=100] (about 2 rows per process)
/// </summary>
public static class ImportBench
{
    public static async Task<int> RunAsync(string[] args)
    {
        var sessions = IngestBench.Arg(args, "--sessions", 1000);
        var processes = IngestBench.Arg(args, "--processes", 100);
        var root = Directory.CreateTempSubdirectory("st-bench-import-").FullName;
        try
        {
            var tree = Path.Combine(root, "bucket");
            var random = new Random(42);
            for (var i = 0; i < sessions; i++)
            {
                var culture = SeedCulture.All[i % SeedCulture.All.Length];
                var session = SeedCsvGenerator.Random(random, i, processes, new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero).AddDays(i % 60));
                var path = Path.Combine(tree, SeedCsvGenerator.RelativePath(session, culture));
                Directory.CreateDirectory(Path.GetDirectoryName(path)!);
                await File.WriteAllBytesAsync(path, SeedCsvGenerator.Write(session, culture));
            }

            var data = Path.Combine(root, "data");
            foreach (var pass in new[] { "first import", "second import" })
            {
                var (files, _) = ImportInput.Expand([tree]);
                var watch = Stopwatch.StartNew();
                ImportSummary summary;
                await using (var target = new StoreImportTarget(data))
                {
                    summary = await new Importer(target).RunAsync(files, CancellationToken.None);
                }

                var seconds = watch.Elapsed.TotalSeconds;
                Console.WriteLine(
                    $"{pass}: {summary.Files} files, {summary.Rows} rows, {summary.Stored} stored, {summary.Duplicates} duplicates, " +
                    $"{summary.RejectedCount} rejected in {seconds:0.00} s = {summary.Rows / seconds:0} rows/s");
            }

            return 0;
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }
}
