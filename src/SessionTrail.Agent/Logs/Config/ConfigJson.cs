using System.Text;

namespace SessionTrail.Agent.Logs.Config;

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

        var text = Encoding.UTF8.GetString(json);
        var chars = text.ToCharArray();
        var line = 1;
        var inString = false;
        var escaped = false;
        for (var i = 0; i < chars.Length; i++)
        {
            var c = chars[i];
            if (c == '\n')
            {
                line++;
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
            else if (c is '\u00A0' or '\u3000' or '\u202F' or '\u205F' or (>= '\u2000' and <= '\u200B'))
            {
                chars[i] = ' ';
                if (firstLine == 0)
                {
                    firstLine = line;
                }
            }
        }

        return firstLine == 0 ? json : Encoding.UTF8.GetBytes(chars);
    }

    /// <summary>Reads <paramref name="file"/> and normalizes it (see <see cref="Normalize"/>).</summary>
    public static byte[] ReadFile(string file) => Normalize(File.ReadAllBytes(file), out _);
}
