using SessionTrail.Agent.Config;
using SessionTrail.Agent.Ids;
using SessionTrail.Agent.Sinks;
using SessionTrail.Agent.Sources;

namespace SessionTrail.Agent.Sources.Files;

/// <summary>
/// KinesisTap's FileNameFilter: one or more wildcard patterns separated by '|' (e.g. "*.log|*.txt"),
/// matched against the file name only, case-insensitively (as on Windows). '*' is any run of
/// characters, '?' exactly one; "*.*" and "*" match every file, also names without a dot.
/// </summary>
public sealed class FileNamePattern
{
    private readonly string[] _patterns;

    public FileNamePattern(string filter)
    {
        ArgumentNullException.ThrowIfNull(filter);
        _patterns = filter.Split('|', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (_patterns.Length == 0)
        {
            throw new ArgumentException("The filter has no pattern.", nameof(filter));
        }
    }

    public bool IsMatch(string fileName)
    {
        ArgumentNullException.ThrowIfNull(fileName);
        foreach (var pattern in _patterns)
        {
            if (pattern is "*" or "*.*" || Matches(pattern, fileName))
            {
                return true;
            }
        }

        return false;
    }

    private static bool Matches(ReadOnlySpan<char> pattern, ReadOnlySpan<char> name)
    {
        // Iterative wildcard match with backtracking to the last '*'.
        int p = 0, n = 0, star = -1, mark = 0;
        while (n < name.Length)
        {
            if (p < pattern.Length && (pattern[p] == '?' || char.ToUpperInvariant(pattern[p]) == char.ToUpperInvariant(name[n])))
            {
                p++;
                n++;
            }
            else if (p < pattern.Length && pattern[p] == '*')
            {
                star = p++;
                mark = n;
            }
            else if (star >= 0)
            {
                p = star + 1;
                n = ++mark;
            }
            else
            {
                return false;
            }
        }

        while (p < pattern.Length && pattern[p] == '*')
        {
            p++;
        }

        return p == pattern.Length;
    }
}
