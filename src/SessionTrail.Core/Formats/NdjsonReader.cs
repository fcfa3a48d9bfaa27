using System.Globalization;
using System.Text;
using System.Text.Json;
using SessionTrail.Core.Records;

namespace SessionTrail.Core.Formats;

/// <summary>
/// A body (or line) that is not valid SessionTrail NDJSON. <see cref="Line"/> is 1-based;
/// <see cref="Field"/> names the offending field, or is null when the line as a whole is wrong
/// (not JSON, too long, not an object).
/// </summary>
public sealed class NdjsonFormatException : FormatException
{
    public NdjsonFormatException(int line, string? field, string problem)
        : base(field is null ? $"line {line}: {problem}" : $"line {line}: field '{field}': {problem}")
    {
        Line = line;
        Field = field;
        Problem = problem;
    }

    public NdjsonFormatException()
    {
    }

    public NdjsonFormatException(string message)
        : base(message)
    {
    }

    public NdjsonFormatException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>1-based line number of the offending line.</summary>
    public int Line { get; }

    /// <summary>The offending field, or null for a line-level problem.</summary>
    public string? Field { get; }

    /// <summary>What is wrong, without the "line N: field 'f':" prefix.</summary>
    public string Problem { get; } = "";
}

/// <summary>
/// Reads SessionTrail's NDJSON wire format (the format <see cref="NdjsonWriter"/> writes), strictly:
/// every non-blank line is one JSON object; <c>id</c> (non-empty, at most 200 characters), <c>kind</c>
/// ("process"|"session"|"log"|"segment"|"recording"), <c>time</c> (ISO-8601 with "Z" or an offset) and <c>host</c> are required;
/// a process record needs <c>type</c> start|exit and <c>pid</c> (integer ≥ 0), and <c>exe</c> for a start;
/// a session record needs <c>type</c> start|end and <c>session</c>; a log record needs <c>source</c> and
/// <c>message</c> (a string, may be empty), and its <c>fields</c> and <c>decoration</c> must be objects of strings;
/// a segment record needs <c>session</c>, <c>index</c> (0..999999), <c>start</c> and <c>end</c> (ISO-8601),
/// <c>width</c> and <c>height</c> (1..16384), <c>fps</c> (1..60), <c>codec</c>, <c>bytes</c> (≥ 0), <c>sha256</c>
/// (64 lowercase hex; so is <c>prevSha256</c> when present) and <c>file</c> (a plain file name);
/// a recording record needs <c>session</c>, <c>type</c> (started|stopped|gap|geometry|error|notice|not-recorded)
/// and <c>message</c> (may be empty); its <c>gapStart</c>/<c>gapEnd</c> are ISO-8601, <c>width</c>/<c>height</c> 1..16384 and <c>segments</c> 0..1000000.
/// Unknown extra fields are ignored (forward compatible: a newer agent may send more).
/// Blank lines, CRLF line ends, a UTF-8 BOM and a trailing newline are accepted.
/// The server and import pass a <see cref="RecordTimeWindow"/>: a time field outside it is a bad field like any other.
/// On failure: throws <see cref="NdjsonFormatException"/> naming the line and field — and never any
/// other exception, for any byte input.
/// </summary>
public static class NdjsonReader
{
    /// <summary>Default limit for one line, in bytes (256 KiB).</summary>
    public const int DefaultMaxLineBytes = 256 * 1024;

    /// <summary>Longest accepted record id, in characters.</summary>
    public const int MaxIdLength = 200;

    /// <summary>
    /// Parses a whole body. Throws <see cref="NdjsonFormatException"/> on the first bad line — with a
    /// <paramref name="window"/>, also on the first record with a time field outside it (naming line and field).
    /// </summary>
    public static List<TrailRecord> Parse(ReadOnlySpan<byte> body, int maxLineBytes = DefaultMaxLineBytes, RecordTimeWindow? window = null)
    {
        var records = new List<TrailRecord>();
        if (body.StartsWith("\uFEFF"u8))
        {
            body = body[3..];
        }

        var lineNumber = 0;
        while (!body.IsEmpty)
        {
            lineNumber++;
            var newline = body.IndexOf((byte)'\n');
            var line = newline < 0 ? body : body[..newline];
            body = newline < 0 ? default : body[(newline + 1)..];
            if (line.Length > maxLineBytes)
            {
                throw new NdjsonFormatException(lineNumber, null, $"line is longer than {maxLineBytes} bytes");
            }

            if (!line.IsEmpty && line[^1] == (byte)'\r')
            {
                line = line[..^1];
            }

            if (line.Trim(" \t"u8).IsEmpty)
            {
                continue;
            }

            var record = ParseLine(line, lineNumber);
            if (window?.Check(record) is { } outside)
            {
                throw new NdjsonFormatException(lineNumber, outside.Field, outside.Problem);
            }

            records.Add(record);
        }

        return records;
    }

    /// <summary>Reads <paramref name="stream"/> to the end and parses it (see <see cref="Parse(ReadOnlySpan{byte}, int, RecordTimeWindow?)"/>).</summary>
    public static List<TrailRecord> Parse(Stream stream, int maxLineBytes = DefaultMaxLineBytes)
    {
        ArgumentNullException.ThrowIfNull(stream);
        using var buffer = new MemoryStream();
        stream.CopyTo(buffer);
        return Parse(buffer.GetBuffer().AsSpan(0, (int)buffer.Length), maxLineBytes);
    }

    /// <summary>Parses one line (without its newline) as record number <paramref name="lineNumber"/>.</summary>
    public static TrailRecord ParseLine(ReadOnlySpan<byte> line, int lineNumber)
    {
        var fields = new LineFields();
        var current = (string?)null;
        try
        {
            var reader = new Utf8JsonReader(line, new JsonReaderOptions { MaxDepth = 32 });
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                throw new NdjsonFormatException(lineNumber, null, "expected a JSON object");
            }

            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var field = FieldOf(ref reader);
                current = field == Field.Unknown ? null : Names[(int)field];
                if (!reader.Read())
                {
                    break;
                }

                if (field == Field.Unknown)
                {
                    reader.Skip();
                    continue;
                }

                if (!fields.MarkSeen(field))
                {
                    throw new NdjsonFormatException(lineNumber, current, "appears more than once");
                }

                fields.Read(field, ref reader, lineNumber);
                current = null;
            }

            // Anything after the closing brace (a second value, garbage) makes the reader throw.
            while (reader.Read())
            {
            }
        }
        catch (JsonException e)
        {
            throw new NdjsonFormatException(lineNumber, null, $"invalid JSON at byte {e.BytePositionInLine ?? 0}");
        }
        catch (InvalidOperationException)
        {
            // Utf8JsonReader.GetString on invalid UTF-8 inside a string.
            throw new NdjsonFormatException(lineNumber, current, "invalid UTF-8 in a string");
        }

        return fields.ToRecord(lineNumber);
    }

    private enum Field
    {
        Id,
        Kind,
        Time,
        Host,
        Session,
        Type,
        Pid,
        ParentPid,
        Exe,
        CommandLine,
        Uid,
        User,
        LoginUid,
        AuditSession,
        ExitCode,
        Stack,
        Fleet,
        AccessMode,
        ReservationTime,
        InstanceType,
        Region,
        ImageArn,
        Source,
        Channel,
        Provider,
        EventId,
        Level,
        Message,
        LogFields,
        Decoration,
        Index,
        Start,
        End,
        Width,
        Height,
        Fps,
        Codec,
        Bytes,
        Sha256,
        PrevSha256,
        File,
        EndReason,
        GapStart,
        GapEnd,
        Segments,
        Unknown,
    }

    private static readonly string[] Names =
    [
        "id", "kind", "time", "host", "session", "type", "pid", "ppid", "exe", "cmdline", "uid", "user",
        "loginUid", "auditSession", "exitCode", "stack", "fleet", "accessMode", "reservationTime",
        "instanceType", "region", "imageArn", "source", "channel", "provider", "eventId", "level", "message",
        "fields", "decoration", "index", "start", "end", "width", "height", "fps", "codec", "bytes", "sha256",
        "prevSha256", "file", "endReason", "gapStart", "gapEnd", "segments",
    ];

    /// <summary>Highest accepted segment index.</summary>
    public const int MaxSegmentIndex = 999_999;

    /// <summary>Largest accepted video width or height, in pixels.</summary>
    public const int MaxVideoDimension = 16_384;

    /// <summary>Highest accepted frames per second of a segment.</summary>
    public const int MaxFps = 60;

    private static readonly string[] RecordingTypes =
    [
        RecordingEventTypes.Started, RecordingEventTypes.Stopped, RecordingEventTypes.Gap, RecordingEventTypes.Geometry,
        RecordingEventTypes.Error, RecordingEventTypes.Notice, RecordingEventTypes.NotRecorded,
    ];

    /// <summary>Most entries accepted in one <c>fields</c> or <c>decoration</c> object.</summary>
    public const int MaxMapEntries = 1024;

    private static readonly byte[][] Utf8Names = Names.Select(Encoding.UTF8.GetBytes).ToArray();

    private static Field FieldOf(ref Utf8JsonReader reader)
    {
        if (!reader.ValueIsEscaped && !reader.HasValueSequence)
        {
            var name = reader.ValueSpan;
            for (var i = 0; i < Utf8Names.Length; i++)
            {
                if (name.SequenceEqual(Utf8Names[i]))
                {
                    return (Field)i;
                }
            }

            return Field.Unknown;
        }

        for (var i = 0; i < Utf8Names.Length; i++)
        {
            if (reader.ValueTextEquals(Utf8Names[i]))
            {
                return (Field)i;
            }
        }

        return Field.Unknown;
    }

    /// <summary>
    /// yyyy-MM-ddTHH:mm:ss[.fraction of 1-7 digits](Z|±HH:mm): a time without a zone is ambiguous and rejected.
    /// Checks the shape only; the values are checked by parsing.
    /// </summary>
    private static bool IsIsoShape(string s)
    {
        static bool Digits(string s, int from, int count)
        {
            for (var i = from; i < from + count; i++)
            {
                if (!char.IsAsciiDigit(s[i]))
                {
                    return false;
                }
            }

            return true;
        }

        if (s.Length < 20 || !Digits(s, 0, 4) || s[4] != '-' || !Digits(s, 5, 2) || s[7] != '-' || !Digits(s, 8, 2) || s[10] != 'T'
            || !Digits(s, 11, 2) || s[13] != ':' || !Digits(s, 14, 2) || s[16] != ':' || !Digits(s, 17, 2))
        {
            return false;
        }

        var i = 19;
        if (s[i] == '.')
        {
            var digits = 0;
            while (++i < s.Length && char.IsAsciiDigit(s[i]))
            {
                digits++;
            }

            if (digits is < 1 or > 7)
            {
                return false;
            }
        }

        var zone = s.Length - i;
        return (zone == 1 && s[i] == 'Z')
            || (zone == 6 && (s[i] == '+' || s[i] == '-') && Digits(s, i + 1, 2) && s[i + 3] == ':' && Digits(s, i + 4, 2));
    }

    private static string TokenName(JsonTokenType type) => type switch
    {
        JsonTokenType.String => "string",
        JsonTokenType.Number => "number",
        JsonTokenType.True or JsonTokenType.False => "boolean",
        JsonTokenType.Null => "null",
        JsonTokenType.StartObject => "object",
        JsonTokenType.StartArray => "array",
        _ => type.ToString(),
    };

    private sealed class LineFields
    {
        private long seen;

        public bool MarkSeen(Field field)
        {
            var bit = 1L << (int)field;
            if ((seen & bit) != 0)
            {
                return false;
            }

            seen |= bit;
            return true;
        }

        private readonly string?[] strings = new string?[Names.Length];
        private readonly long?[] numbers = new long?[Names.Length];
        private readonly Dictionary<string, string>?[] maps = new Dictionary<string, string>?[Names.Length];

        public void Read(Field field, ref Utf8JsonReader reader, int line)
        {
            var name = Names[(int)field];
            if (reader.TokenType == JsonTokenType.Null)
            {
                return; // null is the same as absent; required fields are checked in ToRecord.
            }

            switch (field)
            {
                case Field.Pid or Field.ParentPid or Field.ExitCode:
                    numbers[(int)field] = ReadInteger(ref reader, line, name, int.MinValue, int.MaxValue);
                    break;
                case Field.EventId:
                    numbers[(int)field] = ReadInteger(ref reader, line, name, int.MinValue, int.MaxValue);
                    break;
                case Field.LogFields or Field.Decoration:
                    maps[(int)field] = ReadMap(ref reader, line, name);
                    break;
                case Field.Index or Field.Width or Field.Height or Field.Fps or Field.Segments:
                    numbers[(int)field] = ReadInteger(ref reader, line, name, int.MinValue, int.MaxValue);
                    break;
                case Field.Uid or Field.LoginUid or Field.AuditSession or Field.Bytes:
                    numbers[(int)field] = ReadInteger(ref reader, line, name, long.MinValue, long.MaxValue);
                    break;
                default:
                    if (reader.TokenType != JsonTokenType.String)
                    {
                        throw new NdjsonFormatException(line, name, $"expected a string, got {TokenName(reader.TokenType)}");
                    }

                    strings[(int)field] = reader.GetString();
                    break;
            }
        }

        /// <summary>A JSON object whose values are all strings; duplicate names and too many entries are errors.</summary>
        private static Dictionary<string, string> ReadMap(ref Utf8JsonReader reader, int line, string name)
        {
            if (reader.TokenType != JsonTokenType.StartObject)
            {
                throw new NdjsonFormatException(line, name, $"expected an object of strings, got {TokenName(reader.TokenType)}");
            }

            var map = new Dictionary<string, string>(StringComparer.Ordinal);
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var key = reader.GetString()!;
                if (!reader.Read())
                {
                    break;
                }

                if (reader.TokenType != JsonTokenType.String)
                {
                    throw new NdjsonFormatException(line, name, $"entry '{Clip(key)}': expected a string, got {TokenName(reader.TokenType)}");
                }

                if (map.Count >= MaxMapEntries)
                {
                    throw new NdjsonFormatException(line, name, $"more than {MaxMapEntries} entries");
                }

                if (!map.TryAdd(key, reader.GetString()!))
                {
                    throw new NdjsonFormatException(line, name, $"entry '{Clip(key)}' appears more than once");
                }
            }

            return map;
        }

        private static long ReadInteger(ref Utf8JsonReader reader, int line, string name, long min, long max)
        {
            if (reader.TokenType != JsonTokenType.Number)
            {
                throw new NdjsonFormatException(line, name, $"expected an integer, got {TokenName(reader.TokenType)}");
            }

            if (!reader.TryGetInt64(out var value) || value < min || value > max)
            {
                var raw = reader.ValueSpan.Length > 40 ? "a number" : Encoding.ASCII.GetString(reader.ValueSpan);
                throw new NdjsonFormatException(line, name, $"expected an integer in range, got {raw}");
            }

            return value;
        }

        private string? Str(Field f) => strings[(int)f];

        private string Required(Field f, int line, string? why = null)
        {
            var value = strings[(int)f];
            if (string.IsNullOrEmpty(value))
            {
                throw new NdjsonFormatException(line, Names[(int)f], why ?? "required");
            }

            return value;
        }

        private int? Int(Field f) => numbers[(int)f] is { } v ? (int)v : null;

        public TrailRecord ToRecord(int line)
        {
            var id = Required(Field.Id, line);
            if (id.Length > MaxIdLength)
            {
                throw new NdjsonFormatException(line, "id", $"longer than {MaxIdLength} characters");
            }

            var kind = Required(Field.Kind, line);
            var time = TimeOf(Field.Time, Required(Field.Time, line), line);

            var host = Required(Field.Host, line);
            switch (kind)
            {
                case RecordKinds.Process:
                    var processType = Required(Field.Type, line) switch
                    {
                        "start" => ProcessEventType.Start,
                        "exit" => ProcessEventType.Exit,
                        var type => throw new NdjsonFormatException(line, "type", $"unknown process type '{Clip(type)}' (expected start or exit)"),
                    };
                    var pid = Int(Field.Pid) ?? throw new NdjsonFormatException(line, "pid", "required");
                    if (pid < 0)
                    {
                        throw new NdjsonFormatException(line, "pid", $"must be >= 0, got {pid}");
                    }

                    if (processType == ProcessEventType.Start)
                    {
                        Required(Field.Exe, line, "required for a process start");
                    }

                    return new ProcessRecord
                    {
                        Id = id,
                        Time = time.ToUniversalTime(),
                        Host = host,
                        Session = Str(Field.Session),
                        Type = processType,
                        Pid = pid,
                        ParentPid = Int(Field.ParentPid),
                        Executable = Str(Field.Exe),
                        CommandLine = Str(Field.CommandLine),
                        Uid = numbers[(int)Field.Uid],
                        User = Str(Field.User),
                        LoginUid = numbers[(int)Field.LoginUid],
                        AuditSession = numbers[(int)Field.AuditSession],
                        ExitCode = Int(Field.ExitCode),
                    };
                case RecordKinds.Session:
                    var sessionType = Required(Field.Type, line) switch
                    {
                        "start" => SessionEventType.Start,
                        "end" => SessionEventType.End,
                        var type => throw new NdjsonFormatException(line, "type", $"unknown session type '{Clip(type)}' (expected start or end)"),
                    };
                    var session = Required(Field.Session, line, "required for a session record");
                    return new SessionRecord
                    {
                        Id = id,
                        Time = time.ToUniversalTime(),
                        Host = host,
                        Session = session,
                        Type = sessionType,
                        Fields = new SessionFields
                        {
                            User = Str(Field.User),
                            Stack = Str(Field.Stack),
                            Fleet = Str(Field.Fleet),
                            AccessMode = Str(Field.AccessMode),
                            ReservationTime = Str(Field.ReservationTime),
                            InstanceType = Str(Field.InstanceType),
                            Region = Str(Field.Region),
                            ImageArn = Str(Field.ImageArn),
                        },
                    };
                case RecordKinds.Log:
                    return new LogRecord
                    {
                        Id = id,
                        Time = time.ToUniversalTime(),
                        Host = host,
                        Session = Str(Field.Session),
                        Source = Required(Field.Source, line, "required for a log record"),
                        Channel = Str(Field.Channel),
                        Provider = Str(Field.Provider),
                        EventId = Int(Field.EventId),
                        Level = Str(Field.Level),
                        Message = Str(Field.Message) ?? throw new NdjsonFormatException(line, "message", "required for a log record (may be empty)"),
                        Fields = maps[(int)Field.LogFields],
                        Decoration = maps[(int)Field.Decoration],
                    };
                case RecordKinds.Segment:
                    return ToSegment(id, time, host, line);
                case RecordKinds.Recording:
                    return ToRecordingEvent(id, time, host, line);
                default:
                    throw new NdjsonFormatException(line, "kind", $"unknown kind '{Clip(kind)}' (expected process, session, log, segment or recording)");
            }
        }

        /// <summary>A "segment" record: every field but prevSha256 and endReason is required, each within its range.</summary>
        private RecordingSegmentRecord ToSegment(string id, DateTimeOffset time, string host, int line)
        {
            var session = Required(Field.Session, line, "required for a segment record");
            var index = Ranged(Field.Index, line, 0, MaxSegmentIndex);
            var start = TimeOf(Field.Start, Required(Field.Start, line, "required for a segment record"), line);
            var end = TimeOf(Field.End, Required(Field.End, line, "required for a segment record"), line);
            var width = Ranged(Field.Width, line, 1, MaxVideoDimension);
            var height = Ranged(Field.Height, line, 1, MaxVideoDimension);
            var fps = Ranged(Field.Fps, line, 1, MaxFps);
            var codec = Required(Field.Codec, line, "required for a segment record");
            var bytes = numbers[(int)Field.Bytes] ?? throw new NdjsonFormatException(line, "bytes", "required for a segment record");
            if (bytes < 0)
            {
                throw new NdjsonFormatException(line, "bytes", $"must be >= 0, got {bytes}");
            }

            var sha256 = Sha256Of(Field.Sha256, Required(Field.Sha256, line, "required for a segment record"), line);
            var previous = Str(Field.PrevSha256) is { } p ? Sha256Of(Field.PrevSha256, p, line) : null;
            var file = Required(Field.File, line, "required for a segment record");
            if (file.Length > 255 || file is "." or ".." || file.AsSpan().IndexOfAny('/', '\\', '\0') >= 0)
            {
                throw new NdjsonFormatException(line, "file", $"expected a plain file name, got '{Clip(file)}'");
            }

            var endReason = Str(Field.EndReason);
            if (endReason is { Length: 0 })
            {
                throw new NdjsonFormatException(line, "endReason", "must not be empty (omit it instead)");
            }

            return new RecordingSegmentRecord
            {
                Id = id,
                Time = time,
                Host = host,
                Session = session,
                Index = index,
                Start = start,
                End = end,
                Width = width,
                Height = height,
                Fps = fps,
                Codec = codec,
                Bytes = bytes,
                Sha256 = sha256,
                PreviousSha256 = previous,
                File = file,
                EndReason = endReason,
            };
        }

        /// <summary>A "recording" record: session, a known type and a message (may be empty) are required.</summary>
        private RecordingEventRecord ToRecordingEvent(string id, DateTimeOffset time, string host, int line)
        {
            var session = Required(Field.Session, line, "required for a recording record");
            var type = Required(Field.Type, line, "required for a recording record");
            if (Array.IndexOf(RecordingTypes, type) < 0)
            {
                throw new NdjsonFormatException(line, "type", $"unknown recording type '{Clip(type)}' (expected {string.Join(", ", RecordingTypes)})");
            }

            var message = Str(Field.Message) ?? throw new NdjsonFormatException(line, "message", "required for a recording record (may be empty)");
            DateTimeOffset? gapStart = Str(Field.GapStart) is { } gs ? TimeOf(Field.GapStart, gs, line) : null;
            DateTimeOffset? gapEnd = Str(Field.GapEnd) is { } ge ? TimeOf(Field.GapEnd, ge, line) : null;
            int? width = numbers[(int)Field.Width] is null ? null : Ranged(Field.Width, line, 1, MaxVideoDimension);
            int? height = numbers[(int)Field.Height] is null ? null : Ranged(Field.Height, line, 1, MaxVideoDimension);
            int? segments = numbers[(int)Field.Segments] is null ? null : Ranged(Field.Segments, line, 0, MaxSegmentIndex + 1);
            return new RecordingEventRecord
            {
                Id = id,
                Time = time,
                Host = host,
                Session = session,
                Type = type,
                Message = message,
                GapStart = gapStart,
                GapEnd = gapEnd,
                Width = width,
                Height = height,
                Segments = segments,
            };
        }

        private int Ranged(Field f, int line, int min, int max)
        {
            var value = numbers[(int)f] ?? throw new NdjsonFormatException(line, Names[(int)f], "required for a segment record");
            if (value < min || value > max)
            {
                throw new NdjsonFormatException(line, Names[(int)f], $"must be between {min} and {max}, got {value}");
            }

            return (int)value;
        }

        private static DateTimeOffset TimeOf(Field f, string text, int line)
        {
            if (!IsIsoShape(text)
                || !DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.None, out var time))
            {
                throw new NdjsonFormatException(line, Names[(int)f], $"expected an ISO-8601 time with Z or an offset, got '{Clip(text)}'");
            }

            return time.ToUniversalTime();
        }

        private static string Sha256Of(Field f, string text, int line)
        {
            if (text.Length != 64 || !text.All(c => char.IsAsciiDigit(c) || c is >= 'a' and <= 'f'))
            {
                throw new NdjsonFormatException(line, Names[(int)f], $"expected 64 lowercase hex digits, got '{Clip(text)}'");
            }

            return text;
        }

        private static string Clip(string s) => s.Length <= 40 ? s : string.Concat(s.AsSpan(0, 40), "…");
    }
}
