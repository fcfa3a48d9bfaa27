using System.Globalization;
using SessionTrail.Agent.Config;
using SessionTrail.Agent.Ids;
using SessionTrail.Agent.Sinks;
using SessionTrail.Agent.Sources;

namespace SessionTrail.Agent.Sources.Files;

/// <summary>Per-file state a parser keeps (the delimited parser's current header).</summary>
public sealed class FileParserState
{
    /// <summary>Column names from the file's last header line (delimited files without fixed Headers).</summary>
    public IReadOnlyList<string>? Headers { get; set; }
}

/// <summary>
/// Turns the text of a record (one line, or several for multi-line records) into fields and a time.
/// Implementations are stateless apart from <see cref="FileParserState"/> and never throw on bad input:
/// a record they cannot parse is still emitted, with a "_parseerror" field saying why.
/// </summary>
public abstract class FileRecordParser
{
    /// <summary>Field added to a record whose text could not be parsed.</summary>
    public const string ParseErrorField = "_parseerror";

    /// <summary>
    /// Non-null for multi-line parsers: a line for which it returns true starts a new record; other lines
    /// are appended to the current one. Null: every line is a record.
    /// </summary>
    public virtual Func<string, bool>? RecordStart => null;

    /// <summary>False for a line that is not a record (a comment, a header); the parser may learn from it.</summary>
    public virtual bool Accept(string line, FileParserState state) => true;

    /// <summary>Adds the record's fields to <paramref name="fields"/>; returns its time when it has one.</summary>
    public abstract DateTimeOffset? Parse(string text, FileParserState state, Dictionary<string, string> fields);
}

/// <summary>How timestamps without an offset are read (KinesisTap "TimeZoneKind").</summary>
public enum TimestampZone
{
    Utc,
    Local,
}

/// <summary>Reads a timestamp with an optional .NET exact format; text with an offset keeps it.</summary>
public sealed class TimestampReader(string? format, TimestampZone zone)
{
    private readonly DateTimeStyles _styles = (zone == TimestampZone.Utc ? DateTimeStyles.AssumeUniversal : DateTimeStyles.AssumeLocal) | DateTimeStyles.AllowWhiteSpaces;

    public string? Format { get; } = format;

    public bool TryRead(ReadOnlySpan<char> text, out DateTimeOffset time)
    {
        var ok = Format is null
            ? DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, _styles, out time)
            : DateTimeOffset.TryParseExact(text, Format, CultureInfo.InvariantCulture, _styles, out time);
        if (ok)
        {
            time = time.ToUniversalTime();
        }

        return ok;
    }
}

/// <summary>"SingleLine": each line is a record with no fields; optionally multi-line by a start pattern.</summary>
public sealed class SingleLineParser(Func<string, bool>? recordStart) : FileRecordParser
{
    public override Func<string, bool>? RecordStart => recordStart;

    public override DateTimeOffset? Parse(string text, FileParserState state, Dictionary<string, string> fields) => null;
}

/// <summary>
/// "Timestamp": a record starts with a line that begins with a timestamp in TimestampFormat; following
/// lines (a stack trace) belong to it. The prefix length is that of the format applied to a sample date,
/// so fixed-width formats (the usual "yyyy-MM-dd HH:mm:ss.fff") work; the record's time is that timestamp.
/// </summary>
public sealed class TimestampParser : FileRecordParser
{
    private static readonly DateTime Sample = new(2026, 12, 28, 23, 59, 58, 999, DateTimeKind.Utc);
    private readonly TimestampReader _reader;
    private readonly int _length;

    public TimestampParser(TimestampReader reader)
    {
        ArgumentNullException.ThrowIfNull(reader);
        _reader = reader;
        _length = reader.Format is null ? 0 : new DateTimeOffset(Sample).ToString(reader.Format, CultureInfo.InvariantCulture).Length;
        RecordStart = line => line.Length >= _length && _reader.TryRead(line.AsSpan(0, _length), out _);
    }

    public override Func<string, bool>? RecordStart { get; }

    public override DateTimeOffset? Parse(string text, FileParserState state, Dictionary<string, string> fields) =>
        text.Length >= _length && _reader.TryRead(text.AsSpan(0, _length), out var time) ? time : null;
}
