using System.Globalization;
using System.Text;
using SessionTrail.Agent.Config;
using SessionTrail.Agent.Ids;
using SessionTrail.Agent.Sources;

namespace SessionTrail.Agent.Sinks;

/// <summary>
/// A name with time tokens, filled from a record's time (UTC): OpenSearch "Index", S3 "FilePath" /
/// "FileName", FileSystem "FilePath". A token is <c>{FORMAT}</c> or KinesisTap's
/// <c>{timestamp:FORMAT}</c>, FORMAT being a .NET custom date/time format (<c>{yyyy.MM.dd}</c>,
/// <c>{yyyy}/{MM}/{dd}/{HH}</c>, <c>{timestamp:yyyy-MM-dd}</c>); <c>{hostname}</c> is the host name.
/// <c>{{</c> and <c>}}</c> are literal braces. Everything else is literal.
/// </summary>
public sealed class TimePattern
{
    private readonly List<(string? Literal, string? Format, bool Host)> _parts = [];

    private TimePattern(string pattern) => Pattern = pattern;

    public string Pattern { get; }

    /// <summary>True when the pattern has a time token (the name changes with time).</summary>
    public bool HasTime => _parts.Any(p => p.Format is not null);

    /// <summary>Parses <paramref name="pattern"/>; a bad token throws <see cref="LogConfigException"/> naming <paramref name="keyPath"/>.</summary>
    public static TimePattern Parse(string pattern, string keyPath)
    {
        ArgumentNullException.ThrowIfNull(pattern);
        var result = new TimePattern(pattern);
        var literal = new StringBuilder();
        for (var i = 0; i < pattern.Length; i++)
        {
            var c = pattern[i];
            if (c == '{' && i + 1 < pattern.Length && pattern[i + 1] == '{')
            {
                literal.Append('{');
                i++;
                continue;
            }

            if (c == '}' && i + 1 < pattern.Length && pattern[i + 1] == '}')
            {
                literal.Append('}');
                i++;
                continue;
            }

            if (c == '}')
            {
                throw new LogConfigException(keyPath, $"has a '}}' without its '{{' at character {i + 1} of '{pattern}'");
            }

            if (c != '{')
            {
                literal.Append(c);
                continue;
            }

            var end = pattern.IndexOf('}', i + 1);
            if (end < 0)
            {
                throw new LogConfigException(keyPath, $"has a '{{' without its '}}' at character {i + 1} of '{pattern}'");
            }

            var token = pattern[(i + 1)..end];
            if (literal.Length > 0)
            {
                result._parts.Add((literal.ToString(), null, false));
                literal.Clear();
            }

            if (string.Equals(token, "hostname", StringComparison.OrdinalIgnoreCase))
            {
                result._parts.Add((null, null, true));
            }
            else
            {
                var format = token.StartsWith("timestamp:", StringComparison.OrdinalIgnoreCase) ? token["timestamp:".Length..] : token;
                if (format.Length == 0 || format.Contains('{', StringComparison.Ordinal))
                {
                    throw new LogConfigException(keyPath, $"has an empty or bad token '{{{token}}}' in '{pattern}'");
                }

                try
                {
                    _ = new DateTime(2026, 1, 2, 3, 4, 5, DateTimeKind.Utc).ToString(format, CultureInfo.InvariantCulture);
                }
                catch (FormatException ex)
                {
                    throw new LogConfigException(keyPath, $"has the token '{{{token}}}' that is not a .NET date/time format: {ex.Message}");
                }

                if (format.Length == 1)
                {
                    // A single letter is a standard format ("d" = 01/02/2026); the custom one needs a '%'.
                    format = "%" + format;
                }

                result._parts.Add((null, format, false));
            }

            i = end;
        }

        if (literal.Length > 0)
        {
            result._parts.Add((literal.ToString(), null, false));
        }

        return result;
    }

    /// <summary>The name for a record of <paramref name="time"/> (formatted in UTC) on <paramref name="host"/>.</summary>
    public string Format(DateTimeOffset time, string host)
    {
        var utc = time.UtcDateTime;
        var text = new StringBuilder();
        foreach (var (literal, format, isHost) in _parts)
        {
            text.Append(literal ?? (isHost ? host : utc.ToString(format, CultureInfo.InvariantCulture)));
        }

        return text.ToString();
    }
}
