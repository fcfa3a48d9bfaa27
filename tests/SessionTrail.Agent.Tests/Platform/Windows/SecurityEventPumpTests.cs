using System.Threading.Channels;
using Microsoft.Extensions.Logging.Abstractions;
using SessionTrail.Agent.Ids;
using SessionTrail.Agent.Pipeline;
using SessionTrail.Agent.Platform.Windows;
using SessionTrail.Agent.Queue;
using SessionTrail.Agent.Sources;
using SessionTrail.Agent.Sources.WindowsEventLog;
using SessionTrail.Agent.Tests.Fakes;
using SessionTrail.Agent.Tests.Sources;
using SessionTrail.Core.Records;

namespace SessionTrail.Agent.Tests.Platform.Windows;

/// <summary>
/// The live Windows source's logic on the real compact (ToXml) events: bookmark only after durability,
/// resume after a restart with nothing lost, where to start on first start / after a log clear.
/// </summary>
public sealed class SecurityEventPumpTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    /// <summary>Every line of a capture that is one event, exactly as EventRecord.ToXml() gives it.</summary>
    private static List<string> ToXmlStrings(string capture) => WindowsSamples.EventLines(capture);

    private static WindowsCaptureOptions NoFilter() => new() { ExcludePathsContaining = [], UserSidPrefixes = [], BookmarkEveryEvents = 50 };

    [Theory, InlineData(WindowsSamples.CompactFile), OtrfCapture]
    public async Task BookmarkIsSavedOnlyAfterTheRecordsBeforeItAreDurable(string capture)
    {
        var events = ToXmlStrings(capture);
        var output = new DurableOutput();
        output.Hold();
        var position = new SecurityLogPosition(_dir.Path);
        var pump = new SecurityEventPump(NoFilter(), position, NullLogger.Instance, TimeProvider.System);
        var channel = Channel.CreateUnbounded<string>();
        foreach (var e in events.Take(120))
        {
            channel.Writer.TryWrite(e);
        }

        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var run = pump.RunAsync(channel.Reader, output, cts.Token);
        await output.BarrierRequested.Task.WaitAsync(cts.Token);
        Assert.Null(position.Load().Bookmark); // 50 records written, durability not yet confirmed: no bookmark
        Assert.Equal(50, output.Records.Count);

        output.Release();
        channel.Writer.Complete();
        await run;
        var bookmark = position.Load().Bookmark!;
        Assert.Equal(RecordIdOf(events[119]), bookmark.RecordId);
        Assert.Equal(120, output.Records.Count);
        Assert.True(output.RecordsAtEachBarrier.SequenceEqual([50, 100, 120]), string.Join(",", output.RecordsAtEachBarrier));
    }

    [Theory, InlineData(WindowsSamples.CompactFile), OtrfCapture]
    public async Task ARestartResumesAfterTheBookmarkAndLosesNothing(string capture)
    {
        var events = ToXmlStrings(capture);
        var delivered = new List<ProcessRecord>();
        var position = new SecurityLogPosition(_dir.Path);

        // First run: the first 300 events, then a stop in the middle of the log.
        var start = SecurityLogPosition.Decide(null, false, readExistingOnFirstStart: true, newestRecordId: null);
        Assert.True(start.ReadExisting);
        await RunOnceAsync(position, events.Take(300), delivered);
        var bookmark = position.Load().Bookmark!;
        Assert.Equal(RecordIdOf(events[299]), bookmark.RecordId);

        // Restart: the query asks for records after the bookmark; the "log" answers with those.
        var resume = SecurityLogPosition.Decide(bookmark, false, false, newestRecordId: RecordIdOf(events[^1]));
        Assert.EndsWith($"and EventRecordID>{bookmark.RecordId}]]", resume.Query, StringComparison.Ordinal);
        await RunOnceAsync(position, events.Where(e => RecordIdOf(e) > bookmark.RecordId), delivered);

        Assert.Equal(events.Count, delivered.Count);
        Assert.Equal(events.Count, delivered.Select(r => r.Id).Distinct().Count());
        Assert.Equal(RecordIdOf(events[^1]), position.Load().Bookmark!.RecordId);
    }

    [Theory, InlineData(WindowsSamples.CompactFile), OtrfCapture]
    public async Task TheDefaultFilterAppliesAndFilteredEventsStillAdvanceTheBookmark(string capture)
    {
        var events = ToXmlStrings(capture);
        var output = new DurableOutput();
        var position = new SecurityLogPosition(_dir.Path);
        var pump = new SecurityEventPump(new WindowsCaptureOptions(), position, NullLogger.Instance, TimeProvider.System);
        var channel = Channel.CreateUnbounded<string>();
        events.ForEach(e => channel.Writer.TryWrite(e));
        channel.Writer.Complete();
        await pump.RunAsync(channel.Reader, output, CancellationToken.None);
        Assert.Equal(events.Count, pump.Stats.Read.Value);
        Assert.Equal(events.Count, pump.Stats.Written.Value + pump.Stats.Filtered.Value);
        Assert.All(output.Records, r => Assert.StartsWith("S-1-5-21-", ((ProcessRecord)r).User, StringComparison.Ordinal));
        Assert.Equal(RecordIdOf(events[^1]), position.Load().Bookmark!.RecordId);
    }

    [Fact]
    public async Task ABrokenEventIsCountedAndPassed()
    {
        var output = new DurableOutput();
        var pump = new SecurityEventPump(NoFilter(), new SecurityLogPosition(_dir.Path), NullLogger.Instance, TimeProvider.System);
        var channel = Channel.CreateUnbounded<string>();
        channel.Writer.TryWrite("<Event><System><EventID>4688</EventID></System></Event>");
        channel.Writer.TryWrite("<Event><System");
        channel.Writer.Complete();
        await pump.RunAsync(channel.Reader, output, CancellationToken.None);
        Assert.Equal((2L, 2L, 0), (pump.Stats.Read.Value, pump.Stats.Errors.Value, output.Records.Count));
    }

    [Fact]
    public void WhereToStart()
    {
        var b = new EventLogBookmark { Channel = "Security", RecordId = 500, SavedAt = DateTimeOffset.UnixEpoch };
        Assert.Equal(
            "*[System[Provider[@Name='Microsoft-Windows-Security-Auditing'] and (EventID=4688 or EventID=4689)]]",
            SecurityLogPosition.Query(null));
        Assert.False(SecurityLogPosition.Decide(null, false, false, 900).ReadExisting);
        Assert.Equal(SecurityLogPosition.Query(500), SecurityLogPosition.Decide(b, false, false, 900).Query);
        var cleared = SecurityLogPosition.Decide(b, false, false, 20);
        Assert.Equal((SecurityLogPosition.Query(null), true), (cleared.Query, cleared.ReadExisting));
        Assert.Contains("cleared", cleared.Why, StringComparison.Ordinal);
        Assert.True(SecurityLogPosition.Decide(null, true, false, 20).ReadExisting);
    }

    [Fact]
    public void BookmarkFileRoundTripsAndAGarbledOneIsReportedUnreadable()
    {
        var position = new SecurityLogPosition(_dir.Path);
        Assert.Equal((null, false), position.Load());
        position.Save(new EventLogBookmark { Channel = "Security", RecordId = 42, SavedAt = DateTimeOffset.UnixEpoch });
        Assert.Equal(42, position.Load().Bookmark!.RecordId);
        File.WriteAllText(position.FilePath, "{\"recordId\": \"x");
        Assert.Equal((null, true), position.Load());
    }

    [Fact]
    public async Task TheRealPumpsBarrierCompletesOnlyAfterTheRecordIsInTheQueue()
    {
        using var queue = DiskQueue.Open(Path.Combine(_dir.Path, "q"), new DiskQueueOptions(), NullLogger.Instance, TimeProvider.System);
        var ids = RecordIdGenerator.Open(_dir.Path);
        var pump = new RecordPump(16, [], ids, [queue], NullLogger.Instance);
        var running = pump.RunAsync(CancellationToken.None);
        await pump.WriteAsync(new ProcessRecord { Id = "win:h:Security:1", Time = DateTimeOffset.UnixEpoch, Host = "h", Type = ProcessEventType.Start, Pid = 8, Executable = "c:\\a.exe" }, CancellationToken.None);
        await pump.WhenDurableAsync(CancellationToken.None);
        Assert.Equal(1, queue.GetStats().PendingRecords);
        pump.Complete();
        await running;
        Assert.Equal(1, queue.GetStats().PendingRecords); // the barrier itself is never queued
    }

    private static async Task RunOnceAsync(SecurityLogPosition position, IEnumerable<string> events, List<ProcessRecord> delivered)
    {
        var output = new DurableOutput();
        var channel = Channel.CreateUnbounded<string>();
        foreach (var e in events)
        {
            channel.Writer.TryWrite(e);
        }

        channel.Writer.Complete();
        await new SecurityEventPump(NoFilter(), position, NullLogger.Instance, TimeProvider.System).RunAsync(channel.Reader, output, CancellationToken.None);
        delivered.AddRange(output.Records.Cast<ProcessRecord>());
    }

    private static long RecordIdOf(string xml) =>
        long.Parse(System.Text.RegularExpressions.Regex.Match(xml, "<EventRecordID>(\\d+)<").Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
}
