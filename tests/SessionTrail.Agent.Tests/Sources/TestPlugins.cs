using System.Globalization;
using System.Text.Json.Serialization;
using SessionTrail.Agent.Config;
using SessionTrail.Agent.Ids;
using SessionTrail.Agent.Sinks;
using SessionTrail.Agent.Sources;
using SessionTrail.Agent.Tests.Fakes;
using SessionTrail.Core.Records;

namespace SessionTrail.Agent.Tests.Sources;

/// <summary>Small source and sink types for the loader, routing and reload tests (not part of the product).</summary>
public static class TestPlugins
{
    public static LogPluginRegistry Registry(TestSinkFactory? sinks = null) => new LogPluginRegistry()
        .Add(new WindowsOnlySourceFactory())
        .Add(new CounterSourceFactory())
        .Add(sinks ?? new TestSinkFactory("KinesisFirehose"));
}

/// <summary>"WindowsEventLogSource" as a factory that can only build on Windows reports it.</summary>
public sealed class WindowsOnlySourceFactory : ILogSourceFactory
{
    public string SourceType => "WindowsEventLogSource";

    public IRecordSource Create(ConfigNode config, LogSourceContext context)
    {
        _ = config.Required("LogName");
        if (!OperatingSystem.IsWindows())
        {
            throw new LogConfigException(config.KeyPath("SourceType"), "'WindowsEventLogSource' runs only on Windows");
        }

        throw new NotSupportedException("test factory");
    }
}

/// <summary>
/// "Counter": emits log records "Prefix i" for i from its bookmark up to "Count" (one per "DelayMs" ms),
/// saving its bookmark (the next i) after <see cref="IDurableRecordOutput.WhenDurableAsync"/> every 20
/// records and at stop. Each record's id is <see cref="LogIds.For"/> of its number.
/// </summary>
public sealed class CounterSourceFactory : ILogSourceFactory
{
    public string SourceType => "Counter";

    public IRecordSource Create(ConfigNode config, LogSourceContext context) =>
        new CounterSource(context, config.Optional("Prefix", "line"), config.Int("Count", 100, 0), config.Int("DelayMs", 0, 0), config.Optional("Level"));
}

public sealed class CounterSource(LogSourceContext context, string prefix, int count, int delayMs, string? level) : IRecordSource
{
    public string Name => context.Id;

    public async Task RunAsync(IRecordOutput output, CancellationToken cancellationToken)
    {
        var durable = (IDurableRecordOutput)output;
        var next = context.Bookmarks.Load(context.Id, CounterJson.Default.CounterBookmark)?.Next ?? 0;
        try
        {
            while (next < count && !cancellationToken.IsCancellationRequested)
            {
                var text = prefix + " " + next.ToString(CultureInfo.InvariantCulture);
                await output.WriteAsync(
                    new LogRecord
                    {
                        Id = LogIds.For(context.Host, context.Id, next.ToString(CultureInfo.InvariantCulture)),
                        Time = Records.T0.AddSeconds(next),
                        Host = context.Host,
                        Source = context.Id,
                        Channel = prefix,
                        Level = level,
                        Message = text,
                        Fields = new Dictionary<string, string> { ["n"] = next.ToString(CultureInfo.InvariantCulture), ["_filepath"] = "/var/log/" + prefix + ".log" },
                    },
                    cancellationToken);
                next++;
                if (next % 20 == 0)
                {
                    await durable.WhenDurableAsync(cancellationToken);
                    context.Bookmarks.Save(context.Id, new CounterBookmark(next), CounterJson.Default.CounterBookmark);
                }

                if (delayMs > 0)
                {
                    await Task.Delay(delayMs, cancellationToken);
                }
            }

            await Task.Delay(Timeout.Infinite, cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }

        // Stop: what was written is durable once the barrier passes; only then the position moves.
        await durable.WhenDurableAsync(CancellationToken.None);
        context.Bookmarks.Save(context.Id, new CounterBookmark(next), CounterJson.Default.CounterBookmark);
    }
}

public sealed record CounterBookmark(int Next);

[JsonSerializable(typeof(CounterBookmark))]
internal sealed partial class CounterJson : JsonSerializerContext;

/// <summary>A sink type whose sinks are <see cref="FakeSink"/>s, remembered by Id.</summary>
public sealed class TestSinkFactory(string sinkType = "Test", Func<IReadOnlyList<string>, int, SinkResult>? respond = null) : ILogSinkFactory
{
    private readonly Lock _lock = new();
    private readonly Dictionary<string, List<FakeSink>> _built = [];

    public string SinkType => sinkType;

    public ISink Create(ConfigNode config, LogSinkContext context)
    {
        _ = config.Optional("StreamName");
        var sink = new FakeSink(context.Id, respond);
        lock (_lock)
        {
            if (!_built.TryGetValue(context.Id, out var list))
            {
                _built[context.Id] = list = [];
            }

            list.Add(sink);
        }

        return sink;
    }

    /// <summary>Every line the sinks named <paramref name="id"/> accepted (all builds, in order).</summary>
    public IReadOnlyList<string> Accepted(string id)
    {
        lock (_lock)
        {
            return _built.TryGetValue(id, out var list) ? [.. list.SelectMany(s => s.Accepted)] : [];
        }
    }
}
