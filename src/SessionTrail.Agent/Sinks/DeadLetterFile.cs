using System.Text.Encodings.Web;
using System.Text.Json;
using SessionTrail.Agent.Config;
using SessionTrail.Agent.Ids;
using SessionTrail.Agent.Sources;
using SessionTrail.Core;
using SessionTrail.Core.Formats;

namespace SessionTrail.Agent.Sinks;

/// <summary>One record a log sink could not deliver, and why.</summary>
/// <param name="Reason">What the destination (or the sink) said, e.g. "400 mapper_parsing_exception: failed to parse field [x]".</param>
/// <param name="Line">The record's NDJSON line as queued (ending in '\n').</param>
public sealed record DeadLetter(string Reason, ReadOnlyMemory<byte> Line);

/// <summary>
/// A log sink's own dead-letter file, DIR/agent/sinks/ID/dead-letter.ndjson: per record a header line
/// <c>{"deadLetter":{"time":…,"sink":…,"reason":…,"records":1}}</c> (the shape of the agent-wide dead-letter
/// files) followed by the record's original line. Appended and fsynced before the batch is acknowledged.
/// </summary>
public sealed class LogDeadLetterFile(string sinkDirectory, string sinkName, TimeProvider time)
{
    private static readonly JsonWriterOptions Options = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
    private long _total;

    public string Path { get; } = System.IO.Path.Combine(sinkDirectory, "dead-letter.ndjson");

    /// <summary>Records written since the start.</summary>
    public long Total => Interlocked.Read(ref _total);

    /// <summary>Appends the entries and fsyncs. Throws <see cref="IOException"/> when the file cannot be written.</summary>
    public void Append(IReadOnlyCollection<DeadLetter> entries)
    {
        ArgumentNullException.ThrowIfNull(entries);
        if (entries.Count == 0)
        {
            return;
        }

        DataAccess.Current.CreateDirectory(System.IO.Path.GetDirectoryName(Path)!);
        var now = NdjsonWriter.FormatTime(time.GetUtcNow());
        using (var file = new FileStream(Path, DataAccess.Current.Options(FileMode.Append, FileAccess.Write)))
        {
            foreach (var entry in entries)
            {
                using (var json = new Utf8JsonWriter(file, Options))
                {
                    json.WriteStartObject();
                    json.WriteStartObject("deadLetter");
                    json.WriteString("time", now);
                    json.WriteString("sink", sinkName);
                    json.WriteString("reason", entry.Reason);
                    json.WriteNumber("records", 1);
                    json.WriteEndObject();
                    json.WriteEndObject();
                }

                file.WriteByte((byte)'\n');
                file.Write(entry.Line.Span);
                if (entry.Line.IsEmpty || entry.Line.Span[^1] != (byte)'\n')
                {
                    file.WriteByte((byte)'\n');
                }
            }

            file.Flush(flushToDisk: true);
        }

        Interlocked.Add(ref _total, entries.Count);
    }
}
