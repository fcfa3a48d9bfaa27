using System.Text.RegularExpressions;

namespace SessionTrail.Cli.Tests;

/// <summary>The lines of a markdown text as the documentation tests read them: fence lines left out, each other line marked in or out of a code block.</summary>
internal static partial class MarkdownLines
{
    /// <summary>Every line but the ``` fences, with its number (from 1) and whether it is inside a code block.</summary>
    public static IEnumerable<(int Number, string Text, bool InCode)> Of(IReadOnlyList<string> lines)
    {
        var inCode = false;
        for (var i = 0; i < lines.Count; i++)
        {
            if (lines[i].TrimStart().StartsWith("```", StringComparison.Ordinal))
            {
                inCode = !inCode;
                continue;
            }

            yield return (i + 1, lines[i], inCode);
        }
    }

    /// <summary>An inline code span of one line, backticks included.</summary>
    [GeneratedRegex(@"`[^`]+`")]
    public static partial Regex CodeSpan();
}
