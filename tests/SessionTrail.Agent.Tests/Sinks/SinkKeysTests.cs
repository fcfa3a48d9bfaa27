using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using SessionTrail.Agent.Config;
using SessionTrail.Agent.Ids;
using SessionTrail.Agent.Sinks;
using SessionTrail.Agent.Sinks.FileSystem;
using SessionTrail.Agent.Sources;
using SessionTrail.Agent.Tests.Fakes;
using SessionTrail.Agent.Tests.Sources;
using static SessionTrail.Agent.Tests.Sinks.SinkTestKit;

namespace SessionTrail.Agent.Tests.Sinks;

public sealed class SinkKeysTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private sealed class Collector : ILoggerProvider, ILogger
    {
        public ConcurrentQueue<(LogLevel Level, string Message)> Entries { get; } = new();

        public ILogger CreateLogger(string categoryName) => this;

        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            Entries.Enqueue((logLevel, formatter(state, exception)));

        public void Dispose()
        {
        }
    }

    [Fact]
    public void AnUnknownKeyIsAWarningNamingItsPathAndKinesisTapsCommonKeysAreNot()
    {
        using var collector = new Collector();
        using var logs = LoggerFactory.Create(b => b.AddProvider(collector));
        var config = Node($"{{\"Id\":\"f\",\"SinkType\":\"FileSystem\",\"FilePath\":\"{Path.Combine(_dir.Path, "a.log").Replace("\\", "\\\\", StringComparison.Ordinal)}\","
            + "\"ObjectDecoration\":\"user={env:USER}\",\"QueueType\":\"file\",\"filepath_typo\":\"x\",\"Compression\":\"zip\"}");

        new FileSystemSinkFactory().Create(config, new LogSinkContext("f", _dir.Path, "h", logs, TimeProvider.System));

        var warnings = collector.Entries.Where(e => e.Level == LogLevel.Warning).Select(e => e.Message).ToList();
        Assert.Equal(
            ["Config 'Sinks:0:Compression' is not a key this sink knows; ignored", "Config 'Sinks:0:filepath_typo' is not a key this sink knows; ignored"],
            warnings.Order(StringComparer.Ordinal));
    }
}
