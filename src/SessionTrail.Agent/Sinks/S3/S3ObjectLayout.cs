using System.Globalization;
using System.Text;

namespace SessionTrail.Agent.Sinks.S3;

/// <summary>
/// Object keys of the S3 sink, in the seed's Hive-style layout:
/// <c>PREFIX/year=YYYY/month=MM/day=DD/SESSION.EXT</c> (the day of the session's end, UTC), and for
/// records without a session <c>UNATTRIBUTED/year=YYYY/month=MM/day=DD/HOST.jsonl</c>.
/// </summary>
public static class S3ObjectLayout
{
    /// <summary>The key of a session's object.</summary>
    public static string SessionKey(string prefix, string session, DateTimeOffset end, string extension) =>
        Partition(prefix, DateOnly.FromDateTime(end.UtcDateTime)) + KeyPart(session) + "." + extension;

    /// <summary>The key of a host's unattributed records of <paramref name="day"/>.</summary>
    public static string DayKey(string prefix, string host, DateOnly day) =>
        Partition(prefix, day) + KeyPart(host) + ".jsonl";

    private static string Partition(string prefix, DateOnly day) => string.Create(CultureInfo.InvariantCulture,
        $"{prefix.Trim('/')}/year={day.Year:D4}/month={day.Month:D2}/day={day.Day:D2}/");

    /// <summary>A session id or host as one key segment: '/', '\' and control characters become '_'; empty is "_".</summary>
    internal static string KeyPart(string value)
    {
        var sb = new StringBuilder(value.Length);
        foreach (var c in value)
        {
            sb.Append(c is '/' or '\\' || char.IsControl(c) ? '_' : c);
        }

        return sb.Length == 0 || sb.ToString() is "." or ".." ? "_" + sb : sb.ToString();
    }
}
