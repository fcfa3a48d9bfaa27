using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using Microsoft.Extensions.DependencyInjection;
using SessionTrail.Core.Formats;
using SessionTrail.Core.Records;
using SessionTrail.Server;
using SessionTrail.Server.Auth;

namespace SessionTrail.Bench;

/// <summary>
/// Server ingest throughput, end to end: a real Kestrel on 127.0.0.1, real HTTP POSTs of NDJSON batches
/// (default 5,000 records each: process start/exit pairs over 50 hosts), durable (synchronous=FULL).
/// Usage: bench ingest [--batches N=40] [--batch-size N=5000] [--runs N=5] [--senders N=2] [--gzip] [--direct] [--late-exits]
/// Prints records/s per run and the median. By default a process's start and exit come in the same batch; with
/// --late-exits each exit comes one batch after its start, so that pairing must find starts stored before.
/// </summary>
public static class IngestBench
{
    public static async Task<int> RunAsync(string[] args)
    {
        var batches = Arg(args, "--batches", 40);
        var batchSize = Arg(args, "--batch-size", 5000);
        var runs = Arg(args, "--runs", 5);
        var gzip = args.Contains("--gzip");
        var senders = Arg(args, "--senders", 2);
        var lateExits = args.Contains("--late-exits");
        var rates = new List<double>();
        if (args.Contains("--direct"))
        {
            return Direct(batches, batchSize, lateExits);
        }

        for (var run = 0; run < runs; run++)
        {
            var dir = Path.Combine(Path.GetTempPath(), "st-bench-ingest-" + Guid.NewGuid().ToString("N"));
            try
            {
                var bodies = Bodies(run, batches, batchSize, gzip, lateExits);
                await using var app = ServerApp.Build(
                    new ServerOptions { DataDir = dir, Urls = "http://127.0.0.1:0", MaxBodyBytes = 64L * 1024 * 1024 },
                    ["--Logging:LogLevel:Default=Warning"]);
                await app.StartAsync();
                var token = app.Services.GetRequiredService<TokenStore>().Create("bench");
                using var client = new HttpClient { BaseAddress = new Uri(ServerApp.Addresses(app)[0]) };
                client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);

                // Several agents post at once: one parses while another's batch is being stored.
                var queue = new System.Collections.Concurrent.ConcurrentQueue<byte[]>(bodies);
                var watch = Stopwatch.StartNew();
                await Task.WhenAll(Enumerable.Range(0, senders).Select(async _ =>
                {
                    while (queue.TryDequeue(out var body))
                    {
                        using var content = new ByteArrayContent(body);
                        content.Headers.ContentType = new MediaTypeHeaderValue("application/x-ndjson");
                        if (gzip)
                        {
                            content.Headers.ContentEncoding.Add("gzip");
                        }

                        using var response = await client.PostAsync("/api/v1/ingest", content);
                        response.EnsureSuccessStatusCode();
                    }
                }));
                watch.Stop();
                var rate = batches * (double)batchSize / watch.Elapsed.TotalSeconds;
                rates.Add(rate);
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"run {run + 1}: {batches * batchSize:N0} records in {watch.Elapsed.TotalSeconds:F2} s = {rate:N0} records/s"));
                await app.StopAsync();
            }
            finally
            {
                Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
                Directory.Delete(dir, recursive: true);
            }
        }

        rates.Sort();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"ingest: median {rates[rates.Count / 2]:N0} records/s (batches of {batchSize:N0}, {senders} senders, {(gzip ? "gzip" : "plain")}, synchronous=FULL, {Environment.ProcessorCount} cores)"));
        return 0;
    }

    /// <summary>The NDJSON bodies of one run: <paramref name="batches"/> × <paramref name="size"/> records.</summary>
    private static List<byte[]> Bodies(int run, int batches, int size, bool gzip, bool lateExits)
    {
        var records = Records(run, batches * size);
        if (lateExits)
        {
            // In chunks of half a batch: the starts of chunk k, then the exits of chunk k - 1 (the last chunk's exits at
            // the end), so that every exit comes about one batch after its start.
            var half = Math.Max(1, size / 2);
            var starts = records.Where(r => r.Type == ProcessEventType.Start).ToList();
            var exits = records.Where(r => r.Type == ProcessEventType.Exit).ToList();
            records = [];
            for (var k = 0; k * half < starts.Count; k++)
            {
                records.AddRange(starts.Skip(k * half).Take(half));
                records.AddRange(exits.Skip((k - 1) * half).Take(k == 0 ? 0 : half));
            }

            records.AddRange(exits.Skip(((starts.Count - 1) / half) * half));
        }

        return records.Chunk(size).Select(chunk => Body(chunk, gzip)).ToList();
    }

    private static List<ProcessRecord> Records(int run, int count)
    {
        var records = new List<ProcessRecord>(count);
        var t0 = new DateTimeOffset(2026, 11, 1, 8, 0, 0, TimeSpan.Zero);
        for (var n = 0; n < count; n++)
        {
            var pair = n / 2; // records n and n+1 are the start and exit of one process
            var host = "host-" + (pair % 50).ToString(CultureInfo.InvariantCulture);
            var pid = 1000 + (pair / 50 % 30000); // pids are reused as the batch goes on
            var time = t0.AddMilliseconds(pair * 10L);
            records.Add(n % 2 == 0
                ? new ProcessRecord
                {
                    Id = $"bench{run}:{n}", Host = host, Pid = pid, Type = ProcessEventType.Start, Time = time,
                    Executable = "/usr/bin/app" + (pair % 200).ToString(CultureInfo.InvariantCulture), User = "user" + (pair % 300).ToString(CultureInfo.InvariantCulture),
                    Session = "session-" + (pair % 1000).ToString(CultureInfo.InvariantCulture), Uid = 1000 + (pair % 300), ParentPid = 1,
                    CommandLine = "app --flag value",
                }
                : new ProcessRecord { Id = $"bench{run}:{n}", Host = host, Pid = pid, Type = ProcessEventType.Exit, Time = time.AddMilliseconds(5), ExitCode = 0 });
        }

        return records;
    }

    private static byte[] Body(IEnumerable<TrailRecord> records, bool gzip)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>(1 << 20);
        foreach (var record in records)
        {
            NdjsonWriter.Write(record, buffer);
        }

        if (!gzip)
        {
            return buffer.WrittenSpan.ToArray();
        }

        using var output = new MemoryStream();
        using (var z = new System.IO.Compression.GZipStream(output, System.IO.Compression.CompressionLevel.Fastest))
        {
            z.Write(buffer.WrittenSpan);
        }

        return output.ToArray();
    }

    /// <summary>Without HTTP: time parsing and storing separately (to see where the time goes).</summary>
    private static int Direct(int batches, int batchSize, bool lateExits)
    {
        var dir = Path.Combine(Path.GetTempPath(), "st-bench-direct-" + Guid.NewGuid().ToString("N"));
        try
        {
            using var store = SessionTrail.Server.Store.SqliteStore.Open(dir);
            var bodies = Bodies(0, batches, batchSize, gzip: false, lateExits);
            var parse = new Stopwatch();
            var ingest = new Stopwatch();
            var cpu = Process.GetCurrentProcess().TotalProcessorTime;
            foreach (var body in bodies)
            {
                parse.Start();
                var records = NdjsonReader.Parse(body);
                parse.Stop();
                ingest.Start();
                store.Ingest(records);
                ingest.Stop();
            }

            var total = batches * (double)batchSize;
            var cpuSeconds = (Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalSeconds;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"direct: parse {total / parse.Elapsed.TotalSeconds:N0} records/s, store {total / ingest.Elapsed.TotalSeconds:N0} records/s (wall); {total / cpuSeconds:N0} records per CPU-second parse+store"));
            return 0;
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            Directory.Delete(dir, recursive: true);
        }
    }

    internal static int Arg(string[] args, string name, int fallback)
    {
        var i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? int.Parse(args[i + 1], CultureInfo.InvariantCulture) : fallback;
    }
}
