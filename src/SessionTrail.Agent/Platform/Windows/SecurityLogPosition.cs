using System.Globalization;
using System.Text.Json;
using SessionTrail.Agent.Sources.WindowsEventLog;
using SessionTrail.Agent.Storage;
using SessionTrail.Core;
using SessionTrail.Core.Windows;

namespace SessionTrail.Agent.Platform.Windows;

/// <summary>Where the live source starts reading: the XPath query and whether events already in the log are read.</summary>
public sealed record SecurityLogStart(string Query, bool ReadExisting, string Why);

/// <summary>
/// The bookmark file DIR/agent/windows-security-bookmark.json (written atomically) and the decision where
/// to start. Platform-neutral so that it is tested on Linux; the Windows shell only runs the query. The file holds
/// an <see cref="EventLogBookmark"/> (the event log sources' bookmark: channel, last EventRecordID safely queued, when).
/// </summary>
public sealed class SecurityLogPosition(string dataDir)
{
    public const string FileName = "windows-security-bookmark.json";
    public const string Channel = "Security";

    public string FilePath { get; } = Path.Combine(DataDirectory.AgentDirectory(dataDir), FileName);

    /// <summary>
    /// The XPath query for 4688/4689 of Security-Auditing, after <paramref name="afterRecordId"/> when given.
    /// </summary>
    public static string Query(long? afterRecordId)
    {
        var after = afterRecordId is { } id ? " and EventRecordID>" + id.ToString(CultureInfo.InvariantCulture) : "";
        return $"*[System[Provider[@Name='{SecurityProcessEvents.Provider}'] and (EventID={SecurityProcessEvents.ProcessCreated} or EventID={SecurityProcessEvents.ProcessExited}){after}]]";
    }

    /// <summary>
    /// Decides where to start (<see cref="EventLogPosition.Decide"/>, the rules every event log source uses).
    /// With a bookmark: the events after it, including those written while the agent was stopped. Without
    /// one (first start): from now, or every event in the log when <paramref name="readExistingOnFirstStart"/>.
    /// A cleared log (newest record number below the bookmark) or an unreadable bookmark: every event in the log.
    /// </summary>
    public static SecurityLogStart Decide(EventLogBookmark? bookmark, bool bookmarkUnreadable, bool readExistingOnFirstStart, long? newestRecordId)
    {
        var initial = readExistingOnFirstStart ? EventLogInitialPosition.Beginning : EventLogInitialPosition.EndOfStream;
        var start = EventLogPosition.Decide(bookmark, bookmarkUnreadable, initial, null, newestRecordId);
        var why = start.Why;
        if (bookmark is null && !bookmarkUnreadable)
        {
            why = readExistingOnFirstStart
                ? "first start: reading every event already in the log (ReadExistingOnFirstStart)"
                : "first start: capturing from now (set WindowsProcesses:ReadExistingOnFirstStart to read older events)";
        }

        return new SecurityLogStart(Query(start.AfterRecordId), start.ReadExisting, why);
    }

    /// <summary>Reads the bookmark: (null, false) when there is none, (null, true) when the file is unreadable.</summary>
    public (EventLogBookmark? Bookmark, bool Unreadable) Load()
    {
        if (!File.Exists(FilePath))
        {
            return (null, false);
        }

        try
        {
            var bookmark = JsonSerializer.Deserialize(File.ReadAllBytes(FilePath), EventLogJsonContext.Default.EventLogBookmark);
            return bookmark is { RecordId: >= 0 } ? (bookmark, false) : (null, true);
        }
        catch (Exception ex) when (ex is JsonException or IOException or UnauthorizedAccessException)
        {
            return (null, true);
        }
    }

    /// <summary>Saves atomically (old or new content after a crash, never a mix).</summary>
    public void Save(EventLogBookmark bookmark) =>
        AtomicFile.WriteAllBytes(FilePath, JsonSerializer.SerializeToUtf8Bytes(bookmark, EventLogJsonContext.Default.EventLogBookmark));
}
