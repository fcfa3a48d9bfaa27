using System.Text;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging.Abstractions;
using SessionTrail.Agent.Config;
using SessionTrail.Agent.Ids;
using SessionTrail.Agent.Sinks;
using SessionTrail.Agent.Sources;
using SessionTrail.Agent.Tests.Sources;
using SessionTrail.Core.Formats;
using SessionTrail.Core.Records;

namespace SessionTrail.Agent.Tests.Sinks;

/// <summary>Records, config nodes and contexts for the log sink tests.</summary>
public static class SinkTestKit
{
    public static readonly DateTimeOffset T0 = new(2026, 11, 22, 8, 0, 0, TimeSpan.Zero);

    /// <summary>The config entry "Sinks:0" from a JSON object text.</summary>
    public static ConfigNode Node(string json)
    {
        var root = new ConfigurationBuilder().AddJsonStream(new MemoryStream(Encoding.UTF8.GetBytes("{\"Sinks\":[" + json + "]}"))).Build();
        return new ConfigNode(root.GetSection("Sinks:0"), "Sinks:0");
    }

    public static LogSinkContext Context(string dataDir, string id = "sink1", TimeProvider? time = null) =>
        new(id, dataDir, "host-a", NullLoggerFactory.Instance, time ?? TimeProvider.System);

    /// <summary>A file-source log record "line N" with id log-N (distinct, deterministic).</summary>
    public static LogRecord Log(int n, string? message = null, IReadOnlyDictionary<string, string>? fields = null) => new()
    {
        Id = "log-" + n.ToString("D6", System.Globalization.CultureInfo.InvariantCulture),
        Time = T0.AddSeconds(n),
        Host = "host-a",
        Source = "AppLog",
        Channel = "/var/log/app.log",
        Message = message ?? "line " + n.ToString(System.Globalization.CultureInfo.InvariantCulture),
        Fields = fields,
    };

    public static ReadOnlyMemory<byte> Line(TrailRecord record) => NdjsonWriter.ToLine(record);

    public static List<ReadOnlyMemory<byte>> Lines(IEnumerable<TrailRecord> records) => [.. records.Select(Line)];

    public static List<ReadOnlyMemory<byte>> Lines(int from, int count) => Lines(Enumerable.Range(from, count).Select(i => Log(i)));

    /// <summary>The (header, line) pairs of a dead-letter file.</summary>
    public static List<(string Reason, string Line)> ReadDeadLetters(string path)
    {
        if (!File.Exists(path))
        {
            return [];
        }

        var lines = File.ReadAllLines(path);
        var result = new List<(string, string)>();
        for (var i = 0; i + 1 < lines.Length; i += 2)
        {
            using var header = System.Text.Json.JsonDocument.Parse(lines[i]);
            result.Add((header.RootElement.GetProperty("deadLetter").GetProperty("reason").GetString()!, lines[i + 1]));
        }

        return result;
    }
}
