using System.Globalization;
using SessionTrail.Agent.Config;
using SessionTrail.Agent.Ids;
using SessionTrail.Agent.Sinks;
using SessionTrail.Agent.Sources;

namespace SessionTrail.Agent.Sources.Files;

/// <summary>
/// "SysLog": one line per record, as syslog daemons write files. Understands RFC 3164
/// ("Nov 30 05:28:51 host prog[123]: text", the year taken as the one that puts the time nearest the
/// read time), rsyslog's high-precision form ("2026-11-30T05:28:51.123456+00:00 host prog[123]: text")
/// and RFC 5424 ("&lt;34&gt;1 2026-11-30T05:28:51Z host app 123 ID47 [sd] text"), each with an optional
/// "&lt;PRI&gt;". Fields: SysLogTimeStamp, Hostname, Program, ProcessId, MessageId, StructuredData,
/// Message, and Facility/Severity when there is a PRI (Severity also becomes the record's level).
/// </summary>
public sealed class SysLogParser(TimestampZone zone, TimeProvider time) : FileRecordParser
{
    private static readonly string[] Severities = ["emerg", "alert", "crit", "err", "warning", "notice", "info", "debug"];
    private static readonly string[] Facilities =
    [
        "kern", "user", "mail", "daemon", "auth", "syslog", "lpr", "news", "uucp", "cron", "authpriv", "ftp", "ntp", "audit", "alert", "clock",
        "local0", "local1", "local2", "local3", "local4", "local5", "local6", "local7",
    ];

    /// <summary>The field that holds the severity name, also used as <see cref="Core.Records.LogRecord.Level"/>.</summary>
    public const string SeverityField = "Severity";

    public override DateTimeOffset? Parse(string text, FileParserState state, Dictionary<string, string> fields)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentNullException.ThrowIfNull(fields);
        var rest = text.AsSpan();
        if (rest.Length > 2 && rest[0] == '<')
        {
            var close = rest.IndexOf('>');
            if (close is > 1 and <= 4 && int.TryParse(rest[1..close], NumberStyles.None, CultureInfo.InvariantCulture, out var pri) && pri < 192)
            {
                fields["Facility"] = Facilities[pri >> 3];
                fields[SeverityField] = Severities[pri & 7];
                rest = rest[(close + 1)..];
            }
        }

        DateTimeOffset? timestamp;
        var rfc5424 = rest.Length > 2 && rest[0] == '1' && rest[1] == ' ';
        if (rfc5424)
        {
            rest = rest[2..];
        }

        if (rest.Length >= 16 && rest[3] == ' ' && rest[6] == ' ' && rest[9] == ':' && rest[15] == ' ' && TryRfc3164Time(rest[..15], out var t3164))
        {
            fields["SysLogTimeStamp"] = rest[..15].ToString();
            timestamp = t3164;
            rest = rest[16..];
        }
        else
        {
            var space = rest.IndexOf(' ');
            if (space <= 0 || !TryIsoTime(rest[..space], out var iso))
            {
                fields[ParseErrorField] = "no syslog timestamp";
                return null;
            }

            fields["SysLogTimeStamp"] = rest[..space].ToString();
            timestamp = iso;
            rest = rest[(space + 1)..];
        }

        var hostEnd = rest.IndexOf(' ');
        if (hostEnd <= 0)
        {
            fields[ParseErrorField] = "no host name";
            return timestamp;
        }

        fields["Hostname"] = rest[..hostEnd].ToString();
        rest = rest[(hostEnd + 1)..];
        if (rfc5424)
        {
            ParseRfc5424Rest(rest, fields);
        }
        else
        {
            ParseTag(rest, fields);
        }

        return timestamp;
    }

    private static void ParseTag(ReadOnlySpan<char> rest, Dictionary<string, string> fields)
    {
        // "prog[123]: text" or "prog: text"; a line without a tag is all message.
        var colon = rest.IndexOf(": ");
        var tag = colon > 0 ? rest[..colon] : default;
        if (colon > 0 && tag.IndexOf(' ') < 0)
        {
            var bracket = tag.IndexOf('[');
            if (bracket > 0 && tag[^1] == ']')
            {
                fields["Program"] = tag[..bracket].ToString();
                fields["ProcessId"] = tag[(bracket + 1)..^1].ToString();
            }
            else
            {
                fields["Program"] = tag.ToString();
            }

            fields["Message"] = rest[(colon + 2)..].ToString();
        }
        else
        {
            fields["Message"] = rest.ToString();
        }
    }

    private static void ParseRfc5424Rest(ReadOnlySpan<char> rest, Dictionary<string, string> fields)
    {
        string[] names = ["Program", "ProcessId", "MessageId"];
        foreach (var name in names)
        {
            var end = rest.IndexOf(' ');
            var token = end < 0 ? rest : rest[..end];
            if (!token.SequenceEqual("-"))
            {
                fields[name] = token.ToString();
            }

            rest = end < 0 ? default : rest[(end + 1)..];
        }

        if (rest.Length > 0 && rest[0] == '[')
        {
            // Structured data: one or more [..] blocks; ']' inside a value is escaped as "\]".
            var i = 0;
            while (i < rest.Length && rest[i] == '[')
            {
                i++;
                while (i < rest.Length && rest[i] != ']')
                {
                    i += rest[i] == '\\' ? 2 : 1;
                }

                i++;
            }

            i = Math.Min(i, rest.Length);
            fields["StructuredData"] = rest[..i].ToString();
            rest = rest[i..].TrimStart(' ');
        }
        else if (rest.Length > 0 && rest[0] == '-')
        {
            rest = rest[1..].TrimStart(' ');
        }

        fields["Message"] = rest.ToString();
    }

    private bool TryRfc3164Time(ReadOnlySpan<char> text, out DateTimeOffset result)
    {
        // "MMM d HH:mm:ss" with a space-padded day; the year is not written.
        Span<char> buffer = stackalloc char[32];
        var now = time.GetUtcNow();
        result = default;
        for (var yearDelta = 0; yearDelta >= -1; yearDelta--)
        {
            var year = now.Year + yearDelta;
            var n = 0;
            text[..7].CopyTo(buffer);
            n += 7;
            buffer[n++] = ' ';
            year.TryFormat(buffer[n..], out var w, default, CultureInfo.InvariantCulture);
            n += w;
            buffer[n++] = ' ';
            text[7..].CopyTo(buffer[n..]);
            n += 8;
            var styles = (zone == TimestampZone.Utc ? DateTimeStyles.AssumeUniversal : DateTimeStyles.AssumeLocal) | DateTimeStyles.AllowInnerWhite;
            if (!DateTimeOffset.TryParseExact(buffer[..n], "MMM d yyyy HH:mm:ss", CultureInfo.InvariantCulture, styles, out result))
            {
                return false;
            }

            // A December line read in January belongs to last year.
            if (result <= now.AddDays(1))
            {
                result = result.ToUniversalTime();
                return true;
            }
        }

        result = result.ToUniversalTime();
        return true;
    }

    private bool TryIsoTime(ReadOnlySpan<char> text, out DateTimeOffset result)
    {
        var styles = zone == TimestampZone.Utc ? DateTimeStyles.AssumeUniversal : DateTimeStyles.AssumeLocal;
        if (text.Length >= 19 && text[4] == '-' && text[10] == 'T' && DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, styles, out result))
        {
            result = result.ToUniversalTime();
            return true;
        }

        result = default;
        return false;
    }
}
