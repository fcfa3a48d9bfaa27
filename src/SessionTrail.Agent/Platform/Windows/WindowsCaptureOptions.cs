using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;

namespace SessionTrail.Agent.Platform.Windows;

/// <summary>Where the Windows process source gets process starts and exits from.</summary>
public enum WindowsCaptureSource
{
    /// <summary>Security log events 4688/4689 (needs the audit policy; see <c>agent --enable-audit-policy</c>). Resumes from a bookmark.</summary>
    EventLog,

    /// <summary>
    /// ETW provider Microsoft-Windows-Kernel-Process (no audit policy needed, but live only: what happens
    /// while the agent is not running is not recorded, and there is no command line in the events).
    /// </summary>
    Etw,
}

/// <summary>
/// Settings of the Windows process source (configuration section <see cref="SectionName"/>). The
/// filters are the seed solution's choices by default and apply to live capture only (<c>import</c>
/// keeps every event it is given). Every property documents its default.
/// </summary>
public sealed class WindowsCaptureOptions
{
    /// <summary>The configuration section: "WindowsProcesses".</summary>
    public const string SectionName = "WindowsProcesses";

    /// <summary>The seed's path exclusions: <c>-notlike '*wbem*'</c>, <c>'*System32*'</c>, <c>'*dcv*'</c>, <c>'*Amazon*'</c>.</summary>
    public static readonly IReadOnlyList<string> DefaultExcludePathsContaining = ["wbem", "System32", "dcv", "Amazon"];

    /// <summary>The seed's user filter: <c>-like '*S-1-5-21*'</c> (domain and local accounts; not SYSTEM, services, DWM/UMDF).</summary>
    public static readonly IReadOnlyList<string> DefaultUserSidPrefixes = ["S-1-5-21-"];

    /// <summary>Event log (4688/4689) or ETW. Default <see cref="WindowsCaptureSource.EventLog"/>.</summary>
    public WindowsCaptureSource Source { get; set; } = WindowsCaptureSource.EventLog;

    /// <summary>
    /// Processes whose executable path contains any of these (case-insensitive, like PowerShell's
    /// <c>-notlike '*x*'</c>) are not captured. Null (absent from the config) means
    /// <see cref="DefaultExcludePathsContaining"/>; an empty list captures every path. Note that
    /// "System32" also drops user programs such as cmd.exe, calc.exe, notepad.exe, mstsc.exe (docs/agent-configuration.md).
    /// </summary>
    public List<string>? ExcludePathsContaining { get; set; }

    /// <summary>
    /// Only processes whose user SID starts with one of these are captured (case-insensitive). Null
    /// means <see cref="DefaultUserSidPrefixes"/>; an empty list captures every user, SYSTEM included.
    /// </summary>
    public List<string>? UserSidPrefixes { get; set; }

    /// <summary>
    /// On the very first start (no bookmark yet) also read the events already in the Security log;
    /// default false: capture starts "now" (older events belong to before the agent was installed and
    /// can be brought in with <c>sessiontrail import</c> of an exported log).
    /// </summary>
    public bool ReadExistingOnFirstStart { get; set; }

    /// <summary>Most events between two bookmark saves. Default 500; between 1 and 100000.</summary>
    public int BookmarkEveryEvents { get; set; } = 500;

    /// <summary>Longest time between two bookmark saves while events arrive. Default 1 s; between 10 ms and 1 min.</summary>
    public TimeSpan BookmarkInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>The path exclusions in force (the default when not configured).</summary>
    public IReadOnlyList<string> EffectiveExcludePaths => ExcludePathsContaining ?? DefaultExcludePathsContaining;

    /// <summary>The user SID prefixes in force (the default when not configured).</summary>
    public IReadOnlyList<string> EffectiveUserSidPrefixes => UserSidPrefixes ?? DefaultUserSidPrefixes;

    /// <summary>Binds the options from the "WindowsProcesses" section (defaults for missing keys).</summary>
    public static WindowsCaptureOptions FromConfiguration(IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var options = new WindowsCaptureOptions();
        var section = configuration.GetSection(SectionName);
        section.Bind(options);
        // An empty JSON array binds as "absent"; the section child with an empty value says it was given.
        if (options.ExcludePathsContaining is null && section.GetSection(nameof(ExcludePathsContaining)).Value == "")
        {
            options.ExcludePathsContaining = [];
        }

        if (options.UserSidPrefixes is null && section.GetSection(nameof(UserSidPrefixes)).Value == "")
        {
            options.UserSidPrefixes = [];
        }

        return options;
    }

    /// <summary>Every problem, each naming the setting; empty when valid.</summary>
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        const string p = SectionName + ":";
        if (!Enum.IsDefined(Source))
        {
            errors.Add($"{p}{nameof(Source)} must be EventLog or Etw (was {(int)Source}).");
        }

        if (BookmarkEveryEvents is < 1 or > 100_000)
        {
            errors.Add($"{p}{nameof(BookmarkEveryEvents)} must be between 1 and 100000 (was {BookmarkEveryEvents}).");
        }

        if (BookmarkInterval < TimeSpan.FromMilliseconds(10) || BookmarkInterval > TimeSpan.FromMinutes(1))
        {
            errors.Add($"{p}{nameof(BookmarkInterval)} must be between 10 ms and 1 min (was {BookmarkInterval}).");
        }

        CheckList(errors, p + nameof(ExcludePathsContaining), EffectiveExcludePaths);
        CheckList(errors, p + nameof(UserSidPrefixes), EffectiveUserSidPrefixes);
        for (var i = 0; i < EffectiveUserSidPrefixes.Count; i++)
        {
            if (!EffectiveUserSidPrefixes[i].StartsWith("S-", StringComparison.OrdinalIgnoreCase))
            {
                errors.Add($"{p}{nameof(UserSidPrefixes)}:{i} must start with 'S-' (was '{EffectiveUserSidPrefixes[i]}').");
            }
        }

        return errors;
    }

    /// <summary>Throws <see cref="OptionsValidationException"/> listing every problem when the options are invalid.</summary>
    public void ThrowIfInvalid()
    {
        var errors = Validate();
        if (errors.Count > 0)
        {
            throw new OptionsValidationException(SectionName, typeof(WindowsCaptureOptions), errors);
        }
    }

    private static void CheckList(List<string> errors, string name, IReadOnlyList<string> values)
    {
        for (var i = 0; i < values.Count; i++)
        {
            if (string.IsNullOrWhiteSpace(values[i]))
            {
                errors.Add($"{name}:{i} must not be empty (an empty pattern would match everything).");
            }
        }
    }
}
