using System.Globalization;
using Microsoft.Extensions.Logging;
using SessionTrail.Agent.Config;
using SessionTrail.Agent.Ids;
using SessionTrail.Agent.Sinks;
using SessionTrail.Agent.Sources;

namespace SessionTrail.Agent.Sources.Journald;

/// <summary>Where a journald source starts when it has no bookmark ("InitialPosition").</summary>
public enum JournalInitialPosition
{
    /// <summary>"Bookmark" (default): after the saved cursor; without one, from now.</summary>
    Bookmark,

    /// <summary>"EOS": from now.</summary>
    EndOfStream,

    /// <summary>"0": every entry the journal holds.</summary>
    Beginning,
}

/// <summary>
/// The settings of a <c>"SourceType": "JournaldSource"</c> entry (SessionTrail's own source type; KinesisTap has
/// none): <c>Units</c> (list of systemd units, optional), <c>Identifiers</c> (list of SYSLOG_IDENTIFIERs,
/// optional), <c>Priority</c> (the highest priority number to ship, as a name emerg..debug or 0..7, optional),
/// <c>Directory</c> (a journal directory, for <c>journalctl --directory</c>; default the system journal),
/// <c>JournalctlPath</c> (default <c>journalctl</c>), <c>InitialPosition</c> (Bookmark | EOS | 0).
/// As in journalctl, several units (or several identifiers) are alternatives, while Units, Identifiers and
/// Priority together must all hold (an entry of one of the units, with one of the identifiers, at that priority or higher).
/// </summary>
public sealed record JournaldOptions
{
    public const string SourceType = "JournaldSource";

    private static readonly string[] Keys = ["Units", "Identifiers", "Priority", "Directory", "JournalctlPath", "InitialPosition"];

    public IReadOnlyList<string> Units { get; init; } = [];

    public IReadOnlyList<string> Identifiers { get; init; } = [];

    /// <summary>The highest priority (0 emerg .. 7 debug) shipped; null ships every priority.</summary>
    public int? MaxPriority { get; init; }

    public string? Directory { get; init; }

    public string JournalctlPath { get; init; } = "journalctl";

    public JournalInitialPosition InitialPosition { get; init; }

    /// <summary>Bookmark after this many entries, after <see cref="BookmarkInterval"/>, and when journalctl goes quiet.</summary>
    public int BookmarkEveryEntries { get; init; } = 500;

    public TimeSpan BookmarkInterval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>The wait before journalctl is started again after it exited.</summary>
    public TimeSpan RestartDelay { get; init; } = TimeSpan.FromSeconds(1);

    public static JournaldOptions FromConfig(ConfigNode config, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(config);
        SourceConfigKeys.WarnUnknown(config, SourceType, Keys, logger);
        int? priority = null;
        if (config.Optional("Priority") is { } text)
        {
            var p = JournalEntry.ParsePriority(text);
            priority = p >= 0 ? p : throw new LogConfigException(config.KeyPath("Priority"), $"must be a syslog priority (emerg, alert, crit, err, warning, notice, info, debug or 0-7), not '{text}'");
        }

        var units = config.List("Units", ',');
        var identifiers = config.List("Identifiers", ',');
        CheckNames(config, "Units", units);
        CheckNames(config, "Identifiers", identifiers);
        return new JournaldOptions
        {
            Units = units,
            Identifiers = identifiers,
            MaxPriority = priority,
            Directory = config.Optional("Directory"),
            JournalctlPath = config.Optional("JournalctlPath", "journalctl"),
            InitialPosition = config.OneOf("InitialPosition", "Bookmark", "Bookmark", "EOS", "0") switch
            {
                "EOS" => JournalInitialPosition.EndOfStream,
                "0" => JournalInitialPosition.Beginning,
                _ => JournalInitialPosition.Bookmark,
            },
        };
    }

    /// <summary>The journalctl arguments: JSON, follow, every field in full, the filters, and where to start.</summary>
    public IReadOnlyList<string> Arguments(string? afterCursor)
    {
        var args = new List<string> { "--output=json", "--follow", "--all", "--no-pager", "--quiet" };
        if (Directory is not null)
        {
            args.Add("--directory=" + Directory);
        }

        args.AddRange(Units.Select(u => "--unit=" + u));
        args.AddRange(Identifiers.Select(i => "--identifier=" + i));
        if (MaxPriority is { } p)
        {
            args.Add("--priority=0.." + p.ToString(CultureInfo.InvariantCulture));
        }

        if (afterCursor is not null)
        {
            args.Add("--after-cursor=" + afterCursor);
            args.Add("--lines=all");
        }
        else
        {
            args.Add(InitialPosition == JournalInitialPosition.Beginning ? "--lines=all" : "--lines=0");
        }

        return args;
    }

    private static void CheckNames(ConfigNode config, string key, IReadOnlyList<string> names)
    {
        foreach (var name in names)
        {
            if (name.Length == 0 || name.Any(c => char.IsControl(c)))
            {
                throw new LogConfigException(config.KeyPath(key), $"has an empty or unprintable name '{name}'");
            }
        }
    }
}
