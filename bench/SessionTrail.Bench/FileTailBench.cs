using System.Diagnostics;
using System.Globalization;
using System.Text;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging.Abstractions;
using SessionTrail.Agent.Config;
using SessionTrail.Agent.Ids;
using SessionTrail.Agent.Pipeline;
using SessionTrail.Agent.Queue;
using SessionTrail.Agent.Sinks;
using SessionTrail.Agent.Sources;
using SessionTrail.Agent.Sources.Files;
using SessionTrail.Core.Records;

namespace SessionTrail.Bench;

/// <summary>
/// The file log source alone: writes N MiB of realistic log lines (syslog-like, 80-250 bytes), then
/// times a DirectorySource reading them from the start into an output that only counts (no pipes, no
/// queue). Prints MiB/s and records/s, median of the runs.
/// With "queue" as 5th argument the records go through the agent's pump (NDJSON, id) into one durable
/// disk queue (group fsync) instead, and the time includes the final durability barrier.
/// Usage: filetail [MiB=256] [runs=3] [RecordParser=SingleLine] [dir|-] [count|queue].
/// </summary>
public static class FileTailBench
{
    public static async Task<int> RunAsync(string[] args)
    {
        ArgumentNullException.ThrowIfNull(args);
        var mib = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 256;
        var runs = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 3;
        var parser = args.Length > 2 ? args[2] : "SingleLine";
        var viaQueue = args.Length > 4 && args[4] == "queue";
        var dir = args.Length > 3 && args[3] != "-" ? args[3] : Path.Combine(Path.GetTempPath(), "sessiontrail-filetail-bench-" + Environment.ProcessId.ToString(CultureInfo.InvariantCulture));
        var logDir = Path.Combine(dir, "logs");
        Directory.CreateDirectory(logDir);
        try
        {
            var (bytes, lines) = Write(Path.Combine(logDir, "app.log"), (long)mib << 20, parser == "SingleLineJson");
            Console.WriteLine($"filetail: {bytes / (double)(1 << 20):N0} MiB, {lines:N0} lines (avg {bytes / (double)lines:N0} bytes), RecordParser {parser}, {runs} runs, into {(viaQueue ? "the pump and a durable disk queue" : "a counting output")}");
            var results = new List<(double MiBs, double Records)>();
            for (var run = 0; run < runs; run++)
            {
                var dataDir = Path.Combine(dir, "data" + run.ToString(CultureInfo.InvariantCulture));
                var values = new Dictionary<string, string?>
                {
                    ["Sources:0:Id"] = "bench",
                    ["Sources:0:Directory"] = logDir,
                    ["Sources:0:FileNameFilter"] = "*.log",
                    ["Sources:0:RecordParser"] = parser,
                    ["Sources:0:InitialPosition"] = "BOS",
                };
                var node = new ConfigNode(new ConfigurationBuilder().AddInMemoryCollection(values).Build().GetSection("Sources:0"), "Sources:0");
                var context = new LogSourceContext("bench", dataDir, "bench-host", new BookmarkStore(dataDir), NullLoggerFactory.Instance, TimeProvider.System);
                var source = new DirectorySourceFactory().Create(node, context);
                var counter = new CountingOutput(lines, null);
                using var queue = viaQueue ? DiskQueue.Open(Path.Combine(dataDir, "queue"), new DiskQueueOptions(), NullLogger.Instance, TimeProvider.System) : null;
                var pump = queue is null ? null : new RecordPump(10_000, [], RecordIdGenerator.Open(Path.Combine(dataDir, "agent")), [queue], NullLogger.Instance);
                var pumpTask = pump?.RunAsync(CancellationToken.None);
                var output = pump is null ? counter : new CountingOutput(lines, pump);
                using var stop = new CancellationTokenSource();
                var cpuBefore = Process.GetCurrentProcess().TotalProcessorTime;
                var sw = Stopwatch.StartNew();
                var task = source.RunAsync(output, stop.Token);
                await output.Done.Task.WaitAsync(TimeSpan.FromMinutes(10));
                if (pump is not null)
                {
                    await pump.WhenDurableAsync(CancellationToken.None);
                }

                sw.Stop();
                await stop.CancelAsync();
                await task;
                pump?.Complete();
                if (pumpTask is not null)
                {
                    await pumpTask;
                }
                var cpu = (Process.GetCurrentProcess().TotalProcessorTime - cpuBefore).TotalSeconds;
                var seconds = sw.Elapsed.TotalSeconds;
                results.Add((bytes / (double)(1 << 20) / seconds, lines / seconds));
                Console.WriteLine($"filetail: run {run + 1}: {seconds:N2} s, {results[^1].MiBs:N1} MiB/s, {results[^1].Records:N0} records/s, CPU {cpu:N2} s ({bytes / (double)(1 << 20) / cpu:N1} MiB per CPU-second)");
            }

            var median = results.OrderBy(r => r.MiBs).ElementAt(results.Count / 2);
            Console.WriteLine($"filetail: load average while measuring: {(File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Trim() : "n/a")}");
            Console.WriteLine($"filetail: median {median.MiBs:N1} MiB/s, {median.Records:N0} records/s {(viaQueue ? "(source + pump + durable disk queue)" : "(source alone, into a counting output)")}");
            return 0;
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    private static (long Bytes, long Lines) Write(string path, long target, bool json)
    {
        string[] programs = ["sshd", "systemd", "CRON", "kernel", "nginx", "app-server", "sudo"];
        string[] texts =
        [
            "Accepted publickey for alice from 10.0.3.17 port 50522 ssh2: RSA SHA256:q1w2e3r4t5y6u7i8o9p0",
            "Started Session 4242 of User bob.",
            "(root) CMD (run-parts /etc/cron.hourly)",
            "10.0.0.9 - - \"GET /api/v1/reports/sessions?from=2026-11-01&to=2026-11-30 HTTP/1.1\" 200 18342 \"-\" \"Mozilla/5.0 (Windows NT 10.0; Win64; x64)\"",
            "audit: type=1400 apparmor=\"ALLOWED\" operation=\"open\" profile=\"/usr/sbin/cupsd\" name=\"/etc/cups/ppd/\" pid=1234 comm=\"cupsd\"",
            "job 81723 finished in 1532 ms, 12 rows written",
            "alice : TTY=pts/0 ; PWD=/home/alice ; USER=root ; COMMAND=/usr/bin/systemctl restart nginx",
        ];
        var random = new Random(42);
        long bytes = 0, lines = 0;
        using var stream = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.Read, 1 << 20);
        var sb = new StringBuilder();
        var time = new DateTime(2026, 11, 30, 5, 0, 0, DateTimeKind.Utc);
        while (bytes < target)
        {
            sb.Clear();
            for (var i = 0; i < 1000; i++)
            {
                time = time.AddMilliseconds(random.Next(1, 50));
                var program = programs[random.Next(programs.Length)];
                var text = texts[random.Next(texts.Length)];
                if (json)
                {
                    sb.Append(CultureInfo.InvariantCulture, $"{{\"time\":\"{time:O}\",\"host\":\"ip-10-0-1-17\",\"program\":\"{program}\",\"pid\":{random.Next(1, 65000)},\"msg\":\"{text.Replace("\"", "'", StringComparison.Ordinal)}\"}}\n");
                }
                else
                {
                    sb.Append(CultureInfo.InvariantCulture, $"{time:MMM dd HH:mm:ss} ip-10-0-1-17 {program}[{random.Next(1, 65000)}]: {text}\n");
                }

                lines++;
            }

            var chunk = Encoding.UTF8.GetBytes(sb.ToString());
            stream.Write(chunk);
            bytes += chunk.Length;
        }

        return (bytes, lines);
    }

    /// <summary>Counts records and passes them on to the pump when there is one (durable, like the agent).</summary>
    private sealed class CountingOutput(long expected, RecordPump? next) : IDurableRecordOutput
    {
        private long _count;

        public TaskCompletionSource Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public async ValueTask WriteAsync(TrailRecord record, CancellationToken cancellationToken)
        {
            if (next is not null)
            {
                await next.WriteAsync(record, cancellationToken);
            }

            if (++_count == expected)
            {
                Done.TrySetResult();
            }
        }

        public ValueTask WhenDurableAsync(CancellationToken cancellationToken) =>
            next?.WhenDurableAsync(cancellationToken) ?? ValueTask.CompletedTask;
    }
}
