using SessionTrail.Core.Records;

namespace SessionTrail.Agent.Platform.Linux;

/// <summary>
/// Poll mode: compares successive scans of /proc. A pid that appears (or reappears with another
/// start time) is a start, timed by its start time in /proc/PID/stat; a pid that vanished is an exit,
/// timed by the scan that noticed it, exit code unknown. Processes shorter than the interval are
/// missed. The first scan only learns what already runs. Not thread-safe.
/// </summary>
internal sealed class ProcPoller
{
    private readonly CaptureFilter _filter;
    private readonly UserNameCache _users;
    private readonly CaptureStats _stats;
    private readonly string _host;
    private readonly int _agentPid;
    private readonly int _maxCommandLine;
    private readonly DateTimeOffset _bootTime;
    private Dictionary<int, Known> _known = [];
    private bool _seeded;

    public ProcPoller(ProcessCaptureOptions options, CaptureStats stats, UserNameCache users, string host, int agentPid, DateTimeOffset bootTime)
    {
        _filter = new CaptureFilter(options);
        _users = users;
        _stats = stats;
        _host = host;
        _agentPid = agentPid;
        _maxCommandLine = options.MaxCommandLineLength;
        _bootTime = bootTime;
    }

    /// <summary>One scan; the records it found go to <paramref name="output"/>.</summary>
    public void Scan(DateTimeOffset now, List<ProcessRecord> output)
    {
        var next = new Dictionary<int, Known>();
        var fresh = new List<(int Pid, ProcSnapshot Snapshot)>();
        foreach (int pid in ProcFs.ListPids())
        {
            ulong? ticks = ProcFs.ReadStartTicks(pid);
            if (ticks is null)
            {
                continue;
            }

            if (_known.TryGetValue(pid, out var known) && known.StartTicks == ticks)
            {
                next[pid] = known;
                continue;
            }

            var snapshot = ProcFs.Read(pid, _maxCommandLine);
            if (snapshot is null)
            {
                continue;
            }

            next[pid] = new Known(ticks.Value, snapshot.ParentPid ?? 0, null);
            fresh.Add((pid, snapshot));
        }

        foreach (var (pid, old) in _known)
        {
            if (old.Start is { } start && (!next.TryGetValue(pid, out var now2) || now2.StartTicks != old.StartTicks))
            {
                _stats.AddEvents(1);
                _stats.AddExit();
                output.Add(new ProcessRecord
                {
                    Type = ProcessEventType.Exit,
                    Time = now,
                    Host = _host,
                    Pid = pid,
                    ParentPid = start.ParentPid,
                    Executable = start.Executable,
                });
            }
        }

        foreach (var (pid, snapshot) in fresh)
        {
            if (!_seeded)
            {
                continue;
            }

            _stats.AddEvents(1);
            if (snapshot.Executable is null)
            {
                _stats.AddMissedPath();
                continue;
            }

            if (_filter.Decide(snapshot.Executable, snapshot.Uid, DescendsFromAgent(pid, next)) != FilterVerdict.Capture)
            {
                _stats.AddFiltered();
                continue;
            }

            var known = next[pid];
            var record = new ProcessRecord
            {
                Type = ProcessEventType.Start,
                Time = _bootTime.AddSeconds(known.StartTicks / 100.0),
                Host = _host,
                Pid = pid,
                ParentPid = snapshot.ParentPid,
                Executable = snapshot.Executable,
                CommandLine = snapshot.CommandLine,
                Uid = snapshot.Uid,
                User = _users.NameOrUid(snapshot.Uid),
                LoginUid = snapshot.LoginUid,
                AuditSession = snapshot.SessionId,
            };
            next[pid] = known with { Start = record };
            _stats.AddStart();
            output.Add(record);
        }

        _known = next;
        _seeded = true;
    }

    private bool DescendsFromAgent(int pid, Dictionary<int, Known> table)
    {
        for (int depth = 0; depth < 64 && pid > 1; depth++)
        {
            if (pid == _agentPid)
            {
                return true;
            }

            pid = table.TryGetValue(pid, out var k) ? k.ParentPid : 0;
        }

        return false;
    }

    /// <summary>Boot time from the "btime" line of /proc/stat (seconds since the epoch).</summary>
    public static DateTimeOffset ReadBootTime(TimeProvider time)
    {
        try
        {
            foreach (var line in File.ReadLines("/proc/stat"))
            {
                if (line.StartsWith("btime ", StringComparison.Ordinal) && long.TryParse(line.AsSpan(6).Trim(), out long secs))
                {
                    return DateTimeOffset.FromUnixTimeSeconds(secs);
                }
            }
        }
        catch (IOException)
        {
        }

        return time.GetUtcNow() - TimeSpan.FromMilliseconds(Environment.TickCount64);
    }

    private sealed record Known(ulong StartTicks, int ParentPid, ProcessRecord? Start);
}
