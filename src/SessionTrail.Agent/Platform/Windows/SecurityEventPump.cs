using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using SessionTrail.Agent.Config;
using SessionTrail.Agent.Ids;
using SessionTrail.Agent.Sinks;
using SessionTrail.Agent.Sources;
using SessionTrail.Agent.Sources.WindowsEventLog;
using SessionTrail.Core.Windows;

namespace SessionTrail.Agent.Platform.Windows;

/// <summary>Counters of the Windows source, for logs and tests: every event read is written, filtered, skipped (not 4688/4689) or an error.</summary>
public sealed class SecurityEventStats
{
    public EventCounter Read { get; } = new();

    public EventCounter Written { get; } = new();

    public EventCounter Filtered { get; } = new();

    public EventCounter Skipped { get; } = new();

    public EventCounter Errors { get; } = new();

    public EventCounter BookmarksSaved { get; } = new();
}

/// <summary>
/// The platform-neutral heart of the live Windows source: takes event XML strings (as
/// <c>EventRecord.ToXml()</c> gives them) from a channel, parses them with <see cref="WindowsEventXmlReader"/>
/// and maps them with <see cref="SecurityProcessEvents"/> (the same code path as <c>import</c>), applies the
/// capture filter, writes the records, and saves the bookmark only after
/// <see cref="IDurableRecordOutput.WhenDurableAsync"/> says the records before it are in the durable queues.
/// A bookmark is saved every <see cref="WindowsCaptureOptions.BookmarkEveryEvents"/> events, every
/// <see cref="WindowsCaptureOptions.BookmarkInterval"/>, and whenever the channel runs empty.
/// An event that cannot be read or mapped is logged with its record number and reason, counted, and passed.
/// The reading loop and the bookmark type are the event log sources' (<see cref="EventLogPump.PumpAsync"/>,
/// <see cref="EventLogBookmark"/>).
/// </summary>
public sealed partial class SecurityEventPump(WindowsCaptureOptions options, SecurityLogPosition position, ILogger logger, TimeProvider time)
{
    private readonly WindowsCaptureFilter _filter = new(options);

    public SecurityEventStats Stats { get; } = new();

    public async Task RunAsync(ChannelReader<string> events, IRecordOutput output, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(events);
        var durable = output as IDurableRecordOutput
            ?? throw new InvalidOperationException("the Windows event log source needs an output that reports durability (the agent's pump)");
        var bookmark = new DurableBookmark<long>(durable, recordId =>
        {
            position.Save(new EventLogBookmark { Channel = SecurityLogPosition.Channel, RecordId = recordId, SavedAt = time.GetUtcNow() });
            Stats.BookmarksSaved.Increment();
        }, options.BookmarkEveryEvents, options.BookmarkInterval, time);
        await EventLogPump.PumpAsync(events, bookmark, (xml, ct) => HandleAsync(xml, output, ct), saveAtEnd: false, cancellationToken);
    }

    /// <summary>Handles one event; returns its EventRecordID (null when it has none or could not be read).</summary>
    private async ValueTask<long?> HandleAsync(string xml, IRecordOutput output, CancellationToken cancellationToken)
    {
        Stats.Read.Increment();
        var read = WindowsEventXmlReader.Parse(xml, SecurityLogPosition.Channel);
        if (read.Event is not { } e)
        {
            Stats.Errors.Increment();
            LogBadEvent(logger, read.Error!.ToString());
            return null;
        }

        var mapped = SecurityProcessEvents.Map(e);
        if (mapped.Record is { } record)
        {
            if (_filter.Keep(record))
            {
                await output.WriteAsync(record, cancellationToken);
                Stats.Written.Increment();
            }
            else
            {
                Stats.Filtered.Increment();
            }
        }
        else if (mapped.Error is { } error)
        {
            Stats.Errors.Increment();
            LogBadEvent(logger, $"{SecurityLogPosition.Channel} record {e.RecordId}: {error}");
        }
        else
        {
            Stats.Skipped.Increment();
        }

        return e.RecordId;
    }

    [LoggerMessage(EventId = 3101, Level = LogLevel.Warning, Message = "Windows event not captured: {Problem}")]
    private static partial void LogBadEvent(ILogger logger, string problem);
}
