using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using SessionTrail.Agent.Config;
using SessionTrail.Agent.Ids;
using SessionTrail.Agent.Sinks;
using SessionTrail.Agent.Sources;
using SessionTrail.Core.Records;
using SessionTrail.Core.Windows;

namespace SessionTrail.Agent.Sources.WindowsEventLog;

/// <summary>One event as the Windows shells hand it over: <c>EventRecord.ToXml()</c>, and what Windows rendered (null when it could not).</summary>
public sealed record EventLogItem(string Xml, string? Message = null, string? LevelName = null);

/// <summary>Counters of one event log source (for logs, status and tests).</summary>
public sealed class EventLogStats
{
    public EventCounter Read { get; } = new();

    public EventCounter Written { get; } = new();

    /// <summary>Filtered out (ExcludeOwnSecurityEvents) or already read before the start position.</summary>
    public EventCounter Skipped { get; } = new();

    public EventCounter Errors { get; } = new();
}

/// <summary>
/// The platform-neutral heart of the event log sources: event XML in, <see cref="LogRecord"/>s out through
/// <see cref="WindowsEventLogRecords"/> (the mapping import uses too), ids from <see cref="LogIds"/>
/// (host, source id, channel:EventRecordID), and the bookmark (channel + EventRecordID) saved through the
/// <see cref="BookmarkStore"/> only after the records before it are durable. Events at or before the start
/// position (or created before InitialPositionTimestamp) are skipped here as well as by the query, so a
/// query that could not be narrowed never repeats records.
/// </summary>
public sealed partial class EventLogPump(WindowsEventLogOptions options, LogSourceContext context, ILogger logger)
{
    private readonly int _ownProcessId = Environment.ProcessId;

    public EventLogStats Stats { get; } = new();

    /// <summary>The saved position: (bookmark, false), (null, false) when none, (null, true) when unreadable.</summary>
    public (EventLogBookmark? Bookmark, bool Unreadable) LoadBookmark()
    {
        try
        {
            var bookmark = context.Bookmarks.Load(context.Id, EventLogJsonContext.Default.EventLogBookmark);
            if (bookmark is null)
            {
                return (null, false);
            }

            if (!string.Equals(bookmark.Channel, options.LogName, StringComparison.OrdinalIgnoreCase))
            {
                // The source's LogName changed: the old position means nothing here; start as on a first start.
                LogOtherChannel(logger, context.Id, bookmark.Channel, options.LogName);
                return (null, false);
            }

            return bookmark.RecordId >= 0 ? (bookmark, false) : (null, true);
        }
        catch (Exception ex) when (ex is InvalidDataException or IOException or UnauthorizedAccessException)
        {
            LogBadBookmark(logger, context.Id, ex.Message);
            return (null, true);
        }
    }

    /// <summary>Where to start for this source, from its bookmark and InitialPosition; logged.</summary>
    public EventLogStart Decide(long? newestRecordId)
    {
        var (bookmark, unreadable) = LoadBookmark();
        var start = EventLogPosition.Decide(bookmark, unreadable, options.InitialPosition, options.InitialPositionTimestamp, newestRecordId);
        LogStart(logger, context.Id, options.LogName, start.Why);
        return start;
    }

    /// <summary>Reads until <paramref name="events"/> completes (or cancellation), writing records and saving the bookmark after durability.</summary>
    public async Task RunAsync(ChannelReader<EventLogItem> events, EventLogStart start, IRecordOutput output, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(events);
        ArgumentNullException.ThrowIfNull(start);
        var durable = output as IDurableRecordOutput
            ?? throw new InvalidOperationException("an event log source needs an output that reports durability (the agent's pump)");
        var bookmark = new DurableBookmark<long>(durable, recordId => context.Bookmarks.Save(context.Id,
            new EventLogBookmark { Channel = options.LogName, RecordId = recordId, SavedAt = context.Time.GetUtcNow() }, EventLogJsonContext.Default.EventLogBookmark),
            options.BookmarkEveryEvents, options.BookmarkInterval, context.Time);
        await PumpAsync(events, bookmark, (item, ct) => HandleAsync(item, start, output, ct), saveAtEnd: true, cancellationToken);
    }

    /// <summary>
    /// The reading loop of every Windows event log reader (these sources and the Security-log process capture):
    /// each event is handled (written or skipped) and the bookmark advanced past its EventRecordID; the bookmark is
    /// saved when due (every N events, every interval, when the channel runs empty) after the records are durable,
    /// and, with <paramref name="saveAtEnd"/>, once more when <paramref name="events"/> completes.
    /// </summary>
    /// <param name="handle">Handles one event; returns its EventRecordID when the bookmark may move past it.</param>
    internal static async Task PumpAsync<T>(ChannelReader<T> events, DurableBookmark<long> bookmark, Func<T, CancellationToken, ValueTask<long?>> handle, bool saveAtEnd, CancellationToken cancellationToken)
    {
        try
        {
            while (await events.WaitToReadAsync(cancellationToken))
            {
                while (events.TryRead(out var item))
                {
                    if (await handle(item, cancellationToken) is { } recordId)
                    {
                        bookmark.Advance(recordId);
                    }

                    await bookmark.SaveIfDueAsync(idle: !events.TryPeek(out _), cancellationToken);
                }
            }
        }
        finally
        {
            if (saveAtEnd && !cancellationToken.IsCancellationRequested)
            {
                await bookmark.SaveAsync(cancellationToken);
            }
        }
    }

    /// <summary>Handles one event; returns its EventRecordID when the bookmark may move past it.</summary>
    private async ValueTask<long?> HandleAsync(EventLogItem item, EventLogStart start, IRecordOutput output, CancellationToken cancellationToken)
    {
        Stats.Read.Increment();
        var read = WindowsEventXmlReader.Parse(item.Xml, options.LogName);
        if (read.Event is not { } e)
        {
            Stats.Errors.Increment();
            LogBadEvent(logger, context.Id, read.Error!.ToString());
            return null;
        }

        if ((start.AfterRecordId is { } after && e.RecordId is { } id && id <= after)
            || (start.NotBefore is { } notBefore && e.TimeCreated < notBefore)
            || (options.ExcludeOwnSecurityEvents && IsOwnSecurityEvent(e)))
        {
            Stats.Skipped.Increment();
            return e.RecordId;
        }

        var channel = e.Channel ?? options.LogName;
        var record = WindowsEventLogRecords.ToLogRecord(e, context.Id, LogIds.For(context.Host, context.Id, WindowsEventLogRecords.Position(e, channel)),
            options.LogName, item.Message, item.LevelName);
        await output.WriteAsync(record, cancellationToken);
        Stats.Written.Increment();
        return e.RecordId;
    }

    /// <summary>A Security event about the agent's own process (its reads of the log cause audit events of their own).</summary>
    private bool IsOwnSecurityEvent(WindowsEvent e) =>
        string.Equals(e.Channel ?? options.LogName, "Security", StringComparison.OrdinalIgnoreCase)
        && (e.Data.TryGetValue("ProcessId", out var pid) || e.Data.TryGetValue("SubjectProcessId", out pid))
        && ParseProcessId(pid) == _ownProcessId;

    private static long? ParseProcessId(string text) =>
        text.StartsWith("0x", StringComparison.OrdinalIgnoreCase)
            ? long.TryParse(text.AsSpan(2), System.Globalization.NumberStyles.AllowHexSpecifier, System.Globalization.CultureInfo.InvariantCulture, out var hex) ? hex : null
            : long.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var value) ? value : null;

    [LoggerMessage(EventId = 4101, Level = LogLevel.Information, Message = "Event log source {SourceId} ({LogName}): {Why}")]
    private static partial void LogStart(ILogger logger, string sourceId, string logName, string why);

    [LoggerMessage(EventId = 4102, Level = LogLevel.Warning, Message = "Event log source {SourceId}: event not shipped: {Problem}")]
    private static partial void LogBadEvent(ILogger logger, string sourceId, string problem);

    [LoggerMessage(EventId = 4104, Level = LogLevel.Warning, Message = "Event log source {SourceId}: its bookmark is for log {Old}, not {LogName}: starting as on a first start")]
    private static partial void LogOtherChannel(ILogger logger, string sourceId, string old, string logName);

    [LoggerMessage(EventId = 4103, Level = LogLevel.Warning, Message = "Event log source {SourceId}: bookmark unreadable ({Problem}): reading every event in the log")]
    private static partial void LogBadBookmark(ILogger logger, string sourceId, string problem);
}
