namespace SessionTrail.Core.Windows;

/// <summary>
/// One Windows event as every reader of Windows events in SessionTrail produces it, whatever it was
/// read from: event XML (<c>EventRecord.ToXml()</c>, <c>wevtutil qe /f:xml</c>, libevtx), a binary
/// <c>.evtx</c> file, or the live event log. <see cref="Data"/> holds the <c>EventData</c> fields by
/// name (never by position: the same event id comes in several field sets across Windows versions).
/// </summary>
public sealed record WindowsEvent
{
    /// <summary><c>System/Provider/@Name</c>, e.g. <c>Microsoft-Windows-Security-Auditing</c>.</summary>
    public required string Provider { get; init; }

    /// <summary><c>System/EventID</c>.</summary>
    public required int EventId { get; init; }

    /// <summary><c>System/Version</c> (0 when absent).</summary>
    public int Version { get; init; }

    /// <summary><c>System/TimeCreated/@SystemTime</c>, UTC.</summary>
    public required DateTimeOffset TimeCreated { get; init; }

    /// <summary><c>System/EventRecordID</c>: increasing per channel on one computer.</summary>
    public long? RecordId { get; init; }

    /// <summary><c>System/Channel</c>, e.g. <c>Security</c>.</summary>
    public string? Channel { get; init; }

    /// <summary><c>System/Computer</c>: the host the event happened on.</summary>
    public required string Computer { get; init; }

    /// <summary><c>EventData/Data</c> fields by their <c>Name</c> attribute (ordinal, case-sensitive).</summary>
    public required IReadOnlyDictionary<string, string> Data { get; init; }

    /// <summary>Where it was read from (file:line, file#record, channel#record), for error messages.</summary>
    public string? Origin { get; init; }

    /// <summary>1-based line of the <c>&lt;Event</c> tag when read from XML text, else null.</summary>
    public int? Line { get; init; }
}
