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

    /// <summary><c>System/Level</c> (0 LogAlways, 1 Critical, 2 Error, 3 Warning, 4 Information, 5 Verbose), null when absent or not a number.</summary>
    public int? Level { get; init; }

    /// <summary><c>System/Task</c>, null when absent or not a number.</summary>
    public int? Task { get; init; }

    /// <summary><c>System/Opcode</c>, null when absent or not a number.</summary>
    public int? Opcode { get; init; }

    /// <summary><c>System/Keywords</c> as written (e.g. <c>0x8020000000000000</c>), null when absent.</summary>
    public string? Keywords { get; init; }

    /// <summary><c>System/Security/@UserID</c>: the SID the event was logged for, null when absent.</summary>
    public string? UserId { get; init; }

    /// <summary><c>System/Execution/@ProcessID</c>: the process that logged it, null when absent.</summary>
    public long? ProcessId { get; init; }

    /// <summary><c>System/Execution/@ThreadID</c>, null when absent.</summary>
    public long? ThreadId { get; init; }

    /// <summary>
    /// <c>EventData/Data</c> fields by their <c>Name</c> attribute (ordinal, case-sensitive); a <c>Data</c>
    /// without a name is kept as <c>Data0</c>, <c>Data1</c>, ... (counting the unnamed ones from 0). An event
    /// with <c>UserData</c> instead gives the leaf elements below its one wrapper element, by element name
    /// (a nested leaf as <c>Parent.Child</c>; a repeated name as <c>Name_1</c>, <c>Name_2</c>, ...).
    /// </summary>
    public required IReadOnlyDictionary<string, string> Data { get; init; }

    /// <summary>Where it was read from (file:line, file#record, channel#record), for error messages.</summary>
    public string? Origin { get; init; }

    /// <summary>1-based line of the <c>&lt;Event</c> tag when read from XML text, else null.</summary>
    public int? Line { get; init; }
}
