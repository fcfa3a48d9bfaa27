using Microsoft.Extensions.Configuration;
using SessionTrail.Agent.Platform.Windows;
using SessionTrail.Core.Records;
using SessionTrail.Core.Windows;
using Xunit.Abstractions;

namespace SessionTrail.Agent.Tests.Platform.Windows;

/// <summary>The seed's filters as defaults, their configuration, and what they drop on the real captures.</summary>
public sealed class WindowsCaptureFilterTests(ITestOutputHelper output)
{
    private static ProcessRecord Start(string exe, string? sid) => new()
    {
        Time = DateTimeOffset.UnixEpoch, Host = "h", Type = ProcessEventType.Start, Pid = 4, Executable = exe, User = sid,
    };

    [Fact]
    public void DefaultsAreTheSeedsCaseInsensitive()
    {
        var filter = new WindowsCaptureFilter(new WindowsCaptureOptions());
        const string user = "S-1-5-21-1-2-3-1001";
        Assert.Null(filter.DropReason(Start(@"C:\Program Files\Mozilla Firefox\firefox.exe", user)));
        Assert.Equal("path contains System32", filter.DropReason(Start(@"C:\WINDOWS\system32\calc.exe", user)));
        Assert.Equal("path contains wbem", filter.DropReason(Start(@"C:\Windows\SysWOW64\WBEM\wmic.exe", user)));
        Assert.Equal("path contains dcv", filter.DropReason(Start(@"C:\Program Files\NICE\DCV\Server\bin\dcvagent.exe", user)));
        Assert.Equal("path contains Amazon", filter.DropReason(Start(@"C:\Program Files\amazon\Photon\Agent\PhotonAgent.exe", user)));
        Assert.Equal("user S-1-5-18", filter.DropReason(Start(@"C:\Program Files\x.exe", "S-1-5-18")));
        Assert.Equal("user (none)", filter.DropReason(Start(@"C:\Program Files\x.exe", null)));
        Assert.Null(filter.DropReason(new ProcessRecord { Time = DateTimeOffset.UnixEpoch, Host = "h", Type = ProcessEventType.Exit, Pid = 4, User = user }));
    }

    [Fact]
    public void ConfiguredListsReplaceTheDefaultsAndEmptyListsTurnThemOff()
    {
        var options = Bind("""{ "WindowsProcesses": { "ExcludePathsContaining": ["\\Temp\\"], "UserSidPrefixes": ["S-1-5-21-99-"], "Source": "Etw" } }""");
        Assert.Equal(["\\Temp\\"], options.EffectiveExcludePaths);
        Assert.Equal(WindowsCaptureSource.Etw, options.Source);
        var filter = new WindowsCaptureFilter(options);
        Assert.Null(filter.DropReason(Start(@"C:\Windows\System32\calc.exe", "S-1-5-21-99-1001")));
        Assert.NotNull(filter.DropReason(Start(@"C:\Windows\System32\calc.exe", "S-1-5-21-98-1001")));

        var off = Bind("""{ "WindowsProcesses": { "ExcludePathsContaining": [], "UserSidPrefixes": [] } }""");
        Assert.Empty(off.EffectiveExcludePaths);
        Assert.Empty(off.EffectiveUserSidPrefixes);
        Assert.Null(new WindowsCaptureFilter(off).DropReason(Start(@"C:\Windows\System32\wbem\WmiPrvSE.exe", "S-1-5-18")));

        var defaults = Bind("{}");
        Assert.Equal(WindowsCaptureOptions.DefaultExcludePathsContaining, defaults.EffectiveExcludePaths);
        Assert.Empty(defaults.Validate());
    }

    [Fact]
    public void BadSettingsAreNamed()
    {
        var options = Bind("""{ "WindowsProcesses": { "ExcludePathsContaining": ["x", " "], "UserSidPrefixes": ["1-5-21"], "BookmarkEveryEvents": 0 } }""");
        Assert.Equal(
            [
                "WindowsProcesses:BookmarkEveryEvents must be between 1 and 100000 (was 0).",
                "WindowsProcesses:ExcludePathsContaining:1 must not be empty (an empty pattern would match everything).",
                "WindowsProcesses:UserSidPrefixes:0 must start with 'S-' (was '1-5-21').",
            ],
            options.Validate());
    }

    /// <summary>
    /// The figures of docs/agent-configuration.md "Windows capture filters": what each default rule drops on its own, and what
    /// all of them together keep, over real 4688 events and 4689 events: the repository's CC0-derived capture
    /// (real starts, made-up exits) always, and the CC0 and OTRF captures together when OTRF is there (the table in docs/agent-configuration.md). The expected numbers are counted from the raw text
    /// (regex scan); the filter must agree with them.
    /// </summary>
    [Fact]
    public void WhatEachDefaultDropsOnTheRealCaptures() => WhatEachDefaultDrops([WindowsSamples.CompactFile], ["cmd.exe", "wevtutil.exe"]);

    /// <summary>The figures of docs/agent-configuration.md "Windows capture filters": the CC0 capture and the OTRF one together.</summary>
    [OtrfFact]
    public void WhatEachDefaultDropsOnTheRealCapturesWithOtrf() => WhatEachDefaultDrops([WindowsSamples.LibevtxFile, WindowsSamples.OtrfFile], ["cmd.exe", "calc.exe"]);

    /// <param name="captures">The captures to count over.</param>
    /// <param name="selfStarted">Programs users start themselves that these captures show System32 dropping.</param>
    private void WhatEachDefaultDrops(string[] captures, string[] selfStarted)
    {
        var files = captures.Select(WindowsSamples.PathOf).ToList();
        var records = files.SelectMany(WindowsEventXmlReader.ReadFile)
            .Select(r => SecurityProcessEvents.Map(r.Event!).Record!).ToList();
        var raw = files.SelectMany(RawEvent.Scan).ToList();
        Assert.Equal(raw.Count, records.Count);

        string RawUser(RawEvent e) => e.Data.GetValueOrDefault("TargetUserSid") is { } t && t != "S-1-0-0" ? t : e.Data["SubjectUserSid"];
        string RawExe(RawEvent e) => e.Data.GetValueOrDefault("NewProcessName") ?? e.Data["ProcessName"];

        output.WriteLine($"| rule (alone) | 4688 dropped of {raw.Count(e => e.EventId == 4688)} | 4689 dropped of {raw.Count(e => e.EventId == 4689)} | most dropped user programs (S-1-5-21 users) |");
        output.WriteLine("|---|---|---|---|");
        var rules = new List<(string Name, WindowsCaptureOptions Options, Func<RawEvent, bool> RawDrops)>
        {
            ("user SID not S-1-5-21-*", new() { ExcludePathsContaining = [] }, e => !RawUser(e).StartsWith("S-1-5-21-", StringComparison.Ordinal)),
        };
        foreach (var pattern in WindowsCaptureOptions.DefaultExcludePathsContaining)
        {
            rules.Add(($"path contains '{pattern}'", new() { ExcludePathsContaining = [pattern], UserSidPrefixes = [] },
                e => RawExe(e).ToUpperInvariant().Contains(pattern.ToUpperInvariant(), StringComparison.Ordinal)));
        }

        var single = rules.Select(r => r.RawDrops).ToList();
        rules.Add(("all defaults together", new(), e => single.Any(drops => drops(e))));
        foreach (var (name, options, rawDrops) in rules)
        {
            var filter = new WindowsCaptureFilter(options);
            var dropped = records.Where(r => !filter.Keep(r)).ToList();
            Assert.Equal(raw.Count(e => e.EventId == 4688 && rawDrops(e)), dropped.Count(r => r.Type == ProcessEventType.Start));
            Assert.Equal(raw.Count(e => e.EventId == 4689 && rawDrops(e)), dropped.Count(r => r.Type == ProcessEventType.Exit));
            var userPrograms = dropped.Where(r => r.Type == ProcessEventType.Start && r.User!.StartsWith("S-1-5-21-", StringComparison.Ordinal))
                .GroupBy(r => Path.GetFileName(r.Executable!.Replace('\\', '/')).ToLowerInvariant())
                .OrderByDescending(g => g.Count()).ThenBy(g => g.Key, StringComparer.Ordinal).Take(8)
                .Select(g => $"{g.Key} {g.Count()}");
            output.WriteLine($"| {name} | {dropped.Count(r => r.Type == ProcessEventType.Start)} | {dropped.Count(r => r.Type == ProcessEventType.Exit)} | {string.Join(", ", userPrograms)} |");
        }

        // The cost the issue names: System32 drops programs users run themselves.
        var system32 = new WindowsCaptureFilter(new() { ExcludePathsContaining = ["System32"], UserSidPrefixes = [] });
        var droppedUserExes = records.Where(r => r.Type == ProcessEventType.Start && r.User!.StartsWith("S-1-5-21-", StringComparison.Ordinal) && !system32.Keep(r))
            .Select(r => Path.GetFileName(r.Executable!.Replace('\\', '/')).ToLowerInvariant()).ToHashSet();
        Assert.All(selfStarted, p => Assert.Contains(p, droppedUserExes));
        var kept = records.Count(new WindowsCaptureFilter(new()).Keep);
        output.WriteLine($"kept by all defaults: {kept} of {records.Count} events");
    }

    private static WindowsCaptureOptions Bind(string json)
    {
        var configuration = new ConfigurationBuilder().AddJsonStream(new MemoryStream(System.Text.Encoding.UTF8.GetBytes(json))).Build();
        return WindowsCaptureOptions.FromConfiguration(configuration);
    }
}
