using SessionTrail.Agent.Config;
using SessionTrail.Agent.Ids;
using SessionTrail.Agent.Sources;
using SessionTrail.Core.Formats;
using SessionTrail.Core.Records;

namespace SessionTrail.Agent.Sinks;

/// <summary>A queued record parsed: the record and its original NDJSON line (for the dead-letter file).</summary>
public sealed record LogEntry(TrailRecord Record, ReadOnlyMemory<byte> Line);

/// <summary>Parses a batch of queued NDJSON lines for a log sink.</summary>
public static class LogBatch
{
    /// <summary>
    /// The records of <paramref name="lines"/> in order; a line that is not a record goes to
    /// <paramref name="rejected"/> with the parser's reason (the rest are delivered).
    /// </summary>
    public static List<LogEntry> Parse(IReadOnlyList<ReadOnlyMemory<byte>> lines, List<DeadLetter> rejected)
    {
        ArgumentNullException.ThrowIfNull(lines);
        ArgumentNullException.ThrowIfNull(rejected);
        var entries = new List<LogEntry>(lines.Count);
        for (var i = 0; i < lines.Count; i++)
        {
            var text = lines[i].Span.TrimEnd("\r\n"u8);
            if (text.IsEmpty)
            {
                continue;
            }

            try
            {
                entries.Add(new LogEntry(NdjsonReader.ParseLine(text, i + 1), lines[i]));
            }
            catch (NdjsonFormatException ex)
            {
                rejected.Add(new DeadLetter("not a SessionTrail record (line " + (i + 1).ToString(System.Globalization.CultureInfo.InvariantCulture) + " of the batch): " + ex.Message, lines[i]));
            }
        }

        return entries;
    }
}
