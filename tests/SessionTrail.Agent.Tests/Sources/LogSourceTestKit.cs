using System.Text;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;
using SessionTrail.Agent.Config;
using SessionTrail.Agent.Ids;
using SessionTrail.Agent.Sinks;
using SessionTrail.Agent.Sources;
using SessionTrail.Core.Records;

namespace SessionTrail.Agent.Tests.Sources;

/// <summary>
/// An output that reports durability like the agent's pump: it remembers how many records had been written
/// at each <see cref="WhenDurableAsync"/>, and can hold the barrier closed (<see cref="Hold"/>) to show that a
/// source saves nothing before its records are durable.
/// </summary>
public sealed class DurableOutput : IDurableRecordOutput
{
    private readonly Lock _lock = new();
    private readonly List<TrailRecord> _records = [];
    private TaskCompletionSource _gate = Open();

    public List<int> RecordsAtEachBarrier { get; } = [];

    public TaskCompletionSource BarrierRequested { get; private set; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public IReadOnlyList<TrailRecord> Records
    {
        get
        {
            lock (_lock)
            {
                return [.. _records];
            }
        }
    }

    public IReadOnlyList<LogRecord> Logs => [.. Records.Cast<LogRecord>()];

    public void Hold()
    {
        _gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        BarrierRequested = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    public void Release() => _gate.TrySetResult();

    public ValueTask WriteAsync(TrailRecord record, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            _records.Add(record);
        }

        return ValueTask.CompletedTask;
    }

    public async ValueTask WhenDurableAsync(CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            RecordsAtEachBarrier.Add(_records.Count);
        }

        BarrierRequested.TrySetResult();
        await _gate.Task.WaitAsync(cancellationToken);
    }

    private static TaskCompletionSource Open()
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        done.SetResult();
        return done;
    }
}

/// <summary>Config entries and contexts for source factory tests.</summary>
public static class LogSourceTestKit
{
    /// <summary>The entry <c>Sources:0</c> of a JSON config <c>{"Sources":[ENTRY]}</c>.</summary>
    public static ConfigNode Source(string entryJson)
    {
        var root = new ConfigurationBuilder().AddJsonStream(new MemoryStream(Encoding.UTF8.GetBytes("{\"Sources\":[" + entryJson + "]}"))).Build();
        return new ConfigNode(root.GetSection("Sources:0"), "Sources:0");
    }

    public static LogSourceContext Context(string dataDir, string id = "src", ILoggerFactory? logs = null) =>
        new(id, dataDir, "host1", new BookmarkStore(dataDir), logs ?? Microsoft.Extensions.Logging.Abstractions.NullLoggerFactory.Instance, TimeProvider.System);
}

/// <summary>A logger that keeps the formatted messages (to check warnings).</summary>
public sealed class ListLogger : ILogger, ILoggerFactory, ILoggerProvider
{
    private readonly Lock _lock = new();
    private readonly List<(LogLevel Level, string Message)> _entries = [];

    public IReadOnlyList<(LogLevel Level, string Message)> Entries
    {
        get
        {
            lock (_lock)
            {
                return [.. _entries];
            }
        }
    }

    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        ArgumentNullException.ThrowIfNull(formatter);
        lock (_lock)
        {
            _entries.Add((logLevel, formatter(state, exception)));
        }
    }

    public ILogger CreateLogger(string categoryName) => this;

    public void AddProvider(ILoggerProvider provider)
    {
    }

    public void Dispose()
    {
    }
}
