using System.Buffers;
using System.Globalization;
using System.Text.Json;
using SessionTrail.Core.Records;

namespace SessionTrail.Core.Formats;

/// <summary>
/// Writes records in SessionTrail's NDJSON wire format: one JSON object per line, UTF-8, "\n"
/// terminated. Field names are the contract (see docs/reports-and-api.md "Ingest API and bad input"); null fields are omitted.
/// </summary>
public static class NdjsonWriter
{
    /// <summary>The record as one line of UTF-8 JSON, including the trailing '\n'.</summary>
    public static byte[] ToLine(TrailRecord record)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        Write(record, buffer);
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>Appends the record as one line (with the trailing '\n') to <paramref name="output"/>.</summary>
    public static void Write(TrailRecord record, IBufferWriter<byte> output)
    {
        using (var json = new Utf8JsonWriter(output, new JsonWriterOptions { SkipValidation = true }))
        {
            json.WriteStartObject();
            json.WriteString("id", record.Id);
            json.WriteString("kind", record.Kind);
            json.WriteString("time", FormatTime(record.Time));
            json.WriteString("host", record.Host);
            WriteOptional(json, "session", record.Session);
            switch (record)
            {
                case ProcessRecord p:
                    json.WriteString("type", p.Type == ProcessEventType.Start ? "start" : "exit");
                    json.WriteNumber("pid", p.Pid);
                    WriteOptional(json, "ppid", p.ParentPid);
                    WriteOptional(json, "exe", p.Executable);
                    WriteOptional(json, "cmdline", p.CommandLine);
                    WriteOptional(json, "uid", p.Uid);
                    WriteOptional(json, "user", p.User);
                    WriteOptional(json, "loginUid", p.LoginUid);
                    WriteOptional(json, "auditSession", p.AuditSession);
                    WriteOptional(json, "exitCode", p.ExitCode);
                    break;
                case SessionRecord s:
                    json.WriteString("type", s.Type == SessionEventType.Start ? "start" : "end");
                    var f = s.Fields;
                    WriteOptional(json, "user", f.User);
                    WriteOptional(json, "stack", f.Stack);
                    WriteOptional(json, "fleet", f.Fleet);
                    WriteOptional(json, "accessMode", f.AccessMode);
                    WriteOptional(json, "reservationTime", f.ReservationTime);
                    WriteOptional(json, "instanceType", f.InstanceType);
                    WriteOptional(json, "region", f.Region);
                    WriteOptional(json, "imageArn", f.ImageArn);
                    break;
                case LogRecord l:
                    json.WriteString("source", l.Source);
                    WriteOptional(json, "channel", l.Channel);
                    WriteOptional(json, "provider", l.Provider);
                    WriteOptional(json, "eventId", l.EventId);
                    WriteOptional(json, "level", l.Level);
                    json.WriteString("message", l.Message);
                    WriteMap(json, "fields", l.Fields);
                    WriteMap(json, "decoration", l.Decoration);
                    break;
                case RecordingSegmentRecord g:
                    json.WriteNumber("index", g.Index);
                    json.WriteString("start", FormatTime(g.Start));
                    json.WriteString("end", FormatTime(g.End));
                    json.WriteNumber("width", g.Width);
                    json.WriteNumber("height", g.Height);
                    json.WriteNumber("fps", g.Fps);
                    json.WriteString("codec", g.Codec);
                    json.WriteNumber("bytes", g.Bytes);
                    json.WriteString("sha256", g.Sha256);
                    WriteOptional(json, "prevSha256", g.PreviousSha256);
                    json.WriteString("file", g.File);
                    WriteOptional(json, "endReason", g.EndReason);
                    break;
                case RecordingEventRecord e:
                    json.WriteString("type", e.Type);
                    json.WriteString("message", e.Message);
                    WriteOptional(json, "gapStart", e.GapStart is { } gs ? FormatTime(gs) : null);
                    WriteOptional(json, "gapEnd", e.GapEnd is { } ge ? FormatTime(ge) : null);
                    WriteOptional(json, "width", e.Width);
                    WriteOptional(json, "height", e.Height);
                    WriteOptional(json, "segments", e.Segments);
                    break;
                default:
                    throw new ArgumentException($"Unknown record type {record.GetType().Name}", nameof(record));
            }

            json.WriteEndObject();
        }

        output.GetSpan(1)[0] = (byte)'\n';
        output.Advance(1);
    }

    /// <summary>ISO-8601 UTC with millisecond precision, e.g. 2026-11-22T07:32:51.123Z.</summary>
    public static string FormatTime(DateTimeOffset time)
    {
        // What ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", InvariantCulture) of the UTC time writes, digit by digit: five
        // times faster, and reports write one or two per row (NdjsonWriterTests compares the two).
        var utc = time.UtcDateTime;
        var (year, month, day) = utc;
        var ms = (int)(utc.TimeOfDay.Ticks / TimeSpan.TicksPerMillisecond);
        return string.Create(24, (year, month, day, ms), static (c, t) =>
        {
            Digits(c[..4], t.year);
            c[4] = '-';
            Digits(c.Slice(5, 2), t.month);
            c[7] = '-';
            Digits(c.Slice(8, 2), t.day);
            c[10] = 'T';
            Digits(c.Slice(11, 2), t.ms / 3_600_000);
            c[13] = ':';
            Digits(c.Slice(14, 2), t.ms / 60_000 % 60);
            c[16] = ':';
            Digits(c.Slice(17, 2), t.ms / 1000 % 60);
            c[19] = '.';
            Digits(c.Slice(20, 3), t.ms % 1000);
            c[23] = 'Z';
        });

        static void Digits(Span<char> into, int value)
        {
            for (var i = into.Length - 1; i >= 0; i--)
            {
                into[i] = (char)('0' + (value % 10));
                value /= 10;
            }
        }
    }

    private static void WriteOptional(Utf8JsonWriter json, string name, string? value)
    {
        if (value is not null)
        {
            json.WriteString(name, value);
        }
    }

    private static void WriteMap(Utf8JsonWriter json, string name, IReadOnlyDictionary<string, string>? map)
    {
        if (map is null)
        {
            return;
        }

        json.WriteStartObject(name);
        foreach (var (key, value) in map)
        {
            json.WriteString(key, value);
        }

        json.WriteEndObject();
    }

    private static void WriteOptional(Utf8JsonWriter json, string name, long? value)
    {
        if (value is { } v)
        {
            json.WriteNumber(name, v);
        }
    }
}
