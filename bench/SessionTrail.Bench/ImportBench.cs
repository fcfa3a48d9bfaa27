using System.Diagnostics;
using SessionTrail.Cli.Import;
using SessionTrail.TestKit;

namespace SessionTrail.Bench;

/// <summary>
/// `sessiontrail import` speed on a generated seed-format tree (appstream_applications/year=/month=/day=/
/// SESSION.csv as the seed's script writes them, cultures mixed): imports it into a fresh data directory,
/// then a second time (everything a duplicate).
/// Usage: bench import [--sessions N=1000] [--processes N=100] (about 2 rows per process) [--parse-only]
/// (--parse-only: read and map the files, store nothing: the reader's own speed)
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
            var parseOnly = args.Contains("--parse-only");
            foreach (var pass in parseOnly ? ["parse only"] : new[] { "first import", "second import" })
            {
                var (files, _) = ImportInput.Expand([tree]);
                var cpu = Process.GetCurrentProcess().TotalProcessorTime;
                var watch = Stopwatch.StartNew();
                ImportSummary summary;
                await using (IImportTarget target = parseOnly ? new NullTarget() : new StoreImportTarget(data))
                {
                    summary = await new Importer(target).RunAsync(files, CancellationToken.None);
                }

                var seconds = watch.Elapsed.TotalSeconds;
                var cpuSeconds = (Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalSeconds;
                Console.WriteLine(
                    $"{pass}: {summary.Files} files, {summary.Rows} rows, {summary.Stored} stored, {summary.Duplicates} duplicates, " +
                    $"{summary.RejectedCount} rejected in {seconds:0.00} s = {summary.Rows / seconds:0} rows/s " +
                    $"(CPU {cpuSeconds:0.00} s = {summary.Rows / cpuSeconds:0} rows per CPU-second; load average {File.ReadAllText("/proc/loadavg").Split(' ')[0]})");
            }

            return 0;
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    private sealed class NullTarget : IImportTarget
    {
        public Task<SessionTrail.Server.Store.IngestResult> WriteAsync(IReadOnlyList<SessionTrail.Core.Records.TrailRecord> batch, CancellationToken cancellationToken) =>
            Task.FromResult(new SessionTrail.Server.Store.IngestResult(batch.Count, 0));

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}
