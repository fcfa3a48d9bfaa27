using System.Diagnostics;
using System.Globalization;
using DuckDB.NET.Data;
using SessionTrail.Server.Export;
using SessionTrail.Server.Store;

namespace SessionTrail.Bench;

/// <summary>
/// The Parquet lake's writer, chosen on this: the whole <c>export --format parquet</c> (first export: every day of runs
/// and sessions) of a generated store (<see cref="ExportBench"/>'s: 50 runs per session over 90 days, 200 apps, 50 hosts),
/// once with Parquet.Net (<see cref="ParquetLakeWriter"/>, what the export uses) and once with DuckDB's
/// <c>COPY … TO (FORMAT parquet)</c> (DuckDB.NET in process: each day's rows appended to an in-memory table, copied to a file).
/// Rounds alternate the writers; prints the median seconds, rows/s and bytes per million runs of each, and the files'
/// bytes read back by DuckDB (both must hold the same rows).
/// Usage: bench lake [--runs 1000000] [--rounds 5]
/// </summary>
public static class LakeBench
{
    public static async Task<int> RunAsync(string[] args)
    {
        var count = IngestBench.Arg(args, "--runs", 1_000_000);
        var rounds = IngestBench.Arg(args, "--rounds", 5);
        var dir = Path.Combine(Path.GetTempPath(), "st-bench-lake-" + Guid.NewGuid().ToString("N"));
        try
        {
            using (var store = SqliteStore.Open(dir))
            {
                var load = Stopwatch.StartNew();
                ExportBench.Generate(store, count);
                NameAppsAndUsers(store);
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{count:N0} runs generated in {load.Elapsed.TotalSeconds:F1} s"));
            }

            using var readOnly = SqliteStore.OpenReadOnly(dir);
            using var duckWriter = new DuckDbLakeWriter();
            var writers = new (string Name, ILakeFileWriter Writer)[]
            {
                ("Parquet.Net 6.1.0", new ParquetLakeWriter()), ("DuckDB 1.5.6 COPY", duckWriter), ("(reading alone)", new NoWriter()),
            };
            var seconds = writers.ToDictionary(w => w.Name, _ => new List<double>());
            var results = new Dictionary<string, (long Rows, long Bytes, long RunsRead)>();
            for (var round = 0; round < rounds; round++)
            {
                foreach (var (name, writer) in round % 2 == 0 ? writers : writers.Reverse())
                {
                    var outDir = Path.Combine(dir, "lake-" + round + "-" + seconds[name].Count + name[..4]);
                    using (var destination = LakeDestination.Open(outDir, null, "us-east-1"))
                    {
                        var summary = await new LakeExporter(readOnly, writer).ExportAsync(destination, logs: false);
                        seconds[name].Add(summary.Elapsed.TotalSeconds);
                        results[name] = (summary.Tables.Sum(t => t.Rows), summary.Bytes, summary.Bytes == 0 ? 0 : RunsReadBack(outDir));
                    }

                    ClearMarks(readOnly.DatabasePath, outDir);
                    Directory.Delete(outDir, recursive: true);
                }
            }

            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"load average {File.ReadAllText("/proc/loadavg").Trim()}"));
            foreach (var (name, _) in writers)
            {
                var times = seconds[name].Order().ToList();
                var median = times[times.Count / 2];
                var (rows, bytes, readBack) = results[name];
                Console.WriteLine(string.Create(
                    CultureInfo.InvariantCulture,
                    $"{name,-18} median {median:F2} s ({string.Join(" ", seconds[name].Select(t => t.ToString("F2", CultureInfo.InvariantCulture)))}): {rows / median:N0} rows/s, {bytes:N0} bytes, {bytes * 1_000_000.0 / count / 1e6:F1} MB per million runs; DuckDB reads back {readBack:N0} runs"));
            }
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            Directory.Delete(dir, recursive: true);
        }

        return 0;
    }

    /// <summary>The generator writes every run with app 1 and user 1: give them their start event's program and 2,000 users.</summary>
    private static void NameAppsAndUsers(SqliteStore store) => store.Write((connection, tx) =>
    {
        using var cmd = connection.CreateCommand();
        cmd.Transaction = tx;
        cmd.CommandText = """
            INSERT OR IGNORE INTO apps(path) SELECT DISTINCT exe FROM process_events WHERE type = 0;
            INSERT OR IGNORE INTO users(name) SELECT DISTINCT user FROM sessions WHERE user IS NOT NULL;
            UPDATE runs SET app_id = (SELECT a.id FROM process_events e JOIN apps a ON a.path = e.exe WHERE e.seq = runs.start_seq),
                            user_id = (SELECT u.id FROM sessions s JOIN users u ON u.name = s.user WHERE s.id = runs.session);
            """;
        return cmd.ExecuteNonQuery();
    });

    private static void ClearMarks(string database, string outDir)
    {
        using var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={database}");
        connection.Open();
        using var cmd = connection.CreateCommand();
        cmd.CommandText = "DELETE FROM lake_exports WHERE destination = $d";
        cmd.Parameters.AddWithValue("$d", Path.GetFullPath(outDir));
        cmd.ExecuteNonQuery();
    }

    private static long RunsReadBack(string outDir)
    {
        using var duck = new DuckDBConnection("DataSource=:memory:");
        duck.Open();
        using var cmd = duck.CreateCommand();
        cmd.CommandText = $"SELECT COUNT(*) FROM read_parquet('{outDir}/runs/**/*.parquet', hive_partitioning = true)";
        return Convert.ToInt64(cmd.ExecuteScalar(), CultureInfo.InvariantCulture);
    }

    /// <summary>Writes nothing: what reading the store costs.</summary>
    private sealed class NoWriter : ILakeFileWriter
    {
        public Task WriteAsync(LakeBatch batch, Stream output, CancellationToken ct) => Task.CompletedTask;
    }

    /// <summary>
    /// DuckDB's Parquet writer (one in-memory database for the whole export): the day's rows appended to a table (times as epoch milliseconds), then
    /// <c>COPY (SELECT …, epoch_ms(time) …) TO file (FORMAT parquet, COMPRESSION zstd)</c>, and the file copied to the output.
    /// </summary>
    private sealed class DuckDbLakeWriter : ILakeFileWriter, IDisposable
    {
        private readonly DuckDBConnection duck = Open();

        private static DuckDBConnection Open()
        {
            var connection = new DuckDBConnection("DataSource=:memory:");
            connection.Open();
            return connection;
        }

        public void Dispose() => duck.Dispose();

        public async Task WriteAsync(LakeBatch batch, Stream output, CancellationToken ct)
        {
            var columns = batch.Table.Columns;
            using (var create = duck.CreateCommand())
            {
                create.CommandText = $"CREATE OR REPLACE TABLE t ({string.Join(", ", columns.Select(c => $"\"{c.Name}\" " + (c.Type switch { LakeType.Text => "VARCHAR", LakeType.Double => "DOUBLE", _ => "BIGINT" })))})";
                create.ExecuteNonQuery();
            }

            using (var appender = duck.CreateAppender("t"))
            {
                for (var r = 0; r < batch.Count; r++)
                {
                    var row = appender.CreateRow();
                    for (var c = 0; c < columns.Count; c++)
                    {
                        _ = columns[c].Type switch
                        {
                            LakeType.Text => row.AppendValue(batch.Texts(c)[r]),
                            LakeType.Double => row.AppendValue(batch.Doubles(c)[r]),
                            _ => row.AppendValue(batch.Longs(c)[r]),
                        };
                    }

                    row.EndRow();
                }
            }

            var file = Path.Combine(Path.GetTempPath(), $"st-duck-{Guid.NewGuid():N}.parquet");
            try
            {
                using (var copy = duck.CreateCommand())
                {
                    var select = string.Join(", ", columns.Select(c => c.Type == LakeType.Time ? $"epoch_ms(\"{c.Name}\") AS \"{c.Name}\"" : $"\"{c.Name}\""));
                    copy.CommandText = $"COPY (SELECT {select} FROM t) TO '{file}' (FORMAT parquet, COMPRESSION zstd)";
                    copy.ExecuteNonQuery();
                }

                await using var read = File.OpenRead(file);
                await read.CopyToAsync(output, ct);
            }
            finally
            {
                File.Delete(file);
            }
        }
    }
}
