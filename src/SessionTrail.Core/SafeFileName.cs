using System.Globalization;
using System.Text;

namespace SessionTrail.Core;

/// <summary>File-name-safe names for ids that come from outside (session ids name folders on the agent and the server).</summary>
public static class SafeFileName
{
    /// <summary>A reversible folder name: [A-Za-z0-9._-] kept (a leading '.' escaped), every other byte of the UTF-8 as %XX.</summary>
    public static string Encode(string id)
    {
        ArgumentException.ThrowIfNullOrEmpty(id);
        var b = new StringBuilder(id.Length);
        foreach (var by in Encoding.UTF8.GetBytes(id))
        {
            var c = (char)by;
            if (char.IsAsciiLetterOrDigit(c) || (c is '.' or '_' or '-' && !(b.Length == 0 && c == '.')))
            {
                b.Append(c);
            }
            else
            {
                b.Append('%').Append(by.ToString("X2", CultureInfo.InvariantCulture));
            }
        }

        return b.ToString();
    }
}
