using System.Diagnostics.Eventing.Reader;
using System.Runtime.Versioning;
using SessionTrail.Agent.Config;
using SessionTrail.Agent.Ids;
using SessionTrail.Agent.Sinks;
using SessionTrail.Agent.Sources;

namespace SessionTrail.Agent.Sources.WindowsEventLog;

/// <summary>The Windows calls both event log sources (and the Security process capture) share.</summary>
[SupportedOSPlatform("windows")]
public static class EventLogShell
{
    /// <summary>The log's newest EventRecordID, or null when it cannot be read (no access, empty log).</summary>
    public static long? NewestRecordId(string logName)
    {
        try
        {
            var info = EventLogSession.GlobalSession.GetLogInformation(logName, PathType.LogName);
            return info.OldestRecordNumber is { } oldest && info.RecordCount is { } count ? oldest + count - 1 : null;
        }
        catch (EventLogException)
        {
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>
    /// The event's XML with its rendered message and level name. Rendering throws when the provider's
    /// metadata is missing on this machine (events forwarded from elsewhere, an uninstalled product): then
    /// the message is null and the mapping builds one from the event data.
    /// </summary>
    public static EventLogItem ToItem(EventRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        return new EventLogItem(record.ToXml(), Render(record.FormatDescription), Render(() => record.LevelDisplayName));
    }

    private static string? Render(Func<string?> render)
    {
        try
        {
            return render();
        }
        catch (Exception ex) when (ex is EventLogException or InvalidOperationException or UnauthorizedAccessException or FormatException)
        {
            return null;
        }
    }
}
