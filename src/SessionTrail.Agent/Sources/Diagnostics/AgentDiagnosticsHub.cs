using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using SessionTrail.Agent.Config;
using SessionTrail.Agent.Ids;
using SessionTrail.Agent.Sinks;
using SessionTrail.Agent.Sources;

namespace SessionTrail.Agent.Sources.Diagnostics;

/// <summary>One log event of the agent itself, as the diagnostics source ships it.</summary>
/// <param name="Sequence">1, 2, 3, ... per hub (per agent run): with <see cref="AgentDiagnosticsHub.RunStarted"/> it makes the record id.</param>
public sealed record AgentLogEvent(long Sequence, DateTimeOffset Time, string Category, LogLevel Level, int EventId, string? EventName, string Message,
    IReadOnlyDictionary<string, string> State, Exception? Exception);

/// <summary>
/// Where the agent's own log events wait for the <c>SessionTrailDiagnostics</c> source: a bounded in-memory
/// buffer that drops the oldest event when full and counts what it dropped (the source reports the count as a
/// record). Fed by <see cref="AgentDiagnosticsLoggerProvider"/>; the CLI adds that provider for
/// <see cref="Shared"/> to its logger factory. Events logged before a source runs wait here (up to the capacity),
/// so warnings from the agent's start are shipped too.
/// <para>
/// Never recursive: events of the diagnostics source's own categories (<see cref="OwnCategoryPrefix"/>) and
/// events logged while the source is writing a record (<see cref="Suppress"/>, flows with async calls) are
/// not buffered.
/// </para>
/// </summary>
public sealed class AgentDiagnosticsHub
{
    /// <summary>Categories starting with this (the diagnostics source and its hub) are never buffered.</summary>
    public const string OwnCategoryPrefix = "SessionTrail.Agent.Logs.Diagnostics";

    public const int DefaultCapacity = 10_000;

    private static readonly AsyncLocal<bool> Suppressed = new();
    private readonly Channel<AgentLogEvent> _events;
    private long _sequence;
    private long _dropped;
    private int _minimumLevel;

    public AgentDiagnosticsHub(int capacity = DefaultCapacity, TimeProvider? time = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        Capacity = capacity;
        Time = time ?? TimeProvider.System;
        RunStarted = Time.GetUtcNow();
        _minimumLevel = (int)LogLevel.Warning;
        _events = Channel.CreateBounded<AgentLogEvent>(
            new BoundedChannelOptions(capacity) { FullMode = BoundedChannelFullMode.DropOldest, SingleReader = false, SingleWriter = false },
            _ => Interlocked.Increment(ref _dropped));
    }

    /// <summary>The agent process's hub.</summary>
    public static AgentDiagnosticsHub Shared { get; } = new();

    public int Capacity { get; }

    public TimeProvider Time { get; }

    /// <summary>When this hub (the agent run) started: part of every record id, so ids are unique per run and deterministic within it.</summary>
    public DateTimeOffset RunStarted { get; }

    /// <summary>Events dropped because the buffer was full, since the start.</summary>
    public long Dropped => Interlocked.Read(ref _dropped);

    /// <summary>The lowest level buffered (Warning until a source asks for less with <see cref="Require"/>).</summary>
    public LogLevel MinimumLevel => (LogLevel)Volatile.Read(ref _minimumLevel);

    internal ChannelReader<AgentLogEvent> Reader => _events.Reader;

    /// <summary>Lowers <see cref="MinimumLevel"/> to <paramref name="level"/> when it is lower (a source with MinimumLevel Information needs Information events).</summary>
    public void Require(LogLevel level)
    {
        int current;
        do
        {
            current = Volatile.Read(ref _minimumLevel);
            if ((int)level >= current)
            {
                return;
            }
        }
        while (Interlocked.CompareExchange(ref _minimumLevel, (int)level, current) != current);
    }

    /// <summary>True when an event of this category and level would be buffered now.</summary>
    public bool Accepts(string category, LogLevel level) =>
        level >= MinimumLevel && level != LogLevel.None && !Suppressed.Value
        && !category.StartsWith(OwnCategoryPrefix, StringComparison.Ordinal);

    /// <summary>Buffers one event (when <see cref="Accepts"/>); never blocks, never throws.</summary>
    public void Add(string category, LogLevel level, EventId eventId, string message, IReadOnlyDictionary<string, string> state, Exception? exception)
    {
        if (!Accepts(category, level))
        {
            return;
        }

        var sequence = Interlocked.Increment(ref _sequence);
        _events.Writer.TryWrite(new AgentLogEvent(sequence, Time.GetUtcNow(), category, level, eventId.Id, eventId.Name, message, state, exception));
    }

    /// <summary>
    /// While the returned scope is open (in this async flow), nothing is buffered: the diagnostics source wraps
    /// its writes with it, so what the pipeline logs about them cannot come back as new events.
    /// </summary>
    public static IDisposable Suppress()
    {
        var previous = Suppressed.Value;
        Suppressed.Value = true;
        return new Restore(previous);
    }

    private sealed class Restore(bool previous) : IDisposable
    {
        public void Dispose() => Suppressed.Value = previous;
    }
}
