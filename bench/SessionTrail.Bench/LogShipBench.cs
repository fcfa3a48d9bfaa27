using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using SessionTrail.Agent.Status;

namespace SessionTrail.Bench;

/// <summary>
/// File tail → agent → server, with the real executables. A log file of realistic syslog-style lines is
/// written first; then, per run, a fresh agent (`sessiontrail agent --config`, DirectorySource from the
/// beginning, SessionTrail sink) reads it:
///   phase 1 "durable": the server is down, so the agent's rate is file → pipes → fsynced disk queue
///           (what the agent guarantees; Vector's harness measures file → TCP);
///   phase 2 "delivered": the server is started and the backlog is delivered and stored (FTS5 indexed).
/// Progress comes from the agent's status.json (pending and acknowledged records). Agent CPU (% of one
/// core) and peak RSS come from /proc. Prints each run and the median.
///   bench logship [--mib 256] [--runs 3] [--line 200] [--exe PATH] [--skip-server]
/// </summary>
public static class LogShipBench
{
    public static async Task<int> RunAsync(string[] args)
    {
        var mib = IngestBench.Arg(args, "--mib", 256);
        var runs = IngestBench.Arg(args, "--runs", 3);
        var lineLength = IngestBench.Arg(args, "--line", 200);
        var skipServer = args.Contains("--skip-server");
        var exe = Value(args, "--exe") ?? Path.Combine(AppContext.BaseDirectory, "sessiontrail.dll");
        var root = Directory.CreateTempSubdirectory("st-logship-").FullName;
        try
        {
            var logDir = Path.Combine(root, "logs");
            Directory.CreateDirectory(logDir);
            var (lines, bytes) = WriteLog(Path.Combine(logDir, "app.log"), (long)mib << 20, lineLength);
            Console.WriteLine($"log file: {lines:N0} lines, {bytes / 1048576.0:F0} MiB, ~{bytes / lines} bytes per line");
            var durable = new List<double>();
            var delivered = new List<double>();
            var cpu = new List<double>();
            var rss = new List<double>();
            for (var run = 1; run <= runs; run++)
            {
                var result = await RunOnceAsync(exe, root, logDir, run, lines, bytes, skipServer);
                durable.Add(result.DurableSeconds);
                cpu.Add(result.CpuPercent);
                rss.Add(result.PeakRssMb);
                if (result.DeliveredSeconds is { } d)
                {
                    delivered.Add(d);
                }

                var deliveredText = result.DeliveredSeconds is { } s
                    ? string.Create(CultureInfo.InvariantCulture, $"; delivered to the server {lines / s:N0} records/s = {bytes / 1048576.0 / s:F1} MiB/s")
                    : "";
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"run {run}: durable {lines / result.DurableSeconds:N0} records/s = {bytes / 1048576.0 / result.DurableSeconds:F1} MiB/s; agent CPU {result.CpuPercent:F0}% of one core, peak RSS {result.PeakRssMb:F0} MB{deliveredText}"));
            }

            var medianDurable = Median(durable);
            var medianDelivered = delivered.Count > 0
                ? string.Create(CultureInfo.InvariantCulture, $", delivered {lines / Median(delivered):N0} records/s = {bytes / 1048576.0 / Median(delivered):F1} MiB/s")
                : "";
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"median: durable {lines / medianDurable:N0} records/s = {bytes / 1048576.0 / medianDurable:F1} MiB/s, agent CPU {Median(cpu):F0}%, peak RSS {Median(rss):F0} MB{medianDelivered}"));
            return 0;
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    private sealed record RunResult(double DurableSeconds, double? DeliveredSeconds, double CpuPercent, double PeakRssMb);

    private static async Task<RunResult> RunOnceAsync(string exe, string root, string logDir, int run, long lines, long bytes, bool skipServer)
    {
        var agentData = Path.Combine(root, $"agent-{run}");
        var serverData = Path.Combine(root, $"server-{run}");
        var port = FreePort();
        var url = $"http://127.0.0.1:{port}";
        var token = "bench";
        if (!skipServer)
        {
            var create = await RunToEndAsync(exe, "token", "create", "--data", serverData);
            token = create.Trim().Split('\n')[^1].Trim();
        }

        var config = Path.Combine(root, $"appsettings-{run}.json");
        var channel = Environment.GetEnvironmentVariable("BENCH_CHANNEL") is { } c ? $", \"ChannelCapacity\": {c}" : "";
        await File.WriteAllTextAsync(config, $$"""
            {
              "Agent": { "QueueMaxBytes": {{Math.Max(bytes * 4, 1L << 30)}}, "FlushDeadline": "00:00:02", "StatusInterval": "00:00:00.200", "RetryMaxDelay": "00:00:01"{{channel}} },
              "Sources": [ { "Id": "bench", "SourceType": "DirectorySource", "Directory": {{System.Text.Json.JsonSerializer.Serialize(logDir)}},
                             "FileNameFilter": "*.log", "RecordParser": "SingleLine", "InitialPosition": "0" } ],
              "Sinks": [ { "Id": "trail", "SinkType": "SessionTrail" } ],
              "Pipes": [ { "Id": "p", "SourceRef": "bench", "SinkRef": "trail" } ]
            }
            """);
        using var agent = Start(exe, "agent", "--data", agentData, "--server", url, "--token", token, "--config", config);
        try
        {
            return await MeasureAsync(agent, exe, agentData, serverData, url, token, lines, skipServer);
        }
        finally
        {
            Stop(agent);
        }
    }

    private static async Task<RunResult> MeasureAsync(Process agent, string exe, string agentData, string serverData, string url, string token, long lines, bool skipServer)
    {
        var watch = Stopwatch.StartNew();
        var (cpu0, _) = Sample(agent.Id);
        double peakRss = 0;
        double durableSeconds;
        while (true)
        {
            await Task.Delay(100);
            peakRss = Math.Max(peakRss, Sample(agent.Id).RssMb);
            var status = AgentStatus.Read(agentData);
            var sink = status?.Sinks.FirstOrDefault(s => s.Name == "server");
            if (sink is not null && sink.PendingRecords + sink.AckedTotal >= lines)
            {
                durableSeconds = watch.Elapsed.TotalSeconds;
                break;
            }

            if (agent.HasExited)
            {
                throw new InvalidOperationException($"agent exited with {agent.ExitCode}");
            }

            if (watch.Elapsed > TimeSpan.FromMinutes(20))
            {
                throw new TimeoutException("the agent did not queue the file in 20 minutes");
            }
        }

        var (cpu1, _) = Sample(agent.Id);
        var cpuPercent = (cpu1 - cpu0) / 100.0 / durableSeconds * 100;
        double? deliveredSeconds = null;
        if (!skipServer)
        {
            using var server = Start(exe, "server", "--data", serverData, "--urls", url);
            try
            {
                deliveredSeconds = await DeliverAsync(server, agentData, url, token, lines);
            }
            finally
            {
                Stop(server);
            }
        }

        return new RunResult(durableSeconds, deliveredSeconds, cpuPercent, peakRss);
    }

    private static async Task<double> DeliverAsync(Process server, string agentData, string url, string token, long lines)
    {
        double deliveredSeconds;
        {
            var delivery = Stopwatch.StartNew();
            while (true)
            {
                await Task.Delay(200);
                var sink = AgentStatus.Read(agentData)?.Sinks.FirstOrDefault(s => s.Name == "server");
                if (sink is not null && sink.AckedTotal >= lines)
                {
                    deliveredSeconds = delivery.Elapsed.TotalSeconds;
                    break;
                }

                if (delivery.Elapsed > TimeSpan.FromMinutes(30))
                {
                    throw new TimeoutException("the server did not take the backlog in 30 minutes");
                }
            }

            await CheckServerCountAsync(url, token);
        }

        return deliveredSeconds;
    }

    /// <summary>A sanity check that the server really holds log records of the bench source.</summary>
    private static async Task CheckServerCountAsync(string url, string token)
    {
        using var http = new HttpClient();
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        var body = await http.GetStringAsync(new Uri(url + "/api/v1/logs?source=bench&limit=1"));
        if (!body.Contains("\"bench\"", StringComparison.Ordinal))
        {
            throw new InvalidOperationException("the server has no records of the bench source: " + body);
        }
    }

    /// <summary>Writes syslog-style lines of about <paramref name="lineLength"/> bytes until <paramref name="total"/> bytes.</summary>
    private static (long Lines, long Bytes) WriteLog(string path, long total, int lineLength)
    {
        var random = new Random(7);
        string[] programs = ["sshd", "cron", "kernel", "systemd", "nginx", "dockerd", "app-server", "postfix"];
        string[] words = ["connection", "accepted", "closed", "from", "user", "session", "opened", "request", "GET", "/api/v1/items", "status", "200", "latency", "ms", "retry", "timeout", "worker", "started", "queue", "flushed"];
        using var file = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.Read, 1 << 20);
        var t = new DateTime(2026, 11, 30, 0, 0, 0, DateTimeKind.Utc);
        var line = new StringBuilder(lineLength + 64);
        long lines = 0;
        long bytes = 0;
        while (bytes < total)
        {
            line.Clear();
            line.Append(CultureInfo.InvariantCulture, $"{t.AddMilliseconds(lines):MMM dd HH:mm:ss} host{lines % 16} {programs[random.Next(programs.Length)]}[{random.Next(100, 60000)}]: ");
            while (line.Length < lineLength - 1)
            {
                line.Append(words[random.Next(words.Length)]).Append(' ');
            }

            line.Length = lineLength - 1;
            line.Append(CultureInfo.InvariantCulture, $" #{lines}\n");
            var encoded = Encoding.UTF8.GetBytes(line.ToString());
            file.Write(encoded);
            bytes += encoded.Length;
            lines++;
        }

        return (lines, bytes);
    }

    private static Process Start(string exe, params string[] args) => Start(exe, true, args);

    private static Process Start(string exe, bool discardOutput, params string[] args)
    {
        var psi = exe.EndsWith(".dll", StringComparison.Ordinal)
            ? new ProcessStartInfo("dotnet") { ArgumentList = { exe } }
            : new ProcessStartInfo(exe);
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }

        psi.RedirectStandardOutput = true;
        psi.RedirectStandardError = true;
        var p = Process.Start(psi) ?? throw new InvalidOperationException("could not start " + exe);
        if (discardOutput)
        {
            _ = p.StandardOutput.ReadToEndAsync();
            _ = p.StandardError.ReadToEndAsync();
        }

        return p;
    }

    private static async Task<string> RunToEndAsync(string exe, params string[] args)
    {
        using var p = Start(exe, false, args);
        _ = p.StandardError.ReadToEndAsync();
        var output = await p.StandardOutput.ReadToEndAsync();
        await p.WaitForExitAsync();
        return output;
    }

    private static void Stop(Process p)
    {
        if (!p.HasExited)
        {
            p.Kill(entireProcessTree: true);
            p.WaitForExit();
        }
    }

    private static (long CpuTicks, double RssMb) Sample(int pid)
    {
        var stat = File.ReadAllText($"/proc/{pid}/stat");
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        var ticks = long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
        var rssLine = File.ReadLines($"/proc/{pid}/status").First(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
        var kb = long.Parse(rssLine.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture);
        return (ticks, kb / 1024.0);
    }

    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted[sorted.Count / 2];
    }

    private static string? Value(string[] args, string name)
    {
        var i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
    }

    private static int FreePort()
    {
        using var l = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        l.Start();
        return ((System.Net.IPEndPoint)l.LocalEndpoint).Port;
    }
}
