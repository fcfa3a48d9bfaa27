using System.Globalization;
using System.Text.RegularExpressions;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using SessionTrail.Agent.Config;
using SessionTrail.Agent.Ids;
using SessionTrail.Agent.Sinks;
using SessionTrail.Agent.Sources;
using SessionTrail.Agent.Sources.WindowsEventLog;
using SessionTrail.Agent.Tests.Fakes;
using SessionTrail.Agent.Tests.Sources;
using SessionTrail.Core.Windows;

namespace SessionTrail.Agent.Tests.Sources.WindowsEventLog;

/// <summary>
/// The event log sources' platform-neutral parts on real events in the EventRecord.ToXml() shape (the
/// repository's CC0-derived capture, and the OTRF capture when it is there): settings with KinesisTap's keys, the factory off Windows, the start decision and query, and the
/// pump (ids, bookmark only after durability, restart without loss or repeat, ExcludeOwnSecurityEvents).
/// </summary>
public sealed partial class EventLogSourceTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    /// <summary>Every line of a capture that is one event, exactly as EventRecord.ToXml() gives it.</summary>
    private static List<string> ToXmlStrings(string capture) => WindowsSamples.EventLines(capture);

    private static long RecordIdOf(string xml) => long.Parse(RecordId().Match(xml).Groups[1].Value, CultureInfo.InvariantCulture);

    [Fact]
    public void EveryKinesisTapKeyIsReadAndUnknownKeysAreWarnedAbout()
    {
        var log = new ListLogger();
        var options = WindowsEventLogOptions.FromConfig(LogSourceTestKit.Source("""
            {"Id":"sec","SourceType":"WindowsEventLogPollingSource","logname":"Security","Query":"*[System[Level<=3]]",
             "InitialPosition":"timestamp","InitialPositionTimestamp":"2024-05-01 13:00:00","TimeZoneKind":"UTC","IncludeEventData":"false",
             "CustomFilters":"ExcludeOwnSecurityEvents","BookmarkOnBufferFlush":"true","MinReaderDelayMs":"50","MaxReaderDelayMs":"800",
             "DelayThreshold":"10","Colour":"blue"}
            """), polling: true, log);
        Assert.Equal(("Security", "*[System[Level<=3]]", EventLogInitialPosition.Timestamp), (options.LogName, options.Query, options.InitialPosition));
        Assert.Equal(new DateTimeOffset(2024, 5, 1, 13, 0, 0, TimeSpan.Zero), options.InitialPositionTimestamp);
        Assert.True(options.ExcludeOwnSecurityEvents && options.BookmarkOnBufferFlush && options.Polling);
        Assert.False(options.IncludeEventData); // accepted; the data is shipped by name regardless
        Assert.Equal((50, 800, 10), ((int)options.MinReaderDelay.TotalMilliseconds, (int)options.MaxReaderDelay.TotalMilliseconds, options.DelayThreshold));
        Assert.Equal(["Config 'Sources:0:Colour' is not a setting of WindowsEventLogPollingSource: ignored"], log.Entries.Select(e => e.Message));

        var defaults = WindowsEventLogOptions.FromConfig(LogSourceTestKit.Source("""{"Id":"a","SourceType":"WindowsEventLogSource","LogName":"Application","MinReaderDelayMs":"5"}"""), polling: false, log);
        Assert.Equal((EventLogInitialPosition.Bookmark, null, false), (defaults.InitialPosition, defaults.Query, defaults.ExcludeOwnSecurityEvents));
        Assert.Contains(log.Entries, e => e.Message.Contains("'Sources:0:MinReaderDelayMs' is not a setting of WindowsEventLogSource", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("""{"Id":"a"}""", "Config 'Sources:0:LogName' is required.")]
    [InlineData("""{"LogName":"A","InitialPosition":"start"}""", "Config 'Sources:0:InitialPosition' must be one of Bookmark, EOS, 0, Timestamp, not 'start'.")]
    [InlineData("""{"LogName":"A","InitialPosition":"Timestamp"}""", "Config 'Sources:0:InitialPositionTimestamp' is required when InitialPosition is Timestamp.")]
    [InlineData("""{"LogName":"A","InitialPositionTimestamp":"yesterday"}""", "Config 'Sources:0:InitialPositionTimestamp' must be a date and time such as 2024-05-01 13:00:00, not 'yesterday'.")]
    [InlineData("""{"LogName":"A","CustomFilters":"ExcludeOwnSecurityEvents,DropAll"}""", "Config 'Sources:0:CustomFilters' has an unknown filter 'DropAll' (the one there is: ExcludeOwnSecurityEvents).")]
    [InlineData("""{"LogName":"A","MinReaderDelayMs":"500","MaxReaderDelayMs":"100"}""", "Config 'Sources:0:MaxReaderDelayMs' must be at least MinReaderDelayMs (500).")]
    [InlineData("""{"LogName":"A","DelayThreshold":"0"}""", "Config 'Sources:0:DelayThreshold' must be between 1 and 2147483647, not 0.")]
    [InlineData("""{"LogName":"A","IncludeEventData":"yes"}""", "Config 'Sources:0:IncludeEventData' must be true or false, not 'yes'.")]
    public void BadSettingsNameTheKey(string json, string message)
    {
        var error = Assert.Throws<LogConfigException>(() => WindowsEventLogOptions.FromConfig(LogSourceTestKit.Source(json), polling: true, NullLogger.Instance));
        Assert.Equal(message, error.Message);
    }

    [Fact]
    public void OffWindowsTheFactoriesRefuseOnSourceTypeWithAClearMessage()
    {
        Assert.False(OperatingSystem.IsWindows(), "this test is for agents off Windows");
        foreach (ILogSourceFactory factory in new ILogSourceFactory[] { new WindowsEventLogSourceFactory(), new WindowsEventLogPollingSourceFactory() })
        {
            var error = Assert.Throws<LogConfigException>(() => factory.Create(
                LogSourceTestKit.Source($$"""{"Id":"a","SourceType":"{{factory.SourceType}}","LogName":"Application"}"""), LogSourceTestKit.Context(_dir.Path)));
            Assert.Equal("Sources:0:SourceType", error.Path);
            Assert.Equal($"Config 'Sources:0:SourceType' is {factory.SourceType}, which runs only on Windows (this agent runs on Linux); remove the source or run it on a Windows agent.", error.Message);
        }

        Assert.Equal(["WindowsEventLogSource", "WindowsEventLogPollingSource"], new ILogSourceFactory[] { new WindowsEventLogSourceFactory(), new WindowsEventLogPollingSourceFactory() }.Select(f => f.SourceType));
    }

    [Fact]
    public void TheQueryIsNarrowedToTheStartPositionWhenItsShapeAllows()
    {
        Assert.Equal("*", EventLogPosition.Query(null, null, null));
        Assert.Equal("*[System[EventRecordID>42]]", EventLogPosition.Query(" ", 42, null));
        Assert.Equal("*[System[(Level<=3) and EventRecordID>42]]", EventLogPosition.Query("*[System[Level<=3]]", 42, null));
        Assert.Equal("*[System[(Provider[@Name='a]b'] and EventID=1) and EventRecordID>7 and TimeCreated[@SystemTime>='2024-05-01T13:00:00.000Z']]]",
            EventLogPosition.Query("*[System[Provider[@Name='a]b'] and EventID=1]]", 7, new DateTimeOffset(2024, 5, 1, 15, 0, 0, TimeSpan.FromHours(2))));

        // Shapes that cannot be combined safely run as given (the pump skips older records itself).
        Assert.Equal("*[System/Level<=3]", EventLogPosition.Query("*[System/Level<=3]", 42, null));
        Assert.Equal("*[System[EventID=1]] or *[System[EventID=2]]", EventLogPosition.Query("*[System[EventID=1]] or *[System[EventID=2]]", 42, null));
        Assert.Equal("*[System[Level=1]]", EventLogPosition.Query("*[System[Level=1]]", null, null));
    }

    [Fact]
    public void StartDecisionFollowsBookmarkThenInitialPosition()
    {
        var saved = new EventLogBookmark { Channel = "Application", RecordId = 500, SavedAt = DateTimeOffset.UnixEpoch };
        var at = new DateTimeOffset(2024, 5, 1, 0, 0, 0, TimeSpan.Zero);
        Assert.Equal((500L, true), Pick(EventLogPosition.Decide(saved, false, EventLogInitialPosition.EndOfStream, null, 900)));
        Assert.Equal((null, true), Pick(EventLogPosition.Decide(saved, false, EventLogInitialPosition.Bookmark, null, 20))); // cleared
        Assert.Contains("cleared", EventLogPosition.Decide(saved, false, EventLogInitialPosition.Bookmark, null, 20).Why, StringComparison.Ordinal);
        Assert.Equal((null, true), Pick(EventLogPosition.Decide(null, true, EventLogInitialPosition.EndOfStream, null, 20)));  // unreadable
        Assert.Equal((null, false), Pick(EventLogPosition.Decide(null, false, EventLogInitialPosition.Bookmark, null, 20)));
        Assert.Equal((null, false), Pick(EventLogPosition.Decide(null, false, EventLogInitialPosition.EndOfStream, null, 20)));
        Assert.Equal((null, true), Pick(EventLogPosition.Decide(null, false, EventLogInitialPosition.Beginning, null, 20)));
        var timed = EventLogPosition.Decide(null, false, EventLogInitialPosition.Timestamp, at, 20);
        Assert.Equal((null, true, at), (timed.AfterRecordId, timed.ReadExisting, timed.NotBefore));

        static (long?, bool) Pick(EventLogStart s) => (s.AfterRecordId, s.ReadExisting);
    }

    [Fact]
    public void PollingDelayDoublesWhileQuietAndDropsBackUnderLoad()
    {
        var o = new WindowsEventLogOptions { LogName = "A", MinReaderDelay = TimeSpan.FromMilliseconds(100), MaxReaderDelay = TimeSpan.FromMilliseconds(700), DelayThreshold = 50 };
        var delays = new List<double>();
        var d = o.MinReaderDelay;
        foreach (var read in new[] { 0, 3, 49, 0, 0, 50, 10 })
        {
            d = o.NextReaderDelay(d, read);
            delays.Add(d.TotalMilliseconds);
        }

        Assert.Equal([200, 400, 700, 700, 700, 100, 200], delays);
    }

    [Theory, InlineData(WindowsSamples.CompactFile), OtrfCapture]
    public async Task RealEventsBecomeRecordsWithIdsAndTheBookmarkWaitsForDurability(string capture)
    {
        var events = ToXmlStrings(capture);
        var context = LogSourceTestKit.Context(_dir.Path, "sec-events");
        var options = new WindowsEventLogOptions { LogName = "Security", BookmarkEveryEvents = 100 };
        var pump = new EventLogPump(options, context, NullLogger.Instance);
        var output = new DurableOutput();
        output.Hold();
        var channel = Channel.CreateUnbounded<EventLogItem>();
        foreach (var xml in events.Take(250))
        {
            channel.Writer.TryWrite(new EventLogItem(xml, xml.Contains("<EventID>4689<", StringComparison.Ordinal) ? "A process has exited." : null, "Information"));
        }

        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var run = pump.RunAsync(channel.Reader, pump.Decide(null), output, cts.Token);
        await output.BarrierRequested.Task.WaitAsync(cts.Token);
        Assert.Equal(100, output.Records.Count);
        Assert.False(File.Exists(context.Bookmarks.PathOf(context.Id))); // not durable yet: no bookmark

        output.Release();
        channel.Writer.Complete();
        await run;
        Assert.Equal([100, 200, 250], output.RecordsAtEachBarrier);
        var bookmark = context.Bookmarks.Load(context.Id, EventLogJsonContext.Default.EventLogBookmark)!;
        Assert.Equal(("Security", RecordIdOf(events[249])), (bookmark.Channel, bookmark.RecordId));

        var raw = RawEvent.ScanText(string.Join("\n", events.Take(250)));
        var logs = output.Logs;
        for (var i = 0; i < 250; i++)
        {
            var r = logs[i];
            Assert.Equal(LogIds.For("host1", "sec-events", "Security:" + raw[i].RecordId.ToString(CultureInfo.InvariantCulture)), r.Id);
            Assert.Equal(("sec-events", "Security", raw[i].EventId, raw[i].Computer, raw[i].Time), (r.Source, r.Channel, r.EventId!.Value, r.Host, r.Time));
            Assert.Equal(raw[i].EventId == 4689 ? "A process has exited." : WindowsEventLogRecords.FallbackMessage(WindowsEventXmlReader.Parse(events[i], "x").Event!), r.Message);
            Assert.All(raw[i].Data, d => Assert.Equal(d.Value, r.Fields![d.Key]));
        }

        Assert.Equal((250L, 250L, 0L, 0L), (pump.Stats.Read.Value, pump.Stats.Written.Value, pump.Stats.Skipped.Value, pump.Stats.Errors.Value));
    }

    [Theory, InlineData(WindowsSamples.CompactFile), OtrfCapture]
    public async Task ARestartResumesAfterTheBookmarkWithNothingLostOrRepeated(string capture)
    {
        var events = ToXmlStrings(capture);
        var context = LogSourceTestKit.Context(_dir.Path, "sec");
        var options = new WindowsEventLogOptions { LogName = "Security", BookmarkEveryEvents = 64 };
        var first = new DurableOutput();
        await RunAsync(new EventLogPump(options, context, NullLogger.Instance), events.Take(300), first, newest: null);

        // The agent stops; more events arrive. The query could not be narrowed (it is replayed from the start): the pump skips what it shipped.
        var second = new DurableOutput();
        var pump = new EventLogPump(options, context, NullLogger.Instance);
        await RunAsync(pump, events, second, newest: RecordIdOf(events[^1]));
        Assert.Equal(events.Count - 300, second.Records.Count);
        Assert.Equal(300, pump.Stats.Skipped.Value);
        var all = first.Logs.Concat(second.Logs).Select(r => r.Id).ToList();
        Assert.Equal(events.Count, all.Distinct().Count());
        Assert.Equal(events.Select(e => LogIds.For("host1", "sec", "Security:" + RecordIdOf(e).ToString(CultureInfo.InvariantCulture))), all);
    }

    [Theory, InlineData(WindowsSamples.CompactFile), OtrfCapture]
    public async Task ExcludeOwnSecurityEventsDropsEventsOfTheAgentsProcessOnly(string capture)
    {
        var events = ToXmlStrings(capture).Take(40).ToList();
        var own = "0x" + Environment.ProcessId.ToString("x", CultureInfo.InvariantCulture);
        var target = events.FindIndex(e => e.Contains("<EventID>4689<", StringComparison.Ordinal));
        events[target] = ProcessIdData().Replace(events[target], $"<Data Name='ProcessId'>{own}</Data>");
        var context = LogSourceTestKit.Context(_dir.Path);
        var kept = new DurableOutput();
        var pump = new EventLogPump(new WindowsEventLogOptions { LogName = "Security", ExcludeOwnSecurityEvents = true }, context, NullLogger.Instance);
        await RunAsync(pump, events, kept, null);
        Assert.Equal(39, kept.Records.Count);
        Assert.Equal(1, pump.Stats.Skipped.Value);
        Assert.DoesNotContain(kept.Logs, r => r.Fields!["System.EventRecordID"] == RecordIdOf(events[target]).ToString(CultureInfo.InvariantCulture));
        Assert.Equal(RecordIdOf(events[^1]), context.Bookmarks.Load(context.Id, EventLogJsonContext.Default.EventLogBookmark)!.RecordId);

        var all = new DurableOutput();
        await RunAsync(new EventLogPump(new WindowsEventLogOptions { LogName = "Security" }, LogSourceTestKit.Context(_dir.Path, "other"), NullLogger.Instance), events, all, null);
        Assert.Equal(40, all.Records.Count);
    }

    [Fact]
    public async Task BrokenEventXmlIsCountedAndLoggedNotFatal()
    {
        var log = new ListLogger();
        var pump = new EventLogPump(new WindowsEventLogOptions { LogName = "Application" }, LogSourceTestKit.Context(_dir.Path), log);
        var output = new DurableOutput();
        await RunAsync(pump, ["<Event><System><EventID>1</EventID></System></Event>", "<Event"], output, null);
        Assert.Empty(output.Records);
        Assert.Equal(2, pump.Stats.Errors.Value);
        Assert.Equal(2, log.Entries.Count(e => e.Level == LogLevel.Warning && e.Message.StartsWith("Event log source src: event not shipped: Application:1:", StringComparison.Ordinal)));
    }

    private static async Task RunAsync(EventLogPump pump, IEnumerable<string> xml, DurableOutput output, long? newest)
    {
        var channel = Channel.CreateUnbounded<EventLogItem>();
        foreach (var e in xml)
        {
            channel.Writer.TryWrite(new EventLogItem(e));
        }

        channel.Writer.Complete();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await pump.RunAsync(channel.Reader, pump.Decide(newest), output, cts.Token);
    }

    [GeneratedRegex("<EventRecordID>(\\d+)<")]
    private static partial Regex RecordId();

    [GeneratedRegex("<Data Name='ProcessId'>[^<]*</Data>")]
    private static partial Regex ProcessIdData();
}
