using System.Threading.Channels;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;
using SessionTrail.Agent.Config;
using SessionTrail.Agent.Ids;
using SessionTrail.Agent.Sinks;
using SessionTrail.Agent.Sources;
using SessionTrail.Agent.Sources.Files;
using SessionTrail.Agent.Tests.Fakes;
using SessionTrail.Agent.Tests.Sources;
using SessionTrail.Core.Records;

namespace SessionTrail.Agent.Tests.Sources.Files;

/// <summary>
/// A DirectorySource over a real temp folder: the test writes, renames and truncates real files; the
/// source runs in the background into <see cref="Output"/> and can be stopped and started again with
/// the same data directory (bookmarks).
/// </summary>
public sealed class FileSourceHarness : IAsyncDisposable
{
    private readonly TempDir _temp = new();
    private readonly Dictionary<string, string?> _config;
    private CancellationTokenSource? _stop;
    private Task? _run;

    public FileSourceHarness(Dictionary<string, string?>? config = null)
    {
        Directory.CreateDirectory(LogDir);
        _config = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase)
        {
            ["Id"] = "applogs",
            ["SourceType"] = "DirectorySource",
            ["Directory"] = LogDir,
            ["FileNameFilter"] = "*.log",
            ["RecordParser"] = "SingleLine",
            ["InitialPosition"] = "BOS",
            ["Interval"] = "50",
        };
        foreach (var (key, value) in config ?? [])
        {
            _config[key] = value;
        }
    }

    public string LogDir => Path.Combine(_temp.Path, "logs");

    public string DataDir => Path.Combine(_temp.Path, "data");

    public BookmarkStore Bookmarks => new(DataDir);

    public string BookmarkPath => Bookmarks.PathOf("applogs");

    public ListLogger Logs { get; } = new();

    public DurableOutput Output { get; private set; } = new();

    public DirectorySource? Source { get; private set; }

    public string PathOf(string name) => Path.Combine(LogDir, name);

    public static ConfigNode Node(Dictionary<string, string?> values)
    {
        var section = new ConfigurationBuilder()
            .AddInMemoryCollection(values.Select(kv => new KeyValuePair<string, string?>("Sources:0:" + kv.Key, kv.Value)))
            .Build()
            .GetSection("Sources:0");
        return new ConfigNode(section, "Sources:0");
    }

    /// <summary>Starts the source (a new output unless one is given).</summary>
    public void Start(DurableOutput? output = null)
    {
        Output = output ?? new DurableOutput();
        var context = new LogSourceContext("applogs", DataDir, "host1", Bookmarks, Logs.Factory, TimeProvider.System);
        Source = (DirectorySource)new DirectorySourceFactory().Create(Node(_config), context);
        _stop = new CancellationTokenSource();
        var source = Source;
        var token = _stop.Token;
        var outputNow = Output;
        _run = Task.Run(() => source.RunAsync(outputNow, token));
    }

    /// <summary>Stops the source as the agent does (cancel, then it saves its bookmark after the durability barrier).</summary>
    public async Task StopAsync()
    {
        if (_run is null)
        {
            return;
        }

        await _stop!.CancelAsync();
        await _run.WaitAsync(TimeSpan.FromSeconds(30));
        _stop.Dispose();
        _run = null;
    }

    /// <summary>Like a SIGKILL before the queues were fsynced: the durability barrier never passes, so no bookmark is saved from now on.</summary>
    public async Task CrashAsync()
    {
        Output.Crash();
        await StopAsync();
    }

    public async Task<IReadOnlyList<LogRecord>> WaitForAsync(int count, int seconds = 20)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (true)
        {
            var records = Output.Logs;
            if (records.Count >= count)
            {
                return records;
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"Only {records.Count} of {count} records arrived: {string.Join(" | ", records.TakeLast(5).Select(r => r.Message))}");
            }

            await Task.Delay(20);
        }
    }

    /// <summary>Waits a little longer and checks that nothing more than <paramref name="count"/> arrives.</summary>
    public async Task<IReadOnlyList<LogRecord>> SettledAsync(int count, int quietMs = 600)
    {
        await WaitForAsync(count);
        await Task.Delay(quietMs);
        var records = Output.Logs;
        Assert.True(records.Count == count, $"Expected {count} records, got {records.Count}: {string.Join(" | ", records.Skip(count).Take(5).Select(r => r.Message))}");
        return records;
    }

    public async Task WaitForBookmarkAsync(Func<DirectoryBookmark, bool> condition, int seconds = 10)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (DateTime.UtcNow < deadline)
        {
            if (File.Exists(BookmarkPath))
            {
                var bookmark = Bookmarks.Load("applogs", DirectoryBookmarkJsonContext.Default.DirectoryBookmark);
                if (bookmark is not null && condition(bookmark))
                {
                    return;
                }
            }

            await Task.Delay(20);
        }

        throw new TimeoutException("The bookmark did not reach the expected state: " + (File.Exists(BookmarkPath) ? File.ReadAllText(BookmarkPath) : "no file"));
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        _temp.Dispose();
    }
}

/// <summary>An output with a durability barrier the test controls (open by default).</summary>
public sealed class DurableOutput : IDurableRecordOutput
{
    private readonly Lock _lock = new();
    private readonly List<TrailRecord> _records = [];
    private TaskCompletionSource _gate = NewOpenGate();
    private bool _crashed;

    public IReadOnlyList<LogRecord> Logs
    {
        get
        {
            lock (_lock)
            {
                return [.. _records.Cast<LogRecord>()];
            }
        }
    }

    public int Barriers { get; private set; }

    /// <summary>Barriers wait from now on until <see cref="Open"/>.</summary>
    public void Close()
    {
        lock (_lock)
        {
            _gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }
    }

    public void Open()
    {
        lock (_lock)
        {
            _gate.TrySetResult();
        }
    }

    public void Crash()
    {
        lock (_lock)
        {
            _crashed = true;
            _gate.TrySetException(new ChannelClosedException());
        }
    }

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
        Task gate;
        lock (_lock)
        {
            Barriers++;
            if (_crashed)
            {
                throw new ChannelClosedException();
            }

            gate = _gate.Task;
        }

        await gate.WaitAsync(cancellationToken);
    }

    private static TaskCompletionSource NewOpenGate()
    {
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        gate.SetResult();
        return gate;
    }
}

/// <summary>Collects log messages (level + text) of every logger.</summary>
public sealed class ListLogger : ILoggerProvider, ILogger
{
    private readonly Lock _lock = new();
    private readonly List<(LogLevel Level, string Text)> _entries = [];

    public ILoggerFactory Factory => LoggerFactory.Create(b => b.AddProvider(this).SetMinimumLevel(LogLevel.Debug));

    public IReadOnlyList<(LogLevel Level, string Text)> Entries
    {
        get
        {
            lock (_lock)
            {
                return [.. _entries];
            }
        }
    }

    public bool Has(string fragment) => Entries.Any(e => e.Text.Contains(fragment, StringComparison.Ordinal));

    public ILogger CreateLogger(string categoryName) => this;

    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        lock (_lock)
        {
            _entries.Add((logLevel, formatter(state, exception)));
        }
    }

    public void Dispose()
    {
    }
}
