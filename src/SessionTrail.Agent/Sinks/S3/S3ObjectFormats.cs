using SessionTrail.Core.Formats;
using SessionTrail.Core.Records;

namespace SessionTrail.Agent.Sinks.S3;

/// <summary>One record of a spool file: parsed, and its line as received (ending in '\n').</summary>
public sealed record SpooledRecord(TrailRecord Record, ReadOnlyMemory<byte> Line);

/// <summary>An object ready to PUT.</summary>
public sealed record S3Object(string Key, byte[] Body, string ContentType);

/// <summary>The object formats of the S3 sink and how a spool file becomes an object.</summary>
public static class S3ObjectFormats
{
    /// <summary>The seed script's per-session CSV, byte for byte (its header, row order and session_end row).</summary>
    public const string AthenaCsv = "athena-csv";

    /// <summary>The agent's records, one JSON object a line (SessionTrail NDJSON), in arrival order.</summary>
    public const string Jsonl = "jsonl";

    /// <summary>
    /// Parses a spool file: every record once (the first line of each id; at-least-once delivery may have
    /// spooled a record twice). Lines that are not records (only a torn tail after a machine crash, never
    /// acknowledged) are skipped and counted in <paramref name="skipped"/>.
    /// </summary>
    public static IReadOnlyList<SpooledRecord> Parse(ReadOnlyMemory<byte> content, out int skipped)
    {
        skipped = 0;
        var records = new List<SpooledRecord>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var lineNumber = 0;
        var rest = content;
        while (!rest.IsEmpty)
        {
            lineNumber++;
            var newline = rest.Span.IndexOf((byte)'\n');
            var line = newline < 0 ? rest : rest[..(newline + 1)];
            rest = newline < 0 ? ReadOnlyMemory<byte>.Empty : rest[(newline + 1)..];
            var text = line.Span.TrimEnd("\r\n"u8);
            if (text.IsEmpty)
            {
                continue;
            }

            TrailRecord record;
            try
            {
                record = NdjsonReader.ParseLine(text, lineNumber);
            }
            catch (NdjsonFormatException)
            {
                skipped++;
                continue;
            }

            if (seen.Add(record.Id))
            {
                records.Add(new SpooledRecord(record, newline < 0 ? AppendNewline(line) : line));
            }
        }

        return records;
    }

    /// <summary>
    /// The object of a session's spool: key from the session end (its End record, else the last record's time)
    /// and <paramref name="format"/>'s body.
    /// </summary>
    public static S3Object RenderSession(IReadOnlyList<SpooledRecord> records, string format, string prefix)
    {
        ArgumentNullException.ThrowIfNull(records);
        if (records.Count == 0)
        {
            throw new InvalidDataException("A session object needs at least one record.");
        }

        var session = records.Select(r => r.Record.Session).FirstOrDefault(s => s is not null)
            ?? throw new InvalidDataException("A session object needs records with a session.");
        var sessions = records.Select(r => r.Record).OfType<SessionRecord>().ToList();
        var end = sessions.LastOrDefault(s => s.Type == SessionEventType.End)?.Time ?? records.Max(r => r.Record.Time);
        return format switch
        {
            Jsonl => new S3Object(S3ObjectLayout.SessionKey(prefix, session, end, "jsonl"), Concat(records), "application/x-ndjson"),
            AthenaCsv => new S3Object(S3ObjectLayout.SessionKey(prefix, session, end, "csv"), AthenaCsvBody(session, end, sessions, records), "text/csv"),
            _ => throw new ArgumentOutOfRangeException(nameof(format), format, "unknown S3 object format"),
        };
    }

    /// <summary>The object of a host's unattributed records of one day: always JSON lines.</summary>
    public static S3Object RenderDay(IReadOnlyList<SpooledRecord> records, DateOnly day, string prefix)
    {
        ArgumentNullException.ThrowIfNull(records);
        var host = records.Count > 0 ? records[0].Record.Host : "unknown-host";
        return new S3Object(S3ObjectLayout.DayKey(prefix, host, day), Concat(records), "application/x-ndjson");
    }

    private static byte[] Concat(IReadOnlyList<SpooledRecord> records)
    {
        var body = new byte[records.Sum(r => r.Line.Length)];
        var at = 0;
        foreach (var r in records)
        {
            r.Line.Span.CopyTo(body.AsSpan(at));
            at += r.Line.Length;
        }

        return body;
    }

    private static ReadOnlyMemory<byte> AppendNewline(ReadOnlyMemory<byte> line)
    {
        var copy = new byte[line.Length + 1];
        line.Span.CopyTo(copy);
        copy[^1] = (byte)'\n';
        return copy;
    }

    private static byte[] AthenaCsvBody(string session, DateTimeOffset end, IReadOnlyList<SessionRecord> sessions, IReadOnlyList<SpooledRecord> records)
    {
        _ = session;
        _ = end;
        _ = sessions;
        _ = records;
        throw new NotSupportedException("athena-csv is not built into this agent yet; use \"Format\": \"jsonl\".");
    }
}
