using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using SessionTrail.Agent.Platform.Linux;
using SessionTrail.Agent.Sources;
using SessionTrail.Core.Records;

namespace SessionTrail.Bench;

/// <summary>
/// Capture completeness of the Linux process source. For each target rate it makes N distinct
/// programs (hard links to one copy of /bin/true), runs the source in this process, and has a helper
/// (this same program, re-run under a non-root uid with setpriv) start them with posix_spawn at the
/// rate. It prints, per rate: achieved spawn rate, % of spawned pids seen with a start carrying the
/// right path, % with an exit, missed count, ENOBUFS count and other counters.
/// Usage: <c>bench capture [--rates 1000,5000] [--seconds 4] [--uid 65500] [--rcvbuf 16777216]</c>, or <c>bench capture --idle SECONDS</c> for the
/// source's CPU and RSS with nothing to capture (root needed).
/// </summary>
public static class CaptureBench
{
    private const string HelperFlag = "--spawn-helper";

    public static async Task<int> RunAsync(string[] args)
    {
        ArgumentNullException.ThrowIfNull(args);
        if (args.Length > 0 && args[0] == "capture")
        {
            args = args[1..];
        }

        if (args.Length > 0 && args[0] == HelperFlag)
        {
            return Spawner.Run(args[1], int.Parse(args[2], CultureInfo.InvariantCulture), int.Parse(args[3], CultureInfo.InvariantCulture));
        }

        var rates = Option(args, "--rates", "1000,5000").Split(',').Select(r => int.Parse(r, CultureInfo.InvariantCulture)).ToArray();
        double seconds = double.Parse(Option(args, "--seconds", "4"), CultureInfo.InvariantCulture);
        int uid = int.Parse(Option(args, "--uid", "65500"), CultureInfo.InvariantCulture);
        int receiveBuffer = int.Parse(Option(args, "--rcvbuf", (16 * 1024 * 1024).ToString(CultureInfo.InvariantCulture)), CultureInfo.InvariantCulture);
        if (!OperatingSystem.IsLinux() || Libc.geteuid() != 0)
        {
            Console.Error.WriteLine("bench capture needs root (fanotify and the netlink process connector; setpriv to a test uid).");
            return 2;
        }

        if (Option(args, "--idle", "") is { Length: > 0 } idle)
        {
            return await MeasureIdleAsync(TimeSpan.FromSeconds(double.Parse(idle, CultureInfo.InvariantCulture)));
        }

        Console.WriteLine($"capture completeness: kernel mode, workload uid {uid}, {seconds:0.#} s per rate, {Environment.ProcessorCount} cores");
        Console.WriteLine("target/s  achieved/s  spawned  starts-ok  exits-ok  missed  wrong-path  ENOBUFS  fan-unmatched  agent-cpu-us/exec");
        int failures = 0;
        foreach (int rate in rates)
        {
            var result = await MeasureAsync(rate, (int)(rate * seconds), uid, receiveBuffer, args);
            Console.WriteLine(result);
            failures += result.Missed > 0 ? 1 : 0;
        }

        return failures == 0 ? 0 : 1;
    }

    [System.Runtime.Versioning.SupportedOSPlatform("linux")]
    private static async Task<Result> MeasureAsync(int rate, int count, int uid, int receiveBuffer, string[] originalArgs)
    {
        var dir = Path.Combine(Path.GetTempPath(), $"st-bench-{rate}-{Guid.NewGuid():N}"[..32]);
        Directory.CreateDirectory(dir);
        try
        {
            var paths = MakePrograms(dir, count);
            var options = new ProcessCaptureOptions
            {
                Mode = CaptureMode.Kernel,
                MinUid = uid,
                MaxUid = uid,
                Include = [dir + "/**"],
                ReceiveBufferBytes = receiveBuffer,
            };
            using var loggerFactory = LoggerFactory.Create(b => b.AddSimpleConsole().SetMinimumLevel(LogLevel.Warning));
            var source = new LinuxProcessSource(options, loggerFactory.CreateLogger<LinuxProcessSource>(), TimeProvider.System, agentProcessId: -1);
            var sink = new CountingOutput(dir);
            using var cts = new CancellationTokenSource();
            var run = source.RunAsync(sink, cts.Token);
            await source.Ready.WaitAsync(TimeSpan.FromSeconds(30));

            var cpuBefore = Process.GetCurrentProcess().TotalProcessorTime;
            var (spawned, achieved) = await RunSpawnerAsync(dir, rate, count, uid, originalArgs);
            sink.Expect(spawned.Count);
            await Task.WhenAny(sink.AllSeen, Task.Delay(TimeSpan.FromSeconds(10)));
            await cts.CancelAsync();
            await run;
            var cpu = Process.GetCurrentProcess().TotalProcessorTime - cpuBefore;

            int startsOk = 0, exitsOk = 0, wrongPath = 0;
            var starts = sink.Starts;
            var exits = sink.Exits;
            foreach (var (pid, index) in spawned)
            {
                if (starts.TryGetValue(pid, out var path))
                {
                    if (path == paths[index])
                    {
                        startsOk++;
                    }
                    else
                    {
                        wrongPath++;
                    }
                }

                exitsOk += exits.Contains(pid) ? 1 : 0;
            }

            return new Result(rate, achieved, spawned.Count, startsOk, exitsOk, spawned.Count - startsOk, wrongPath, source.Stats.Enobufs, source.Stats.FanotifyUnmatched, cpu.TotalMicroseconds / Math.Max(1, spawned.Count));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [System.Runtime.Versioning.SupportedOSPlatform("linux")]
    private static List<string> MakePrograms(string dir, int count)
    {
        File.SetUnixFileMode(dir, (UnixFileMode)0b111_101_101);
        var first = Path.Combine(dir, "p000000");
        File.Copy("/bin/true", first);
        File.SetUnixFileMode(first, (UnixFileMode)0b111_101_101);
        var paths = new List<string> { first };
        for (int i = 1; i < count; i++)
        {
            var path = Path.Combine(dir, $"p{i:D6}");
            if (link(first, path) != 0)
            {
                throw new IOException($"link {path}: errno {Marshal.GetLastPInvokeError()}");
            }

            paths.Add(path);
        }

        return paths;
    }

    private static async Task<(List<(int Pid, int Index)> Spawned, double Achieved)> RunSpawnerAsync(string dir, int rate, int count, int uid, string[] originalArgs)
    {
        var self = SelfCommand(originalArgs);
        var psi = new ProcessStartInfo("/usr/bin/setpriv")
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
        };
        foreach (var a in (string[])[$"--reuid={uid}", $"--regid={uid}", "--clear-groups", .. self, HelperFlag, dir, rate.ToString(CultureInfo.InvariantCulture), count.ToString(CultureInfo.InvariantCulture)])
        {
            psi.ArgumentList.Add(a);
        }

        psi.Environment["HOME"] = "/tmp";
        using var helper = Process.Start(psi)!;
        var stdout = await helper.StandardOutput.ReadToEndAsync();
        await helper.WaitForExitAsync();
        if (helper.ExitCode != 0)
        {
            throw new InvalidOperationException($"spawn helper failed with exit code {helper.ExitCode}");
        }

        var spawned = new List<(int, int)>();
        double achieved = 0;
        foreach (var line in stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var parts = line.Split(' ');
            if (parts[0] == "rate")
            {
                achieved = double.Parse(parts[1], CultureInfo.InvariantCulture);
            }
            else
            {
                spawned.Add((int.Parse(parts[0], CultureInfo.InvariantCulture), int.Parse(parts[1], CultureInfo.InvariantCulture)));
            }
        }

        return (spawned, achieved);
    }

    /// <summary>The command that started this process, minus the arguments given to <see cref="RunAsync"/>.</summary>
    /// <summary>CPU and memory of this process while the source runs with nothing to capture (other processes still exec).</summary>
    private static async Task<int> MeasureIdleAsync(TimeSpan duration)
    {
        var source = new LinuxProcessSource(new ProcessCaptureOptions { Mode = CaptureMode.Kernel }, NullLogger<LinuxProcessSource>.Instance, TimeProvider.System);
        using var cts = new CancellationTokenSource();
        var run = source.RunAsync(new CountingOutput("/nonexistent"), cts.Token);
        await source.Ready.WaitAsync(TimeSpan.FromSeconds(30));
        await Task.Delay(TimeSpan.FromSeconds(5)); // start-up work (seeding, JIT tiering) is not idle
        GC.Collect();
        var me = Process.GetCurrentProcess();
        var cpuBefore = me.TotalProcessorTime;
        var sw = Stopwatch.StartNew();
        await Task.Delay(duration);
        me.Refresh();
        double cpuPct = 100 * (me.TotalProcessorTime - cpuBefore).TotalSeconds / sw.Elapsed.TotalSeconds;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"source idle for {sw.Elapsed.TotalSeconds:0.0} s: {cpuPct:0.00}% of one core, RSS {me.WorkingSet64 / 1048576.0:0.0} MB, {source.Stats.EventsSeen} kernel events seen (other processes on the host)"));
        await cts.CancelAsync();
        await run;
        return 0;
    }

    private static List<string> SelfCommand(string[] args)
    {
        var all = Environment.GetCommandLineArgs();
        var command = new List<string> { Environment.ProcessPath! };
        if (Path.GetFileNameWithoutExtension(Environment.ProcessPath) == "dotnet")
        {
            command.Add(typeof(CaptureBench).Assembly.Location);
        }

        int prefix = all.Length - args.Length;
        for (int i = 1; i < prefix; i++)
        {
            command.Add(all[i]);
        }

        if (!command.Contains("capture"))
        {
            command.Add("capture");
        }

        return command;
    }

    private static string Option(string[] args, string name, string fallback)
    {
        int i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? args[i + 1] : fallback;
    }

    [DllImport("libc", SetLastError = true)]
    private static extern int link(string oldPath, string newPath);

    private sealed record Result(int Target, double Achieved, int Spawned, int StartsOk, int ExitsOk, int Missed, int WrongPath, long Enobufs, long FanUnmatched, double CpuMicrosPerSpawn)
    {
        public override string ToString() =>
            string.Create(CultureInfo.InvariantCulture,
                $"{Target,8}  {Achieved,10:0}  {Spawned,7}  {Pct(StartsOk),8}  {Pct(ExitsOk),8}  {Missed,6}  {WrongPath,10}  {Enobufs,7}  {FanUnmatched,13}  {CpuMicrosPerSpawn,13:0}");

        private string Pct(int n) => Spawned == 0 ? "-" : string.Create(CultureInfo.InvariantCulture, $"{100.0 * n / Spawned:0.00}%");
    }

    /// <summary>Collects starts (pid → path) and exits of the workload's programs.</summary>
    private sealed class CountingOutput(string dir) : IRecordOutput
    {
        private readonly Dictionary<int, string> _starts = [];
        private readonly HashSet<int> _exits = [];
        private readonly TaskCompletionSource _all = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private int _expected = int.MaxValue;

        public Task AllSeen => _all.Task;

        public Dictionary<int, string> Starts
        {
            get
            {
                lock (_starts)
                {
                    return new(_starts);
                }
            }
        }

        public HashSet<int> Exits
        {
            get
            {
                lock (_starts)
                {
                    return [.. _exits];
                }
            }
        }

        public void Expect(int n)
        {
            lock (_starts)
            {
                _expected = n;
                Check();
            }
        }

        public ValueTask WriteAsync(TrailRecord record, CancellationToken cancellationToken)
        {
            if (record is ProcessRecord p && p.Executable?.StartsWith(dir, StringComparison.Ordinal) == true)
            {
                lock (_starts)
                {
                    if (p.Type == ProcessEventType.Start)
                    {
                        _starts[p.Pid] = p.Executable;
                    }
                    else
                    {
                        _exits.Add(p.Pid);
                    }

                    Check();
                }
            }

            return ValueTask.CompletedTask;
        }

        private void Check()
        {
            if (_starts.Count >= _expected && _exits.Count >= _expected)
            {
                _all.TrySetResult();
            }
        }
    }

    /// <summary>The helper: posix_spawn every program of a directory at a target rate, reap them, print "pid index" lines and the achieved rate.</summary>
    private static unsafe class Spawner
    {
        [DllImport("libc", SetLastError = true)]
        private static extern int posix_spawn(int* pid, byte* path, nint fileActions, nint attr, byte** argv, byte** envp);

        [DllImport("libc", SetLastError = true)]
        private static extern int waitpid(int pid, int* status, int options);

        public static int Run(string dir, int rate, int count)
        {
            var paths = Directory.GetFiles(dir).Order(StringComparer.Ordinal).Take(count).ToArray();
            var encoded = paths.Select(p => Encoding.UTF8.GetBytes(p + "\0")).ToArray();
            int threads = Math.Max(1, Math.Min(Environment.ProcessorCount, 4));
            var outputs = new StringBuilder[threads];
            int spawned = 0, failed = 0;
            var sw = Stopwatch.StartNew();
            var workers = Enumerable.Range(0, threads).Select(t => new Thread(() =>
            {
                outputs[t] = new StringBuilder();
                // Thread t starts programs t, t + threads, ...; program i is due at i / rate seconds.
                for (int i = t; i < encoded.Length; i += threads)
                {
                    double due = (double)i / rate;
                    while (sw.Elapsed.TotalSeconds < due)
                    {
                        Reap(block: false);
                        if (due - sw.Elapsed.TotalSeconds > 0.002)
                        {
                            Thread.Sleep(1);
                        }
                    }

                    int pid = SpawnOne(encoded[i]);
                    if (pid <= 0)
                    {
                        Interlocked.Increment(ref failed);
                        return;
                    }

                    Interlocked.Increment(ref spawned);
                    outputs[t].Append(pid).Append(' ').Append(i).Append('\n');
                    Reap(block: false);
                }
            })).ToList();
            workers.ForEach(w => w.Start());
            workers.ForEach(w => w.Join());
            double achieved = encoded.Length / sw.Elapsed.TotalSeconds;
            while (Reap(block: true) > 0)
            {
            }

            if (failed > 0)
            {
                Console.Error.WriteLine($"posix_spawn failed {failed} times");
                return 1;
            }

            var all = new StringBuilder();
            foreach (var o in outputs)
            {
                all.Append(o);
            }

            all.Append("rate ").Append(achieved.ToString("0.0", CultureInfo.InvariantCulture)).Append('\n');
            Console.Out.Write(all.ToString());
            return 0;
        }

        private static int SpawnOne(byte[] path)
        {
            var env = "PATH=/usr/bin:/bin\0"u8;
            fixed (byte* p = path)
            fixed (byte* e = env)
            {
                byte** envp = stackalloc byte*[2];
                envp[0] = e;
                envp[1] = null;
                byte** argv = stackalloc byte*[2];
                argv[0] = p;
                argv[1] = null;
                int pid;
                return posix_spawn(&pid, p, 0, 0, argv, envp) == 0 ? pid : -1;
            }
        }

        private static int Reap(bool block)
        {
            int reaped = 0;
            int status;
            while (waitpid(-1, &status, block ? 0 : 1) > 0)
            {
                reaped++;
                if (block)
                {
                    break;
                }
            }

            return reaped;
        }
    }
}
