using System.Text.RegularExpressions;
using SessionTrail.Agent.Config;
using SessionTrail.Agent.Ids;
using SessionTrail.Agent.Sinks;
using SessionTrail.Agent.Sources;

namespace SessionTrail.Agent.Sources.Files;

/// <summary>
/// "Regex": <c>Pattern</c> matches the first line of a record (following lines are appended);
/// <c>ExtractionPattern</c> (optional) is matched against the whole record and its named groups become
/// fields. The group named by TimestampField (default "Timestamp") gives the record's time.
/// </summary>
public sealed class RegexParser : FileRecordParser
{
    private readonly Regex? _extraction;
    private readonly string _timestampField;
    private readonly TimestampReader _timestamps;

    public RegexParser(Regex start, Regex? extraction, string? timestampField, TimestampReader timestamps)
    {
        ArgumentNullException.ThrowIfNull(start);
        _extraction = extraction;
        _timestampField = timestampField ?? "Timestamp";
        _timestamps = timestamps;
        RecordStart = line => SafeMatch.IsMatch(start, line);
    }

    public override Func<string, bool>? RecordStart { get; }

    public override DateTimeOffset? Parse(string text, FileParserState state, Dictionary<string, string> fields)
    {
        if (_extraction is null)
        {
            return null;
        }

        var match = SafeMatch.Match(_extraction, text);
        if (match is null || !match.Success)
        {
            fields[ParseErrorField] = match is null ? "ExtractionPattern timed out" : "did not match ExtractionPattern";
            return null;
        }

        DateTimeOffset? time = null;
        foreach (Group group in match.Groups)
        {
            if (!group.Success || char.IsAsciiDigit(group.Name[0]))
            {
                continue;
            }

            fields[group.Name] = group.Value;
            if (string.Equals(group.Name, _timestampField, StringComparison.OrdinalIgnoreCase) && _timestamps.TryRead(group.ValueSpan, out var t))
            {
                time = t;
            }
        }

        return time;
    }
}

/// <summary>Regex calls that treat a timeout (a pathological pattern on a hostile line) as "no match" instead of throwing.</summary>
internal static class SafeMatch
{
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(1);

    public static bool IsMatch(Regex regex, string text)
    {
        try
        {
            return regex.IsMatch(text);
        }
        catch (RegexMatchTimeoutException)
        {
            return false;
        }
    }

    public static Match? Match(Regex regex, string text)
    {
        try
        {
            return regex.Match(text);
        }
        catch (RegexMatchTimeoutException)
        {
            return null;
        }
    }
}
