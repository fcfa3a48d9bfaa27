using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using SessionTrail.Agent.Sources;
using SessionTrail.Core.Windows;

namespace SessionTrail.Agent.Platform.Windows;

/// <summary>Counters of the Windows source, for logs and tests.</summary>
public sealed class SecurityEventStats
{
    private long _read;
    private long _written;
    private long _filtered;
    private long _skipped;
    private long _errors;
    private long _bookmarks;

    public long Read => Interlocked.Read(ref _read);

    public long Written => Interlocked.Read(ref _written);

    public long Filtered => Interlocked.Read(ref _filtered);

    public long Skipped => Interlocked.Read(ref _skipped);

    public long Errors => Interlocked.Read(ref _errors);

    public long BookmarksSaved => Interlocked.Read(ref _bookmarks);

    internal void CountRead() => Interlocked.Increment(ref _read);

    internal void CountWritten() => Interlocked.Increment(ref _written);

    internal void CountFiltered() => Interlocked.Increment(ref _filtered);

    internal void CountSkipped() => Interlocked.Increment(ref _skipped);

    internal void CountError() => Interlocked.Increment(ref _errors);

    internal void CountBookmark() => Interlocked.Increment(ref _bookmarks);
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
        long? last = null;
        var pending = 0;
        var lastSave = time.GetUtcNow();
        while (await events.WaitToReadAsync(cancellationToken))
        {
            while (events.TryRead(out var xml))
            {
                var recordId = await HandleAsync(xml, output, cancellationToken);
                if (recordId is not null)
                {
                    last = recordId;
                    pending++;
                }

                if (last is not null && pending > 0
                    && (pending >= options.BookmarkEveryEvents || time.GetUtcNow() - lastSave >= options.BookmarkInterval || !events.TryPeek(out _)))
                {
                    await durable.WhenDurableAsync(cancellationToken);
                    position.Save(new SecurityLogBookmark { Channel = SecurityLogPosition.Channel, RecordId = last.Value, SavedAt = time.GetUtcNow() });
                    Stats.CountBookmark();
                    pending = 0;
                    lastSave = time.GetUtcNow();
                }
            }
        }
    }

    /// <summary>Handles one event; returns its EventRecordID (null when it has none or could not be read).</summary>
    private async ValueTask<long?> HandleAsync(string xml, IRecordOutput output, CancellationToken cancellationToken)
    {
        Stats.CountRead();
        var read = WindowsEventXmlReader.Parse(xml, SecurityLogPosition.Channel);
        if (read.Event is not { } e)
        {
            Stats.CountError();
            LogBadEvent(logger, read.Error!.ToString());
            return null;
        }

        var mapped = SecurityProcessEvents.Map(e);
        if (mapped.Record is { } record)
        {
            if (_filter.Keep(record))
            {
                await output.WriteAsync(record, cancellationToken);
                Stats.CountWritten();
            }
            else
            {
                Stats.CountFiltered();
            }
        }
        else if (mapped.Error is { } error)
        {
            Stats.CountError();
            LogBadEvent(logger, $"{SecurityLogPosition.Channel} record {e.RecordId}: {error}");
        }
        else
        {
            Stats.CountSkipped();
        }

        return e.RecordId;
    }

    [LoggerMessage(EventId = 3101, Level = LogLevel.Warning, Message = "Windows event not captured: {Problem}")]
    private static partial void LogBadEvent(ILogger logger, string problem);
}
