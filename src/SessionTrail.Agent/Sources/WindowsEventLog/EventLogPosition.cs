using System.Globalization;
using System.Text.Json.Serialization;
using SessionTrail.Agent.Config;
using SessionTrail.Agent.Ids;
using SessionTrail.Agent.Sinks;
using SessionTrail.Agent.Sources;

namespace SessionTrail.Agent.Sources.WindowsEventLog;

/// <summary>KinesisTap "InitialPosition": where a source starts when it has no bookmark yet.</summary>
public enum EventLogInitialPosition
{
    /// <summary>"Bookmark" (default): resume from the bookmark; without one, from now.</summary>
    Bookmark,

    /// <summary>"EOS": from now.</summary>
    EndOfStream,

    /// <summary>"0": every event already in the log.</summary>
    Beginning,

    /// <summary>"Timestamp": the events created at or after "InitialPositionTimestamp".</summary>
    Timestamp,
}

/// <summary>How far an event log source has read one log: the last EventRecordID whose record is durable (or was filtered out).</summary>
public sealed record EventLogBookmark
{
    public required string Channel { get; init; }

    public required long RecordId { get; init; }

    public required DateTimeOffset SavedAt { get; init; }
}

/// <summary>
/// Where reading starts: after <see cref="AfterRecordId"/> (when set), the events already in the log
/// (<see cref="ReadExisting"/>) or only new ones, optionally only those created at or after
/// <see cref="NotBefore"/>; <see cref="Why"/> says why, for the log.
/// </summary>
public sealed record EventLogStart(long? AfterRecordId, bool ReadExisting, DateTimeOffset? NotBefore, string Why);

/// <summary>
/// The start decision for any event log (the Security process capture and the log-shipping sources use
/// it). Platform-neutral, so it is tested on Linux; the Windows shells only run the query.
/// <para>
/// A saved bookmark always wins over InitialPosition (which only says where the first start begins): the
/// events written while the agent was stopped are read, none twice. When the log's newest record number is
/// below the bookmark the log was cleared (numbering restarted) and every event in it is read; an unreadable
/// bookmark is treated the same way. Record ids are deterministic, so anything sent before is stored once.
/// </para>
/// </summary>
public static class EventLogPosition
{
    public static EventLogStart Decide(EventLogBookmark? bookmark, bool bookmarkUnreadable, EventLogInitialPosition initial, DateTimeOffset? timestamp, long? newestRecordId)
    {
        if (bookmarkUnreadable)
        {
            return new EventLogStart(null, true, null, "the bookmark file is unreadable: reading every event in the log (records already sent are dropped as repeats by id)");
        }

        if (bookmark is not null)
        {
            if (newestRecordId is { } newest && newest < bookmark.RecordId)
            {
                return new EventLogStart(null, true, null, $"the log was cleared (newest record {newest} < bookmark {bookmark.RecordId}): reading every event in it");
            }

            return new EventLogStart(bookmark.RecordId, true, null, $"resuming after record {bookmark.RecordId} (saved {bookmark.SavedAt:u})");
        }

        return initial switch
        {
            EventLogInitialPosition.Beginning => new EventLogStart(null, true, null, "first start: reading every event already in the log (InitialPosition 0)"),
            EventLogInitialPosition.Timestamp => new EventLogStart(null, true, timestamp,
                $"first start: reading the events created at or after {timestamp?.ToString("u", CultureInfo.InvariantCulture)} (InitialPosition Timestamp)"),
            _ => new EventLogStart(null, false, null, "first start: reading new events from now"),
        };
    }

    /// <summary>
    /// The XPath query to run: the configured one (or every event), narrowed to records after
    /// <paramref name="afterRecordId"/> and created at or after <paramref name="notBefore"/>. A configured
    /// query is combined only when it is one <c>*[System[...]]</c> filter (the usual shape, e.g.
    /// <c>*[System[Level&lt;=3]]</c> or <c>*[System/Level&lt;=3]</c> is not); otherwise it runs as given and the
    /// source skips the older records itself (the pump always does that check too).
    /// </summary>
    public static string Query(string? configured, long? afterRecordId, DateTimeOffset? notBefore)
    {
        var conditions = new List<string>();
        if (afterRecordId is { } after)
        {
            conditions.Add("EventRecordID>" + after.ToString(CultureInfo.InvariantCulture));
        }

        if (notBefore is { } time)
        {
            conditions.Add("TimeCreated[@SystemTime>='" + time.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture) + "']");
        }

        var query = string.IsNullOrWhiteSpace(configured) ? null : configured.Trim();
        if (conditions.Count == 0)
        {
            return query ?? "*";
        }

        var extra = string.Join(" and ", conditions);
        if (query is null)
        {
            return "*[System[" + extra + "]]";
        }

        const string Prefix = "*[System[";
        if (query.StartsWith(Prefix, StringComparison.Ordinal) && query.EndsWith("]]", StringComparison.Ordinal) && IsOneFilter(query))
        {
            return Prefix + "(" + query[Prefix.Length..^2] + ") and " + extra + "]]";
        }

        return query;
    }

    /// <summary>True when the brackets opened by the leading <c>*[System[</c> close only at the very end.</summary>
    private static bool IsOneFilter(string query)
    {
        var depth = 0;
        var quote = '\0';
        for (var i = 0; i < query.Length; i++)
        {
            var c = query[i];
            if (quote != '\0')
            {
                quote = c == quote ? '\0' : quote;
                continue;
            }

            switch (c)
            {
                case '\'' or '"':
                    quote = c;
                    break;
                case '[':
                    depth++;
                    break;
                case ']':
                    depth--;
                    if (depth == 0 && i != query.Length - 1)
                    {
                        return false;
                    }

                    break;
            }
        }

        return depth == 0 && quote == '\0';
    }
}

[JsonSourceGenerationOptions(WriteIndented = true, PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
[JsonSerializable(typeof(EventLogBookmark))]
internal sealed partial class EventLogJsonContext : JsonSerializerContext;
