using System.Globalization;
using System.Text;

namespace SessionTrail.TestKit;

/// <summary>How the seed's script formats times on a machine: its culture's short date, time separator and calendar.</summary>
/// <param name="DatePattern">ToShortDateString() of the culture, e.g. M/d/yyyy (en-US), dd.MM.yyyy (de-DE).</param>
/// <param name="TimeSeparator">':' in most cultures, '.' in some (fi-FI): .NET's ':' in a format is the culture's.</param>
/// <param name="YearOffset">543 for the Thai Buddhist calendar (th-TH), else 0.</param>
/// <param name="UtcOffset">The machine's time zone (the date/time columns are local; process_time is UTC).</param>
public sealed record SeedCulture(string Name, string DatePattern, char TimeSeparator = ':', int YearOffset = 0, TimeSpan UtcOffset = default)
{
    public static readonly SeedCulture EnUs = new("en-US", "M/d/yyyy", UtcOffset: TimeSpan.FromHours(-5));
    public static readonly SeedCulture EnGb = new("en-GB", "dd/MM/yyyy");
    public static readonly SeedCulture DeDe = new("de-DE", "dd.MM.yyyy", UtcOffset: TimeSpan.FromHours(1));
    public static readonly SeedCulture JaJp = new("ja-JP", "yyyy/MM/dd", UtcOffset: TimeSpan.FromHours(9));
    public static readonly SeedCulture FiFi = new("fi-FI", "d.M.yyyy", '.', UtcOffset: TimeSpan.FromHours(2));
    public static readonly SeedCulture ThTh = new("th-TH", "d/M/yyyy", YearOffset: 543, UtcOffset: TimeSpan.FromHours(7));

    public static readonly SeedCulture[] All = [EnUs, EnGb, DeDe, JaJp, FiFi, ThTh];

    public string Date(DateTimeOffset t)
    {
        var local = t.ToOffset(UtcOffset);
        var pattern = DatePattern.Replace("yyyy", (local.Year + YearOffset).ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal);
        return local.ToString(pattern, CultureInfo.InvariantCulture);
    }

    public string Time(DateTimeOffset t) => t.ToOffset(UtcOffset).ToString($"HH'{TimeSeparator}'mm'{TimeSeparator}'ss", CultureInfo.InvariantCulture);

    /// <summary>$x.ToUniversalTime().ToString('yyyy-MM-ddTHH:mm:ssZ') in this culture.</summary>
    public string ProcessTime(DateTimeOffset t)
    {
        var u = t.ToUniversalTime();
        return (u.Year + YearOffset).ToString("0000", CultureInfo.InvariantCulture) + u.ToString($"-MM-dd'T'HH'{TimeSeparator}'mm'{TimeSeparator}'ss'Z'", CultureInfo.InvariantCulture);
    }
}

/// <summary>One process as the Security log saw it: a 4688 (unless <see cref="Start"/> is null) and a 4689 (unless <see cref="Exit"/> is null).</summary>
public sealed record SeedProcess(string Exe, int Pid, DateTimeOffset? Start, DateTimeOffset? Exit, string SubjectUser = "PhotonUser", string Sid = "S-1-5-21-1004336348-1177238915-682003330-1001");

/// <summary>One AppStream session: the script's variables and the processes it saw.</summary>
public sealed record SeedSession(string Id, string User, DateTimeOffset Reservation, DateTimeOffset End, IReadOnlyList<SeedProcess> Processes)
{
    public string Stack { get; init; } = "stack-eng";
    public string Fleet { get; init; } = "fleet-eng";
    public string AuthType { get; init; } = "userpool";
    public string InstanceType { get; init; } = "stream.standard.medium";
    public string Region { get; init; } = "us-east-1";
    public string ImageArn { get; init; } = "arn:aws:appstream:us-east-1:123456789012:image/eng-2026-11";

    /// <summary>AppStream_Session_Reservation_DateTime as the environment holds it.</summary>
    public string ReservationText => Reservation.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);
}

/// <summary>
/// Writes per-session CSV files byte for byte as the seed's Get-ProcessDetails.ps1 does: Set-Content
/// -Encoding UTF8 (BOM) of the header, then Add-Content lines (CRLF) for every 4688 newest first, every
/// 4689 newest first (Get-WinEvent returns newest first), and the session_end pseudo-row; stored under
/// appstream_applications/year=/month=/day= of the session end in the machine's culture.
/// </summary>
public static class SeedCsvGenerator
{
    public const string Header =
        "event_type,date,time,process,host,pid,stack,session,username,time_of_executionprocess_start_time,instance_type,region,image_arn,fleet,auth_type,userid,process_time";

    public static byte[] Write(SeedSession session, SeedCulture culture)
    {
        var text = new StringBuilder();
        text.Append(Header).Append("\r\n");
        string Row(string type, DateTimeOffset t, string process, string host, string pid, string userId) =>
            string.Join(',', type, culture.Date(t), culture.Time(t), process, host, pid, session.Stack, session.Id, session.User,
                session.ReservationText, session.InstanceType, session.Region, session.ImageArn, session.Fleet, session.AuthType, userId,
                culture.ProcessTime(t));

        foreach (var p in session.Processes.Where(p => p.Start is not null).OrderByDescending(p => p.Start))
        {
            text.Append(Row("4688", p.Start!.Value, p.Exe, p.SubjectUser, p.Pid.ToString(CultureInfo.InvariantCulture), p.Sid)).Append("\r\n");
        }

        foreach (var p in session.Processes.Where(p => p.Exit is not null).OrderByDescending(p => p.Exit))
        {
            text.Append(Row("4689", p.Exit!.Value, p.Exe, p.SubjectUser, p.Pid.ToString(CultureInfo.InvariantCulture), p.Sid)).Append("\r\n");
        }

        text.Append(Row("4689", session.End, "session_end", "session_end", "-1", "session_end")).Append("\r\n");
        return [.. Encoding.UTF8.GetPreamble(), .. Encoding.UTF8.GetBytes(text.ToString())];
    }

    /// <summary>The S3 key without its leading slash: appstream_applications/year=YYYY/month=MM/day=DD/ID.csv.</summary>
    public static string RelativePath(SeedSession session, SeedCulture culture)
    {
        var local = session.End.ToOffset(culture.UtcOffset);
        return $"appstream_applications/year={local.Year + culture.YearOffset:0000}/month={local.Month:00}/day={local.Day:00}/{session.Id}.csv";
    }

    public const string Firefox = @"C:\Program Files\Mozilla Firefox\firefox.exe";
    public const string Excel = @"C:\Program Files (x86)\Microsoft Office\root\Office16\EXCEL.EXE";
    public const string PhotonAgent = @"C:\Program Files\Amazon\Photon\Agent\PhotonAgent.exe";

    /// <summary>
    /// A known session starting at <paramref name="t0"/>: firefox exits after 30 minutes, excel runs to the
    /// session end (2 h), an Amazon helper exits with no start (the script filters its 4688 only).
    /// </summary>
    public static SeedSession Known(DateTimeOffset t0, params SeedProcess[] more) => new(
        "6d1e4f0a-3b2c-4d5e-8f90-a1b2c3d4e5f6",
        "alice@example.com",
        t0.AddMinutes(-1),
        t0.AddHours(2),
        [
            new SeedProcess(Firefox, 4242, t0, t0.AddMinutes(30)),
            new SeedProcess(Excel, 5120, t0.AddMinutes(5), null),
            new SeedProcess(PhotonAgent, 3000, null, t0.AddMinutes(50)),
            .. more,
        ]);

    private static readonly string[] Apps =
    [
        @"C:\Program Files\Mozilla Firefox\firefox.exe", @"C:\Program Files\Notepad++\notepad++.exe",
        @"C:\Program Files (x86)\Microsoft Office\root\Office16\EXCEL.EXE", @"C:\Program Files\LibreOffice\program\soffice.bin",
        @"C:\Program Files\Google\Chrome\Application\chrome.exe", @"C:\Program Files\7-Zip\7zFM.exe",
        @"C:\Program Files\Git\bin\git.exe", @"C:\Program Files\Tableau\Tableau 2024.1\bin\tableau.exe",
    ];

    /// <summary>
    /// A session with <paramref name="processes"/> processes: most start and exit inside it, some run to
    /// the session end (no 4689), some exit with no 4688 (started before auditing / filtered by the script).
    /// </summary>
    public static SeedSession Random(Random random, int index, int processes, DateTimeOffset day)
    {
        var start = day.AddMinutes(random.Next(0, 600)).AddSeconds(random.Next(60));
        var end = start.AddMinutes(30 + random.Next(300));
        var list = new List<SeedProcess>(processes);
        for (var i = 0; i < processes; i++)
        {
            var exe = Apps[random.Next(Apps.Length)];
            var pid = 1000 + (random.Next(2000) * 4);
            var s = start.AddSeconds(random.Next((int)(end - start).TotalSeconds - 10));
            var kind = random.Next(20);
            DateTimeOffset? exit = kind == 0 ? null : s.AddSeconds(random.Next(1, (int)(end - s).TotalSeconds));
            list.Add(new SeedProcess(exe, pid, kind == 1 ? null : s, exit));
        }

        var id = $"{index:x8}-{random.Next(0x10000):x4}-4{random.Next(0x1000):x3}-a{random.Next(0x1000):x3}-{random.NextInt64(0x1000000000000):x12}";
        return new SeedSession(id, $"user{index % 97}@example.com", start.AddSeconds(-20), end, list);
    }
}
