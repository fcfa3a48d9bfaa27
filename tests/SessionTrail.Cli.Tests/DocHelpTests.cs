using System.CommandLine;
using System.Text.RegularExpressions;

namespace SessionTrail.Cli.Tests;

/// <summary>
/// What the documents show against what `--help` shows: every command and every `--flag` of every
/// `sessiontrail …` line in README.md, docs/*.md and the systemd units (code blocks and inline code, as
/// <see cref="ReadmeCommandLineTests"/> finds them) is listed by the help of the command it belongs to — the
/// parent's "Commands:" for a command, the command's "Options:" for a flag. The help is the executable's own
/// (the same command tree, asked with `--help`), so an option hidden from help, or a command the documents show
/// under the wrong parent, fails here even where the parser would accept it.
/// </summary>
public sealed partial class DocHelpTests
{
    [Theory]
    [MemberData(nameof(ReadmeCommandLineTests.DocumentNames), MemberType = typeof(ReadmeCommandLineTests))]
    public void EveryCommandAndFlagTheDocumentShowsIsInTheHelp(string document)
    {
        var root = CliCommands.Create();
        var help = new Dictionary<Command, string>();
        var problems = new List<string>();
        foreach (var usage in ReadmeCommandLineTests.UsagesIn(Path.Combine(ReadmeCommandLineTests.RepoRoot(), document)))
        {
            var shown = new List<(Command Command, string Word)>();
            ReadmeCommandLineTests.Check(root, usage.Text, shown);
            foreach (var (command, word) in shown)
            {
                if (!help.TryGetValue(command, out var text))
                {
                    text = help[command] = Help(root, command);
                }

                if (!Lists(text, word))
                {
                    problems.Add($"{usage}\n    '{word}' is not in the help of '{Name(root, command)}'");
                }
            }
        }

        Assert.True(problems.Count == 0, $"{problems.Count} problems:\n" + string.Join('\n', problems));
    }

    /// <summary>Flags of other programs that the documents show in code: journalctl, the benchmarks, tests/athena's run-query.mjs, dotnet, systemctl, xrandr, setpriv.</summary>
    private static readonly Dictionary<string, string> OtherProgramsFlags = new(StringComparer.Ordinal)
    {
        ["--after-cursor"] = "journalctl", ["--all"] = "journalctl", ["--directory"] = "journalctl", ["--follow"] = "journalctl",
        ["--lines"] = "journalctl", ["--no-pager"] = "journalctl", ["--output"] = "journalctl",
        ["--also-10m"] = "bench", ["--backends"] = "bench", ["--behind"] = "bench", ["--no-duckdb"] = "bench", ["--chunk"] = "bench", ["--index-after"] = "bench", ["--content"] = "bench", ["--direct"] = "bench", ["--drop-indexes"] = "bench", ["--keep"] = "bench", ["--late-exits"] = "bench",
        ["--mib"] = "bench", ["--only"] = "bench", ["--parse-only"] = "bench", ["--profile"] = "bench", ["--rates"] = "bench",
        ["--records"] = "bench", ["--repeat"] = "bench", ["--runs"] = "bench", ["--seconds"] = "bench", ["--settle"] = "bench",
        ["--rounds"] = "bench", ["--skip-server"] = "bench",
        ["--ddl"] = "run-query.mjs", ["--query"] = "run-query.mjs", ["--root"] = "run-query.mjs", ["--set"] = "run-query.mjs",
        ["--filter"] = "dotnet test", ["--logger"] = "dotnet test", ["--no-build"] = "dotnet test", ["--project"] = "dotnet run",
        ["--now"] = "systemctl", ["--current"] = "xrandr", ["--pdeathsig"] = "setpriv",
    };

    /// <summary>
    /// Also a flag shown alone (`--include-open`, `--group NAME` in prose) or on a line that does not start with the
    /// program's name: it must be an option some command's help lists, or a flag of another program named above.
    /// </summary>
    [Fact]
    public void EveryFlagTheDocumentsShowInCodeIsInSomeCommandsHelpOrIsAnotherProgramsFlag()
    {
        var root = CliCommands.Create();
        var known = new HashSet<string>(StringComparer.Ordinal);
        foreach (var command in Commands(root))
        {
            known.UnionWith(FlagEntry().Matches(Help(root, command)).Select(m => m.Groups["flag"].Value));
        }

        Assert.Contains("--include-open", known);
        var problems = ReadmeCommandLineTests.Documents().Where(d => d.EndsWith(".md", StringComparison.Ordinal))
            .SelectMany(d => FlagsInCode(d))
            .Where(f => !known.Contains(f.Flag) && !OtherProgramsFlags.ContainsKey(f.Flag))
            .Select(f => $"{f.Where}: '{f.Flag}' is in no command's help and not a flag of another program the test knows")
            .ToList();
        Assert.True(problems.Count == 0, $"{problems.Count} problems:\n" + string.Join('\n', problems));
    }

    /// <summary>Every `--flag` in the code blocks and inline code spans of a markdown file, with where it is.</summary>
    internal static IEnumerable<(string Where, string Flag)> FlagsInCode(string path)
    {
        var name = Path.GetRelativePath(ReadmeCommandLineTests.RepoRoot(), path);
        foreach (var line in MarkdownLines.Of(File.ReadAllLines(path)))
        {
            var code = line.InCode ? [line.Text] : MarkdownLines.CodeSpan().Matches(line.Text).Select(m => m.Value);
            foreach (var flag in code.SelectMany(c => Flag().Matches(c)))
            {
                yield return ($"{name}:{line.Number}", flag.Value);
            }
        }
    }

    private static IEnumerable<Command> Commands(Command command) => command.Subcommands.SelectMany(Commands).Prepend(command);

    [Fact]
    public void TheCheckFailsOnAFlagOrCommandTheHelpDoesNotList()
    {
        var root = new RootCommand("test");
        var shownOption = new Option<string>("--shown");
        var hiddenOption = new Option<string>("--secret") { Hidden = true };
        var sub = new Command("sub", "a command that mentions --secret and hidden in its description") { shownOption, hiddenOption };
        sub.Add(new Command("hidden", "") { Hidden = true });
        root.Add(sub);

        var subHelp = Help(root, sub);
        Assert.True(Lists(subHelp, "--shown"), subHelp);
        Assert.False(Lists(subHelp, "--secret"), subHelp); // named only in the description, hidden from the options
        Assert.False(Lists(subHelp, "hidden"), subHelp);
        Assert.True(Lists(Help(root, root), "sub"));
        Assert.False(Lists(Help(root, root), "--shown"));
    }

    /// <summary>The `--help` output of <paramref name="command"/>, as the executable prints it.</summary>
    internal static string Help(RootCommand root, Command command)
    {
        var output = new StringWriter();
        var exit = root.Parse([.. PathOf(root, command)!.Skip(1).Select(c => c.Name), "--help"]).Invoke(new InvocationConfiguration { Output = output, Error = output });
        Assert.Equal(0, exit);
        return output.ToString();
    }

    /// <summary>Whether the help lists <paramref name="word"/> as an entry (a command or an option at the start of a line, aliases included), not only mentions it in a description.</summary>
    internal static bool Lists(string help, string word) =>
        Regex.IsMatch(help, $@"(?m)^ {{2}}(?:\S+, )*{Regex.Escape(word)}(?:,|\s|$)");

    private static List<Command>? PathOf(Command from, Command target)
    {
        if (ReferenceEquals(from, target))
        {
            return [from];
        }

        foreach (var sub in from.Subcommands)
        {
            if (PathOf(sub, target) is { } path)
            {
                return [from, .. path];
            }
        }

        return null;
    }

    private static string Name(RootCommand root, Command command) =>
        "sessiontrail" + string.Concat(PathOf(root, command)!.Skip(1).Select(c => " " + c.Name));

    [GeneratedRegex(@"(?<![\w-])--[a-z][a-z0-9-]*")]
    private static partial Regex Flag();

    /// <summary>An option entry of a help text: at the start of a line, after its aliases.</summary>
    [GeneratedRegex(@"(?m)^ {2}(?:\S+, )*(?<flag>--[a-z][a-z0-9-]*)")]
    private static partial Regex FlagEntry();
}
