using System.Text;
using SessionTrail.Core.Records;
using SessionTrail.Core.Windows;

namespace SessionTrail.Core.Tests.Windows;

/// <summary>The shapes event XML comes in, and what the reader says about broken events.</summary>
public sealed class WindowsEventXmlReaderTests
{
    // As EventRecord.ToXml() gives it: one line, single quotes, unpadded hex.
    private const string Compact =
        "<Event xmlns='http://schemas.microsoft.com/win/2004/08/events/event'><System><Provider Name='Microsoft-Windows-Security-Auditing' Guid='{54849625-5478-4994-a5ba-3e3b0328c30d}'/><EventID>4688</EventID><Version>2</Version><Level>0</Level><Task>13312</Task><Opcode>0</Opcode><Keywords>0x8020000000000000</Keywords><TimeCreated SystemTime='2026-11-02T09:15:01.1234567Z'/><EventRecordID>77</EventRecordID><Correlation/><Execution ProcessID='4' ThreadID='120'/><Channel>Security</Channel><Computer>EC2AMAZ-1.example</Computer><Security/></System><EventData><Data Name='SubjectUserSid'>S-1-5-18</Data><Data Name='SubjectUserName'>EC2AMAZ-1$</Data><Data Name='SubjectDomainName'>WORKGROUP</Data><Data Name='SubjectLogonId'>0x3e7</Data><Data Name='NewProcessId'>0x1a2c</Data><Data Name='NewProcessName'>C:\\Program Files\\Notepad++\\notepad++.exe</Data><Data Name='TokenElevationType'>%%1938</Data><Data Name='ProcessId'>0x00000ea0</Data><Data Name='CommandLine'>\"notepad++.exe\" a&amp;b.txt</Data><Data Name='TargetUserSid'>S-1-5-21-1-2-3-1001</Data><Data Name='TargetUserName'>as2-user</Data><Data Name='TargetDomainName'>EC2AMAZ-1</Data><Data Name='TargetLogonId'>0x2b4c1f</Data><Data Name='ParentProcessName'>C:\\Windows\\explorer.exe</Data><Data Name='MandatoryLabel'>S-1-16-8192</Data></EventData></Event>";

    [Fact]
    public void OneCompactEventStringParsesAndMaps()
    {
        var result = WindowsEventXmlReader.Parse(Compact, "Security#77");
        var e = Assert.IsType<WindowsEvent>(result.Event);
        Assert.Equal(("Microsoft-Windows-Security-Auditing", 4688, 2, 77L, "Security"), (e.Provider, e.EventId, e.Version, e.RecordId!.Value, e.Channel));
        Assert.Equal(new DateTimeOffset(2026, 11, 2, 9, 15, 1, TimeSpan.Zero).AddTicks(1234567), e.TimeCreated);
        Assert.Equal("Security#77:1", e.Origin);

        var mapped = SecurityProcessEvents.Map(e);
        var r = Assert.IsType<ProcessRecord>(mapped.Record);
        Assert.True(mapped.UsedTargetUser);
        Assert.Equal("win:EC2AMAZ-1.example:Security:77", r.Id);
        Assert.Equal((ProcessEventType.Start, 0x1a2c, (int?)0xea0), (r.Type, r.Pid, r.ParentPid));
        Assert.Equal(@"C:\Program Files\Notepad++\notepad++.exe", r.Executable);
        Assert.Equal("\"notepad++.exe\" a&b.txt", r.CommandLine);
        Assert.Equal(("S-1-5-21-1-2-3-1001", 0x2b4c1fL), (r.User, r.AuditSession!.Value));
        Assert.Equal("EC2AMAZ-1.example", r.Host);
    }

    [Fact]
    public void UnwrappedEventsWithCommentsAndDeclarationAreAllRead()
    {
        var text = "<?xml version='1.0' encoding='utf-8'?>\n<!-- a -->\n" + Compact + "\n<!-- b -->\n" + Compact.Replace("<EventRecordID>77<", "<EventRecordID>78<", StringComparison.Ordinal) + "\n";
        var results = WindowsEventXmlReader.Read(new StringReader(text), "f.xml").ToList();
        Assert.Equal([77L, 78L], results.Select(r => r.Event!.RecordId!.Value));
        Assert.Equal(["f.xml:3", "f.xml:5"], results.Select(r => r.Event!.Origin!));
    }

    [Fact]
    public void Utf16StreamWithBomIsDecoded()
    {
        var bytes = Encoding.Unicode.GetPreamble().Concat(Encoding.Unicode.GetBytes("<?xml version='1.0' encoding='utf-16'?><Events>" + Compact + "</Events>")).ToArray();
        var result = Assert.Single(WindowsEventXmlReader.Read(new MemoryStream(bytes), "u16.xml"));
        Assert.Equal(@"C:\Program Files\Notepad++\notepad++.exe", result.Event!.Data["NewProcessName"]);
    }

    [Theory]
    [InlineData("<EventID>4688</EventID>", "", "no System/EventID")]
    [InlineData("<EventID>4688</EventID>", "<EventID>46x8</EventID>", "EventID '46x8' is not a number")]
    [InlineData("SystemTime='2026-11-02T09:15:01.1234567Z'", "SystemTime='yesterday'", "TimeCreated/@SystemTime 'yesterday' is not an ISO-8601 time")]
    [InlineData("<TimeCreated SystemTime='2026-11-02T09:15:01.1234567Z'/>", "", "no System/TimeCreated/@SystemTime")]
    [InlineData("<Computer>EC2AMAZ-1.example</Computer>", "<Computer/>", "no System/Computer")]
    [InlineData("<Provider Name='Microsoft-Windows-Security-Auditing'", "<Provider", "no System/Provider/@Name")]
    [InlineData("<EventRecordID>77</EventRecordID>", "<EventRecordID>-7</EventRecordID>", "EventRecordID '-7' is not a number")]
    [InlineData("<Data Name='SubjectUserName'>", "<Data Name='SubjectUserSid'>", "EventData has two Data named 'SubjectUserSid'")]
    public void ABrokenEventIsAnErrorWithItsLineAndTheNextEventIsStillRead(string find, string replace, string reason)
    {
        var broken = Compact.Replace(find, replace, StringComparison.Ordinal);
        Assert.NotEqual(Compact, broken);
        var text = "<Events>\n" + broken + "\n" + Compact + "\n</Events>";
        var results = WindowsEventXmlReader.Read(new StringReader(text), "x.xml").ToList();
        Assert.Equal(2, results.Count);
        Assert.Equal($"x.xml:2:2: {reason}", results[0].Error!.ToString());
        Assert.False(results[0].Error!.Fatal);
        Assert.Equal(77, results[1].Event!.RecordId);
    }

    [Fact]
    public void BrokenXmlIsOneErrorWithLineAndColumnAndReadingGoesOnAtTheNextEvent()
    {
        var text = "<Events>\n" + Compact + "\n" + Compact.Replace("</System>", "</Sys>", StringComparison.Ordinal) + "\n" + Compact + "\n</Events>";
        var results = WindowsEventXmlReader.Read(new StringReader(text), "x.xml").ToList();
        Assert.Equal(3, results.Count);
        Assert.NotNull(results[0].Event);
        var error = results[1].Error!;
        Assert.True(error.Fatal);
        Assert.Equal(3, error.Line);
        Assert.True(error.Column > 100, error.ToString());
        Assert.StartsWith("x.xml:3:", error.ToString(), StringComparison.Ordinal);
        Assert.EndsWith("(skipped to the next <Event> tag)", error.Reason, StringComparison.Ordinal);
        Assert.Equal(4, results[2].Event!.Line); // the event after the break, with its true line
        Assert.Equal("x.xml:4", results[2].Event!.Origin);
    }

    [Fact]
    public void AnEventCutOffAtTheEndOfTheFileIsReportedNotSkipped()
    {
        var text = "<Events>\n" + Compact + "\n" + Compact[..(Compact.Length / 2)];
        var results = WindowsEventXmlReader.Read(new StringReader(text), "cut.xml").ToList();
        Assert.Equal(2, results.Count);
        Assert.NotNull(results[0].Event);
        Assert.True(results[1].Error!.Fatal);
        Assert.EndsWith("(no <Event> tag after it: reading stopped here)", results[1].Error!.Reason, StringComparison.Ordinal);
    }

    [Theory, InlineData(WindowsSamples.CompactFile), OtrfCapture]
    public void BrokenLinesInTheMiddleOfARealCaptureLoseOnlyTheirOwnEvents(string capture)
    {
        var lines = File.ReadAllLines(WindowsSamples.PathOf(capture));
        var eventLines = Enumerable.Range(0, lines.Length).Where(i => lines[i].StartsWith("<Event ", StringComparison.Ordinal)).ToList();
        var broken = new[] { eventLines[10], eventLines[200], eventLines[400] };
        foreach (var i in broken)
        {
            lines[i] = lines[i].Replace("</System>", "</Sys>", StringComparison.Ordinal);
        }

        var results = WindowsEventXmlReader.Read(new StringReader(string.Join("\n", lines)), capture).ToList();
        Assert.Equal(eventLines.Count - broken.Length, results.Count(r => r.Event is not null));
        Assert.Equal(broken.Select(i => i + 1), results.Where(r => r.Error is not null).Select(r => r.Error!.Line));
        Assert.Equal(eventLines.Where(i => !broken.Contains(i)).Select(i => (int?)(i + 1)), results.Where(r => r.Event is not null).Select(r => r.Event!.Line));
    }

    [Fact]
    public void ADtdIsRefusedNotExpanded()
    {
        var text = "<?xml version='1.0'?><!DOCTYPE Events [<!ENTITY a 'aaaaaaaaaa'><!ENTITY b '&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;'>]><Events>&b;" + Compact + "</Events>";
        var results = WindowsEventXmlReader.Read(new StringReader(text), "dtd.xml").ToList();
        Assert.True(results[0].Error!.Fatal);
        Assert.Contains("DTD", results[0].Error!.Reason, StringComparison.Ordinal);
        // Reading goes on at the next <Event> tag, past the DTD and the entity reference: nothing expanded.
        Assert.Equal(2, results.Count);
        Assert.DoesNotContain("aaaaaaaaaa", string.Join(",", results[1].Event!.Data.Values), StringComparison.Ordinal);
    }

    [Fact]
    public void EmptyInputGivesNothingAndParseSaysSo()
    {
        Assert.Empty(WindowsEventXmlReader.Read(new StringReader(""), "empty.xml"));
        Assert.Equal("s:1:1: no <Event> element", WindowsEventXmlReader.Parse("<Events/>", "s").Error!.ToString());
    }

    [Fact]
    public void TimeFormsSeenInRealRenderings()
    {
        Assert.True(WindowsEventXmlReader.TryParseSystemTime("2021-04-22T08:51:04.851518700Z", out var nine));
        Assert.Equal(new DateTimeOffset(2021, 4, 22, 8, 51, 4, TimeSpan.Zero).AddTicks(8515187), nine);
        Assert.True(WindowsEventXmlReader.TryParseSystemTime("2020-10-18 10:56:14.648", out var spaced));
        Assert.Equal(new DateTimeOffset(2020, 10, 18, 10, 56, 14, 648, TimeSpan.Zero), spaced);
        Assert.True(WindowsEventXmlReader.TryParseSystemTime("2021-04-27T06:07:44+02:00", out var offset));
        Assert.Equal(new DateTimeOffset(2021, 4, 27, 4, 7, 44, TimeSpan.Zero), offset);
        Assert.False(WindowsEventXmlReader.TryParseSystemTime("2021-13-27T04:07:44Z", out _));
        Assert.False(WindowsEventXmlReader.TryParseSystemTime("27/04/2021 04:07:44", out _));
    }
}

/// <summary>The 4688/4689 mapping on hand-made edge cases (the real data is covered in <see cref="RealWindowsEventsTests"/>).</summary>
public sealed class SecurityProcessEventsTests
{
    private static WindowsEvent Event(int id, params (string Name, string Value)[] data) => new()
    {
        Provider = SecurityProcessEvents.Provider,
        EventId = id,
        TimeCreated = new DateTimeOffset(2026, 11, 2, 9, 0, 0, TimeSpan.Zero),
        Computer = "h1",
        Data = data.ToDictionary(d => d.Name, d => d.Value),
    };

    [Fact]
    public void OtherEventsAreSkippedNotErrors()
    {
        Assert.NotNull(SecurityProcessEvents.Map(Event(4624)).Skipped);
        Assert.NotNull(SecurityProcessEvents.Map(Event(4688) with { Provider = "Microsoft-Windows-Sysmon" }).Skipped);
    }

    [Fact]
    public void ExitStatusAndDecimalPidsAndIdWithoutRecordId()
    {
        var r = SecurityProcessEvents.Map(Event(4689, ("SubjectUserSid", "S-1-5-21-9-1001"), ("SubjectLogonId", "0x2b4c1f"), ("ProcessId", "6812"), ("ProcessName", @"C:\x.exe"), ("Status", "0xC000013A"))).Record!;
        Assert.Equal((ProcessEventType.Exit, 6812, unchecked((int)0xC000013A), "S-1-5-21-9-1001"), (r.Type, r.Pid, r.ExitCode!.Value, r.User!));
        Assert.Equal("win:h1:Security:t" + new DateTimeOffset(2026, 11, 2, 9, 0, 0, TimeSpan.Zero).UtcTicks + ":4689:6812", r.Id);
    }

    [Theory]
    [InlineData("NewProcessId", "abc", "4688 NewProcessId 'abc' is not a process id (hex 0x... or decimal)")]
    [InlineData("NewProcessId", "0x1ffffffff", "4688 NewProcessId '0x1ffffffff' is not a process id (hex 0x... or decimal)")]
    [InlineData("ProcessId", null, "4688 has no ProcessId")]
    [InlineData("NewProcessName", "", "4688 has no NewProcessName")]
    [InlineData("SubjectLogonId", "zz", "4688 SubjectLogonId 'zz' is not a hex or decimal number")]
    public void BadFieldsAreErrorsNamingTheField(string field, string? value, string error)
    {
        var data = new Dictionary<string, string>
        {
            ["SubjectUserSid"] = "S-1-5-18", ["SubjectLogonId"] = "0x3e7", ["NewProcessId"] = "0x10", ["ProcessId"] = "0x4",
            ["NewProcessName"] = @"C:\a.exe", ["TargetUserSid"] = "S-1-0-0", ["TargetLogonId"] = "0x0",
        };
        if (value is null)
        {
            data.Remove(field);
        }
        else
        {
            data[field] = value;
        }

        var result = SecurityProcessEvents.Map(Event(4688) with { Data = data });
        Assert.Equal(error, result.Error);
    }
}

/// <summary>The importer's one call: every event gives one result, naming file and line.</summary>
public sealed class ProcessEventXmlImportTests
{
    [Fact]
    public void RecordsSkipsAndErrorsEachNameTheirLine()
    {
        const string ok = "<Event><System><Provider Name='Microsoft-Windows-Security-Auditing'/><EventID>4689</EventID><TimeCreated SystemTime='2026-11-02T09:00:00Z'/><EventRecordID>9</EventRecordID><Channel>Security</Channel><Computer>h1</Computer></System><EventData><Data Name='SubjectUserSid'>S-1-5-21-1-1001</Data><Data Name='SubjectLogonId'>0x10</Data><Data Name='ProcessId'>0x20</Data><Data Name='ProcessName'>C:\\Windows\\System32\\calc.exe</Data><Data Name='Status'>0x0</Data></EventData></Event>";
        var text = string.Join('\n', "<Events>", ok, ok.Replace("<EventID>4689<", "<EventID>4624<", StringComparison.Ordinal), ok.Replace("0x20", "zz", StringComparison.Ordinal), "<Event>", "</Events>");
        var results = ProcessEventXmlImport.Read(new StringReader(text), "exp.xml").ToList();
        Assert.Equal(4, results.Count);
        Assert.Equal(("exp.xml", 2, "win:h1:Security:9"), (results[0].Origin, results[0].Line, results[0].Record!.Id));
        Assert.Equal("exp.xml:3: event 4624 is not 4688/4689", results[1].ToString());
        Assert.Equal("exp.xml:4: 4689 ProcessId 'zz' is not a process id (hex 0x... or decimal)", results[2].ToString());
        Assert.True(results[3].Fatal);
        Assert.Equal(("exp.xml", 6), (results[3].Origin, results[3].Line));
    }
}
