using System.Text;
using System.Text.RegularExpressions;

namespace SessionTrail.Agent.Platform.Linux;

/// <summary>
/// A path pattern: <c>*</c> matches any characters except '/', <c>**</c> any characters including
/// '/', <c>?</c> one character except '/'; everything else matches itself (case-sensitive, as Linux
/// paths are). The whole path must match: <c>/usr/bin/*</c> matches /usr/bin/ls, not /usr/bin/x/ls.
/// </summary>
public sealed class PathGlob
{
    private readonly Regex _regex;

    public PathGlob(string pattern)
    {
        ArgumentException.ThrowIfNullOrEmpty(pattern);
        Pattern = pattern;
        _regex = new Regex(ToRegex(pattern), RegexOptions.CultureInvariant | RegexOptions.Singleline);
    }

    public string Pattern { get; }

    public bool IsMatch(string path) => _regex.IsMatch(path);

    private static string ToRegex(string pattern)
    {
        var sb = new StringBuilder("^");
        for (int i = 0; i < pattern.Length; i++)
        {
            char c = pattern[i];
            if (c == '*' && i + 1 < pattern.Length && pattern[i + 1] == '*')
            {
                i++;
                // "/**/" also matches a single "/", so that /a/**/b matches /a/b.
                if (i + 1 < pattern.Length && pattern[i + 1] == '/' && sb[^1] == '/')
                {
                    i++;
                    sb.Append("(?:.*/)?");
                }
                else
                {
                    sb.Append(".*");
                }
            }
            else if (c == '*')
            {
                sb.Append("[^/]*");
            }
            else if (c == '?')
            {
                sb.Append("[^/]");
            }
            else
            {
                sb.Append(Regex.Escape(c.ToString()));
            }
        }

        return sb.Append('$').ToString();
    }

    public override string ToString() => Pattern;
}
