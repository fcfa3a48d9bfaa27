using System.Collections.Concurrent;
using SessionTrail.Server.Reports;
using SessionTrail.Server.Store;

namespace SessionTrail.Server.Web.Api;

/// <summary>The body of <c>GET /api/v1/dashboard</c>.</summary>
public sealed record DashboardView(
    IReadOnlyList<TopAppRow> TopByTime,
    IReadOnlyList<LaunchRow> TopByLaunches,
    IReadOnlyList<DayUsageRow> PerDay,
    IReadOnlyList<PeakRow> PeakConcurrency,
    long ActiveSessions,
    long ActiveUsers);

/// <summary>
/// The dashboard's charts, each the table of a report run with the same filter: topByTime is the first
/// <c>top</c> rows of <c>top-apps</c>, topByLaunches of <c>launches</c>, peakConcurrency the per-app maximum of
/// <c>concurrency</c> (so the numbers are the reports' numbers), perDay <see cref="ReportService.PerDay"/>;
/// active sessions and users from <see cref="SessionBrowser.Active"/> (now, whatever the window).
/// A chart's table is kept and reused while no process or session record has arrived since
/// (<see cref="SessionBrowser.DataVersion"/>) — for <see cref="CacheSeconds"/> seconds when the window ended in the
/// past, else (open runs grow with "now") for <see cref="OpenCacheSeconds"/>: the CSV after the dashboard, or the
/// dashboard opened again, does not run the reports again; any new record does.
/// </summary>
public sealed class Dashboard(ReportService reports, SessionBrowser sessions, SqliteStore store)
{
    /// <summary>How long an unchanged chart of a window that ended in the past is reused.</summary>
    public const int CacheSeconds = 30;

    /// <summary>How long an unchanged chart of a window without an end (or ending later) is reused: its open runs grow with "now".</summary>
    public const int OpenCacheSeconds = 5;

    private const int CacheEntries = 256;

    private static readonly ConcurrentDictionary<(string Database, string Part, ReportFilter Filter, int Top), (string Version, long Ticks, ReportTable Table)> Cache = new();

    /// <summary>The chart names, as used by <c>GET /api/v1/dashboard/{part}.csv</c>.</summary>
    public static readonly IReadOnlyList<string> Parts = ["topByTime", "topByLaunches", "perDay", "peakConcurrency"];

    public const int DefaultTop = 10;
    public const int MaxTop = 1000;

    /// <summary>
    /// Every chart and the active counts. The four reports run at the same time, each on its own read connection
    /// (SQLite in WAL mode): the dashboard takes as long as its slowest chart (concurrency), not their sum.
    /// </summary>
    public async Task<DashboardView> BuildAsync(ReportFilter filter, int top)
    {
        ArgumentNullException.ThrowIfNull(filter);
        var parts = Parts.Select(part => Task.Run(() => Part(part, filter, top))).ToList();
        var (activeSessions, activeUsers) = sessions.Active(filter.User, filter.Fleet, filter.Stack);
        var tables = await Task.WhenAll(parts);
        return new DashboardView(
            [.. tables[0].Rows.Cast<TopAppRow>()],
            [.. tables[1].Rows.Cast<LaunchRow>()],
            [.. tables[2].Rows.Cast<DayUsageRow>()],
            [.. tables[3].Rows.Cast<PeakRow>()],
            activeSessions,
            activeUsers);
    }

    /// <summary>The table of one chart (<see cref="Parts"/>); perDay has every day, the others the first <paramref name="top"/> rows.</summary>
    public ReportTable Part(string part, ReportFilter filter, int top)
    {
        ArgumentNullException.ThrowIfNull(filter);
        var key = (store.DatabasePath, part, filter, top);
        var version = sessions.DataVersion(); // before computing: a record arriving meanwhile makes the next call compute again
        var now = Environment.TickCount64;
        var seconds = filter.To is { } end && end <= DateTimeOffset.UtcNow ? CacheSeconds : OpenCacheSeconds;
        if (Cache.TryGetValue(key, out var kept) && kept.Version == version && now - kept.Ticks < seconds * 1000L)
        {
            return kept.Table;
        }

        var table = Compute(part, filter, top);
        if (Cache.Count >= CacheEntries)
        {
            Cache.Clear();
        }

        Cache[key] = (version, now, table);
        return table;
    }

    private ReportTable Compute(string part, ReportFilter filter, int top) => part switch
    {
        "topByTime" => reports.First("top-apps", filter, top),
        "topByLaunches" => reports.First("launches", filter, top),
        "perDay" => reports.PerDay(filter),
        "peakConcurrency" => reports.PeakConcurrency(filter, top),
        _ => throw new ArgumentException($"unknown dashboard part '{part}'", nameof(part)),
    };
}
