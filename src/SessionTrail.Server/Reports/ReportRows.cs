namespace SessionTrail.Server.Reports;

/// <summary>
/// One row of a report. Its JSON (camelCase) is exactly the report's fields; <see cref="GetValue"/>
/// gives the value of column <c>i</c> of <see cref="ReportTable.Columns"/> for table and CSV output.
/// </summary>
public interface IReportRow
{
    /// <summary>The value of column <paramref name="column"/> (string, number or null).</summary>
    object? GetValue(int column);
}

/// <summary>A report's rows and its column names (the JSON field names, in order).</summary>
public sealed record ReportTable(string Name, IReadOnlyList<string> Columns, IReadOnlyList<IReportRow> Rows)
{
    /// <summary>The rows typed as object, so that JSON serializers write each row's own fields.</summary>
    public IReadOnlyList<object> RowsAsObjects => Rows.Cast<object>().ToArray();
}

/// <summary><c>top-apps</c>: total run time per executable, within the window when one is given.</summary>
public sealed record TopAppRow(string App, long Runs, long Users, double Seconds) : IReportRow
{
    public static readonly IReadOnlyList<string> Columns = ["app", "runs", "users", "seconds"];

    public object? GetValue(int column) => column switch
    {
        0 => App,
        1 => Runs,
        2 => Users,
        3 => Seconds,
        _ => throw new ArgumentOutOfRangeException(nameof(column)),
    };
}

/// <summary><c>launches</c>: runs started per executable.</summary>
public sealed record LaunchRow(string App, long Launches, long Users) : IReportRow
{
    public static readonly IReadOnlyList<string> Columns = ["app", "launches", "users"];

    public object? GetValue(int column) => column switch
    {
        0 => App,
        1 => Launches,
        2 => Users,
        _ => throw new ArgumentOutOfRangeException(nameof(column)),
    };
}

/// <summary><c>runs</c>: every run; <see cref="End"/> is null while open; <see cref="EndedBy"/> is exit|session_end|open.</summary>
public sealed record RunRow(
    string App, long Pid, string Host, string? User, string? Session, string Start, string? End, double Seconds, string EndedBy)
    : IReportRow
{
    public static readonly IReadOnlyList<string> Columns = ["app", "pid", "host", "user", "session", "start", "end", "seconds", "endedBy"];

    public object? GetValue(int column) => column switch
    {
        0 => App,
        1 => Pid,
        2 => Host,
        3 => User,
        4 => Session,
        5 => Start,
        6 => End,
        7 => Seconds,
        8 => EndedBy,
        _ => throw new ArgumentOutOfRangeException(nameof(column)),
    };
}

/// <summary><c>concurrency</c>: peak simultaneous distinct users and runs of an app on one UTC day.</summary>
public sealed record ConcurrencyRow(string App, string Day, long PeakUsers, long PeakRuns) : IReportRow
{
    public static readonly IReadOnlyList<string> Columns = ["app", "day", "peakUsers", "peakRuns"];

    public object? GetValue(int column) => column switch
    {
        0 => App,
        1 => Day,
        2 => PeakUsers,
        3 => PeakRuns,
        _ => throw new ArgumentOutOfRangeException(nameof(column)),
    };
}

/// <summary><c>concurrency --by month</c>: the highest daily peaks of an app in one UTC month (yyyy-MM).</summary>
public sealed record ConcurrencyMonthRow(string App, string Month, long PeakUsers, long PeakRuns) : IReportRow
{
    public static readonly IReadOnlyList<string> Columns = ["app", "month", "peakUsers", "peakRuns"];

    public object? GetValue(int column) => column switch
    {
        0 => App,
        1 => Month,
        2 => PeakUsers,
        3 => PeakRuns,
        _ => throw new ArgumentOutOfRangeException(nameof(column)),
    };
}

/// <summary>
/// <c>inactive</c>: a user and app pair with no run in the last N days: the latest start, the latest end
/// (now for an open run), the number of runs and the whole days since that end.
/// </summary>
public sealed record InactiveRow(string? User, string App, string LastUsed, string LastEnd, long Runs, long IdleDays) : IReportRow
{
    public static readonly IReadOnlyList<string> Columns = ["user", "app", "lastUsed", "lastEnd", "runs", "idleDays"];

    public object? GetValue(int column) => column switch
    {
        0 => User,
        1 => App,
        2 => LastUsed,
        3 => LastEnd,
        4 => Runs,
        5 => IdleDays,
        _ => throw new ArgumentOutOfRangeException(nameof(column)),
    };
}

/// <summary><c>last-used</c>: per user and app, the latest run start and the number of runs.</summary>
public sealed record LastUsedRow(string? User, string App, string LastUsed, long Runs) : IReportRow
{
    public static readonly IReadOnlyList<string> Columns = ["user", "app", "lastUsed", "runs"];

    public object? GetValue(int column) => column switch
    {
        0 => User,
        1 => App,
        2 => LastUsed,
        3 => Runs,
        _ => throw new ArgumentOutOfRangeException(nameof(column)),
    };
}

/// <summary><c>sessions</c>: one row per session; start/end null when their record has not arrived.</summary>
public sealed record SessionRow(string Session, string? User, string? Host, string? Start, string? End, long Runs) : IReportRow
{
    public static readonly IReadOnlyList<string> Columns = ["session", "user", "host", "start", "end", "runs"];

    public object? GetValue(int column) => column switch
    {
        0 => Session,
        1 => User,
        2 => Host,
        3 => Start,
        4 => End,
        5 => Runs,
        _ => throw new ArgumentOutOfRangeException(nameof(column)),
    };
}

/// <summary>Usage on one UTC day (runs launched that day): distinct sessions and users, runs, run time in seconds.</summary>
public sealed record DayUsageRow(string Day, long Sessions, long Users, long Runs, double Seconds) : IReportRow
{
    public static readonly IReadOnlyList<string> Columns = ["day", "sessions", "users", "runs", "seconds"];

    public object? GetValue(int column) => column switch
    {
        0 => Day,
        1 => Sessions,
        2 => Users,
        3 => Runs,
        4 => Seconds,
        _ => throw new ArgumentOutOfRangeException(nameof(column)),
    };
}

/// <summary>
/// <c>peakConcurrency</c> on the dashboard: an app's highest number of distinct users running it at the same moment
/// on any UTC day of the window (<see cref="Peak"/>, the <c>concurrency</c> report's peakUsers), the first day it was
/// reached, and the highest number of simultaneous runs (peakRuns) of any day.
/// </summary>
public sealed record PeakRow(string App, long Peak, string Day, long PeakRuns) : IReportRow
{
    public static readonly IReadOnlyList<string> Columns = ["app", "peak", "day", "peakRuns"];

    public object? GetValue(int column) => column switch
    {
        0 => App,
        1 => Peak,
        2 => Day,
        3 => PeakRuns,
        _ => throw new ArgumentOutOfRangeException(nameof(column)),
    };
}
