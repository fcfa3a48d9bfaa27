namespace SessionTrail.Agent.Platform.Linux;

/// <summary>
/// Joins fanotify FAN_OPEN_EXEC events (pid + path, in kernel order) with connector EXEC events
/// (pid only) of the same pid. One exec opens several files: the program, then the interpreter of
/// a script (itself perhaps a script), then the ELF interpreter ld-linux. The program is the first
/// of them; the others are recognised because each event says which interpreter the kernel opens
/// next (<see cref="ExecInterpreter"/>), so the events of one exec form a group whatever the order
/// in which the two sockets are read. A group is claimed by the oldest exec of that pid waiting for
/// a path, or waits (up to twice the join window) for its exec to arrive.
/// Not thread-safe: used by the source's single consumer loop.
/// </summary>
internal sealed class ExecPathJoiner
{
    private readonly Dictionary<int, PidState> _pids = [];
    private readonly long _groupLifetimeTicks;
    private readonly CaptureStats _stats;

    public ExecPathJoiner(TimeSpan joinWindow, TimeProvider time, CaptureStats stats)
    {
        _groupLifetimeTicks = (long)(2 * joinWindow.TotalSeconds * time.TimestampFrequency);
        _stats = stats;
    }

    /// <summary>Number of pids with state (for tests and leak checks).</summary>
    public int TrackedPids => _pids.Count;

    /// <summary>
    /// A fanotify exec event. <paramref name="interpreter"/> is the canonical path of the file the
    /// kernel will open next for this exec (null when none). Returns the exec waiter the path was
    /// handed to, if one was waiting.
    /// </summary>
    public IPathWaiter? OnFanExec(int pid, string path, string? interpreter, long now)
    {
        var state = GetOrAdd(pid);
        if (state.Last is { } last && last.NextExpected == path && now - last.ReceivedAt <= _groupLifetimeTicks)
        {
            last.NextExpected = interpreter;
            return null;
        }

        var group = new FanGroup(path, interpreter, now);
        state.Last = group;
        if (state.Waiters.Count > 0)
        {
            var waiter = state.Waiters.Dequeue();
            waiter.SetPath(path);
            return waiter;
        }

        state.Unclaimed.Enqueue(group);
        return null;
    }

    /// <summary>
    /// A connector exec event: hands it the path of the oldest unclaimed group of its pid and returns
    /// true, or registers it to receive the next group's path and returns false.
    /// </summary>
    public bool OnExec(int pid, IPathWaiter waiter, long now)
    {
        var state = GetOrAdd(pid);
        while (state.Unclaimed.TryDequeue(out var group))
        {
            if (now - group.ReceivedAt > _groupLifetimeTicks)
            {
                _stats.AddFanotifyUnmatched();
                continue;
            }

            waiter.SetPath(group.Main);
            return true;
        }

        state.Waiters.Enqueue(waiter);
        return false;
    }

    /// <summary>The waiter gave up (its join window passed): it no longer receives a path.</summary>
    public void Abandon(int pid, IPathWaiter waiter)
    {
        if (_pids.TryGetValue(pid, out var state) && state.Waiters.Count > 0)
        {
            var kept = state.Waiters.Where(w => !ReferenceEquals(w, waiter)).ToList();
            state.Waiters.Clear();
            foreach (var w in kept)
            {
                state.Waiters.Enqueue(w);
            }
        }
    }

    /// <summary>Drops groups nobody claimed within their lifetime, and empty pid states.</summary>
    public void Expire(long now)
    {
        List<int>? empty = null;
        foreach (var (pid, state) in _pids)
        {
            while (state.Unclaimed.TryPeek(out var g) && now - g.ReceivedAt > _groupLifetimeTicks)
            {
                state.Unclaimed.Dequeue();
                _stats.AddFanotifyUnmatched();
            }

            if (state.Unclaimed.Count == 0 && state.Waiters.Count == 0
                && (state.Last is null || now - state.Last.ReceivedAt > _groupLifetimeTicks))
            {
                (empty ??= []).Add(pid);
            }
        }

        if (empty is not null)
        {
            foreach (var pid in empty)
            {
                _pids.Remove(pid);
            }
        }
    }

    private PidState GetOrAdd(int pid)
    {
        if (!_pids.TryGetValue(pid, out var state))
        {
            state = new PidState();
            _pids[pid] = state;
        }

        return state;
    }

    /// <summary>An exec that wants its executable path.</summary>
    internal interface IPathWaiter
    {
        void SetPath(string path);
    }

    private sealed class FanGroup(string main, string? nextExpected, long receivedAt)
    {
        public string Main { get; } = main;

        public string? NextExpected { get; set; } = nextExpected;

        public long ReceivedAt { get; } = receivedAt;
    }

    private sealed class PidState
    {
        public Queue<FanGroup> Unclaimed { get; } = new();

        public Queue<IPathWaiter> Waiters { get; } = new();

        public FanGroup? Last { get; set; }
    }
}
