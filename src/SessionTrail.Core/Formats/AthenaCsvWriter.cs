using System.Globalization;
using System.Text;
using SessionTrail.Core.Records;

namespace SessionTrail.Core.Formats;

/// <summary>
/// Writes one session as the seed's per-session CSV (<c>Get-ProcessDetails.ps1</c>), byte for byte:
/// a UTF-8 BOM (Windows PowerShell 5.1 <c>Set-Content -Encoding UTF8</c>; <c>Add-Content</c> appends
/// without one), CRLF line ends, the script's header line (17 names, one of them the fused "time_of_executionprocess_start_time", as written),
/// unquoted fields joined by commas, rows in <see cref="AthenaRows"/> order. Columns: event_type,
/// date (<see cref="AthenaWriteOptions.DateFormat"/>, local), time (HH:mm:ss, local), process, host,
/// pid (decimal), stack, session, username, reservation time, instance_type, region, image_arn, fleet,
/// auth_type, userid, process_time (yyyy-MM-ddTHH:mm:ssZ, UTC).
/// The format cannot carry a comma or a line break inside a field (no quoting): such rows are written
/// as the script would write them and reported in <see cref="AthenaObject.Warnings"/>.
/// A pure function: the same input gives the same bytes.
/// </summary>
public static class AthenaCsvWriter
{
    /// <summary>The script's header line, verbatim (note "time_of_executionprocess_start_time").</summary>
    public const string Header =
        "event_type,date,time,process,host,pid,stack,session,username,time_of_executionprocess_start_time,instance_type,region,image_arn,fleet,auth_type,userid,process_time";

    /// <summary>The 17 column names of the seed's DDL, in row order (what <see cref="AthenaFieldWarning.Field"/> names).</summary>
    public static readonly IReadOnlyList<string> Columns =
    [
        "event_type", "date", "time", "process", "host", "pid", "stack", "session", "username", "process_start_time",
        "instance_type", "region", "image_arn", "fleet", "auth_type", "userid", "process_time",
    ];

    /// <summary>File extension of the objects.</summary>
    public const string Extension = "csv";

    private static readonly byte[] Bom = [0xEF, 0xBB, 0xBF];
    private static readonly UTF8Encoding Utf8 = new(encoderShouldEmitUTF8Identifier: false);

    /// <summary>
    /// The object for <paramref name="session"/> with its process events (starts and exits of that
    /// session, in arrival order; their <see cref="TrailRecord.Session"/> is not read).
    /// </summary>
    public static AthenaObject Write(AthenaSession session, IReadOnlyList<ProcessRecord> events, AthenaWriteOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(session);
        options ??= AthenaWriteOptions.Default;
        var rows = AthenaRows.Build(session, events);
        var warnings = new List<AthenaFieldWarning>();
        var text = new StringBuilder(256 + (rows.Count * 200));
        text.Append(Header).Append("\r\n");
        var fields = new string[Columns.Count];
        FillSession(fields, session);
        var line = 1;
        var lastDate = DateTime.MinValue;
        var dateText = "";
        foreach (var row in rows)
        {
            line++;
            var local = TimeZoneInfo.ConvertTime(row.Time, options.TimeZone);
            if (local.Date != lastDate)
            {
                (lastDate, dateText) = (local.Date, local.ToString(options.DateFormat, CultureInfo.InvariantCulture));
            }

            fields[0] = row.EventType == AthenaRows.StartEvent ? "4688" : row.EventType.ToString(CultureInfo.InvariantCulture);
            fields[1] = dateText;
            fields[2] = local.ToString("HH:mm:ss", CultureInfo.InvariantCulture);
            fields[3] = row.Process;
            fields[4] = row.Host;
            fields[5] = row.Pid.ToString(CultureInfo.InvariantCulture);
            fields[15] = row.UserId;
            fields[16] = IsoSeconds(row.Time);
            for (var i = 0; i < fields.Length; i++)
            {
                if (i > 0)
                {
                    text.Append(',');
                }

                var value = fields[i];
                if (value.AsSpan().IndexOfAny(',', '\r', '\n') >= 0)
                {
                    Warn(warnings, line, i, value);
                }

                text.Append(value);
            }

            text.Append("\r\n");
        }

        var chars = text.ToString();
        var content = new byte[Bom.Length + Utf8.GetByteCount(chars)];
        Bom.CopyTo(content, 0);
        Utf8.GetBytes(chars, 0, chars.Length, content, Bom.Length);
        return new AthenaObject(
            AthenaLayout.ObjectKey(session.Id, session.End, options.TimeZone, Extension), content, rows.Count, warnings);
    }

    private static void Warn(List<AthenaFieldWarning> warnings, int line, int column, string value)
    {
        if (value.Contains(','))
        {
            warnings.Add(new AthenaFieldWarning(line, Columns[column], "comma"));
        }

        if (value.AsSpan().IndexOfAny('\r', '\n') >= 0)
        {
            warnings.Add(new AthenaFieldWarning(line, Columns[column], "line break"));
        }
    }

    /// <summary>The columns that are the same on every row of the session.</summary>
    private static void FillSession(string[] f, AthenaSession session)
    {
        var fields = session.Fields;
        f[6] = fields.Stack ?? "";
        f[7] = session.Id;
        f[8] = fields.User ?? "";
        f[9] = fields.ReservationTime ?? "";
        f[10] = fields.InstanceType ?? "";
        f[11] = fields.Region ?? "";
        f[12] = fields.ImageArn ?? "";
        f[13] = fields.Fleet ?? "";
        f[14] = fields.AccessMode ?? "";
    }

    /// <summary>The script's <c>ToUniversalTime().ToString('yyyy-MM-ddTHH:mm:ssZ')</c>.</summary>
    public static string IsoSeconds(DateTimeOffset time) =>
        time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
}
