using System.Text;
using System.Text.RegularExpressions;

namespace SessionTrail.Cli.Tests;

/// <summary>
/// The pages link each other: every relative markdown link of README.md and docs/*.md names a file that exists, and
/// its <c>#anchor</c>, when it has one, a heading of that page (GitHub's anchors: lower case, punctuation dropped,
/// spaces as '-', a repeated heading numbered -1, -2, …). Links in code are not links; absolute URLs are not checked.
/// </summary>
public sealed partial class DocLinkTests
{
    public static TheoryData<string> Pages()
    {
        var root = ReadmeCommandLineTests.RepoRoot();
        var data = new TheoryData<string>();
        foreach (var page in Directory.GetFiles(Path.Combine(root, "docs"), "*.md").Prepend(Path.Combine(root, "README.md")))
        {
            data.Add(Path.GetRelativePath(root, page));
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Pages))]
    public void EveryRelativeLinkOfThePageResolves(string page)
    {
        var problems = BrokenLinks(Path.Combine(ReadmeCommandLineTests.RepoRoot(), page));
        Assert.True(problems.Count == 0, $"{problems.Count} broken links in {page}:\n" + string.Join('\n', problems));
    }

    [Fact]
    public void TheReadmeLinksEveryPageOfDocs()
    {
        var root = ReadmeCommandLineTests.RepoRoot();
        var linked = Links(File.ReadAllText(Path.Combine(root, "README.md"))).Select(l => l.Target)
            .Concat(Links(File.ReadAllText(Path.Combine(root, "docs", "README.md"))).Select(l => "docs/" + l.Target))
            .Select(l => l.Split('#')[0]).ToHashSet(StringComparer.Ordinal);
        var pages = Directory.GetFiles(Path.Combine(root, "docs"), "*.md").Select(p => "docs/" + Path.GetFileName(p)).ToList();
        Assert.All(pages, p => Assert.Contains(p, linked));
    }

    [Fact]
    public void TheCheckFindsAMissingFileAndAMissingAnchor()
    {
        var dir = Directory.CreateTempSubdirectory("doclinks-").FullName;
        try
        {
            File.WriteAllText(Path.Combine(dir, "b.md"), "# B\n\n## Disk full: what happens\n\n```\n# not a heading\n```\n\n## Disk full: what happens\n");
            File.WriteAllText(Path.Combine(dir, "a.md"), """
                # A

                See [b](b.md), [there](b.md#disk-full-what-happens), [again](b.md#disk-full-what-happens-1),
                [here](#a), [the web](https://example.com/x.md) and `[code](gone.md)`.
                Broken: [c](c.md), [b](b.md#not-a-heading), [self](#nowhere).

                ```
                [in a block](also-gone.md)
                ```
                """);

            Assert.Equal(
                ["a.md:5: c.md: no such file", "a.md:5: b.md#not-a-heading: no heading with that anchor", "a.md:5: #nowhere: no heading with that anchor"],
                BrokenLinks(Path.Combine(dir, "a.md")));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    /// <summary>The problems of <paramref name="path"/>'s relative links: "file:line: target: what is wrong".</summary>
    internal static List<string> BrokenLinks(string path)
    {
        var problems = new List<string>();
        var name = Path.GetFileName(path);
        foreach (var (line, target) in Links(File.ReadAllText(path)))
        {
            if (Scheme().IsMatch(target))
            {
                continue;
            }

            var hash = target.IndexOf('#', StringComparison.Ordinal);
            var file = hash < 0 ? target : target[..hash];
            var anchor = hash < 0 ? null : target[(hash + 1)..];
            var full = file.Length == 0 ? path : Path.GetFullPath(Path.Combine(Path.GetDirectoryName(path)!, Uri.UnescapeDataString(file)));
            if (!File.Exists(full) && !Directory.Exists(full))
            {
                problems.Add($"{name}:{line}: {target}: no such file");
            }
            else if (anchor is not null && full.EndsWith(".md", StringComparison.Ordinal) && !Anchors(File.ReadAllText(full)).Contains(anchor))
            {
                problems.Add($"{name}:{line}: {target}: no heading with that anchor");
            }
        }

        return problems;
    }

    /// <summary>The link targets of a markdown text with the line each is on; code blocks and code spans are skipped.</summary>
    internal static IEnumerable<(int Line, string Target)> Links(string markdown) =>
        from line in MarkdownLines.Of(markdown.Split('\n'))
        where !line.InCode
        from Match link in Link().Matches(MarkdownLines.CodeSpan().Replace(line.Text, m => new string(' ', m.Length)))
        select (line.Number, link.Groups["target"].Value);

    /// <summary>The anchors of a page's headings, as GitHub makes them.</summary>
    internal static HashSet<string> Anchors(string markdown)
    {
        var anchors = new HashSet<string>(StringComparer.Ordinal);
        foreach (var line in MarkdownLines.Of(markdown.Split('\n')))
        {
            if (line.InCode || Heading().Match(line.Text) is not { Success: true } heading)
            {
                continue;
            }

            var slug = new StringBuilder();
            foreach (var c in heading.Groups["text"].Value.Trim().ToLowerInvariant())
            {
                if (char.IsLetterOrDigit(c) || c is '-' or '_')
                {
                    slug.Append(c);
                }
                else if (c == ' ')
                {
                    slug.Append('-');
                }
            }

            var anchor = slug.ToString();
            for (var n = 1; !anchors.Add(anchor); n++)
            {
                anchor = $"{slug}-{n}";
            }
        }

        return anchors;
    }

    [GeneratedRegex(@"!?\[(?:[^\[\]]|\[[^\]]*\])*\]\((?<target>[^)\s]+)(?:\s+""[^""]*"")?\)")]
    private static partial Regex Link();

    [GeneratedRegex(@"^#{1,6}\s+(?<text>.*?)\s*#*\s*$")]
    private static partial Regex Heading();

    [GeneratedRegex(@"^[a-zA-Z][a-zA-Z0-9+.-]*:")]
    private static partial Regex Scheme();
}
