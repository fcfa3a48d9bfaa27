using System.Globalization;
using System.Text;
using SessionTrail.Core.Records;

namespace SessionTrail.Core.Windows;

/// <summary>
/// Maps any Windows event (read from the live log, event XML or an <c>.evtx</c> file) to a
/// <see cref="LogRecord"/>, the same way on every OS: Channel = the log name, Provider, EventId, Level by
/// name, <see cref="LogRecord.Fields"/> = the event's data by name (<see cref="WindowsEvent.Data"/>) plus the
/// <c>System</c> fields worth keeping under <c>System.*</c> names, and Message = the rendered message when
/// the caller has one (on Windows <c>EventRecord.FormatDescription()</c>), else a readable line built from
/// the data. A pure function: no I/O, no clock, nothing random.
/// </summary>
public static class WindowsEventLogRecords
{
    /// <summary>Field names of the System values kept in <see cref="LogRecord.Fields"/>.</summary>
    public const string RecordIdField = "System.EventRecordID";
    public const string LevelField = "System.Level";
    public const string TaskField = "System.Task";
    public const string OpcodeField = "System.Opcode";
    public const string KeywordsField = "System.Keywords";
    public const string UserIdField = "System.UserID";
    public const string ProcessIdField = "System.ProcessID";
    public const string ThreadIdField = "System.ThreadID";
    public const string ComputerField = "System.Computer";
    public const string VersionField = "System.Version";

    /// <summary>
    /// The name of a standard level: 1 Critical, 2 Error, 3 Warning, 4 Information, 5 Verbose, and 0
    /// (LogAlways, which Security audit events use) "Information", as Event Viewer shows it; null for
    /// another value (a provider-defined level, whose name only the provider's manifest knows).
    /// </summary>
    public static string? LevelName(int? level) => level switch
    {
        0 or 4 => "Information",
        1 => "Critical",
        2 => "Error",
        3 => "Warning",
        5 => "Verbose",
        _ => null,
    };

    /// <summary>
    /// What identifies an event in its log: <c>CHANNEL:EventRecordID</c> (the position for
    /// <c>LogIds.For</c>). An event without a record id (possible only in hand-made XML) is identified by its
    /// provider, id and time instead.
    /// </summary>
    public static string Position(WindowsEvent windowsEvent, string channel)
    {
        ArgumentNullException.ThrowIfNull(windowsEvent);
        return windowsEvent.RecordId is { } record
            ? channel + ":" + record.ToString(CultureInfo.InvariantCulture)
            : $"{channel}:{windowsEvent.Provider}:{windowsEvent.EventId.ToString(CultureInfo.InvariantCulture)}:{windowsEvent.TimeCreated.UtcTicks.ToString(CultureInfo.InvariantCulture)}";
    }

    /// <summary>
    /// The record of one event. <paramref name="logName"/> is used as the channel when the event has no
    /// <c>System/Channel</c>; <paramref name="renderedMessage"/> and <paramref name="renderedLevel"/> are what
    /// Windows rendered (null or blank when it could not: no provider metadata on this machine). The rendered
    /// level name is used only for a non-standard level; standard levels get the stable English name of
    /// <see cref="LevelName"/>, whatever the machine's language.
    /// </summary>
    public static LogRecord ToLogRecord(WindowsEvent windowsEvent, string source, string id, string? logName = null, string? renderedMessage = null, string? renderedLevel = null)
    {
        ArgumentNullException.ThrowIfNull(windowsEvent);
        ArgumentNullException.ThrowIfNull(source);
        var e = windowsEvent;
        var fields = new Dictionary<string, string>(e.Data.Count + 10, StringComparer.Ordinal);
        foreach (var (name, value) in e.Data)
        {
            fields[name] = value;
        }

        AddSystem(fields, RecordIdField, e.RecordId);
        AddSystem(fields, LevelField, e.Level);
        AddSystem(fields, TaskField, e.Task);
        AddSystem(fields, OpcodeField, e.Opcode);
        AddSystem(fields, KeywordsField, e.Keywords);
        AddSystem(fields, UserIdField, e.UserId);
        AddSystem(fields, ProcessIdField, e.ProcessId);
        AddSystem(fields, ThreadIdField, e.ThreadId);
        AddSystem(fields, ComputerField, e.Computer);
        AddSystem(fields, VersionField, e.Version);

        var level = LevelName(e.Level)
            ?? (string.IsNullOrWhiteSpace(renderedLevel) ? null : renderedLevel.Trim())
            ?? (e.Level is { } n ? "Level " + n.ToString(CultureInfo.InvariantCulture) : null);
        return new LogRecord
        {
            Id = id,
            Time = e.TimeCreated,
            Host = e.Computer,
            Source = source,
            Channel = e.Channel ?? logName,
            Provider = e.Provider,
            EventId = e.EventId,
            Level = level,
            Message = string.IsNullOrWhiteSpace(renderedMessage) ? FallbackMessage(e) : renderedMessage.TrimEnd(),
            Fields = fields,
        };
    }

    /// <summary>
    /// The message when Windows could not render one: <c>PROVIDER event ID: Name=value, Name=value, ...</c>
    /// over the event's data in document order (what the rendered message would be built from).
    /// </summary>
    public static string FallbackMessage(WindowsEvent windowsEvent)
    {
        ArgumentNullException.ThrowIfNull(windowsEvent);
        var text = new StringBuilder(64 + windowsEvent.Data.Count * 32);
        text.Append(windowsEvent.Provider).Append(" event ").Append(windowsEvent.EventId.ToString(CultureInfo.InvariantCulture));
        var first = true;
        foreach (var (name, value) in windowsEvent.Data)
        {
            text.Append(first ? ": " : ", ").Append(name).Append('=').Append(value);
            first = false;
        }

        return text.ToString();
    }

    private static void AddSystem(Dictionary<string, string> fields, string name, long? value)
    {
        if (value is { } v)
        {
            fields.TryAdd(name, v.ToString(CultureInfo.InvariantCulture));
        }
    }

    private static void AddSystem(Dictionary<string, string> fields, string name, string? value)
    {
        if (value is not null)
        {
            fields.TryAdd(name, value);
        }
    }
}
