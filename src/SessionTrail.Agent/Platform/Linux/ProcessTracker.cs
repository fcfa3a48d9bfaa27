using SessionTrail.Core.Records;

namespace SessionTrail.Agent.Platform.Linux;

/// <summary>
/// The kernel-mode brain of the source, free of I/O so that it can be tested with plain values.
/// It keeps a shadow process table fed by connector FORK / UID / EXEC / EXIT events and /proc
/// snapshots, so that a process that died before /proc could be read inherits uid, login uid,
/// session and parent from the process that forked it. It joins exec events with fanotify paths
/// (<see cref="ExecPathJoiner"/>) and releases records in kernel order: an exec waiting for its
/// path holds back the records behind it for at most the join window.
/// Invariants: an Exit is emitted only for a pid whose Start was emitted; a Start always has an
/// executable path; filters are decided when the path is known. Not thread-safe.
/// </summary>
internal sealed class ProcessTracker
{
    private readonly Dictionary<int, ShadowProcess> _table = [];
    private readonly Queue<PendingItem> _queue = new();
    private readonly ExecPathJoiner _joiner;
    private readonly CaptureFilter _filter;
    private readonly UserNameCache _users;
    private readonly Func<ulong, DateTimeOffset> _toWallClock;
    private readonly string _host;
    private readonly int _agentPid;
    private readonly CaptureStats _stats;
    private readonly long _joinWindowTicks;
    private readonly bool _waitForFanotify;
    private long _lastExpire = long.MinValue / 2;

    public ProcessTracker(
        ProcessCaptureOptions options,
        CaptureStats stats,
        UserNameCache users,
        Func<ulong, DateTimeOffset> toWallClock,
        TimeProvider time,
        string host,
        int agentPid,
        bool waitForFanotify)
    {
        _filter = new CaptureFilter(options);
        _stats = stats;
        _users = users;
        _toWallClock = toWallClock;
        _host = host;
        _agentPid = agentPid;
        _waitForFanotify = waitForFanotify;
        _joinWindowTicks = (long)(options.JoinWindow.TotalSeconds * time.TimestampFrequency);
        _joiner = new ExecPathJoiner(options.JoinWindow, time, stats);
    }

    /// <summary>Processes known to the shadow table.</summary>
    public int TableSize => _table.Count;

    /// <summary>Records waiting for a path or behind one.</summary>
    public int Pending => _queue.Count;

    internal ExecPathJoiner Joiner => _joiner;

    /// <summary>Called with the pid of every exit released (emitted or not): every record before it is released too.</summary>
    internal Action<int>? ExitReleased { get; set; }

    /// <summary>What the table knows about <paramref name="pid"/> (tests).</summary>
    internal ShadowProcess? Lookup(int pid) => _table.GetValueOrDefault(pid);

    /// <summary>Adds a process that was running before the source started (from a /proc scan).</summary>
    public void Seed(int pid, ProcSnapshot snapshot)
    {
        var entry = GetOrAdd(pid);
        entry.Apply(snapshot);
    }

    /// <summary>After seeding: marks the agent and every seeded process descending from it.</summary>
    public void MarkAgentFamily()
    {
        foreach (var (pid, _) in _table)
        {
            int current = pid;
            for (int depth = 0; depth < 64 && current > 0; depth++)
            {
                if (current == _agentPid)
                {
                    _table[pid].AgentFamily = true;
                    break;
                }

                current = _table.TryGetValue(current, out var e) ? e.ParentPid ?? 0 : 0;
            }
        }
    }

    /// <summary>
    /// Repairs the table after lost events (ENOBUFS): every process created before
    /// <paramref name="listedAt"/> that is not in <paramref name="alive"/> (a /proc listing taken at
    /// <paramref name="listedAt"/>) has exited unseen. Its row goes, and an exit is queued (time
    /// <paramref name="monotonicNowNs"/>, exit code unknown) when its start was emitted.
    /// Returns how many rows were removed.
    /// </summary>
    public int Prune(IReadOnlySet<int> alive, long listedAt, ulong monotonicNowNs)
    {
        var gone = new List<int>();
        foreach (var (pid, entry) in _table)
        {
            if (entry.CreatedAt < listedAt && !alive.Contains(pid))
            {
                gone.Add(pid);
            }
        }

        foreach (int pid in gone)
        {
            _table.Remove(pid, out var entry);
            if (entry!.LastStart is { } start)
            {
                _queue.Enqueue(new PendingExit(start, monotonicNowNs, null));
            }
        }

        return gone.Count;
    }

    public void OnConnector(in ConnectorEvent ev, ProcSnapshot? snapshot, long now)
    {
        _stats.AddEvents(1);
        switch (ev.Kind)
        {
            case ConnectorEventKind.Fork when ev.Pid == ev.Tgid:
                OnFork(ev, now);
                break;
            case ConnectorEventKind.Uid:
                GetOrAdd(ev.Tgid, now).Uid = ev.Ruid;
                break;
            case ConnectorEventKind.Exec:
                OnExec(ev, snapshot, now);
                break;
            case ConnectorEventKind.Exit when ev.Pid == ev.Tgid:
                OnExit(ev);
                break;
        }
    }

    public void OnFanExec(int pid, string path, string? interpreter, long now)
    {
        _stats.AddEvents(1);
        _joiner.OnFanExec(pid, path, interpreter, now);
    }

    /// <summary>Moves every record that is ready, in order, to <paramref name="output"/>.</summary>
    public void Drain(long now, List<ProcessRecord> output)
    {
        while (_queue.TryPeek(out var item))
        {
            if (item is PendingStart start)
            {
                if (start.Path is null && _waitForFanotify && now - start.ReceivedAt < _joinWindowTicks)
                {
                    break;
                }

                if (start.Path is null)
                {
                    _joiner.Abandon(start.Pid, start);
                }

                Release(start, output);
            }
            else if (item is PendingExit exit && exit.Start.Emitted)
            {
                ExitReleased?.Invoke(exit.Start.Pid);
                _stats.AddExit();
                output.Add(new ProcessRecord
                {
                    Type = ProcessEventType.Exit,
                    Time = _toWallClock(exit.TimestampNs),
                    Host = _host,
                    Pid = exit.Start.Pid,
                    ParentPid = exit.Start.ParentPid,
                    Executable = exit.Start.Executable,
                    ExitCode = exit.ExitCode,
                });
            }

            else if (item is PendingExit filteredExit)
            {
                ExitReleased?.Invoke(filteredExit.Start.Pid);
            }

            _queue.Dequeue();
        }

        // Expiry walks every pid with joiner state: at most every 50 ms, not on every drain.
        if (now - _lastExpire >= _joinWindowTicks / 4)
        {
            _lastExpire = now;
            _joiner.Expire(now);
        }
    }

    /// <summary>When the head of the queue becomes ready by itself (its join window ends); null when nothing waits.</summary>
    public long? NextDeadline() =>
        _queue.TryPeek(out var item) && item is PendingStart { Path: null } s && _waitForFanotify
            ? s.ReceivedAt + _joinWindowTicks
            : null;

    private void OnFork(in ConnectorEvent ev, long now)
    {
        var parent = GetOrAdd(ev.ParentTgid);
        var child = new ShadowProcess
        {
            CreatedAt = now,
            ParentPid = ev.ParentTgid,
            Uid = parent.Uid,
            LoginUid = parent.LoginUid,
            SessionId = parent.SessionId,
            AgentFamily = parent.AgentFamily || ev.ParentTgid == _agentPid,
        };
        _table[ev.Tgid] = child;
    }

    private void OnExec(in ConnectorEvent ev, ProcSnapshot? snapshot, long now)
    {
        var entry = GetOrAdd(ev.Tgid, now);
        if (snapshot is not null)
        {
            entry.ApplyAtExec(snapshot);
        }

        var start = new PendingStart
        {
            Pid = ev.Tgid,
            TimestampNs = ev.TimestampNs,
            ReceivedAt = now,
            ParentPid = entry.ParentPid,
            Uid = entry.Uid,
            LoginUid = entry.LoginUid,
            SessionId = entry.SessionId,
            AgentFamily = entry.AgentFamily || ev.Tgid == _agentPid,
            CommandLine = snapshot?.CommandLine,
            ProcExecutable = snapshot?.Executable,
        };
        entry.LastStart = start;
        if (_waitForFanotify)
        {
            _joiner.OnExec(ev.Tgid, start, now);
        }

        _queue.Enqueue(start);
    }

    private void OnExit(in ConnectorEvent ev)
    {
        if (_table.Remove(ev.Tgid, out var entry) && entry.LastStart is { } start)
        {
            _queue.Enqueue(new PendingExit(start, ev.TimestampNs, ev.ShellExitCode));
        }
    }

    private void Release(PendingStart start, List<ProcessRecord> output)
    {
        string? path = start.Path ?? start.ProcExecutable;
        if (path is null)
        {
            _stats.AddMissedPath();
            return;
        }

        start.Executable = path;
        if (_filter.Decide(path, start.Uid, start.AgentFamily) != FilterVerdict.Capture)
        {
            _stats.AddFiltered();
            return;
        }

        start.Emitted = true;
        _stats.AddStart();
        output.Add(new ProcessRecord
        {
            Type = ProcessEventType.Start,
            Time = _toWallClock(start.TimestampNs),
            Host = _host,
            Pid = start.Pid,
            ParentPid = start.ParentPid,
            Executable = path,
            CommandLine = start.CommandLine,
            Uid = start.Uid,
            User = _users.NameOrUid(start.Uid),
            LoginUid = start.LoginUid,
            AuditSession = start.SessionId,
        });
    }

    private ShadowProcess GetOrAdd(int pid, long now = long.MinValue)
    {
        if (!_table.TryGetValue(pid, out var entry))
        {
            entry = new ShadowProcess { CreatedAt = now };
            _table[pid] = entry;
        }

        return entry;
    }

    /// <summary>One row of the shadow process table.</summary>
    internal sealed class ShadowProcess
    {
        /// <summary>When the row was made (timestamp); rows seeded or made before a /proc listing may be pruned by it.</summary>
        public long CreatedAt { get; init; }

        public int? ParentPid { get; set; }

        public long? Uid { get; set; }

        public long? LoginUid { get; set; }

        public long? SessionId { get; set; }

        public bool AgentFamily { get; set; }

        public PendingStart? LastStart { get; set; }

        /// <summary>
        /// At exec, /proc is read after the event, so it may already show a later state (a setuid and
        /// another exec). The uid and parent known from FORK/UID events are exact, so they win; /proc
        /// fills only what events do not give. Login uid and session (no events; set once per login)
        /// come from /proc.
        /// </summary>
        public void ApplyAtExec(ProcSnapshot s)
        {
            ParentPid ??= s.ParentPid;
            Uid ??= s.Uid;
            LoginUid = s.LoginUid ?? LoginUid;
            SessionId = s.SessionId ?? SessionId;
        }

        public void Apply(ProcSnapshot s)
        {
            ParentPid = s.ParentPid ?? ParentPid;
            Uid = s.Uid ?? Uid;
            LoginUid = s.LoginUid ?? LoginUid;
            SessionId = s.SessionId ?? SessionId;
        }
    }

    internal abstract class PendingItem;

    internal sealed class PendingStart : PendingItem, ExecPathJoiner.IPathWaiter
    {
        public int Pid { get; init; }

        public ulong TimestampNs { get; init; }

        public long ReceivedAt { get; init; }

        public int? ParentPid { get; init; }

        public long? Uid { get; init; }

        public long? LoginUid { get; init; }

        public long? SessionId { get; init; }

        public bool AgentFamily { get; init; }

        public string? CommandLine { get; init; }

        public string? ProcExecutable { get; init; }

        public string? Path { get; private set; }

        public string? Executable { get; set; }

        public bool Emitted { get; set; }

        public void SetPath(string path) => Path ??= path;
    }

    internal sealed class PendingExit(PendingStart start, ulong timestampNs, int? exitCode) : PendingItem
    {
        public PendingStart Start { get; } = start;

        public ulong TimestampNs { get; } = timestampNs;

        public int? ExitCode { get; } = exitCode;
    }
}
