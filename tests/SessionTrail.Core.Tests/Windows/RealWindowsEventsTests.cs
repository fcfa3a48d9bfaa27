using System.Globalization;
using System.Text.RegularExpressions;
using SessionTrail.Core.Records;
using SessionTrail.Core.Windows;

namespace SessionTrail.Core.Tests.Windows;

/// <summary>
/// Every event of the real captures (<see cref="WindowsSamples"/>: the repository's CC0 ones always, the
/// OTRF one when it is there) through the reader and the 4688/4689 mapping. Expected values come from an
/// independent regex scan of the raw text (<see cref="RawEvent"/>), not from the parser.
/// </summary>
public sealed partial class RealWindowsEventsTests
{
    [Theory, RepositoryCaptures, OtrfCapture]
    public void EveryEventIsReadWithoutError(string capture)
    {
        var file = WindowsSamples.PathOf(capture);
        var raw = RawEvent.Scan(file);
        var results = WindowsEventXmlReader.ReadFile(file).ToList();
        var errors = results.Where(r => r.Error is not null).Select(r => r.Error!.ToString()).ToList();
        Assert.True(errors.Count == 0, $"{file}: {string.Join("; ", errors.Take(5))}");
        Assert.Equal(raw.Count, results.Count);
        Assert.Equal(raw.Select(r => (long?)r.RecordId), results.Select(r => r.Event!.RecordId));
        Assert.Equal(raw.Select(r => r.Computer), results.Select(r => r.Event!.Computer));
    }

    [Fact]
    public void CountsAreTheOnesTheDataReadmeStates()
    {
        var libevtx = Map(WindowsSamples.LibevtxFile);
        Assert.Equal(1200, RawEvent.Scan(WindowsSamples.PathOf(WindowsSamples.LibevtxFile)).Count(e => e.EventId == 4688));
        Assert.Equal(1200, libevtx.Count(r => r.Record!.Type == ProcessEventType.Start));
        Assert.DoesNotContain(libevtx, r => r.Record!.Type == ProcessEventType.Exit);

        var compact = Map(WindowsSamples.CompactFile);
        var raw = RawEvent.Scan(WindowsSamples.PathOf(WindowsSamples.CompactFile));
        Assert.Equal((1200, 915), (raw.Count(e => e.EventId == 4688), raw.Count(e => e.EventId == 4689)));
        Assert.Equal((1200, 915), (compact.Count(r => r.Record!.Type == ProcessEventType.Start), compact.Count(r => r.Record!.Type == ProcessEventType.Exit)));
    }

    [OtrfFact]
    public void OtrfCountsAreTheOnesTheSharedDataReadmeStates()
    {
        var otrf = Map(WindowsSamples.OtrfFile);
        var raw = RawEvent.Scan(WindowsSamples.PathOf(WindowsSamples.OtrfFile));
        Assert.Equal((342, 270), (raw.Count(e => e.EventId == 4688), raw.Count(e => e.EventId == 4689)));
        Assert.Equal(342, otrf.Count(r => r.Record!.Type == ProcessEventType.Start));
        Assert.Equal(270, otrf.Count(r => r.Record!.Type == ProcessEventType.Exit));
    }

    [Theory, RepositoryCaptures, OtrfCapture]
    public void TheImportCallGivesOneRecordPerEventWithItsLine(string capture)
    {
        var file = WindowsSamples.PathOf(capture);
        var results = ProcessEventXmlImport.ReadFile(file).ToList();
        var lines = File.ReadAllLines(file);
        Assert.Equal(RawEvent.Scan(file).Count, results.Count(r => r.Record is not null));
        Assert.All(results, r => Assert.True(r.Record is not null && r.Origin == file && lines[r.Line - 1].TrimStart().StartsWith("<Event ", StringComparison.Ordinal), r.ToString()));
        Assert.Equal(results.Count, results.Select(r => r.Record!.Id).Distinct().Count());
    }

    [Theory, RepositoryCaptures, OtrfCapture]
    public void EveryProcessEventMapsFieldByFieldAsTheRawTextSays(string capture)
    {
        var file = WindowsSamples.PathOf(capture);
        var raw = RawEvent.Scan(file);
        var mapped = Map(file);
        Assert.Equal(raw.Count, mapped.Count);
        for (var i = 0; i < raw.Count; i++)
        {
            var e = raw[i];
            var r = mapped[i].Record!;
            var where = $"{file} event #{i} (record {e.RecordId})";
            Assert.True(e.Computer == r.Host, where);
            Assert.True(e.Time == r.Time, $"{where}: {e.Time:O} vs {r.Time:O}");
            Assert.True($"win:{e.Computer}:Security:{e.RecordId}" == r.Id, $"{where}: id {r.Id}");
            if (e.EventId == 4688)
            {
                Assert.Equal((ProcessEventType.Start, Hex(e.Data["NewProcessId"]), Hex(e.Data["ProcessId"])), (r.Type, (long)r.Pid, (long?)r.ParentPid));
                Assert.Equal(e.Data["NewProcessName"], r.Executable);
                Assert.Equal(NullIfEmpty(e.Data.GetValueOrDefault("CommandLine")), r.CommandLine);
                Assert.Null(r.ExitCode);
            }
            else
            {
                Assert.Equal((ProcessEventType.Exit, Hex(e.Data["ProcessId"])), (r.Type, (long)r.Pid));
                Assert.Equal(e.Data["ProcessName"], r.Executable);
                Assert.Equal(unchecked((int)Hex(e.Data["Status"])), r.ExitCode);
            }

            var target = e.Data.GetValueOrDefault("TargetUserSid");
            var useTarget = target is not null && target != "S-1-0-0";
            Assert.True((useTarget ? target : e.Data["SubjectUserSid"]) == r.User, where);
            Assert.True(Hex(e.Data[useTarget ? "TargetLogonId" : "SubjectLogonId"]) == r.AuditSession, where);
            Assert.True(useTarget == mapped[i].UsedTargetUser, where);
        }
    }

    [Fact]
    public void The4688FieldSetsAllMap()
    {
        var sets = WindowsSamples.XmlFiles()
            .SelectMany(RawEvent.Scan)
            .Where(e => e.EventId == 4688)
            .GroupBy(e => $"v{e.Version}:" + string.Join(",", e.Data.Keys.Order(StringComparer.Ordinal)))
            .ToDictionary(g => g.Key, g => g.Count());
        Assert.True(sets.Count == 3, "field sets: " + string.Join(" | ", sets.Keys));
        Assert.Contains(sets.Keys, k => k.StartsWith("v1:", StringComparison.Ordinal) && k.Split(',').Length == 9);
        Assert.Contains(sets.Keys, k => k.StartsWith("v2:", StringComparison.Ordinal) && k.Contains("ParentProcessName", StringComparison.Ordinal));
        Assert.Contains(sets.Keys, k => k.StartsWith("v2:", StringComparison.Ordinal) && !k.Contains("ParentProcessName", StringComparison.Ordinal));
        // And each set's every event mapped (the field-by-field test checks values; this one the coverage).
        var mappedStarts = WindowsSamples.XmlFiles().Sum(f => Map(f).Count(r => r.Record!.Type == ProcessEventType.Start));
        Assert.Equal(sets.Values.Sum(), mappedStarts);
    }

    [Fact]
    public void PidsInEveryPaddingAreParsedAsHex()
    {
        var widths = new Dictionary<string, int>();
        foreach (var e in WindowsSamples.XmlFiles().SelectMany(RawEvent.Scan))
        {
            var pid = e.Data.GetValueOrDefault("NewProcessId") ?? e.Data["ProcessId"];
            var form = (pid.Length - 2) switch { 16 => "padded16", 8 => "padded8", _ => "unpadded" };
            widths[form] = widths.GetValueOrDefault(form) + 1;
        }

        // The real data has libevtx's pointer-width padding and ToXml()'s unpadded form; 8-digit padding below.
        Assert.True(widths.Keys.Order().SequenceEqual(["padded16", "unpadded"]), string.Join(",", widths.Keys));
        Assert.True(SecurityProcessEvents.TryParseId("0x0000000000000ef4", out var a) && a == 0xef4);
        Assert.True(SecurityProcessEvents.TryParseId("0x00000ea0", out var b) && b == 0xea0);
        Assert.True(SecurityProcessEvents.TryParseId("0x3A8", out var c) && c == 0x3a8);
        Assert.True(SecurityProcessEvents.TryParseId("936", out var d) && d == 936);
        Assert.False(SecurityProcessEvents.TryParseId("0x", out _));
        Assert.False(SecurityProcessEvents.TryParseId("3a8", out _));
        Assert.False(SecurityProcessEvents.TryParseId("-1", out _));
    }

    [Theory, RepositoryCaptures, OtrfCapture]
    public void TargetUserIsUsedExactlyWhereItNamesSomeone(string capture)
    {
        var file = WindowsSamples.PathOf(capture);
        var text = File.ReadAllText(file);
        var expected = TargetSid().Matches(text).Count(m => m.Groups[1].Value != "S-1-0-0");
        var mapped = Map(file);
        Assert.True(expected > 0, file);
        Assert.Equal(expected, mapped.Count(r => r.UsedTargetUser));
        // Where the target was used the subject was SYSTEM, LOCAL SERVICE or another account, never the same user.
        Assert.All(mapped.Where(r => r.UsedTargetUser), r => Assert.StartsWith("S-1-5-", r.Record!.User, StringComparison.Ordinal));
    }

    [Theory, InlineData(WindowsSamples.CompactFile), OtrfCapture]
    public void PairingPerHostFindsStartsExitsOrphansAndPidReuse(string capture)
    {
        var records = Map(capture).Select(r => r.Record!).ToList();
        var raw = RawEvent.Scan(WindowsSamples.PathOf(capture));
        foreach (var host in raw.Select(e => e.Computer).Distinct())
        {
            Assert.Equal(raw.Count(e => e.Computer == host && e.EventId == 4688), records.Count(r => r.Host == host && r.Type == ProcessEventType.Start));
            Assert.Equal(raw.Count(e => e.Computer == host && e.EventId == 4689), records.Count(r => r.Host == host && r.Type == ProcessEventType.Exit));
        }

        // Pair in time order per host: an exit closes the open start of the same pid.
        var open = new Dictionary<(string, int), ProcessRecord>();
        int paired = 0, orphanExits = 0, reusedWhileOpen = 0, otherExecutable = 0;
        var startsPerPid = new Dictionary<(string, int), int>();
        foreach (var r in records.OrderBy(r => r.Time).ThenBy(r => r.Type))
        {
            var key = (r.Host, r.Pid);
            if (r.Type == ProcessEventType.Start)
            {
                startsPerPid[key] = startsPerPid.GetValueOrDefault(key) + 1;
                if (!open.TryAdd(key, r))
                {
                    reusedWhileOpen++; // the earlier one's exit was not captured
                    open[key] = r;
                }
            }
            else if (open.Remove(key, out var start))
            {
                paired++;
                Assert.True(start.Time <= r.Time);
                if (!string.Equals(start.Executable, r.Executable, StringComparison.OrdinalIgnoreCase))
                {
                    otherExecutable++; // the start of the exiting process was not captured; an older start of the pid was open
                }
            }
            else
            {
                orphanExits++;
            }
        }

        var reused = startsPerPid.Count(p => p.Value > 1);
        var figures = $"paired {paired} ({otherExecutable} with another executable), exits without start {orphanExits}, "
            + $"pids started twice on a host {reused}, starts replacing an open start {reusedWhileOpen}";
        Assert.True(paired > 0 && orphanExits > 0 && reused > 0 && otherExecutable < paired / 10, figures);
        Console.WriteLine(figures);
        Assert.Equal(raw.Count(e => e.EventId == 4689), paired + orphanExits);
    }

    private static List<SecurityProcessResult> Map(string file)
    {
        var path = Path.IsPathRooted(file) ? file : WindowsSamples.PathOf(file);
        return WindowsEventXmlReader.ReadFile(path)
            .Select(r => SecurityProcessEvents.Map(r.Event ?? throw new InvalidOperationException(r.Error!.ToString())))
            .Select(r => r.Record is null ? throw new InvalidOperationException(r.Error ?? r.Skipped) : r)
            .ToList();
    }

    private static long Hex(string value) => long.Parse(value.AsSpan(2), NumberStyles.HexNumber, CultureInfo.InvariantCulture);

    private static string? NullIfEmpty(string? value) => string.IsNullOrEmpty(value) ? null : value;

    [GeneratedRegex("""Name=['"]TargetUserSid['"]>([^<]*)<""")]
    private static partial Regex TargetSid();
}
