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
        var line = 1;
        foreach (var row in rows)
        {
            line++;
            Fill(fields, session, row, options);
            for (var i = 0; i < fields.Length; i++)
            {
                if (i > 0)
                {
                    text.Append(',');
                }

                var value = fields[i];
                if (value.Contains(','))
                {
                    warnings.Add(new AthenaFieldWarning(line, Columns[i], "comma"));
                }

                if (value.AsSpan().IndexOfAny('\r', '\n') >= 0)
                {
                    warnings.Add(new AthenaFieldWarning(line, Columns[i], "line break"));
                }

                text.Append(value);
            }

            text.Append("\r\n");
        }

        var content = new byte[Bom.Length + Utf8.GetByteCount(text.ToString())];
        Bom.CopyTo(content, 0);
        Utf8.GetBytes(text.ToString(), 0, text.Length, content, Bom.Length);
        return new AthenaObject(
            AthenaLayout.ObjectKey(session.Id, session.End, options.TimeZone, Extension), content, rows.Count, warnings);
    }

    private static void Fill(string[] f, AthenaSession session, AthenaRow row, AthenaWriteOptions options)
    {
        var local = TimeZoneInfo.ConvertTime(row.Time, options.TimeZone);
        f[0] = row.EventType.ToString(CultureInfo.InvariantCulture);
        f[1] = local.ToString(options.DateFormat, CultureInfo.InvariantCulture);
        f[2] = local.ToString("HH:mm:ss", CultureInfo.InvariantCulture);
        f[3] = row.Process;
        f[4] = row.Host;
        f[5] = row.Pid.ToString(CultureInfo.InvariantCulture);
        f[6] = session.Stack ?? "";
        f[7] = session.Id;
        f[8] = session.User ?? "";
        f[9] = session.ReservationTime ?? "";
        f[10] = session.InstanceType ?? "";
        f[11] = session.Region ?? "";
        f[12] = session.ImageArn ?? "";
        f[13] = session.Fleet ?? "";
        f[14] = session.AccessMode ?? "";
        f[15] = row.UserId;
        f[16] = IsoSeconds(row.Time);
    }

    /// <summary>The script's <c>ToUniversalTime().ToString('yyyy-MM-ddTHH:mm:ssZ')</c>.</summary>
    public static string IsoSeconds(DateTimeOffset time) =>
        time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
}
