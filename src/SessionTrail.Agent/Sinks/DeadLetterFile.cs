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
/// A dead-letter file: per entry a header line <c>{"deadLetter":{"time":…,"sink":…,"reason":…,"records":N}}</c>
/// followed by the N records' original lines. Appended and fsynced before the batch is acknowledged. Two places
/// use it: the agent-wide DIR/agent/dead-letter/SINK.ndjson of every sender (one header per refused batch, see
/// <see cref="AppendBatch"/>) and a log sink's own DIR/agent/sinks/ID/dead-letter.ndjson (one header per refused
/// record, see <see cref="Append"/>).
/// </summary>
public sealed class DeadLetterFile(string path, string sinkName, TimeProvider time)
{
    private static readonly JsonWriterOptions Options = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
    private long _total;

    /// <summary>A log sink's own file, DIR/agent/sinks/ID/dead-letter.ndjson.</summary>
    public static DeadLetterFile InSinkDirectory(string sinkDirectory, string sinkName, TimeProvider time) =>
        new(System.IO.Path.Combine(sinkDirectory, "dead-letter.ndjson"), sinkName, time);

    public string Path { get; } = path;

    /// <summary>Records written since the start.</summary>
    public long Total => Interlocked.Read(ref _total);

    /// <summary>Appends each entry under its own header (records 1) and fsyncs. Throws <see cref="IOException"/> when the file cannot be written.</summary>
    public void Append(IReadOnlyCollection<DeadLetter> entries)
    {
        ArgumentNullException.ThrowIfNull(entries);
        if (entries.Count == 0)
        {
            return;
        }

        Write(entries.Select(e => (e.Reason, (IReadOnlyList<ReadOnlyMemory<byte>>)[e.Line])));
        Interlocked.Add(ref _total, entries.Count);
    }

    /// <summary>Appends <paramref name="lines"/> under one header (records N) and fsyncs. Throws <see cref="IOException"/> when the file cannot be written.</summary>
    public void AppendBatch(IReadOnlyList<ReadOnlyMemory<byte>> lines, string reason)
    {
        ArgumentNullException.ThrowIfNull(lines);
        Write([(reason, lines)]);
        Interlocked.Add(ref _total, lines.Count);
    }

    private void Write(IEnumerable<(string Reason, IReadOnlyList<ReadOnlyMemory<byte>> Lines)> groups)
    {
        DataAccess.Current.CreateDirectory(System.IO.Path.GetDirectoryName(Path)!);
        var now = NdjsonWriter.FormatTime(time.GetUtcNow());
        using var file = new FileStream(Path, DataAccess.Current.Options(FileMode.Append, FileAccess.Write));
        foreach (var (reason, lines) in groups)
        {
            using (var json = new Utf8JsonWriter(file, Options))
            {
                json.WriteStartObject();
                json.WriteStartObject("deadLetter");
                json.WriteString("time", now);
                json.WriteString("sink", sinkName);
                json.WriteString("reason", reason);
                json.WriteNumber("records", lines.Count);
                json.WriteEndObject();
                json.WriteEndObject();
            }

            file.WriteByte((byte)'\n');
            foreach (var line in lines)
            {
                file.Write(line.Span);
                if (line.IsEmpty || line.Span[^1] != (byte)'\n')
                {
                    file.WriteByte((byte)'\n');
                }
            }
        }

        file.Flush(flushToDisk: true);
    }
}
