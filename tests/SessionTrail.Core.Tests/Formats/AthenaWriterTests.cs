using System.Text;
using System.Text.Json;
using SessionTrail.Core.Formats;
using SessionTrail.Core.Records;

namespace SessionTrail.Core.Tests.Formats;

public class AthenaWriterTests
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 30, 8, 0, 0, TimeSpan.Zero);

    private static readonly AthenaSession Session = new()
    {
        Id = "c0ffee00-1111-2222-3333-444455556666",
        End = T0.AddHours(2).AddSeconds(5),
        Start = T0.AddMinutes(-1),
        Fields = new()
        {
            User = "alice",
            Stack = "stack1",
            Fleet = "fleet1",
            AccessMode = "userpool",
            ReservationTime = "2026-11-30T07:58:00Z",
            InstanceType = "stream.standard.medium",
            Region = "us-east-1",
            ImageArn = "arn:aws:appstream:us-east-1:123456789012:image/img1",
        },
    };

    private const string Sid = "S-1-5-21-1-2-3-1001";

    private static ProcessRecord P(ProcessEventType type, int minutes, int pid, string? exe) => new()
    {
        Type = type,
        Time = T0.AddMinutes(minutes),
        Host = "EC2AMAZ-1",
        Pid = pid,
        Executable = exe,
        User = Sid,
    };

    // Arrival order: notepad starts, excel starts, notepad exits, excel never exits (ends with the session).
    private static readonly ProcessRecord[] Events =
    [
        P(ProcessEventType.Start, 0, 4660, @"C:\Windows\notepad.exe"),
        P(ProcessEventType.Start, 5, 9100, @"C:\Program Files\Office\EXCEL.EXE"),
        P(ProcessEventType.Exit, 30, 4660, @"C:\Windows\notepad.exe"),
    ];

    [Fact]
    public void Csv_is_the_seed_scripts_bytes()
    {
        var obj = AthenaCsvWriter.Write(Session, Events);

        const string Meta = "stack1,c0ffee00-1111-2222-3333-444455556666,alice,2026-11-30T07:58:00Z,stream.standard.medium,us-east-1,arn:aws:appstream:us-east-1:123456789012:image/img1,fleet1,userpool";
        var expected =
            "\uFEFFevent_type,date,time,process,host,pid,stack,session,username,time_of_executionprocess_start_time,instance_type,region,image_arn,fleet,auth_type,userid,process_time\r\n" +
            $"4688,11/30/2026,08:05:00,C:\\Program Files\\Office\\EXCEL.EXE,EC2AMAZ-1,9100,{Meta},{Sid},2026-11-30T08:05:00Z\r\n" +
            $"4688,11/30/2026,08:00:00,C:\\Windows\\notepad.exe,EC2AMAZ-1,4660,{Meta},{Sid},2026-11-30T08:00:00Z\r\n" +
            $"4689,11/30/2026,08:30:00,C:\\Windows\\notepad.exe,EC2AMAZ-1,4660,{Meta},{Sid},2026-11-30T08:30:00Z\r\n" +
            $"4689,11/30/2026,10:00:05,session_end,session_end,-1,{Meta},session_end,2026-11-30T10:00:05Z\r\n";
        Assert.Equal(expected, Encoding.UTF8.GetString(obj.Content));
        Assert.Equal([0xEF, 0xBB, 0xBF], obj.Content[..3]);
        Assert.Equal("appstream_applications/year=2026/month=11/day=30/c0ffee00-1111-2222-3333-444455556666.csv", obj.Key);
        Assert.Equal(4, obj.Rows);
        Assert.Empty(obj.Warnings);
        Assert.Equal(17, AthenaCsvWriter.Header.Split(',').Length); // 17 names, one of them the fused "time_of_executionprocess_start_time"
        Assert.All(expected.Split("\r\n")[1..^1], row => Assert.Equal(17, row.Split(',').Length));
    }

    [Fact]
    public void An_exit_without_a_user_takes_its_starts_user_and_an_unpaired_one_stays_empty()
    {
        // Linux exits carry no user; the seed's 4689 rows carry one.
        ProcessRecord[] events =
        [
            P(ProcessEventType.Start, 0, 4660, "/usr/bin/vim") with { User = null, Uid = 1001 },
            P(ProcessEventType.Exit, 30, 4660, "/usr/bin/vim") with { User = null },
            P(ProcessEventType.Exit, 31, 777, "/usr/bin/less") with { User = null },
        ];
        var lines = Encoding.UTF8.GetString(AthenaCsvWriter.Write(Session, events).Content).Split("\r\n");
        Assert.Equal("1001", lines[1].Split(',')[15]);          // 4688 vim: its uid
        Assert.StartsWith("4689", lines[2], StringComparison.Ordinal);
        Assert.Contains(",777,", lines[2], StringComparison.Ordinal); // newest exit first: the unpaired one
        Assert.Equal("", lines[2].Split(',')[15]);
        Assert.Equal("1001", lines[3].Split(',')[15]);          // 4689 vim: its start's
    }

    [Fact]
    public void Csv_date_format_time_zone_and_partition_follow_the_options()
    {
        // 23:30 UTC on the 30th is 00:30 on 1 December in Paris (UTC+1): the partition is local, process_time stays UTC.
        var late = Session with { End = new DateTimeOffset(2026, 11, 30, 23, 30, 0, TimeSpan.Zero) };
        var options = new AthenaWriteOptions { DateFormat = "dd/MM/yyyy", TimeZone = TimeZoneInfo.FindSystemTimeZoneById("Europe/Paris") };
        var obj = AthenaCsvWriter.Write(late, [], options);
        var lines = Encoding.UTF8.GetString(obj.Content).Split("\r\n");
        Assert.StartsWith("4689,01/12/2026,00:30:00,session_end,", lines[1], StringComparison.Ordinal);
        Assert.EndsWith(",2026-11-30T23:30:00Z", lines[1], StringComparison.Ordinal);
        Assert.Equal("appstream_applications/year=2026/month=12/day=01/c0ffee00-1111-2222-3333-444455556666.csv", obj.Key);
    }

    [Fact]
    public void Same_time_rows_are_newest_arrival_first_and_pids_are_decimal()
    {
        ProcessRecord[] events =
        [
            P(ProcessEventType.Start, 1, 0x1a2c, "a.exe"),
            P(ProcessEventType.Start, 1, 0x1a30, "b.exe"),
        ];
        var lines = Encoding.UTF8.GetString(AthenaCsvWriter.Write(Session, events).Content).Split("\r\n");
        Assert.StartsWith("4688,11/30/2026,08:01:00,b.exe,EC2AMAZ-1,6704,", lines[1], StringComparison.Ordinal);
        Assert.StartsWith("4688,11/30/2026,08:01:00,a.exe,EC2AMAZ-1,6700,", lines[2], StringComparison.Ordinal);
    }

    [Fact]
    public void A_comma_or_line_break_is_written_as_the_script_would_and_warned()
    {
        ProcessRecord[] events =
        [
            P(ProcessEventType.Start, 1, 10, @"C:\Apps\Smith, Jones\tool.exe"),
            P(ProcessEventType.Start, 2, 11, "C:\\odd\nname.exe"),
        ];
        var obj = AthenaCsvWriter.Write(Session with { Fields = Session.Fields with { Stack = "a,b" } }, events);
        Assert.Contains(@",C:\Apps\Smith, Jones\tool.exe,", Encoding.UTF8.GetString(obj.Content), StringComparison.Ordinal);
        Assert.Equal(
            [
                "line 2: field 'process' contains a line break",
                "line 2: field 'stack' contains a comma",
                "line 3: field 'process' contains a comma",
                "line 3: field 'stack' contains a comma",
                "line 4: field 'stack' contains a comma",
            ],
            obj.Warnings.Select(w => w.ToString()));
    }

    [Fact]
    public void Exit_without_executable_takes_its_starts_and_an_unpaired_exit_stays()
    {
        ProcessRecord[] events =
        [
            P(ProcessEventType.Exit, -5, 77, @"C:\before\session.exe"),
            P(ProcessEventType.Start, 1, 12, @"C:\x\app.exe"),
            P(ProcessEventType.Exit, 2, 12, null),
        ];
        var lines = Encoding.UTF8.GetString(AthenaCsvWriter.Write(Session, events).Content).Split("\r\n");
        Assert.StartsWith(@"4689,11/30/2026,08:02:00,C:\x\app.exe,EC2AMAZ-1,12,", lines[2], StringComparison.Ordinal);
        Assert.StartsWith(@"4689,11/30/2026,07:55:00,C:\before\session.exe,EC2AMAZ-1,77,", lines[3], StringComparison.Ordinal);
    }

    [Fact]
    public void Jsonl_has_the_same_rows_with_names_and_run_start_and_end()
    {
        var obj = AthenaJsonlWriter.Write(Session, [.. Events, P(ProcessEventType.Start, 40, 4660, @"C:\a,b\new.exe")]);
        Assert.Equal("appstream_applications_jsonl/year=2026/month=11/day=30/c0ffee00-1111-2222-3333-444455556666.jsonl", obj.Key);
        var text = Encoding.UTF8.GetString(obj.Content);
        Assert.EndsWith("}\n", text, StringComparison.Ordinal);
        Assert.DoesNotContain('\r', text);
        var rows = text.TrimEnd('\n').Split('\n').Select(l => JsonDocument.Parse(l).RootElement).ToArray();
        Assert.Equal(5, rows.Length);
        Assert.All(rows, r => Assert.Equal(AthenaJsonlWriter.Fields, r.EnumerateObject().Select(p => p.Name)));

        // Pid 4660 reused: the new start (08:40) has no exit so it ends with the session; notepad ends at its exit.
        Assert.Equal(@"C:\a,b\new.exe", rows[0].GetProperty("process").GetString());
        Assert.Equal("2026-11-30T08:40:00.000Z", rows[0].GetProperty("start").GetString());
        Assert.Equal("2026-11-30T10:00:05.000Z", rows[0].GetProperty("end").GetString());
        Assert.Equal("2026-11-30T10:00:05.000Z", rows[1].GetProperty("end").GetString()); // EXCEL: no exit
        Assert.Equal("2026-11-30T08:30:00.000Z", rows[2].GetProperty("end").GetString()); // notepad
        Assert.Equal(4689, rows[3].GetProperty("event_type").GetInt32());
        Assert.Equal("2026-11-30T08:00:00.000Z", rows[3].GetProperty("start").GetString());
        Assert.Equal(-1, rows[4].GetProperty("pid").GetInt64());
        Assert.Equal("2026-11-30T07:59:00.000Z", rows[4].GetProperty("start").GetString());
        Assert.Equal("2026-11-30", rows[4].GetProperty("date").GetString());
        Assert.Equal("2026-11-30T07:58:00Z", rows[4].GetProperty("reservation_time").GetString());
    }

    [Theory]
    [InlineData("abc-DEF_1.2", "abc-DEF_1.2")]
    [InlineData("../etc", "..%2Fetc")]
    [InlineData("..", "..")]
    [InlineData("a b/ü", "a%20b%2F%C3%BC")]
    public void Session_ids_cannot_leave_their_folder(string id, string file)
    {
        // "." is escaped too: only letters, digits, '-', '_' pass when the id needs escaping at all.
        var expected = id == ".." ? "%2E%2E" : file.Replace("..", "%2E%2E", StringComparison.Ordinal);
        Assert.Equal(expected, AthenaLayout.SafeFileName(id));
    }
}
