using System.Globalization;
using Microsoft.Extensions.Logging;
using SessionTrail.Agent.Config;
using SessionTrail.Agent.Ids;
using SessionTrail.Agent.Sinks;
using SessionTrail.Agent.Sources;

namespace SessionTrail.Agent.Sources.WindowsEventLog;

/// <summary>
/// The settings of a <c>WindowsEventLogSource</c> / <c>WindowsEventLogPollingSource</c> entry, with
/// KinesisTap's key names. Read and checked on every OS (the factories refuse to build the source off
/// Windows, but the settings are tested anywhere).
/// </summary>
public sealed record WindowsEventLogOptions
{
    public const string WatcherType = "WindowsEventLogSource";
    public const string PollingType = "WindowsEventLogPollingSource";
    public const string ExcludeOwnSecurityEventsFilter = "ExcludeOwnSecurityEvents";

    private static readonly string[] Keys =
    [
        "LogName", "Query", "InitialPosition", "InitialPositionTimestamp", "TimeZoneKind", "IncludeEventData",
        "CustomFilters", "BookmarkOnBufferFlush",
    ];

    private static readonly string[] PollingKeys = ["MinReaderDelayMs", "MaxReaderDelayMs", "DelayThreshold"];

    /// <summary>"LogName" (required): the channel, e.g. <c>Application</c>, <c>Security</c>, <c>Microsoft-Windows-PowerShell/Operational</c>.</summary>
    public required string LogName { get; init; }

    /// <summary>"Query": an XPath filter such as <c>*[System[Level&lt;=3]]</c>; null for every event.</summary>
    public string? Query { get; init; }

    public EventLogInitialPosition InitialPosition { get; init; }

    /// <summary>"InitialPositionTimestamp" (required with InitialPosition Timestamp), UTC unless "TimeZoneKind" is Local.</summary>
    public DateTimeOffset? InitialPositionTimestamp { get; init; }

    /// <summary>"CustomFilters": ExcludeOwnSecurityEvents drops Security events whose EventData ProcessId is the agent's own process.</summary>
    public bool ExcludeOwnSecurityEvents { get; init; }

    /// <summary>"IncludeEventData": accepted for compatibility; the event data is always included, by name.</summary>
    public bool IncludeEventData { get; init; } = true;

    /// <summary>"BookmarkOnBufferFlush": accepted for compatibility; the bookmark always moves only when the records are durable.</summary>
    public bool BookmarkOnBufferFlush { get; init; }

    /// <summary>True for the EventLogReader loop (WindowsEventLogPollingSource).</summary>
    public bool Polling { get; init; }

    /// <summary>"MinReaderDelayMs" (100): the wait between polls while events keep coming.</summary>
    public TimeSpan MinReaderDelay { get; init; } = TimeSpan.FromMilliseconds(100);

    /// <summary>"MaxReaderDelayMs" (5000): the longest wait between polls of a quiet log.</summary>
    public TimeSpan MaxReaderDelay { get; init; } = TimeSpan.FromMilliseconds(5000);

    /// <summary>"DelayThreshold" (1000): a poll that read at least this many events polls again after the minimum delay; fewer doubles the delay.</summary>
    public int DelayThreshold { get; init; } = 1000;

    /// <summary>Bookmark after this many events (and after <see cref="BookmarkInterval"/>, and when idle).</summary>
    public int BookmarkEveryEvents { get; init; } = 500;

    public TimeSpan BookmarkInterval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Reads one source entry; errors name the key path; unknown keys are warned about on <paramref name="logger"/>.</summary>
    public static WindowsEventLogOptions FromConfig(ConfigNode config, bool polling, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(config);
        var type = polling ? PollingType : WatcherType;
        SourceConfigKeys.WarnUnknown(config, type, polling ? Keys.Concat(PollingKeys) : Keys, logger);
        var initial = config.OneOf("InitialPosition", "Bookmark", "Bookmark", "EOS", "0", "Timestamp") switch
        {
            "EOS" => EventLogInitialPosition.EndOfStream,
            "0" => EventLogInitialPosition.Beginning,
            "Timestamp" => EventLogInitialPosition.Timestamp,
            _ => EventLogInitialPosition.Bookmark,
        };
        var local = config.OneOf("TimeZoneKind", "UTC", "UTC", "Local") == "Local";
        DateTimeOffset? timestamp = null;
        if (config.Optional("InitialPositionTimestamp") is { } text)
        {
            var style = (local ? DateTimeStyles.AssumeLocal : DateTimeStyles.AssumeUniversal) | DateTimeStyles.AllowWhiteSpaces;
            timestamp = DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, style, out var parsed)
                ? parsed.ToUniversalTime()
                : throw new LogConfigException(config.KeyPath("InitialPositionTimestamp"), $"must be a date and time such as 2024-05-01 13:00:00, not '{text}'");
        }
        else if (initial == EventLogInitialPosition.Timestamp)
        {
            throw new LogConfigException(config.KeyPath("InitialPositionTimestamp"), "is required when InitialPosition is Timestamp");
        }

        var filters = config.List("CustomFilters", ',');
        foreach (var filter in filters)
        {
            if (!string.Equals(filter, ExcludeOwnSecurityEventsFilter, StringComparison.OrdinalIgnoreCase))
            {
                throw new LogConfigException(config.KeyPath("CustomFilters"), $"has an unknown filter '{filter}' (the one there is: {ExcludeOwnSecurityEventsFilter})");
            }
        }

        var options = new WindowsEventLogOptions
        {
            LogName = config.Required("LogName"),
            Query = config.Optional("Query"),
            InitialPosition = initial,
            InitialPositionTimestamp = timestamp,
            ExcludeOwnSecurityEvents = filters.Count > 0,
            IncludeEventData = config.Bool("IncludeEventData", true),
            BookmarkOnBufferFlush = config.Bool("BookmarkOnBufferFlush", false),
            Polling = polling,
        };
        if (!polling)
        {
            return options;
        }

        options = options with
        {
            MinReaderDelay = config.Milliseconds("MinReaderDelayMs", options.MinReaderDelay, TimeSpan.FromMilliseconds(1)),
            MaxReaderDelay = config.Milliseconds("MaxReaderDelayMs", options.MaxReaderDelay, TimeSpan.FromMilliseconds(1)),
            DelayThreshold = config.Int("DelayThreshold", options.DelayThreshold, 1),
        };
        return options.MaxReaderDelay >= options.MinReaderDelay
            ? options
            : throw new LogConfigException(config.KeyPath("MaxReaderDelayMs"), $"must be at least MinReaderDelayMs ({options.MinReaderDelay.TotalMilliseconds.ToString(CultureInfo.InvariantCulture)})");
    }

    /// <summary>The wait before the next poll, after a poll that read <paramref name="read"/> events and waited <paramref name="previous"/> before.</summary>
    public TimeSpan NextReaderDelay(TimeSpan previous, int read)
    {
        if (read >= DelayThreshold)
        {
            return MinReaderDelay;
        }

        var doubled = previous < MinReaderDelay ? MinReaderDelay : previous * 2;
        return doubled > MaxReaderDelay ? MaxReaderDelay : doubled;
    }
}
