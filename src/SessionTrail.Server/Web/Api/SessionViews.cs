namespace SessionTrail.Server.Web.Api;

/// <summary>What <c>GET /api/v1/sessions</c> asks for; null members match everything. <see cref="Sort"/> is one of <see cref="SessionBrowser.Sorts"/>.</summary>
public sealed record SessionListQuery(
    string? Q = null,
    string? User = null,
    string? Host = null,
    string? Stack = null,
    string? Fleet = null,
    DateTimeOffset? From = null,
    DateTimeOffset? To = null,
    bool? Recorded = null,
    string Sort = "-start",
    int Offset = 0,
    int Limit = SessionBrowser.DefaultLimit);

/// <summary>
/// One row of the sessions list. Times are ISO-8601 UTC with milliseconds; <see cref="Duration"/> in seconds
/// (until now while the session is open; null without a start). <see cref="Apps"/>: up to 5 distinct program
/// names, the most recently started first. <see cref="Recording"/>: the server holds segment records of it.
/// </summary>
public sealed record SessionItem(
    string Id, string? User, string? Host, string? Stack, string? Fleet, string? Start, string? End, double? Duration, long Runs,
    IReadOnlyList<string> Apps, bool Recording);

/// <summary>One page of the sessions list and how many sessions match in all.</summary>
public sealed record SessionPage(long Total, int Offset, int Limit, IReadOnlyList<SessionItem> Items);

/// <summary>A session's metadata on its page.</summary>
public sealed record SessionInfo(
    string Id, string? User, string? Host, string? Stack, string? Fleet, string? AccessMode, string? InstanceType, string? Region,
    string? ImageArn, string? Start, string? End, double? Duration);

/// <summary>
/// One run of the session: <see cref="App"/> the executable path, <see cref="Name"/> its file name;
/// <see cref="Ended"/> is exit | session-end | open (then <see cref="End"/> is null and <see cref="Duration"/> runs until now);
/// <see cref="ExitCode"/> from the exit record when it carried one.
/// </summary>
public sealed record SessionRun(
    string App, string Name, long Pid, string? User, string Start, string? End, double Duration, string Ended, long? ExitCode);

/// <summary>
/// The recording of a session in brief, from the recordings listing (<see cref="Recordings.RecordingInspector"/>):
/// segments known, segments in state complete, chain problems, and the first start and last end of the segment records.
/// </summary>
public sealed record RecordingSummary(int Segments, int Complete, int Problems, string? Start, string? End);

/// <summary>The body of <c>GET /api/v1/sessions/{id}</c>.</summary>
public sealed record SessionDetail(SessionInfo Session, IReadOnlyList<SessionRun> Runs, long LogCount, RecordingSummary? Recording);

/// <summary>The body of <c>GET /api/v1/facets</c>: the values the dashboard filters offer (the 200 with most sessions each, sorted by name).</summary>
public sealed record Facets(IReadOnlyList<string> Users, IReadOnlyList<string> Fleets, IReadOnlyList<string> Stacks);
