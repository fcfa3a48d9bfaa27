using SessionTrail.Agent.Platform.Linux;
using SessionTrail.Core.Records;

namespace SessionTrail.Agent.Tests.Platform.Linux;

/// <summary>The join of connector and fanotify events, the shadow table and the filters, fed by hand.</summary>
public sealed class ProcessTrackerTests
{
    private const int Agent = 50;
    private const string Ld = "/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2";
    private static readonly long Ms = TimeProvider.System.TimestampFrequency / 1000;
    private static readonly DateTimeOffset Epoch = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private readonly CaptureStats _stats = new();
    private readonly List<ProcessRecord> _out = [];
    private ProcessTracker _tracker;
    private long _now = 1_000_000;

    public ProcessTrackerTests()
    {
        _tracker = Create(new ProcessCaptureOptions());
        // A login shell of uid 1001 (pid 10), its parent sshd (pid 5, root), and the agent (pid 50).
        _tracker.Seed(5, new ProcSnapshot { ParentPid = 1, Uid = 0 });
        _tracker.Seed(10, new ProcSnapshot { ParentPid = 5, Uid = 1001, LoginUid = 1001, SessionId = 7 });
        _tracker.Seed(Agent, new ProcSnapshot { ParentPid = 1, Uid = 0 });
        _tracker.MarkAgentFamily();
    }

    private ProcessTracker Create(ProcessCaptureOptions options, bool fanotify = true) =>
        new(options, _stats, new UserNameCache(TimeProvider.System, "/nonexistent"), ns => Epoch.AddTicks((long)ns / 100),
            TimeProvider.System, "host1", Agent, fanotify);

    private void Fork(int parent, int child) => _tracker.OnConnector(new(ConnectorEventKind.Fork, 1, child, child, parent, parent), null, _now);

    private void Exec(int pid, ulong ns = 1000, ProcSnapshot? snapshot = null) => _tracker.OnConnector(new(ConnectorEventKind.Exec, ns, pid, pid), snapshot, _now);

    private void Exit(int pid, uint status = 0) => _tracker.OnConnector(new(ConnectorEventKind.Exit, 2000, pid, pid, ExitCode: status), null, _now);

    private void Fan(int pid, string path, string? interp = null) => _tracker.OnFanExec(pid, path, interp, _now);

    private List<ProcessRecord> Drain()
    {
        _tracker.Drain(_now, _out);
        return _out;
    }

    [Fact]
    public void AProcessGoneBeforeProcCouldBeReadInheritsUidLoginUidSessionAndParentFromItsForker()
    {
        Fork(10, 11);
        Fan(11, "/tmp/t/true1", Ld);
        Fan(11, Ld);
        Exec(11, ns: 5_000);
        Exit(11);

        var records = Drain();
        Assert.Equal(2, records.Count);
        var start = records[0];
        Assert.Equal(ProcessEventType.Start, start.Type);
        Assert.Equal("/tmp/t/true1", start.Executable);
        Assert.Equal(1001, start.Uid);
        Assert.Equal(1001, start.LoginUid);
        Assert.Equal(7, start.AuditSession);
        Assert.Equal(10, start.ParentPid);
        Assert.Equal("host1", start.Host);
        Assert.Equal(Epoch.AddTicks(50), start.Time);
        Assert.Equal("", start.Id);
        Assert.Null(start.Session);
        Assert.Equal(ProcessEventType.Exit, records[1].Type);
        Assert.Equal(11, records[1].Pid);
        Assert.Equal("/tmp/t/true1", records[1].Executable);
    }

    [Fact]
    public void AUidChangeAfterForkIsWhatTheExecRuns()
    {
        Fork(5, 20); // sshd forks, then drops to the user
        _tracker.OnConnector(new(ConnectorEventKind.Uid, 1, 20, 20, Ruid: 1002), null, _now);
        Fan(20, "/usr/bin/bash");
        Exec(20);
        Assert.Equal(1002, Assert.Single(Drain()).Uid);
    }

    [Fact]
    public void AtExecProcGivesLoginUidSessionAndCommandLineWhileEventsDecideUid()
    {
        Fork(10, 12);
        Fan(12, "/usr/bin/vim");
        Exec(12, snapshot: new ProcSnapshot { ParentPid = 10, Uid = 1001, LoginUid = 1005, SessionId = 8, CommandLine = "vim a.txt", Executable = "/usr/bin/vim" });
        var start = Assert.Single(Drain());
        Assert.Equal(1001, start.Uid);
        Assert.Equal(1005, start.LoginUid);
        Assert.Equal(8, start.AuditSession);
        Assert.Equal("vim a.txt", start.CommandLine);
    }

    [Fact]
    public void AProcSnapshotTakenAfterALaterSetuidDoesNotReattributeTheEarlierExec()
    {
        // root runs setpriv (exec 1), which drops to uid 1001 and execs the shell (exec 2); /proc
        // was read for exec 1 only after the setuid.
        Fork(5, 24);
        Fan(24, "/usr/bin/setpriv");
        Exec(24, snapshot: new ProcSnapshot { ParentPid = 5, Uid = 1001, Executable = "/usr/bin/dash" });
        _tracker.OnConnector(new(ConnectorEventKind.Uid, 1, 24, 24, Ruid: 1001), null, _now);
        Fan(24, "/usr/bin/dash");
        Exec(24);
        var start = Assert.Single(Drain());
        Assert.Equal(("/usr/bin/dash", (long?)1001), (start.Executable, start.Uid));
    }

    [Fact]
    public void AnExecOfAProcessNeverSeenBeforeTakesEverythingFromProc()
    {
        Fan(25, "/usr/bin/htop");
        Exec(25, snapshot: new ProcSnapshot { ParentPid = 10, Uid = 1001, Executable = "/usr/bin/htop" });
        var start = Assert.Single(Drain());
        Assert.Equal((10, (long?)1001), (start.ParentPid, start.Uid));
    }

    [Fact]
    public void TheExecEventMayArriveBeforeItsFanotifyEvent()
    {
        Fork(10, 13);
        Exec(13);
        Assert.Empty(Drain());
        Fan(13, "/opt/app/bin/app", Ld);
        Fan(13, Ld);
        Assert.Equal("/opt/app/bin/app", Assert.Single(Drain()).Executable);
    }

    [Fact]
    public void AScriptIsRecordedByTheScriptPathNotItsInterpreterOrLdSo()
    {
        Fork(10, 14);
        Fan(14, "/home/alice/run.sh", "/usr/bin/dash");
        Fan(14, "/usr/bin/dash", Ld);
        Fan(14, Ld);
        Exec(14);
        Assert.Equal("/home/alice/run.sh", Assert.Single(Drain()).Executable);
        Assert.Equal(0, _stats.FanotifyUnmatched);
    }

    [Fact]
    public void AnExecChainInOnePidGivesOneStartPerExecEvenWhenTheFanotifyEventsComeFirst()
    {
        // env execs python in the same pid; both connector EXEC events are read after every fanotify event.
        Fork(10, 15);
        Fan(15, "/usr/bin/env", Ld);
        Fan(15, Ld);
        Fan(15, "/usr/bin/python3.11", Ld);
        Fan(15, Ld);
        Exec(15, ns: 1);
        Exec(15, ns: 2);
        Assert.Equal(["/usr/bin/env", "/usr/bin/python3.11"], Drain().Select(r => r.Executable));
    }

    [Fact]
    public void AnExecChainWhereTheExecEventsComeFirstAlsoPairsInOrder()
    {
        Fork(10, 16);
        Exec(16, ns: 1);
        Exec(16, ns: 2);
        Fan(16, "/home/alice/launch.sh", "/usr/bin/dash");
        Fan(16, "/usr/bin/dash", Ld);
        Fan(16, Ld);
        Fan(16, "/opt/real/app", Ld);
        Fan(16, Ld);
        Assert.Equal(["/home/alice/launch.sh", "/opt/real/app"], Drain().Select(r => r.Executable));
    }

    [Fact]
    public void RecordsBehindAnExecWaitingForItsPathWaitToo()
    {
        Fork(10, 17);
        Fork(10, 18);
        Exec(17);
        Fan(18, "/bin/b");
        Exec(18);
        Exit(18);
        Assert.Empty(Drain());
        Fan(17, "/bin/a");
        Assert.Equal(["start /bin/a", "start /bin/b", "exit /bin/b"], Drain().Select(r => $"{r.Type.ToString().ToLowerInvariant()} {r.Executable}"));
    }

    [Fact]
    public void WithoutAFanotifyEventTheExecUsesProcExeAfterTheJoinWindowOrCountsAMiss()
    {
        Fork(10, 19);
        Fork(10, 21);
        Exec(19, snapshot: new ProcSnapshot { Uid = 1001, Executable = "/usr/bin/sleep" });
        Exec(21);
        Exit(21);
        Assert.Empty(Drain());
        _now += 250 * Ms;
        var records = Drain();
        Assert.Equal("/usr/bin/sleep", Assert.Single(records).Executable);
        Assert.Equal(1, _stats.MissedPath);
    }

    [Fact]
    public void AnExitIsEmittedOnlyForAPidWhoseStartWasEmitted()
    {
        Exit(10);              // running before the source started: no start, so no exit
        Fork(10, 22);
        Exit(22);              // forked, never exec'd
        Fork(5, 23);
        Fan(23, "/usr/sbin/cron");
        Exec(23);              // root: filtered
        Exit(23);
        Assert.Empty(Drain());
        Assert.Equal(1, _stats.Filtered);
    }

    [Fact]
    public void TheAgentAndEveryDescendantOfItAreNeverCaptured()
    {
        _tracker.OnConnector(new(ConnectorEventKind.Uid, 1, Agent, Agent, Ruid: 1001), null, _now);
        Fork(Agent, 30);
        Fork(30, 31);
        Fan(30, "/usr/bin/sh");
        Exec(30);
        Fan(31, "/usr/bin/true");
        Exec(31);
        Exit(31);
        Exit(30);
        Assert.Empty(Drain());
        Assert.Equal(2, _stats.Filtered);
    }

    [Fact]
    public void ThreadExitsAndThreadForksAreIgnored()
    {
        Fork(10, 40);
        Fan(40, "/usr/bin/app");
        Exec(40);
        _tracker.OnConnector(new(ConnectorEventKind.Fork, 1, 41, 40, 40, 40), null, _now);
        _tracker.OnConnector(new(ConnectorEventKind.Exit, 1, 41, 40), null, _now);
        Assert.Equal([ProcessEventType.Start], Drain().Select(r => r.Type));
        Exit(40, status: 0x0100);
        Assert.Equal(1, Drain()[^1].ExitCode);
    }

    [Theory]
    [InlineData("/usr/bin/vim", 1001, true)]
    [InlineData("/usr/bin/vim", 999, false)]
    [InlineData("/usr/bin/vim", 65534, false)]
    [InlineData("/usr/lib/firefox/firefox", 1001, false)]
    [InlineData("/opt/tool", 1001, false)]
    public void UidRangeAndPathGlobsDecideWhatIsCaptured(string path, long uid, bool captured)
    {
        _tracker = Create(new ProcessCaptureOptions { Include = ["/usr/**"], Exclude = ["/usr/lib/**"] });
        _tracker.Seed(10, new ProcSnapshot { ParentPid = 1, Uid = uid });
        Fork(10, 60);
        Fan(60, path);
        Exec(60);
        Assert.Equal(captured, Drain().Count == 1);
    }

    [Fact]
    public void AFanotifyEventNoExecClaimsExpiresAndIsCounted()
    {
        Fan(70, "/bin/broken");
        _now += 1000 * Ms;
        Drain();
        Assert.Equal(1, _stats.FanotifyUnmatched);
        Assert.Equal(0, _tracker.Joiner.TrackedPids);
        Fork(10, 70);
        Fan(70, "/bin/good");
        Exec(70);
        Assert.Equal("/bin/good", Assert.Single(Drain()).Executable);
    }

    [Fact]
    public void WithoutFanotifyExecsDoNotWaitAndUseProcExe()
    {
        _tracker = Create(new ProcessCaptureOptions(), fanotify: false);
        _tracker.Seed(10, new ProcSnapshot { ParentPid = 1, Uid = 1001 });
        Fork(10, 80);
        Exec(80, snapshot: new ProcSnapshot { Executable = "/usr/bin/top" });
        Assert.Equal("/usr/bin/top", Assert.Single(Drain()).Executable);
    }

    [Fact]
    public void AfterLostEventsPruningEndsCapturedProcessesThatAreGoneAndKeepsLiveOnes()
    {
        Fork(10, 90);
        Fan(90, "/usr/bin/gone");
        Exec(90);
        Fork(10, 91);
        Fan(91, "/usr/bin/alive");
        Exec(91);
        Drain();
        _out.Clear();
        _now += 10;
        int removed = _tracker.Prune(new HashSet<int> { 5, 10, Agent, 91 }, listedAt: _now, monotonicNowNs: 9_000);
        Assert.Equal(1, removed);
        var exit = Assert.Single(Drain());
        Assert.Equal((ProcessEventType.Exit, 90, (int?)null), (exit.Type, exit.Pid, exit.ExitCode));
        Assert.NotNull(_tracker.Lookup(91));
        Exit(90); // the real exit arriving later is not emitted twice
        Assert.Single(Drain());
    }

    [Fact]
    public void PruningKeepsRowsMadeAfterTheListing()
    {
        _now += 10;
        Fork(10, 92);
        Assert.Equal(0, _tracker.Prune(new HashSet<int> { 5, 10, Agent }, listedAt: _now - 5, monotonicNowNs: 1));
        Assert.NotNull(_tracker.Lookup(92));
    }

    [Fact]
    public void ConnectorTimestampsBecomeUtcWallClock()
    {
        var clock = new MonotonicClock(Epoch, 5_000_000_000);
        Assert.Equal(Epoch.AddMilliseconds(1500), clock.ToWallClock(6_500_000_000));
        Assert.Equal(TimeSpan.Zero, clock.ToWallClock(0).Offset);
    }
}
