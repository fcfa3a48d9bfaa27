using System.Text;
using System.Text.Json;
using SessionTrail.Core.Formats;
using SessionTrail.Core.Records;

namespace SessionTrail.Core.Tests.Formats;

/// <summary>
/// Deterministic random sessions through both writers: the CSV keeps its shape (17 fields per row, or a
/// warning for each field that breaks it; rows in the script's order), the JSON lines give every value
/// back exactly whatever the characters, and both have one row per event plus the session_end row.
/// </summary>
public class AthenaWriterRandomTests
{
    private static readonly string[] Pieces = ["C:\\", "Program Files", "app", ".exe", ",", " ", "\"", "é", "日本", "\n", "\r\n", "\r", "\\", "'", "{}", "\t", "x"];

    private static string RandomText(Random r, int max)
    {
        var sb = new StringBuilder();
        for (var i = r.Next(max); i >= 0; i--)
        {
            sb.Append(Pieces[r.Next(Pieces.Length)]);
        }

        return sb.ToString();
    }

    [Fact]
    public void RandomSessionsKeepTheirShape()
    {
        var random = new Random(20261130);
        var t0 = new DateTimeOffset(2026, 11, 30, 0, 0, 0, TimeSpan.Zero);
        for (var round = 0; round < 300; round++)
        {
            var events = new List<ProcessRecord>();
            for (var i = random.Next(30); i > 0; i--)
            {
                events.Add(new ProcessRecord
                {
                    Type = random.Next(2) == 0 ? ProcessEventType.Start : ProcessEventType.Exit,
                    Time = t0.AddSeconds(random.Next(-3600, 36_000)),
                    Host = random.Next(4) == 0 ? RandomText(random, 3) : "h",
                    Pid = random.Next(1, 8), // few pids: reuse and ties
                    Executable = random.Next(6) == 0 ? null : RandomText(random, 6),
                    User = random.Next(5) == 0 ? null : "S-1-5-21-" + random.Next(3),
                });
            }

            var session = new AthenaSession
            {
                Id = "s" + round,
                End = t0.AddSeconds(40_000),
                Fields = new() { User = RandomText(random, 2), Stack = random.Next(3) == 0 ? null : RandomText(random, 2) },
            };
            CheckCsv(session, events);
            CheckJsonl(session, events);
        }
    }

    private static void CheckCsv(AthenaSession session, List<ProcessRecord> events)
    {
        var obj = AthenaCsvWriter.Write(session, events);
        Assert.Equal(obj.Content, AthenaCsvWriter.Write(session, events).Content); // pure
        var text = Encoding.UTF8.GetString(obj.Content.AsSpan(3));
        Assert.StartsWith(AthenaCsvWriter.Header + "\r\n", text, StringComparison.Ordinal);
        Assert.Equal(events.Count + 1, obj.Rows);

        var rows = AthenaRows.Build(session, events);
        var broken = obj.Warnings.Select(w => w.Line).ToHashSet();
        var lines = text.Split("\r\n");
        if (!obj.Warnings.Any(w => w.Problem == "line break"))
        {
            Assert.Equal(rows.Count + 2, lines.Length); // header + rows + the empty string after the last CRLF
            for (var i = 0; i < rows.Count; i++)
            {
                var fields = lines[i + 1].Split(',');
                if (!broken.Contains(i + 2))
                {
                    Assert.Equal(17, fields.Length);
                    Assert.Equal(rows[i].Process, fields[3]);
                    Assert.Equal(rows[i].Pid.ToString(System.Globalization.CultureInfo.InvariantCulture), fields[5]);
                }
            }
        }

        // The warnings name exactly the rows and fields that hold a comma or a line break.
        var expected = rows.Select((r, i) => (Line: i + 2, Row: r))
            .Where(x => new[] { x.Row.Process, x.Row.Host, x.Row.UserId, session.Fields.Stack ?? "", session.Fields.User ?? "" }.Any(v => v.Contains(',') || v.Contains('\n') || v.Contains('\r')))
            .Select(x => x.Line).ToHashSet();
        Assert.Equal(expected.Order(), broken.Order());

        // Order: starts newest first, then exits newest first, then session_end.
        var starts = rows.TakeWhile(r => r.EventType == 4688).ToList();
        Assert.Equal(events.Count(e => e.Type == ProcessEventType.Start), starts.Count);
        Assert.Equal(starts.Select(r => r.Time).OrderDescending(), starts.Select(r => r.Time));
        var exits = rows.Skip(starts.Count).Take(rows.Count - starts.Count - 1).ToList();
        Assert.All(exits, r => Assert.Equal(4689, r.EventType));
        Assert.Equal(exits.Select(r => r.Time).OrderDescending(), exits.Select(r => r.Time));
        Assert.Equal(-1, rows[^1].Pid);
    }

    private static void CheckJsonl(AthenaSession session, List<ProcessRecord> events)
    {
        var obj = AthenaJsonlWriter.Write(session, events);
        var lines = Encoding.UTF8.GetString(obj.Content).Split('\n');
        Assert.Equal("", lines[^1]);
        var rows = AthenaRows.Build(session, events);
        Assert.Equal(rows.Count, lines.Length - 1);
        for (var i = 0; i < rows.Count; i++)
        {
            var json = JsonDocument.Parse(lines[i]).RootElement;
            Assert.Equal(rows[i].Process, json.GetProperty("process").GetString());
            Assert.Equal(rows[i].Host, json.GetProperty("host").GetString());
            Assert.Equal(session.Fields.User, json.GetProperty("username").GetString());
            Assert.Equal(session.Fields.Stack, json.GetProperty("stack").GetString());
            if (rows[i].EventType == 4688 && json.GetProperty("end").GetString() is { } end)
            {
                Assert.True(DateTimeOffset.Parse(end, System.Globalization.CultureInfo.InvariantCulture) >= rows[i].Time);
            }
        }

        // Every exit is paired at most once, with a start of the same host and pid at or before it.
        var pairedStarts = rows.Where(r => r.EventType == 4689 && r.Pid != -1 && r.RunStart is not null).ToList();
        foreach (var exit in pairedStarts)
        {
            Assert.Contains(events, e => e.Type == ProcessEventType.Start && e.Pid == exit.Pid && e.Host == exit.Host && e.Time == exit.RunStart && e.Time <= exit.Time);
        }
    }
}
