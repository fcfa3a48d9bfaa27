using SessionTrail.Core.Formats;

namespace SessionTrail.Agent.Sinks.S3;

/// <summary>
/// Object keys of the S3 sink, in the seed's Hive-style layout (<see cref="AthenaLayout"/>, the same as
/// <c>sessiontrail export</c>): <c>PREFIX/year=YYYY/month=MM/day=DD/SESSION.EXT</c> (the day of the
/// session's end, UTC, as on AppStream instances), and for records without a session
/// <c>UNATTRIBUTED/year=YYYY/month=MM/day=DD/HOST.jsonl</c>.
/// </summary>
public static class S3ObjectLayout
{
    /// <summary>The key of a session's object.</summary>
    public static string SessionKey(string prefix, string session, DateTimeOffset end, string extension) =>
        AthenaLayout.ObjectKey(session, end, TimeZoneInfo.Utc, extension, prefix.Trim('/'));

    /// <summary>The key of a host's unattributed records of <paramref name="day"/>.</summary>
    public static string DayKey(string prefix, string host, DateOnly day) =>
        AthenaLayout.ObjectKey(host, new DateTimeOffset(day.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero), TimeZoneInfo.Utc, "jsonl", prefix.Trim('/'));
}
