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

    /// <summary>The same rows as <see cref="AthenaCsv"/> as JSON lines (any character survives), with its own DDL in deploy/athena.</summary>
    public const string AthenaJsonl = "athena-jsonl";

    /// <summary>The agent's records, one JSON object a line (SessionTrail NDJSON), in arrival order.</summary>
    public const string Jsonl = "jsonl";

    /// <summary>Every format, for messages.</summary>
    public static readonly IReadOnlyList<string> All = [AthenaCsv, AthenaJsonl, Jsonl];

    /// <summary>The default key prefix of a format: the table folders of the seed's and the JSON-lines DDL.</summary>
    public static string DefaultPrefix(string format) => format switch
    {
        AthenaJsonl => AthenaJsonlWriter.TableFolder,
        Jsonl => "sessiontrail_sessions",
        _ => AthenaLayout.TableFolder,
    };

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
    /// The object of a session's spool: key from the session end (its End record, else the last record's
    /// time) and <paramref name="format"/>'s body. <paramref name="warnings"/> lists fields the seed's CSV
    /// cannot carry (a comma in a path).
    /// </summary>
    public static S3Object RenderSession(IReadOnlyList<SpooledRecord> records, string format, string prefix, out IReadOnlyList<AthenaFieldWarning> warnings)
    {
        ArgumentNullException.ThrowIfNull(records);
        warnings = [];
        var session = records.Select(r => r.Record.Session).FirstOrDefault(s => s is not null)
            ?? throw new InvalidDataException("A session object needs records with a session.");
        var sessions = records.Select(r => r.Record).OfType<SessionRecord>().ToList();
        var end = sessions.LastOrDefault(s => s.Type == SessionEventType.End)?.Time ?? records.Max(r => r.Record.Time);
        if (format == Jsonl)
        {
            return new S3Object(S3ObjectLayout.SessionKey(prefix, session, end, "jsonl"), Concat(records), "application/x-ndjson");
        }

        var start = sessions.FirstOrDefault(s => s.Type == SessionEventType.Start);
        var metadata = start ?? sessions.FirstOrDefault() ?? new SessionRecord { Type = SessionEventType.End, Time = end, Host = records[0].Record.Host, Session = session };
        var athena = AthenaSession.From(metadata with { Session = session }, end, start?.Time);
        var events = records.Select(r => r.Record).OfType<ProcessRecord>().ToList();
        var written = format switch
        {
            AthenaCsv => AthenaCsvWriter.Write(athena, events),
            AthenaJsonl => AthenaJsonlWriter.Write(athena, events),
            _ => throw new ArgumentOutOfRangeException(nameof(format), format, "unknown S3 object format"),
        };
        warnings = written.Warnings;
        var extension = format == AthenaCsv ? AthenaCsvWriter.Extension : AthenaJsonlWriter.Extension;
        return new S3Object(S3ObjectLayout.SessionKey(prefix, session, end, extension), written.Content, format == AthenaCsv ? "text/csv" : "application/x-ndjson");
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
}
