using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using SessionTrail.Agent.Sources;
using SessionTrail.Core.Records;

namespace SessionTrail.Agent.Platform.Linux;

/// <summary>
/// Linux process starts and exits. Kernel mode: the netlink process connector (FORK, EXEC, UID,
/// EXIT) joined with fanotify FAN_OPEN_EXEC, which carries the executable path even for a process
/// gone in microseconds; needs root (CAP_SYS_ADMIN). Poll mode: /proc scans, which miss short
/// processes. See <see cref="ProcessCaptureOptions"/> for the choice and the filters, and
/// <see cref="Stats"/> for counters. Start records have Executable, CommandLine (when still
/// readable), ParentPid, Uid, User, LoginUid, AuditSession; exit records Pid, ExitCode, Executable.
/// Time is the kernel's event time in UTC. Id and Session are left for the pipeline.
/// </summary>
public sealed class LinuxProcessSource : IRecordSource
{
    private readonly ProcessCaptureOptions _options;
    private readonly ILogger<LinuxProcessSource> _logger;
    private readonly TimeProvider _time;
    private readonly int _agentPid;

    public LinuxProcessSource(ProcessCaptureOptions options, ILogger<LinuxProcessSource> logger, TimeProvider timeProvider)
        : this(options, logger, timeProvider, Environment.ProcessId)
    {
    }

    /// <summary>
    /// <paramref name="agentProcessId"/>: the process whose descendants are never captured (tests and
    /// benchmarks run the source inside the process that spawns the workload; they pass another pid).
    /// </summary>
    internal LinuxProcessSource(ProcessCaptureOptions options, ILogger<LinuxProcessSource> logger, TimeProvider timeProvider, int agentProcessId)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(logger);
        ArgumentNullException.ThrowIfNull(timeProvider);
        options.ThrowIfInvalid();
        _options = options;
        _logger = logger;
        _time = timeProvider;
        _agentPid = agentProcessId;
    }

    /// <summary>How often the shadow table is checked against /proc for exits lost with dropped events.</summary>
    private static readonly TimeSpan PruneEvery = TimeSpan.FromSeconds(30);

    public string Name => "linux-processes";

    /// <summary>Counters, readable while the source runs.</summary>
    public CaptureStats Stats { get; } = new();

    /// <summary>Completes once the source is capturing (kernel sockets subscribed or first /proc scan done).</summary>
    public Task Ready => _ready.Task;

    /// <summary>Test hook: called on the source's loop with the pid of every exit event it has fully processed.</summary>
    internal Action<int>? ExitReleased { get; set; }

    private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>
    /// Captures until cancelled. Throws <see cref="InvalidOperationException"/> when Mode is Kernel and
    /// the kernel sockets cannot be opened, or when a kernel socket fails while reading.
    /// </summary>
    public async Task RunAsync(IRecordOutput output, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(output);
        if (_options.Mode == CaptureMode.Poll)
        {
            await PollAsync(output, cancellationToken);
            return;
        }

        var connector = ProcConnectorSocket.TryOpen(
            _options.ReceiveBufferBytes,
            _options.MaxCommandLineLength,
            uid => uid >= _options.MinUid && uid <= _options.MaxUid,
            out var connectorError);
        if (connector is null)
        {
            if (_options.Mode == CaptureMode.Kernel)
            {
                throw new InvalidOperationException($"Processes:Mode is Kernel but the process connector cannot be used: {connectorError}.");
            }

            LinuxProcessSourceLog.FallingBackToPolling(_logger, connectorError, _options.PollInterval);
            await PollAsync(output, cancellationToken);
            return;
        }

        using (connector)
        {
            var fanotify = FanotifyExecWatcher.TryOpen(_logger, out var fanError);
            if (fanotify is null)
            {
                if (_options.Mode == CaptureMode.Kernel)
                {
                    throw new InvalidOperationException($"Processes:Mode is Kernel but fanotify cannot be used: {fanError}.");
                }

                LinuxProcessSourceLog.NoFanotify(_logger, fanError);
            }

            using (fanotify)
            {
                await RunKernelAsync(connector, fanotify, output, cancellationToken);
            }
        }

        LinuxProcessSourceLog.Stopped(_logger, Stats.StartsEmitted, Stats.ExitsEmitted, Stats.Filtered, Stats.MissedPath, Stats.Enobufs);
    }

    private async Task RunKernelAsync(ProcConnectorSocket connector, FanotifyExecWatcher? fanotify, IRecordOutput output, CancellationToken cancellationToken)
    {
        // Reader threads never wait on the pipeline (that would make the kernel drop events):
        // they put decoded events into an unbounded channel; this loop is its only reader.
        var channel = Channel.CreateUnbounded<KernelInput>(new UnboundedChannelOptions { SingleReader = true });
        var failure = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        var clock = new MonotonicClock(_time);
        var releasedExits = new List<int>();
        var tracker = new ProcessTracker(_options, Stats, new UserNameCache(_time), clock.ToWallClock, _time, Environment.MachineName, _agentPid, fanotify is not null)
        {
            ExitReleased = ExitReleased is null ? null : releasedExits.Add,
        };

        connector.Start(
            (ev, snapshot) => channel.Writer.TryWrite(new KernelInput(ev, snapshot, 0, null, null)),
            () =>
            {
                Stats.AddEnobufs();
                LinuxProcessSourceLog.Enobufs(_logger, Stats.Enobufs);
            },
            errno =>
            {
                LinuxProcessSourceLog.ReaderFailed(_logger, "netlink process connector", errno);
                failure.TrySetResult($"netlink process connector read failed with errno {errno}");
            });
        fanotify?.Start(
            (pid, path, interpreter) => channel.Writer.TryWrite(new KernelInput(default, null, pid, path, interpreter)),
            () =>
            {
                Stats.AddFanotifyOverflow();
                LinuxProcessSourceLog.FanotifyOverflow(_logger, Stats.FanotifyOverflows);
            },
            errno =>
            {
                LinuxProcessSourceLog.ReaderFailed(_logger, "fanotify", errno);
                failure.TrySetResult($"fanotify read failed with errno {errno}");
            });

        // Subscribed first, then the table is seeded from /proc: no process falls between the two.
        foreach (int pid in ProcFs.ListPids())
        {
            if (ProcFs.Read(pid, 0) is { } snapshot)
            {
                tracker.Seed(pid, snapshot);
            }
        }

        tracker.MarkAgentFamily();
        Stats.SetMode(CaptureMode.Kernel);
        LinuxProcessSourceLog.Started(_logger, CaptureMode.Kernel, fanotify is null
            ? "netlink process connector; paths from /proc only"
            : $"netlink process connector + fanotify FAN_OPEN_EXEC on {fanotify.Marks} filesystems/mounts");
        _ready.TrySetResult();

        var records = new List<ProcessRecord>(256);
        var reader = channel.Reader;
        long nextPrune = _time.GetTimestamp() + (PruneEvery.Ticks * _time.TimestampFrequency / TimeSpan.TicksPerSecond);
        long enobufsSeen = 0;
        Task<bool>? waitForData = null;
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                if (failure.Task.IsCompleted)
                {
                    throw new InvalidOperationException(await failure.Task);
                }

                int batch = 0;
                while (reader.TryRead(out var input))
                {
                    long now = _time.GetTimestamp();
                    if (input.Path is null)
                    {
                        tracker.OnConnector(input.Event, input.Snapshot, now);
                    }
                    else
                    {
                        tracker.OnFanExec(input.FanPid, input.Path, input.Interpreter, now);
                    }

                    // Under a flood, release records every 512 events instead of after the flood.
                    if (++batch % 512 == 0)
                    {
                        tracker.Drain(now, records);
                        await WriteAllAsync(output, records, cancellationToken);
                    }
                }

                // Lost events (ENOBUFS) leave rows of processes whose exit was never seen: a /proc
                // listing repairs the table soon after a loss, and every PruneEvery anyway.
                if (Stats.Enobufs != enobufsSeen)
                {
                    enobufsSeen = Stats.Enobufs;
                    nextPrune = Math.Min(nextPrune, _time.GetTimestamp() + _time.TimestampFrequency);
                }

                if (_time.GetTimestamp() >= nextPrune)
                {
                    long listedAt = _time.GetTimestamp();
                    var alive = ProcFs.ListPids().ToHashSet();
                    tracker.Prune(alive, listedAt, Libc.MonotonicNowNs());
                    nextPrune = _time.GetTimestamp() + (PruneEvery.Ticks * _time.TimestampFrequency / TimeSpan.TicksPerSecond);
                }

                tracker.Drain(_time.GetTimestamp(), records);
                await WriteAllAsync(output, records, cancellationToken);
                foreach (int pid in releasedExits)
                {
                    ExitReleased?.Invoke(pid);
                }

                releasedExits.Clear();

                waitForData ??= reader.WaitToReadAsync(cancellationToken).AsTask();
                var delay = tracker.NextDeadline() is { } deadline
                    ? _time.GetElapsedTime(_time.GetTimestamp(), deadline)
                    : TimeSpan.FromSeconds(1);
                if (delay > TimeSpan.Zero)
                {
                    using var timer = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                    var sleep = Task.Delay(delay, _time, timer.Token);
                    await Task.WhenAny(waitForData, sleep, failure.Task);
                    await timer.CancelAsync();
                }

                if (waitForData.IsCompleted)
                {
                    waitForData = null;
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }

        // Soft stop: what is already decoded goes out, waiting execs use what /proc gave them.
        await FlushAsync(tracker, reader, output, records);
    }

    private async Task FlushAsync(ProcessTracker tracker, ChannelReader<KernelInput> reader, IRecordOutput output, List<ProcessRecord> records)
    {
        long now = _time.GetTimestamp();
        while (reader.TryRead(out var input))
        {
            if (input.Path is null)
            {
                tracker.OnConnector(input.Event, input.Snapshot, now);
            }
            else
            {
                tracker.OnFanExec(input.FanPid, input.Path, input.Interpreter, now);
            }
        }

        tracker.Drain(long.MaxValue / 2, records);
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(2));
        try
        {
            await WriteAllAsync(output, records, deadline.Token);
        }
        catch (OperationCanceledException)
        {
        }
    }

    private async Task PollAsync(IRecordOutput output, CancellationToken cancellationToken)
    {
        if (_options.Mode == CaptureMode.Poll)
        {
            LinuxProcessSourceLog.FallingBackToPolling(_logger, "Processes:Mode is Poll", _options.PollInterval);
        }

        Stats.SetMode(CaptureMode.Poll);
        var poller = new ProcPoller(_options, Stats, new UserNameCache(_time), Environment.MachineName, _agentPid, ProcPoller.ReadBootTime(_time));
        var records = new List<ProcessRecord>();
        try
        {
            while (true)
            {
                poller.Scan(_time.GetUtcNow(), records);
                _ready.TrySetResult();
                await WriteAllAsync(output, records, cancellationToken);
                await Task.Delay(_options.PollInterval, _time, cancellationToken);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
    }

    private static async Task WriteAllAsync(IRecordOutput output, List<ProcessRecord> records, CancellationToken cancellationToken)
    {
        foreach (var record in records)
        {
            await output.WriteAsync(record, cancellationToken);
        }

        records.Clear();
    }

    private sealed record KernelInput(ConnectorEvent Event, ProcSnapshot? Snapshot, int FanPid, string? Path, string? Interpreter);
}
