using System.CommandLine;
using System.CommandLine.Completions;
using System.Text.RegularExpressions;

namespace SessionTrail.Cli.Tests;

/// <summary>
/// The README (and docs/, the systemd units) against the real command tree: every `sessiontrail …` command line in a
/// code block or an inline code span (also `agent status --json` without the program name) names commands that exist,
/// options that exist on that command, and, where an option or argument takes one of a fixed set of values
/// (<c>--format table|csv|json</c>, <c>report top-apps</c>), values it accepts.
/// </summary>
public sealed partial class ReadmeCommandLineTests
{
    /// <summary>One <c>sessiontrail …</c> command line of a document, with where it is.</summary>
    public sealed record Usage(string File, int Line, string Text)
    {
        public override string ToString() => $"{File}:{Line}: sessiontrail {Text}";
    }

    /// <summary>The repository's root: the folder above the test's output that holds SessionTrail.slnx.</summary>
    internal static string RepoRoot() => Repository.Root;

    /// <summary>The documents whose command lines are checked: README.md, docs/*.md and the systemd units of deploy/.</summary>
    public static IEnumerable<string> Documents()
    {
        var root = RepoRoot();
        yield return Path.Combine(root, "README.md");
        var docs = Directory.GetFiles(Path.Combine(root, "docs"), "*.md").Concat(Directory.GetFiles(Path.Combine(root, "deploy", "systemd"), "*.service"));
        foreach (var doc in docs.Order(StringComparer.Ordinal))
        {
            yield return doc;
        }
    }

    /// <summary>Every `sessiontrail ARGS` of <paramref name="path"/>: in code blocks line by line, in prose from inline code spans.</summary>
    public static IReadOnlyList<Usage> UsagesIn(string path)
    {
        var name = Path.GetRelativePath(RepoRoot(), path);
        var lines = File.ReadAllLines(path);
        var found = new List<Usage>();
        var inCode = !path.EndsWith(".md", StringComparison.Ordinal); // a unit file is all code
        var continues = false;
        var paragraph = new List<(int Line, string Text)>();
        void Prose()
        {
            // Inline spans may wrap: the paragraph is read as one line (reported at the span's first line).
            var text = string.Join(' ', paragraph.Select(p => p.Text));
            foreach (Match span in InlineCode().Matches(text))
            {
                var line = paragraph[0].Line + text[..span.Index].Count(c => c == '\u0001');
                var code = span.Groups[1].Value.Replace("\u0001", "", StringComparison.Ordinal).Trim();
                found.AddRange(Commands(code).Select(c => new Usage(name, line, c)));
                if (ShortCommand().Match(code) is { Success: true } shortForm && IsCommandLike(shortForm))
                {
                    found.Add(new Usage(name, line, code)); // `agent status --json`: the program name left out
                }
            }

            paragraph.Clear();
        }

        for (var i = 0; i < lines.Length; i++)
        {
            if (lines[i].TrimStart().StartsWith("```", StringComparison.Ordinal) && path.EndsWith(".md", StringComparison.Ordinal))
            {
                Prose();
                inCode = !inCode;
                continue;
            }

            if (inCode)
            {
                var before = found.Count;
                found.AddRange(Commands(lines[i]).Select(c => new Usage(name, i + 1, c)));
                if (found.Count == before && continues && Continuation().IsMatch(lines[i]))
                {
                    found[^1] = found[^1] with { Text = found[^1].Text + " " + lines[i].Trim() }; // options wrapped onto the next line
                    continue;
                }

                continues = found.Count > before;
            }
            else if (lines[i].Trim().Length == 0)
            {
                Prose();
            }
            else
            {
                paragraph.Add((i + 1, lines[i] + '\u0001'));
            }
        }

        Prose();
        return found;
    }

    private static readonly RootCommand Tree = CliCommands.Create();

    private static readonly HashSet<string> RootCommands = [.. Tree.Subcommands.Select(c => c.Name)];

    /// <summary>A span such as `agent status --json` or `export --format athena-csv`: a command, then a flag or one of its subcommands.</summary>
    private static bool IsCommandLike(Match span)
    {
        if (!RootCommands.Contains(span.Groups["command"].Value))
        {
            return false;
        }

        var next = span.Groups["next"].Value;
        return next.StartsWith("--", StringComparison.Ordinal)
            || Tree.Subcommands.Single(c => c.Name == span.Groups["command"].Value).Subcommands.Any(c => c.Name == next);
    }

    /// <summary>What follows each `sessiontrail` (or `sessiontrail.exe`) word of <paramref name="text"/> up to the next one or a comment.</summary>
    private static IEnumerable<string> Commands(string text)
    {
        text = text.Replace("\u0001", "", StringComparison.Ordinal);
        var starts = Invocation().Matches(text).ToList();
        for (var i = 0; i < starts.Count; i++)
        {
            var from = starts[i].Index + starts[i].Length;
            var rest = text[from..(i + 1 < starts.Count ? starts[i + 1].Index : text.Length)];
            var comment = rest.IndexOf(" #", StringComparison.Ordinal);
            rest = (comment >= 0 ? rest[..comment] : rest).Trim();

            // A path ending in sessiontrail is the program only when a command follows (not `--data /var/lib/sessiontrail --server`).
            var inPath = starts[i].Index > 0 && text[starts[i].Index - 1] is '/' or '\\';
            if (rest.Length > 0 && (!inPath || RootCommands.Contains(rest.Split(' ')[0]) || rest.StartsWith("--help", StringComparison.Ordinal)))
            {
                yield return rest;
            }
        }
    }

    public static TheoryData<string> DocumentNames()
    {
        var data = new TheoryData<string>();
        foreach (var doc in Documents())
        {
            data.Add(Path.GetRelativePath(RepoRoot(), doc));
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(DocumentNames))]
    public void EveryCommandLineOfTheDocumentNamesCommandsOptionsAndValuesTheProgramHas(string document)
    {
        var root = CliCommands.Create();
        var usages = UsagesIn(Path.Combine(RepoRoot(), document));
        var problems = usages.SelectMany(u => Check(root, u.Text).Select(p => $"{u}\n    {p}")).ToList();
        Assert.True(problems.Count == 0, $"{problems.Count} problems:\n" + string.Join('\n', problems));
        if (document == "README.md")
        {
            Assert.True(usages.Count >= 5, $"only {usages.Count} command lines found in the README: is the extraction broken?");
        }
    }

    [Fact]
    public void TheDocumentsTogetherShowTheCommandLinesTheReadmeOnceHeld()
    {
        // The README's reference moved to docs/; what the extraction finds there must not silently shrink to nothing.
        var usages = Documents().Sum(d => UsagesIn(d).Count);
        Assert.True(usages >= 120, $"only {usages} command lines found in README.md, docs/*.md and deploy/systemd: is the extraction broken?");
    }

    [Fact]
    public void TheCheckFindsWhatIsWrong()
    {
        var root = CliCommands.Create();
        Assert.Empty(Check(root, "agent status --json [--data DIR]"));
        Assert.Empty(Check(root, "user add NAME --role R [--password-stdin] | passwd NAME | role NAME R | list | remove NAME | disable|enable NAME  [--data DIR]"));
        Assert.Empty(Check(root, "report  NAME [--from D] [--by day|month] [--format table|csv|json] [--data DIR | --server URL --token T]"));
        Assert.Empty(Check(root, "up      [--data DIR] [--urls URL]                 server + local agent, embedded storage"));
        Assert.Equal(["'--format' is not an option of 'sessiontrail agent status' (it has: --data, --json, --help)"], Check(root, "agent status --format json"));
        Assert.Equal(["'lst' is not a command of 'sessiontrail recordings' (it has: list, verify, export, hold)"], Check(root, "recordings lst SESSION"));
        Assert.Equal(["'--format' takes Csv|Json|Table on 'sessiontrail report', not 'yaml'"], Check(root, "report top-apps --format yaml"));
        Assert.Equal(["'top-ap' is not a value of NAME of 'sessiontrail report' (concurrency|inactive|last-used|launches|runs|sessions|top-apps)"], Check(root, "report top-ap"));
        Assert.Equal(["'--all' is not an option of 'sessiontrail user passwd' (it has: --password-stdin, --data, --help)"], Check(root, "user list | passwd NAME --all"));
    }

    /// <summary>
    /// What is wrong with `sessiontrail <paramref name="args"/>` for <paramref name="root"/>; empty when all is right.
    /// <paramref name="shown"/>, when given, collects every subcommand and option the line names (also one that does not
    /// exist), with the command whose help should list it (the parent for a subcommand, the command for an option).
    /// </summary>
    internal static List<string> Check(RootCommand root, string args, List<(Command Command, string Word)>? shown = null)
    {
        var problems = new List<string>();
        var tokens = Tokens(args);
        var path = new List<Command> { root };
        var argumentIndex = 0;
        for (var i = 0; i < tokens.Count; i++)
        {
            var (word, afterGap) = tokens[i];
            var command = path[^1];
            var bare = word.Trim('[', ']', '(', ')', '.', ',', '`', '"', '\'');
            if (bare.Length == 0 || word == "...")
            {
                continue;
            }

            if (word.EndsWith(':') || !char.IsAsciiLetterOrDigit(bare[0]) && bare[0] != '-' && word != "|")
            {
                break; // output quoted in the text ("sessiontrail agent: …"), a table border, prose
            }

            if (word == "|")
            {
                // Alternatives: a sibling command ("list | revoke ID") or the same command again ("user passwd … | user role …").
                if (i + 1 < tokens.Count && Parent(path) is { } parent && Sub(parent, tokens[i + 1].Word) is not null)
                {
                    path.RemoveAt(path.Count - 1);
                }
                else if (i + 1 < tokens.Count && Sub(root, tokens[i + 1].Word) is not null)
                {
                    path.RemoveRange(1, path.Count - 1);
                }
                else
                {
                    break; // piped into another program
                }

                argumentIndex = 0;
                continue;
            }

            if (bare.StartsWith("--", StringComparison.Ordinal))
            {
                var name = bare.Split('=')[0];
                var option = Options(path).FirstOrDefault(o => o.Name == name || o.Aliases.Contains(name));
                shown?.Add((path[^1], name));
                if (option is null)
                {
                    problems.Add($"'{name}' is not an option of '{Name(path)}' (it has: {string.Join(", ", Options(path).Select(o => o.Name))})");
                    continue;
                }

                if (option.ValueType != typeof(bool) && !bare.Contains('=', StringComparison.Ordinal) && i + 1 < tokens.Count && !tokens[i + 1].Word.TrimStart('[', '(').StartsWith('-'))
                {
                    i++;
                    CheckValue(Completions(option.GetCompletions(CompletionContext.Empty)), tokens[i].Word, $"'{option.Name}' takes {{0}} on '{Name(path)}', not '{{1}}'", problems);
                }

                continue;
            }

            if (bare.StartsWith('-'))
            {
                continue; // a short alias or a negative number: not checked
            }

            var alternatives = bare.Split('|');
            if (command.Subcommands.Count > 0 && alternatives.All(a => Sub(command, a) is not null))
            {
                shown?.AddRange(alternatives.Select(a => (command, a.Trim('[', ']', '(', ')'))));
                path.Add(Sub(command, alternatives[0])!);
                argumentIndex = 0;
                continue;
            }

            if (command.Subcommands.Count > 0 && command.Arguments.Count == 0 && !afterGap)
            {
                shown?.Add((command, bare));
                problems.Add($"'{bare}' is not a command of '{Name(path)}' (it has: {string.Join(", ", command.Subcommands.Select(c => c.Name))})");
                break;
            }

            // A value: of the command's next argument, or — after a gap of spaces, in lower case — a description (the end).
            if (argumentIndex >= command.Arguments.Count || (afterGap && char.IsLower(bare[0]) && !IsValueOf(command.Arguments[argumentIndex], bare)) || command.Subcommands.Count > 0 && command.Arguments.Count == 0)
            {
                break;
            }

            var argument = command.Arguments[argumentIndex];
            CheckValue(Completions(argument.GetCompletions(CompletionContext.Empty)), word, $"'{{1}}' is not a value of {argument.HelpName ?? argument.Name} of '{Name(path)}' ({{0}})", problems);
            if (argument.Arity.MaximumNumberOfValues <= 1)
            {
                argumentIndex++;
            }
        }

        return problems;
    }

    private static bool IsValueOf(Argument argument, string word)
    {
        var values = Completions(argument.GetCompletions(CompletionContext.Empty));
        return values.Count == 0 || word.Split('|').All(v => values.Contains(v, StringComparer.OrdinalIgnoreCase));
    }

    /// <summary>Checks a value against the fixed choices (when the option or argument has any); placeholders (DIR, N, …) are not values.</summary>
    private static void CheckValue(List<string> choices, string word, string message, List<string> problems)
    {
        var value = word.Trim('[', ']', '(', ')', ',', '`', '"', '\'');
        if (choices.Count == 0 || value.Length == 0 || !ChoiceWords().IsMatch(value))
        {
            return;
        }

        if (value.Split('|').Any(v => !choices.Contains(v, StringComparer.OrdinalIgnoreCase)))
        {
            problems.Add(string.Format(System.Globalization.CultureInfo.InvariantCulture, message, string.Join('|', choices), value));
        }
    }

    private static List<string> Completions(IEnumerable<CompletionItem> items) => [.. items.Select(c => c.Label).Where(l => l.Length > 0).Distinct(StringComparer.OrdinalIgnoreCase)];

    private static Command? Parent(List<Command> path) => path.Count >= 2 ? path[^2] : null;

    private static Command? Sub(Command command, string word) =>
        command.Subcommands.FirstOrDefault(c => c.Name == word.Trim('[', ']', '(', ')') || c.Aliases.Contains(word.Trim('[', ']', '(', ')')));

    private static IEnumerable<Option> Options(List<Command> path) =>
        path[^1].Options.Concat(path.Take(path.Count - 1).SelectMany(c => c.Options.Where(o => o.Recursive)));

    private static string Name(List<Command> path) => "sessiontrail" + string.Concat(path.Skip(1).Select(c => " " + c.Name));

    /// <summary>The words of a command line, each with whether two or more spaces came before it (a table's description column).</summary>
    private static List<(string Word, bool AfterGap)> Tokens(string args) =>
        [.. Word().Matches(args).Select(m => (m.Groups[2].Value, m.Groups[1].Length >= 2))];

    [GeneratedRegex(@"(\s*)(\S+)")]
    private static partial Regex Word();

    [GeneratedRegex(@"^[a-z0-9][a-z0-9|-]*$")]
    private static partial Regex ChoiceWords();

    [GeneratedRegex(@"^\s+[\[(]?--")]
    private static partial Regex Continuation();

    [GeneratedRegex(@"^(?<command>[a-z]+) (?<next>\S+)")]
    private static partial Regex ShortCommand();

    [GeneratedRegex(@"`([^`]+)`")]
    private static partial Regex InlineCode();

    [GeneratedRegex(@"(?:^|(?<=[\s/\\'""(]))sessiontrail(?:\.exe)?'?(?=\s)")]
    private static partial Regex Invocation();
}
