using System.Diagnostics.Eventing.Reader;
using System.Runtime.Versioning;
using Microsoft.Extensions.Logging;
using SessionTrail.Agent.Sources;
using SessionTrail.Agent.Sources.WindowsEventLog;

namespace SessionTrail.Agent.Platform.Windows;

/// <summary>
/// Live 4688/4689 from the Security log through <see cref="EventLogWatcher"/>. A thin shell: where to
/// start is <see cref="SecurityLogPosition.Decide"/>, each event goes through <c>EventRecord.ToXml()</c>
/// into <see cref="SecurityEventPump"/> (parse, map, filter, write, bookmark after durability).
/// Needs to run as an administrator or a member of "Event Log Readers", and the audit policy for
/// Process Creation/Termination (<c>sessiontrail agent --enable-audit-policy</c>).
/// </summary>
[SupportedOSPlatform("windows")]
public sealed partial class WindowsEventLogSource(WindowsCaptureOptions options, string dataDir, ILogger<WindowsEventLogSource> logger, TimeProvider time) : IRecordSource
{
    private readonly SecurityLogPosition _position = new(dataDir);
    private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public string Name => "windows-security-log";

    /// <summary>Completes when the watcher is subscribed.</summary>
    public Task Ready => _ready.Task;

    public SecurityEventStats? Stats { get; private set; }

    public async Task RunAsync(IRecordOutput output, CancellationToken cancellationToken)
    {
        var (bookmark, unreadable) = _position.Load();
        var start = SecurityLogPosition.Decide(bookmark, unreadable, options.ReadExistingOnFirstStart, EventLogShell.NewestRecordId(SecurityLogPosition.Channel));
        LogStart(logger, start.Why, start.Query);

        var pump = new SecurityEventPump(options, _position, logger, time);
        Stats = pump.Stats;
        var query = new EventLogQuery(SecurityLogPosition.Channel, PathType.LogName, start.Query);
        using var subscription = new EventLogSubscription<string>(query, start.ReadExisting, record => record.ToXml(), cancellationToken);
        subscription.Start();
        _ready.TrySetResult();
        try
        {
            await pump.RunAsync(subscription.Reader, output, cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }

        if (subscription.Error is { } error && !cancellationToken.IsCancellationRequested)
        {
            throw new InvalidOperationException("the Security event log watcher failed: " + error.Message, error);
        }
    }

    [LoggerMessage(EventId = 3102, Level = LogLevel.Information, Message = "Windows Security log: {Why}; query {Query}")]
    private static partial void LogStart(ILogger logger, string why, string query);
}
