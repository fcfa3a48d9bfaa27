using System.Text;
using System.Text.RegularExpressions;
using SessionTrail.Agent.Config;
using SessionTrail.Agent.Ids;
using SessionTrail.Agent.Sinks;
using SessionTrail.Agent.Sources;

namespace SessionTrail.Agent.Sources.Files;

/// <summary>
/// "Delimited": each line holds values separated by <c>Delimiter</c>; a value may be quoted ("a, b",
/// "" for a quote). Column names come from <c>Headers</c>, or from the file's header line: a line
/// matching HeaderPattern (default <c>^#Fields:\s*</c>, the W3C/IIS header; the rest of the line is the
/// names), or, when no header line has been seen, the first line that is not a comment. Lines matching
/// CommentPattern are skipped. The time comes from TimestampField, or from W3C "date" + "time" (UTC).
/// </summary>
public sealed class DelimitedParser : FileRecordParser
{
    private readonly string _delimiter;
    private readonly IReadOnlyList<string>? _headers;
    private readonly Regex _headerPattern;
    private readonly Regex? _commentPattern;
    private readonly string? _timestampField;
    private readonly TimestampReader _timestamps;

    public DelimitedParser(string delimiter, IReadOnlyList<string>? headers, Regex headerPattern, Regex? commentPattern, string? timestampField, TimestampReader timestamps)
    {
        ArgumentException.ThrowIfNullOrEmpty(delimiter);
        _delimiter = delimiter;
        _headers = headers;
        _headerPattern = headerPattern;
        _commentPattern = commentPattern;
        _timestampField = timestampField;
        _timestamps = timestamps;
    }

    public override bool Accept(string line, FileParserState state)
    {
        ArgumentNullException.ThrowIfNull(line);
        ArgumentNullException.ThrowIfNull(state);
        var header = SafeMatch.Match(_headerPattern, line);
        if (header is { Success: true })
        {
            if (_headers is null)
            {
                state.Headers = Split(line[(header.Index + header.Length)..]);
            }

            return false;
        }

        if (_commentPattern is not null && SafeMatch.IsMatch(_commentPattern, line))
        {
            return false;
        }

        if (_headers is null && state.Headers is null)
        {
            state.Headers = Split(line);
            return false;
        }

        return line.Length > 0;
    }

    public override DateTimeOffset? Parse(string text, FileParserState state, Dictionary<string, string> fields)
    {
        ArgumentNullException.ThrowIfNull(state);
        ArgumentNullException.ThrowIfNull(fields);
        var names = _headers ?? state.Headers ?? [];
        var values = Split(text);
        for (var i = 0; i < values.Count; i++)
        {
            fields[i < names.Count ? names[i] : "_column" + (i + 1).ToString(System.Globalization.CultureInfo.InvariantCulture)] = values[i];
        }

        if (values.Count != names.Count)
        {
            fields[ParseErrorField] = $"{values.Count} values for {names.Count} columns";
        }

        if (_timestampField is not null)
        {
            return fields.TryGetValue(_timestampField, out var ts) && _timestamps.TryRead(ts, out var t) ? t : null;
        }

        return fields.TryGetValue("date", out var date) && fields.TryGetValue("time", out var clock)
            && new TimestampReader(null, TimestampZone.Utc).TryRead(date + "T" + clock, out var w3c) ? w3c : null;
    }

    /// <summary>Splits one line on the delimiter, honouring double quotes.</summary>
    public IReadOnlyList<string> Split(string line)
    {
        ArgumentNullException.ThrowIfNull(line);
        var values = new List<string>();
        var i = 0;
        while (true)
        {
            if (i < line.Length && line[i] == '"')
            {
                var sb = new StringBuilder();
                i++;
                while (i < line.Length)
                {
                    if (line[i] == '"')
                    {
                        if (i + 1 < line.Length && line[i + 1] == '"')
                        {
                            sb.Append('"');
                            i += 2;
                            continue;
                        }

                        i++;
                        break;
                    }

                    sb.Append(line[i++]);
                }

                var next = line.IndexOf(_delimiter, i, StringComparison.Ordinal);
                sb.Append(line.AsSpan(i, (next < 0 ? line.Length : next) - i));
                values.Add(sb.ToString());
                if (next < 0)
                {
                    return values;
                }

                i = next + _delimiter.Length;
            }
            else
            {
                var next = line.IndexOf(_delimiter, i, StringComparison.Ordinal);
                if (next < 0)
                {
                    values.Add(line[i..]);
                    return values;
                }

                values.Add(line[i..next]);
                i = next + _delimiter.Length;
            }
        }
    }
}
