using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using SessionTrail.Core.Formats;

namespace SessionTrail.Core.Tests.Formats;

/// <summary>
/// The documented wire format (docs/reports-and-api.md, where the README sends a reader) against the real reader:
/// every example record of "Ingest API" and "Logs (server side)" is accepted, and the fields the page says every
/// record needs, and a log record needs, are exactly the fields the reader refuses to do without (found by leaving
/// each field of each example out).
/// </summary>
public sealed partial class ReadmeWireFormatTests
{
    /// <summary>The page that documents the ingest API and log records.</summary>
    private const string Page = "reports-and-api.md";

    private static readonly string PageText = File.ReadAllText(Path.Combine(RepoRoot(), "docs", Page));

    private static string RepoRoot() => Repository.Root;

    /// <summary>The page's section under "## <paramref name="heading"/>", up to the next "## ".</summary>
    private static string Section(string heading)
    {
        var start = PageText.IndexOf("\n## " + heading, StringComparison.Ordinal);
        Assert.True(start >= 0, $"docs/{Page} has no section '## {heading}'");
        var end = PageText.IndexOf("\n## ", start + 4, StringComparison.Ordinal);
        return PageText[start..(end < 0 ? PageText.Length : end)];
    }

    /// <summary>The example NDJSON records of a section (lines of its code blocks that are JSON objects with an id).</summary>
    private static List<string> Examples(string heading) =>
        [.. Section(heading).Split('\n').Select(l => l.Trim()).Where(l => l.StartsWith("{\"id\":", StringComparison.Ordinal))];

    /// <summary>The fields of <paramref name="line"/> the reader refuses the record without.</summary>
    private static SortedSet<string> Required(string line)
    {
        var required = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var name in JsonNode.Parse(line)!.AsObject().Select(p => p.Key).ToList())
        {
            var without = JsonNode.Parse(line)!.AsObject();
            without.Remove(name);
            try
            {
                NdjsonReader.ParseLine(Encoding.UTF8.GetBytes(without.ToJsonString()), 1);
            }
            catch (NdjsonFormatException e) when (e.Field == name)
            {
                required.Add(name);
            }
        }

        return required;
    }

    /// <summary>The field names in backticks of the page's sentence that starts with <paramref name="start"/> (in <paramref name="heading"/>).</summary>
    private static SortedSet<string> Named(string heading, string start)
    {
        var text = Regex.Replace(Section(heading), @"\s+", " ");
        var at = text.IndexOf(start, StringComparison.Ordinal);
        Assert.True(at >= 0, $"docs/{Page} section '{heading}' has no sentence starting '{start}'");
        var sentence = text[at..(text.IndexOf(". ", at, StringComparison.Ordinal) + 1)];
        return new SortedSet<string>(FieldName().Matches(sentence).Select(m => m.Groups[1].Value), StringComparer.Ordinal);
    }

    [Theory]
    [InlineData("Ingest API and bad input", 5)]
    [InlineData("Logs (server side)", 1)]
    public void EveryExampleRecordIsAccepted(string heading, int atLeast)
    {
        var examples = Examples(heading);
        Assert.True(examples.Count >= atLeast, $"{examples.Count} examples in '{heading}'");
        Assert.All(examples, line => NdjsonReader.ParseLine(Encoding.UTF8.GetBytes(line), 1));
    }

    [Fact]
    public void TheFieldsEveryRecordNeedsAreTheOnesTheReadmeNames()
    {
        var examples = Examples("Ingest API and bad input").Concat(Examples("Logs (server side)")).ToList();
        var kinds = examples.Select(l => JsonNode.Parse(l)!["kind"]!.GetValue<string>()).ToHashSet();
        Assert.Equal(["log", "process", "recording", "segment", "session"], kinds.Order(StringComparer.Ordinal));
        var common = examples.Select(Required).Aggregate((a, b) => new SortedSet<string>(a.Intersect(b), StringComparer.Ordinal));

        Assert.Equal(common, Named("Ingest API and bad input", "Every record needs"));
    }

    [Fact]
    public void ALogRecordNeedsExactlyWhatTheLogsSectionSays()
    {
        var log = Assert.Single(Examples("Logs (server side)"));
        Assert.Equal(Required(log), Named("Logs (server side)", "Required:"));
    }

    /// <summary>A field name in backticks: lower camel case (not `Z`, not a value like `start|exit`).</summary>
    [GeneratedRegex(@"`([a-z][A-Za-z0-9]*)`")]
    private static partial Regex FieldName();
}
