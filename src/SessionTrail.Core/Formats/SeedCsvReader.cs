using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using SessionTrail.Core.Records;

namespace SessionTrail.Core.Formats;

/// <summary>
/// Reads one per-session CSV file exactly as the seed's <c>Get-ProcessDetails.ps1</c> writes it
/// (see docs/import.md "Import"): a UTF-8 BOM, CRLF, the seed's header (16 names for 17 fields: it lacks the comma
/// in <c>time_of_executionprocess_start_time</c>), unquoted fields, 4688 rows (start) and 4689 rows (exit)
/// in the script's order, and a last pseudo-row <c>4689,…,session_end,session_end,-1,…</c> (the session end).
///
/// Fields: 0 event_type, 1 date, 2 time, 3 process, 4 host (really the event's SubjectUserName), 5 pid,
/// 6 stack, 7 session, 8 username, 9 process_start_time (the session's reservation time), 10 instance_type,
/// 11 region, 12 image_arn, 13 fleet, 14 auth_type, 15 userid (a SID), 16 process_time (ISO UTC).
/// The culture-formatted <c>date</c> and <c>time</c> columns are never parsed: <c>process_time</c> is the truth.
///
/// Never throws on content or read errors: every line it cannot take becomes a <see cref="SeedCsvRejection"/> with its
/// line number and reason; a file whose first line is not the header is rejected as a whole (line 1).
/// Record ids are derived from the row's content (see <see cref="SeedCsvReaderResult"/>), so reading the
/// same file twice yields the same ids.
/// </summary>
public static class SeedCsvReader
{
    /// <summary>The header line the seed's script writes (16 names; its 17 fields lack one comma).</summary>
    public const string Header =
        "event_type,date,time,process,host,pid,stack,session,username,time_of_executionprocess_start_time,instance_type,region,image_arn,fleet,auth_type,userid,process_time";

    /// <summary>The same header with the missing comma put back (accepted too).</summary>
    public const string FixedHeader =
        "event_type,date,time,process,host,pid,stack,session,username,time_of_execution,process_start_time,instance_type,region,image_arn,fleet,auth_type,userid,process_time";

    /// <summary>Fields per data row.</summary>
    public const int FieldCount = 17;

    /// <summary>Longest accepted line, in characters.</summary>
    public const int MaxLineLength = 64 * 1024;

    /// <summary>The process/host/userid value of the session-end pseudo-row.</summary>
    public const string SessionEnd = "session_end";

    /// <summary>Prefix of every record id made from a seed CSV.</summary>
    public const string IdPrefix = "csv:";

    private const int Process = 3;
    private const int HostColumn = 4;
    private const int Pid = 5;
    private const int Stack = 6;
    private const int SessionColumn = 7;
    private const int UserName = 8;
    private const int ReservationTime = 9;
    private const int InstanceType = 10;
    private const int Region = 11;
    private const int ImageArn = 12;
    private const int Fleet = 13;
    private const int AuthType = 14;
    private const int UserId = 15;
    private const int ProcessTime = 16;

    /// <summary>Fields after <c>process</c>: all fixed-shape (a comma in them is not expected).</summary>
    private const int TailCount = FieldCount - Process - 1;

    /// <summary>
    /// Reads a whole file. <paramref name="fileSession"/> is the session the file is named after (its name
    /// without <c>.csv</c>), used when a row's session column is empty. With a <paramref name="window"/>, a row
    /// whose <c>process_time</c> lies outside it is rejected (and a reservation time outside it is not used as
    /// the session's start).
    /// </summary>
    public static SeedCsvReaderResult Read(Stream stream, string? fileSession, RecordTimeWindow? window = null)
    {
        ArgumentNullException.ThrowIfNull(stream);
        using var reader = new StreamReader(stream, new UTF8Encoding(false, false), detectEncodingFromByteOrderMarks: true, leaveOpen: true);
        return Read(reader, fileSession, window);
    }

    /// <summary>Reads a whole file from <paramref name="reader"/> (see <see cref="Read(Stream, string, RecordTimeWindow?)"/>).</summary>
    public static SeedCsvReaderResult Read(TextReader reader, string? fileSession, RecordTimeWindow? window = null)
    {
        ArgumentNullException.ThrowIfNull(reader);
        var result = new SeedCsvReaderResult();
        var lines = new List<(int Line, string[] Fields)>();
        var number = 0;
        var sawHeader = false;
        while (ReadLine(reader, number, result) is { } raw)
        {
            number++;
            // PowerShell may put a BOM before an appended line too; none belongs in a field.
            var line = raw.TrimStart('\uFEFF');
            if (!sawHeader)
            {
                if (line != Header && line != FixedHeader)
                {
                    result.Reject(number, "not a seed CSV: the first line is not the header '" + Clip(Header, 60) + "'");
                    result.NotSeedCsv = true;
                    return result;
                }

                sawHeader = true;
                continue;
            }

            if (line.Length == 0)
            {
                continue;
            }

            result.Rows++;
            if (line.Length > MaxLineLength)
            {
                result.Reject(number, $"line is longer than {MaxLineLength} characters");
                continue;
            }

            lines.Add((number, line.Split(',')));
        }

        if (!sawHeader)
        {
            result.Reject(Math.Max(number, 1), "not a seed CSV: the file is empty (no header)");
            result.NotSeedCsv = true;
            return result;
        }

        new FileState(result, fileSession, Reference(lines), window).ReadAll(lines);
        return result;
    }

    /// <summary>The next line, or null at the end or when reading fails (then a rejection says where; the lines before are kept).</summary>
    private static string? ReadLine(TextReader reader, int linesRead, SeedCsvReaderResult result)
    {
        try
        {
            return reader.ReadLine();
        }
        catch (Exception e) when (e is IOException or InvalidDataException)
        {
            result.Reject(linesRead + 1, "cannot read the rest of the file: " + e.Message);
            return null;
        }
    }

    /// <summary>
    /// The row whose per-session columns (stack … auth_type) a row with extra commas must repeat: the
    /// session-end row when it has exactly 17 fields, else the first row that has.
    /// </summary>
    private static string[]? Reference(List<(int Line, string[] Fields)> lines)
    {
        string[]? first = null;
        foreach (var (_, fields) in lines)
        {
            if (fields.Length != FieldCount)
            {
                continue;
            }

            if (fields[Process] == SessionEnd && fields[Pid] == "-1")
            {
                return fields;
            }

            first ??= fields;
        }

        return first;
    }

    private static string Clip(string s, int max) => s.Length <= max ? s : string.Concat(s.AsSpan(0, max), "…");

    /// <summary>
    /// process_time as the script writes it: <c>ToString('yyyy-MM-ddTHH:mm:ssZ')</c> in the machine's
    /// culture. Its ':' is the culture's time separator ('.' in some), and its year is in the culture's
    /// calendar: Thai Buddhist years (Gregorian + 543, same months and days) are converted back; other
    /// calendars (Hijri, Persian: their months differ) are refused rather than guessed.
    /// </summary>
    internal static bool TryParseProcessTime(string s, out DateTimeOffset time, out string? problem)
    {
        time = default;
        problem = null;
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

        static int Number(string s, int from, int count) => int.Parse(s.AsSpan(from, count), NumberStyles.None, CultureInfo.InvariantCulture);

        if (s.Length != 20 || !Digits(s, 0, 4) || s[4] != '-' || !Digits(s, 5, 2) || s[7] != '-' || !Digits(s, 8, 2) || s[10] != 'T'
            || !Digits(s, 11, 2) || s[13] is not (':' or '.') || !Digits(s, 14, 2) || s[16] != s[13] || !Digits(s, 17, 2) || s[19] != 'Z')
        {
            problem = $"process_time '{Clip(s, 40)}' is not yyyy-MM-ddTHH:mm:ssZ";
            return false;
        }

        var year = Number(s, 0, 4);
        if (year >= 2400)
        {
            year -= 543; // ThaiBuddhistCalendar (th-TH)
        }
        else if (year < 1900)
        {
            problem = $"process_time '{s}' has year {year}: written in a non-Gregorian calendar (Hijri/Persian culture); not converted";
            return false;
        }

        try
        {
            time = new DateTimeOffset(year, Number(s, 5, 2), Number(s, 8, 2), Number(s, 11, 2), Number(s, 14, 2), Number(s, 17, 2), TimeSpan.Zero);
            return true;
        }
        catch (ArgumentOutOfRangeException)
        {
            problem = $"process_time '{s}' is not a valid date and time";
            return false;
        }
    }

    /// <summary>A pid as the script writes it: decimal (PowerShell prints the UInt64); 0x-hex accepted too.</summary>
    internal static bool TryParsePid(string s, out int pid)
    {
        if (s.StartsWith("0x", StringComparison.OrdinalIgnoreCase))
        {
            return int.TryParse(s.AsSpan(2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out pid) && pid >= 0;
        }

        return int.TryParse(s, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out pid);
    }

    /// <summary>The reading of one file's data rows.</summary>
    private sealed class FileState(SeedCsvReaderResult result, string? fileSession, string[]? reference, RecordTimeWindow? window)
    {
        private readonly Dictionary<string, int> occurrences = new(StringComparer.Ordinal);
        private readonly Dictionary<string, SessionSeen> sessions = new(StringComparer.Ordinal);

        public void ReadAll(List<(int Line, string[] Fields)> lines)
        {
            foreach (var (line, fields) in lines)
            {
                if (ReadRow(fields, out var problem) is not { } row)
                {
                    result.Reject(line, problem!);
                    continue;
                }

                if (row.Rejoined)
                {
                    result.Rejoined++;
                }

                Add(row);
            }

            foreach (var (session, seen) in sessions)
            {
                result.Sessions.Add(session);
                if (!seen.HasEnd)
                {
                    result.SessionsWithoutEnd.Add(session);
                }

                var f = seen.Fields;
                var start = TryParseReservation(f[ReservationTime]) is { } reserved && window?.Problem(reserved) is null ? reserved : seen.Earliest;
                result.Records.Add(new SessionRecord
                {
                    Id = IdPrefix + "session-start:" + Hash(session),
                    Type = SessionEventType.Start,
                    Time = start,
                    Host = HostOf(session),
                    Session = session,
                    Fields = new SessionFields
                    {
                        User = Blank(f[UserName]),
                        Stack = Blank(f[Stack]),
                        Fleet = Blank(f[Fleet]),
                        AccessMode = Blank(f[AuthType]),
                        ReservationTime = Blank(f[ReservationTime]),
                        InstanceType = Blank(f[InstanceType]),
                        Region = Blank(f[Region]),
                        ImageArn = Blank(f[ImageArn]),
                    },
                });
            }
        }

        private Row? ReadRow(string[] raw, out string? problem)
        {
            problem = null;
            var rejoined = false;
            string[] fields;
            if (raw.Length < FieldCount)
            {
                problem = $"expected {FieldCount} fields, got {raw.Length}";
                return null;
            }

            if (raw.Length > FieldCount)
            {
                // The script does not quote: a comma in a field splits it. Every field but `process` is
                // fixed-shape (numbers, ids, times, names without commas), so the extra fields are rejoined
                // into `process` — only when the row then repeats the file's per-session columns exactly.
                fields = new string[FieldCount];
                Array.Copy(raw, fields, Process);
                fields[Process] = string.Join(',', raw, Process, raw.Length - TailCount - Process);
                Array.Copy(raw, raw.Length - TailCount, fields, Process + 1, TailCount);
                if (reference is null)
                {
                    problem = $"{raw.Length} fields (a comma inside a field) and no row with {FieldCount} fields to tell which field holds it";
                    return null;
                }

                for (var i = Stack; i <= AuthType; i++)
                {
                    if (fields[i] != reference[i])
                    {
                        problem = $"{raw.Length} fields (a comma inside a field) and the extra fields cannot be placed unambiguously";
                        return null;
                    }
                }

                if (!LooksLikeTime(fields[2]))
                {
                    problem = $"{raw.Length} fields (a comma inside a field) and the time column '{Clip(fields[2], 20)}' is not a time: the extra comma is not in process";
                    return null;
                }

                rejoined = true;
            }
            else
            {
                fields = raw;
            }

            var type = fields[0] switch
            {
                "4688" => ProcessEventType.Start,
                "4689" => ProcessEventType.Exit,
                _ => (ProcessEventType?)null,
            };
            if (type is null)
            {
                problem = $"event_type '{Clip(fields[0], 20)}' is neither 4688 nor 4689";
                return null;
            }

            if (!TryParsePid(fields[Pid], out var pid))
            {
                problem = $"pid '{Clip(fields[Pid], 20)}' is not a number";
                return null;
            }

            if (!TryParseProcessTime(fields[ProcessTime], out var time, out problem))
            {
                return null;
            }

            if (window?.Problem(time) is { } outside)
            {
                problem = "process_time " + outside;
                return null;
            }

            var session = fields[SessionColumn].Length > 0 ? fields[SessionColumn] : fileSession;
            if (string.IsNullOrEmpty(session))
            {
                problem = "session is empty (and the file name gives none)";
                return null;
            }

            var isEnd = fields[Process] == SessionEnd && pid == -1;
            if (isEnd && type != ProcessEventType.Exit)
            {
                problem = "the session_end row must have event_type 4689";
                return null;
            }

            if (!isEnd && pid < 0)
            {
                problem = $"pid {pid} is negative (only the session_end row has -1)";
                return null;
            }

            if (!isEnd && type == ProcessEventType.Start && fields[Process].Length == 0)
            {
                problem = "process is empty on a 4688 (start) row";
                return null;
            }

            return new Row(fields, type.Value, pid, time, session, isEnd, rejoined);
        }

        private void Add(Row row)
        {
            var f = row.Fields;
            if (!sessions.TryGetValue(row.Session, out var seen))
            {
                sessions[row.Session] = seen = new SessionSeen(f, row.Time);
            }
            else
            {
                if (row.IsEnd && !seen.FromEnd && !row.Rejoined)
                {
                    seen.Fields = f;
                    seen.FromEnd = true;
                }

                if (row.Time < seen.Earliest)
                {
                    seen.Earliest = row.Time;
                }
            }

            if (row.IsEnd)
            {
                seen.HasEnd = true;
            }

            // What identifies the event: type, process, pid, session, UTC second. Not the culture-formatted
            // date/time (the same event exported under another culture keeps its id), and not the host,
            // username and userid columns, which an exporter may fill differently (SessionTrail's own
            // athena-csv export writes the record's host and user there): an imported session exported
            // and imported again keeps its ids. Identical keys (a pid reused within the same second) are
            // told apart by their occurrence number, which is stable while the file is.
            var key = string.Join('\u001f', f[0], f[Process], row.Pid.ToString(CultureInfo.InvariantCulture), row.Session,
                row.Time.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture));
            var hash = Hash(key);
            var n = occurrences.GetValueOrDefault(hash);
            occurrences[hash] = n + 1;
            var id = IdPrefix + hash + (n == 0 ? "" : "." + n.ToString(CultureInfo.InvariantCulture));
            var user = Blank(f[UserName]) ?? Blank(f[UserId]) ?? Blank(f[HostColumn]);
            if (row.IsEnd)
            {
                result.Records.Add(new SessionRecord
                {
                    Id = id,
                    Type = SessionEventType.End,
                    Time = row.Time,
                    Host = HostOf(row.Session),
                    Session = row.Session,
                    User = Blank(f[UserName]),
                });
                return;
            }

            result.Records.Add(new ProcessRecord
            {
                Id = id,
                Type = row.Type,
                Time = row.Time,
                Host = HostOf(row.Session),
                Session = row.Session,
                Pid = row.Pid,
                Executable = Blank(f[Process]),
                User = user,
            });
        }

        private static bool LooksLikeTime(string s) =>
            s.Length is >= 5 and <= 12 && s.All(c => char.IsAsciiDigit(c) || c is ':' or '.' or ' ' or 'A' or 'P' or 'M');

        private static DateTimeOffset? TryParseReservation(string s)
        {
            // AppStream_Session_Reservation_DateTime is ISO-8601 (UTC); anything else (culture-formatted)
            // is not guessed at.
            if (s.Length >= 19 && char.IsAsciiDigit(s[0]) && s[4] == '-'
                && DateTimeOffset.TryParse(s, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var t))
            {
                return t;
            }

            return null;
        }

        private static string? Blank(string s) => s.Length == 0 ? null : s;
    }

    /// <summary>
    /// The host of every record of a session. The seed's <c>host</c> column is the event's SubjectUserName,
    /// not a machine; AppStream runs one session per streaming instance, so the session id identifies the
    /// machine for the whole file (the server pairs a start with an exit of the same pid on the same host).
    /// </summary>
    public static string HostOf(string session) => "appstream:" + session;

    private static string Hash(string s)
    {
        Span<byte> digest = stackalloc byte[32];
        SHA256.HashData(Encoding.UTF8.GetBytes(s), digest);
        return Convert.ToHexStringLower(digest[..12]);
    }

    private sealed record Row(string[] Fields, ProcessEventType Type, int Pid, DateTimeOffset Time, string Session, bool IsEnd, bool Rejoined);

    private sealed class SessionSeen(string[] fields, DateTimeOffset earliest)
    {
        public string[] Fields { get; set; } = fields;

        public bool FromEnd { get; set; } = fields[Process] == SessionEnd;

        public DateTimeOffset Earliest { get; set; } = earliest;

        public bool HasEnd { get; set; }
    }
}
