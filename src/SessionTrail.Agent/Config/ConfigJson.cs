using System.Text;
using SessionTrail.Agent.Ids;
using SessionTrail.Agent.Sinks;
using SessionTrail.Agent.Sources;

namespace SessionTrail.Agent.Config;

/// <summary>
/// The agent's config file as JSON text, made readable the way people paste it: configs copied from a web
/// page (like the seed's) carry non-breaking spaces in their indentation, which JSON does not allow as
/// whitespace. Outside strings they are read as plain spaces (the text inside strings is kept as written).
/// </summary>
public static class ConfigJson
{
    /// <summary>
    /// The bytes to parse: <paramref name="json"/> with non-breaking and other Unicode spaces outside
    /// strings turned into ASCII spaces. <paramref name="firstLine"/> is the 1-based line of the first one
    /// (0 when there was none; then the same array is returned).
    /// </summary>
    public static byte[] Normalize(byte[] json, out int firstLine)
    {
        ArgumentNullException.ThrowIfNull(json);
        firstLine = 0;
        var hasWide = false;
        foreach (var b in json)
        {
            if (b >= 0x80)
            {
                hasWide = true;
                break;
            }
        }

        if (!hasWide)
        {
            return json;
        }

        var chars = Encoding.UTF8.GetString(json).ToCharArray();
        var first = 0;
        ForEachOutsideStrings(new string(chars), (i, line, _, c) =>
        {
            if (c is '\u00A0' or '\u3000' or '\u202F' or '\u205F' or (>= '\u2000' and <= '\u200B'))
            {
                chars[i] = ' ';
                first = first == 0 ? line : first;
            }

            return true;
        });
        firstLine = first;
        return firstLine == 0 ? json : Encoding.UTF8.GetBytes(chars);
    }

    /// <summary>Called for a character outside JSON strings: its index, 1-based line and column; return false to stop.</summary>
    public delegate bool OutsideStringVisitor(int index, int line, int column, char c);

    /// <summary>Visits every character of <paramref name="text"/> that is not inside a JSON string (quotes and escapes followed).</summary>
    public static void ForEachOutsideStrings(string text, OutsideStringVisitor visit)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentNullException.ThrowIfNull(visit);
        var line = 1;
        var column = 0;
        var inString = false;
        var escaped = false;
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            column++;
            if (c == '\n')
            {
                line++;
                column = 0;
                escaped = false;
                continue;
            }

            if (inString)
            {
                if (escaped)
                {
                    escaped = false;
                }
                else if (c == '\\')
                {
                    escaped = true;
                }
                else if (c == '"')
                {
                    inString = false;
                }

                continue;
            }

            if (c == '"')
            {
                inString = true;
            }
            else if (!visit(i, line, column, c))
            {
                return;
            }
        }
    }

    /// <summary>Reads <paramref name="file"/> and normalizes it (see <see cref="Normalize"/>).</summary>
    public static byte[] ReadFile(string file) => Normalize(File.ReadAllBytes(file), out _);
}
