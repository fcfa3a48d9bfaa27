using System.Globalization;
using System.Text;
using SessionTrail.Core.Records;

namespace SessionTrail.Core.Formats;

/// <summary>
/// What the Athena writers need to know about one session: the seed script's session variables and the
/// session end (the script's <c>$Date</c>: the time the session-termination script ran). Null fields are
/// written as empty strings, as PowerShell's <c>-join</c> does with <c>$null</c>.
/// </summary>
public sealed record AthenaSession
{
    /// <summary>AppStream_Session_ID: the object's file name and the <c>session</c> column.</summary>
    public required string Id { get; init; }

    /// <summary>Session end: the pseudo-row's time and the day partition.</summary>
    public required DateTimeOffset End { get; init; }

    /// <summary>Session start when known (only the JSON-lines format writes it, on the session_end row).</summary>
    public DateTimeOffset? Start { get; init; }

    /// <summary>
    /// The session variables: the columns username (<see cref="SessionFields.User"/>), stack, fleet, auth_type
    /// (<see cref="SessionFields.AccessMode"/>), process_start_time (<see cref="SessionFields.ReservationTime"/>,
    /// as given), instance_type, region and image_arn.
    /// </summary>
    public SessionFields Fields { get; init; }

    /// <summary>The metadata of a session record (start or end record: the fields are the same), ending at <paramref name="end"/>.</summary>
    public static AthenaSession From(SessionRecord record, DateTimeOffset end, DateTimeOffset? start = null)
    {
        ArgumentNullException.ThrowIfNull(record);
        return new AthenaSession
        {
            Id = record.Session ?? throw new ArgumentException("The session record has no session id.", nameof(record)),
            End = end,
            Start = start,
            Fields = record.Fields,
        };
    }
}

/// <summary>Options of the Athena writers.</summary>
public sealed record AthenaWriteOptions
{
    /// <summary>The en-US <c>ToShortDateString()</c> pattern, AppStream's default culture.</summary>
    public const string DefaultDateFormat = "M/d/yyyy";

    /// <summary>
    /// .NET custom date format of the CSV <c>date</c> column (the seed writes <c>ToShortDateString()</c>
    /// of the instance's culture: <c>M/d/yyyy</c> for en-US, <c>dd/MM/yyyy</c> for en-GB, ...).
    /// </summary>
    public string DateFormat { get; init; } = DefaultDateFormat;

    /// <summary>
    /// The instance's time zone: the <c>date</c>/<c>time</c> columns and the day partition are local
    /// times in the seed's script. AppStream instances run in UTC, the default.
    /// </summary>
    public TimeZoneInfo TimeZone { get; init; } = TimeZoneInfo.Utc;

    /// <summary>The defaults: M/d/yyyy, UTC.</summary>
    public static readonly AthenaWriteOptions Default = new();
}

/// <summary>A field that breaks the seed's unquoted CSV: a comma shifts the columns, a line break splits the row.</summary>
/// <param name="Line">1-based line in the object (the header is line 1).</param>
/// <param name="Field">The column name (as in the seed's DDL).</param>
/// <param name="Problem">"comma" or "line break".</param>
public sealed record AthenaFieldWarning(int Line, string Field, string Problem)
{
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"line {Line}: field '{Field}' contains a {Problem}");
}

/// <summary>One object of the export: its key (relative path) and bytes, and the warnings for its rows.</summary>
/// <param name="Key">e.g. <c>appstream_applications/year=2026/month=11/day=30/SESSION.csv</c> (no leading slash).</param>
public sealed record AthenaObject(string Key, byte[] Content, int Rows, IReadOnlyList<AthenaFieldWarning> Warnings);

/// <summary>The seed's S3 layout: <c>appstream_applications/year=YYYY/month=MM/day=DD/&lt;session&gt;.&lt;ext&gt;</c>.</summary>
public static class AthenaLayout
{
    /// <summary>The table folder of the seed's DDL (LOCATION s3://bucket/appstream_applications/).</summary>
    public const string TableFolder = "appstream_applications";

    /// <summary>
    /// The object key of a session ending at <paramref name="end"/> (local time of <paramref name="zone"/>,
    /// as the script's <c>{0:yyyy}</c> of <c>$date</c>). Characters of the session id other than
    /// letters, digits, '-', '_' and '.' are written %XX (UTF-8), and so are the ids "." and "..", so that
    /// an id can never leave its folder; AppStream session ids (GUIDs) are unchanged.
    /// </summary>
    public static string ObjectKey(string sessionId, DateTimeOffset end, TimeZoneInfo zone, string extension, string tableFolder = TableFolder)
    {
        ArgumentNullException.ThrowIfNull(sessionId);
        var local = TimeZoneInfo.ConvertTime(end, zone);
        return string.Create(
            CultureInfo.InvariantCulture,
            $"{tableFolder}/year={local:yyyy}/month={local:MM}/day={local:dd}/{SafeFileName(sessionId)}.{extension}");
    }

    /// <summary>The session id as a file name (see <see cref="ObjectKey"/>).</summary>
    public static string SafeFileName(string id)
    {
        ArgumentException.ThrowIfNullOrEmpty(id);
        var safe = id != "." && id != ".." && id.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.');
        if (safe)
        {
            return id;
        }

        var sb = new StringBuilder(id.Length * 3);
        foreach (var b in Encoding.UTF8.GetBytes(id))
        {
            var c = (char)b;
            if (b < 0x80 && (char.IsAsciiLetterOrDigit(c) || c is '-' or '_'))
            {
                sb.Append(c);
            }
            else
            {
                sb.Append('%').Append(b.ToString("X2", CultureInfo.InvariantCulture));
            }
        }

        return sb.ToString();
    }
}
