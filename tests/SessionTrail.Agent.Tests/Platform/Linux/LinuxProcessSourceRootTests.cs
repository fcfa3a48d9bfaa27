using System.Collections.Concurrent;
using System.Diagnostics;
using Microsoft.Extensions.Logging.Abstractions;
using SessionTrail.Agent.Platform.Linux;
using SessionTrail.Agent.Sources;
using SessionTrail.Core.Records;
using Xunit.Abstractions;

namespace SessionTrail.Agent.Tests.Platform.Linux;

/// <summary>
/// The real kernel: run only as root (the kernel sockets need CAP_SYS_ADMIN, and the workload is
/// started under another uid with setpriv). When not root each test is reported skipped, with the reason.
/// They run alone (<see cref="KernelCaptureCollection"/>): they time the kernel's events against a join window.
/// </summary>
[Collection(KernelCaptureCollection.Name)]
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class LinuxProcessSourceRootTests(ITestOutputHelper output) : IDisposable
{
    private const int TestUid = 65500;
    private readonly string _dir = CreateWorkloadDirectory();

    private static string CreateWorkloadDirectory()
    {
        var dir = Path.Combine(Path.GetTempPath(), "st-capture-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(dir);
        File.SetUnixFileMode(dir, (UnixFileMode)0b111_101_101);
        return dir;
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private List<string> CopyTrue(int count)
    {
        var paths = new List<string>();
        for (int i = 0; i < count; i++)
        {
            var path = Path.Combine(_dir, $"true{i:D4}");
            File.Copy("/bin/true", path);
            File.SetUnixFileMode(path, (UnixFileMode)0b111_101_101);
            paths.Add(path);
        }

        return paths;
    }

    /// <summary>Runs every program of the directory, one after another, from a shell of uid 65500.</summary>
    private async Task<int> RunAsTestUserAsync(string script)
    {
        using var p = Process.Start(new ProcessStartInfo("/usr/bin/setpriv", ["--reuid=" + TestUid, "--regid=" + TestUid, "--clear-groups", "/bin/sh", "-c", script])
        {
            UseShellExecute = false,
        })!;
        await p.WaitForExitAsync();
        Assert.Equal(0, p.ExitCode);
        return p.Id;
    }

    private static ProcessCaptureOptions OptionsFor(string dir, CaptureMode mode = CaptureMode.Kernel) => new()
    {
        Mode = mode,
        MinUid = TestUid,
        MaxUid = TestUid,
        Include = [dir + "/**"],
        PollInterval = TimeSpan.FromMilliseconds(50),
    };

    [KernelCaptureFact]
    public async Task EveryShortLivedProgramOfANonRootUserIsCapturedWithItsPathStartAndExit()
    {
        var paths = CopyTrue(200);
        var sink = new RecordingOutput(r => r.Executable?.StartsWith(_dir, StringComparison.Ordinal) == true, expected: 400);
        var source = new LinuxProcessSource(OptionsFor(_dir), NullLogger<LinuxProcessSource>.Instance, TimeProvider.System, agentProcessId: -1);
        using var cts = new CancellationTokenSource();
        var run = source.RunAsync(sink, cts.Token);
        await source.Ready.WaitAsync(TimeSpan.FromSeconds(30));

        await RunAsTestUserAsync($"for f in {_dir}/*; do \"$f\"; done");
        var complete = await Task.WhenAny(sink.Complete, Task.Delay(TimeSpan.FromSeconds(60))) == sink.Complete;
        await cts.CancelAsync();
        await run;
        Assert.True(
            complete,
            $"{sink.Records.Count} of 400 records in 60 s: {source.Stats.StartsEmitted} starts and {source.Stats.ExitsEmitted} exits emitted, " +
            $"{source.Stats.Filtered} filtered, {source.Stats.MissedPath} without path, {source.Stats.Enobufs} ENOBUFS");

        var starts = sink.Records.Where(r => r.Type == ProcessEventType.Start).ToList();
        var exits = sink.Records.Where(r => r.Type == ProcessEventType.Exit).ToList();
        output.WriteLine($"starts {starts.Count}, exits {exits.Count}, missed path {source.Stats.MissedPath}, ENOBUFS {source.Stats.Enobufs}");
        Assert.Equal(paths, starts.Select(r => r.Executable!).Order(StringComparer.Ordinal));
        Assert.Equal(paths, exits.Select(r => r.Executable!).Order(StringComparer.Ordinal));
        Assert.All(starts, r =>
        {
            Assert.Equal(TestUid, r.Uid);
            Assert.Equal(Environment.MachineName, r.Host);
            Assert.InRange(r.Time, DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow);
        });
        Assert.All(exits, r => Assert.Equal(0, r.ExitCode));
        Assert.Equal(starts.Select(r => r.Pid).Order(), exits.Select(r => r.Pid).Order());
    }

    [KernelCaptureFact]
    public async Task AScriptIsRecordedByItsPathAndWhatItExecsInTheSamePidByItsOwn()
    {
        var target = CopyTrue(1)[0];
        var script = Path.Combine(_dir, "launch.sh");
        File.WriteAllText(script, $"#!/bin/sh\nexec {target}\n");
        File.SetUnixFileMode(script, (UnixFileMode)0b111_101_101);
        var sink = new RecordingOutput(r => r.Executable?.StartsWith(_dir, StringComparison.Ordinal) == true, expected: 3);
        var source = new LinuxProcessSource(OptionsFor(_dir), NullLogger<LinuxProcessSource>.Instance, TimeProvider.System, agentProcessId: -1);
        using var cts = new CancellationTokenSource();
        var run = source.RunAsync(sink, cts.Token);
        await source.Ready.WaitAsync(TimeSpan.FromSeconds(30));

        await RunAsTestUserAsync(script);
        await sink.Complete.WaitAsync(TimeSpan.FromSeconds(30));
        await cts.CancelAsync();
        await run;

        var records = sink.Records;
        Assert.Equal(
            [$"Start {script}", $"Start {target}", $"Exit {target}"],
            records.Select(r => $"{r.Type} {r.Executable}"));
        Assert.Single(records.Select(r => r.Pid).Distinct());
    }

    [KernelCaptureFact]
    public async Task TheAgentsOwnChildrenAreNotCaptured()
    {
        CopyTrue(20);
        var sink = new RecordingOutput(_ => true, expected: int.MaxValue);
        var source = new LinuxProcessSource(OptionsFor(_dir), NullLogger<LinuxProcessSource>.Instance, TimeProvider.System, Environment.ProcessId);
        var shellExitProcessed = new TaskCompletionSource();
        int shellPid = 0;
        var released = new ConcurrentQueue<int>();
        source.ExitReleased = pid =>
        {
            released.Enqueue(pid);
            if (pid == Volatile.Read(ref shellPid))
            {
                shellExitProcessed.TrySetResult();
            }
        };
        using var cts = new CancellationTokenSource();
        var run = source.RunAsync(sink, cts.Token);
        await source.Ready.WaitAsync(TimeSpan.FromSeconds(30));

        Volatile.Write(ref shellPid, await RunAsTestUserAsync($"for f in {_dir}/*; do \"$f\"; done"));
        if (released.Contains(shellPid))
        {
            shellExitProcessed.TrySetResult();
        }

        await shellExitProcessed.Task.WaitAsync(TimeSpan.FromSeconds(60));
        await cts.CancelAsync();
        await run;

        Assert.DoesNotContain(sink.Records, r => r.Executable?.StartsWith(_dir, StringComparison.Ordinal) == true);
        Assert.True(source.Stats.Filtered >= 20, $"filtered {source.Stats.Filtered}");
    }

    [KernelCaptureFact]
    public async Task PollModeSeesAProcessThatOutlivesTheIntervalAndWarnsAboutTheRest()
    {
        var sleeper = Path.Combine(_dir, "sleeper");
        File.Copy("/bin/sleep", sleeper);
        File.SetUnixFileMode(sleeper, (UnixFileMode)0b111_101_101);
        var sink = new RecordingOutput(r => r.Executable == sleeper, expected: 2);
        var source = new LinuxProcessSource(OptionsFor(_dir, CaptureMode.Poll), NullLogger<LinuxProcessSource>.Instance, TimeProvider.System, agentProcessId: -1);
        using var cts = new CancellationTokenSource();
        var run = source.RunAsync(sink, cts.Token);
        await source.Ready.WaitAsync(TimeSpan.FromSeconds(30));

        await RunAsTestUserAsync($"{sleeper} 1");
        await sink.Complete.WaitAsync(TimeSpan.FromSeconds(30));
        await cts.CancelAsync();
        await run;

        Assert.Equal(CaptureMode.Poll, source.Stats.Mode);
        Assert.Equal([ProcessEventType.Start, ProcessEventType.Exit], sink.Records.Select(r => r.Type));
        Assert.Equal($"{sleeper} 1", sink.Records[0].CommandLine);
        Assert.Equal(TestUid, sink.Records[0].Uid);
    }

    /// <summary>Keeps the records matching a predicate; completes once <c>expected</c> of them arrived.</summary>
    private sealed class RecordingOutput(Func<ProcessRecord, bool> keep, int expected) : IRecordOutput
    {
        private readonly List<ProcessRecord> _records = [];
        private readonly TaskCompletionSource _complete = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Task Complete => _complete.Task;

        public List<ProcessRecord> Records
        {
            get
            {
                lock (_records)
                {
                    return [.. _records];
                }
            }
        }

        public ValueTask WriteAsync(TrailRecord record, CancellationToken cancellationToken)
        {
            if (record is ProcessRecord p && keep(p))
            {
                lock (_records)
                {
                    _records.Add(p);
                    if (_records.Count >= expected)
                    {
                        _complete.TrySetResult();
                    }
                }
            }

            return ValueTask.CompletedTask;
        }
    }
}

/// <summary>A test on the real kernel's process events: skipped, saying why, unless Linux, root and setpriv.</summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class KernelCaptureFactAttribute : FactAttribute
{
    public KernelCaptureFactAttribute()
    {
        if (!OperatingSystem.IsLinux() || Libc.geteuid() != 0 || !File.Exists("/usr/bin/setpriv"))
        {
            Skip = "needs Linux, root and /usr/bin/setpriv (kernel process events, and a workload run as a second uid); run ./run-tests as root";
        }
    }
}

/// <summary>
/// The kernel-capture tests run with no other test class beside them: under the load of the parallel classes (ffmpeg,
/// Xvnc, builds of other projects), a fresh-clone run once saw the 200-program test time out.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class KernelCaptureCollection
{
    public const string Name = "kernel process capture";
}
