using System.Diagnostics;
using System.Globalization;

namespace SessionTrail.Bench;

/// <summary>
/// Agent idle cost: starts the real `sessiontrail agent` (kernel capture when root), lets it settle,
/// then samples its CPU time and RSS from /proc over a window in which nothing is spawned.
/// Prints CPU as % of one core and RSS in MB (median and max of the samples).
///   bench idle [--settle 60] [--seconds 60] [--exe PATH]
/// </summary>
public static class IdleBench
{
    public static async Task<int> RunAsync(string[] args)
    {
        var seconds = int.Parse(Arg(args, "--seconds") ?? "60", CultureInfo.InvariantCulture);
        var settle = int.Parse(Arg(args, "--settle") ?? "60", CultureInfo.InvariantCulture);
        var exe = Arg(args, "--exe") ?? Path.Combine(AppContext.BaseDirectory, "sessiontrail.dll");
        var data = Directory.CreateTempSubdirectory("st-idle-").FullName;
        var psi = exe.EndsWith(".dll", StringComparison.Ordinal)
            ? new ProcessStartInfo("dotnet") { ArgumentList = { exe } }
            : new ProcessStartInfo(exe);
        foreach (var a in new[] { "agent", "--data", data, "--server", "http://127.0.0.1:9", "--token", "idle-bench" })
        {
            psi.ArgumentList.Add(a);
        }

        psi.RedirectStandardOutput = true;
        psi.RedirectStandardError = true;
        using var agent = Process.Start(psi) ?? throw new InvalidOperationException("could not start the agent");
        _ = agent.StandardOutput.ReadToEndAsync();
        _ = agent.StandardError.ReadToEndAsync();
        try
        {
            // Start-up is not idle: JIT, tiered re-compilation of hot methods, first connection attempts.
            await Task.Delay(TimeSpan.FromSeconds(settle));
            var ticksPerSecond = 100.0; // USER_HZ on Linux
            var (cpu0, _) = Sample(agent.Id);
            var rss = new List<double>();
            var sw = Stopwatch.StartNew();
            while (sw.Elapsed < TimeSpan.FromSeconds(seconds))
            {
                await Task.Delay(1000);
                rss.Add(Sample(agent.Id).RssMb);
            }

            var (cpu1, _) = Sample(agent.Id);
            var status = File.ReadLines($"/proc/{agent.Id}/status").ToList();
            string Field(string name) => status.First(l => l.StartsWith(name + ":", StringComparison.Ordinal))[(name.Length + 1)..].Trim();
            var cpuPercent = (cpu1 - cpu0) / ticksPerSecond / sw.Elapsed.TotalSeconds * 100;
            rss.Sort();
            Console.WriteLine($"agent idle over {sw.Elapsed.TotalSeconds:F0} s: CPU {cpuPercent:F2}% of one core, RSS median {rss[rss.Count / 2]:F1} MB, max {rss[^1]:F1} MB " +
                              $"(at the end: anonymous {Field("RssAnon")}, file-backed {Field("RssFile")} — shared runtime code; threads {Field("Threads")})");
            return 0;
        }
        finally
        {
            agent.Kill(entireProcessTree: true);
            await agent.WaitForExitAsync();
            Directory.Delete(data, recursive: true);
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

    private static string? Arg(string[] args, string name)
    {
        var i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
    }
}
