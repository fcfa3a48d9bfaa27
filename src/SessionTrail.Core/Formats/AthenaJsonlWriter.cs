using System.Buffers;
using System.Globalization;
using System.Text.Json;
using SessionTrail.Core.Records;

namespace SessionTrail.Core.Formats;

/// <summary>
/// The safe variant of the seed's CSV: the same rows in the same order (see <see cref="AthenaRows"/>)
/// as JSON lines (UTF-8 without BOM, "\n" line ends), so that any character in a path survives.
/// Fields: event_type, date (yyyy-MM-dd, local), time (HH:mm:ss, local), process, host, pid, stack,
/// session, username, reservation_time (the seed's misnamed process_start_time), instance_type,
/// region, image_arn, fleet, auth_type, userid, process_time (ISO UTC, seconds), and the run's
/// <c>start</c> and <c>end</c> (ISO UTC, milliseconds; null when unknown): on a 4688 row the start and
/// its paired exit or else the session end, on a 4689 row the paired start and the exit, on the
/// session_end row the session's start and end. Read by deploy/athena/appstream_applications_jsonl.ddl.sql.
/// </summary>
public static class AthenaJsonlWriter
{
    /// <summary>File extension of the objects.</summary>
    public const string Extension = "jsonl";

    /// <summary>
    /// The table folder (LOCATION of the JSON-lines DDL): not the CSV's, because Athena reads every file
    /// under a table's location whatever its extension.
    /// </summary>
    public const string TableFolder = "appstream_applications_jsonl";

    /// <summary>The field names of each line, in order.</summary>
    public static readonly IReadOnlyList<string> Fields =
    [
        "event_type", "date", "time", "process", "host", "pid", "stack", "session", "username", "reservation_time",
        "instance_type", "region", "image_arn", "fleet", "auth_type", "userid", "process_time", "start", "end",
    ];

    // Paths stay readable ('\\' and '"' are still escaped, as JSON requires).
    private static readonly JsonWriterOptions JsonOptions = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>The object for <paramref name="session"/>; see <see cref="AthenaCsvWriter.Write"/> for the inputs.</summary>
    public static AthenaObject Write(AthenaSession session, IReadOnlyList<ProcessRecord> events, AthenaWriteOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(session);
        options ??= AthenaWriteOptions.Default;
        var rows = AthenaRows.Build(session, events);
        var known = session.Fields;
        var buffer = new ArrayBufferWriter<byte>(256 + (rows.Count * 300));
        foreach (var row in rows)
        {
            var local = TimeZoneInfo.ConvertTime(row.Time, options.TimeZone);
            using (var json = new Utf8JsonWriter(buffer, JsonOptions))
            {
                json.WriteStartObject();
                json.WriteNumber(Fields[0], row.EventType);
                json.WriteString(Fields[1], local.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture));
                json.WriteString(Fields[2], local.ToString("HH:mm:ss", CultureInfo.InvariantCulture));
                json.WriteString(Fields[3], row.Process);
                json.WriteString(Fields[4], row.Host);
                json.WriteNumber(Fields[5], row.Pid);
                json.WriteString(Fields[6], known.Stack);
                json.WriteString(Fields[7], session.Id);
                json.WriteString(Fields[8], known.User);
                json.WriteString(Fields[9], known.ReservationTime);
                json.WriteString(Fields[10], known.InstanceType);
                json.WriteString(Fields[11], known.Region);
                json.WriteString(Fields[12], known.ImageArn);
                json.WriteString(Fields[13], known.Fleet);
                json.WriteString(Fields[14], known.AccessMode);
                json.WriteString(Fields[15], row.UserId);
                json.WriteString(Fields[16], AthenaCsvWriter.IsoSeconds(row.Time));
                json.WriteString(Fields[17], row.RunStart is { } s ? NdjsonWriter.FormatTime(s) : null);
                json.WriteString(Fields[18], row.RunEnd is { } e ? NdjsonWriter.FormatTime(e) : null);
                json.WriteEndObject();
            }

            buffer.GetSpan(1)[0] = (byte)'\n';
            buffer.Advance(1);
        }

        return new AthenaObject(
            AthenaLayout.ObjectKey(session.Id, session.End, options.TimeZone, Extension, TableFolder), buffer.WrittenSpan.ToArray(), rows.Count, []);
    }
}
