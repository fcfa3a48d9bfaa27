using System.Globalization;
using System.Text;
using SessionTrail.Core.Formats;
using SessionTrail.Core.Records;

namespace SessionTrail.Core.Tests.Formats;

/// <summary>The time window records must fall in (2000-01-01 to the receiver's clock + 24 h), in the NDJSON reader and the seed CSV reader.</summary>
public sealed class RecordTimeWindowTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 1, 12, 0, 0, TimeSpan.Zero);
    private static readonly RecordTimeWindow Window = new(Now);

    private static string Iso(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'", CultureInfo.InvariantCulture);

    [Fact]
    public void TheBoundsAreIncludedAndAnyTickBeyondIsOutside()
    {
        Assert.Equal((RecordTimeWindow.Floor, Now.AddHours(24)), (Window.Earliest, Window.Latest));
        Assert.Null(Window.Problem(RecordTimeWindow.Floor));
        Assert.Null(Window.Problem(Now.AddHours(24)));
        Assert.NotNull(Window.Problem(RecordTimeWindow.Floor.AddTicks(-1)));
        Assert.NotNull(Window.Problem(Now.AddHours(24).AddTicks(1)));
        Assert.Null(new RecordTimeWindow(DateTimeOffset.MaxValue).Problem(DateTimeOffset.MaxValue)); // no overflow at the end of time
    }

    /// <summary>
    /// Property: for random times on both sides of both bounds, in every time field of every kind, the reader
    /// with a window accepts a line exactly when the time is inside, and otherwise names that line and field;
    /// without a window it accepts them all (the agent's own queues hold what its clock said).
    /// </summary>
    [Fact]
    public void TheReaderAcceptsATimeExactlyWhenItIsInsideInEveryField()
    {
        var random = new Random(1207);
        (string Kind, string Field, string Line)[] templates =
        [
            ("process", "time", """{"id":"i","kind":"process","time":"{time}","host":"h","type":"start","pid":1,"exe":"/x"}"""),
            ("session", "time", """{"id":"i","kind":"session","time":"{time}","host":"h","type":"end","session":"s"}"""),
            ("log", "time", """{"id":"i","kind":"log","time":"{time}","host":"h","source":"s","message":""}"""),
            ("segment", "time", """{"id":"i","kind":"segment","time":"{time}","host":"h","session":"s","index":0,"start":"2026-01-01T00:00:00Z","end":"2026-01-01T00:05:00Z","width":1,"height":1,"fps":5,"codec":"h264","bytes":0,"sha256":"{sha}","file":"0.mp4"}"""),
            ("segment", "start", """{"id":"i","kind":"segment","time":"2026-01-01T00:05:00Z","host":"h","session":"s","index":0,"start":"{time}","end":"2026-01-01T00:05:00Z","width":1,"height":1,"fps":5,"codec":"h264","bytes":0,"sha256":"{sha}","file":"0.mp4"}"""),
            ("segment", "end", """{"id":"i","kind":"segment","time":"2026-01-01T00:05:00Z","host":"h","session":"s","index":0,"start":"2026-01-01T00:00:00Z","end":"{time}","width":1,"height":1,"fps":5,"codec":"h264","bytes":0,"sha256":"{sha}","file":"0.mp4"}"""),
            ("recording", "time", """{"id":"i","kind":"recording","time":"{time}","host":"h","session":"s","type":"notice","message":""}"""),
            ("recording", "gapStart", """{"id":"i","kind":"recording","time":"2026-01-01T00:05:00Z","host":"h","session":"s","type":"gap","message":"","gapStart":"{time}"}"""),
            ("recording", "gapEnd", """{"id":"i","kind":"recording","time":"2026-01-01T00:05:00Z","host":"h","session":"s","type":"gap","message":"","gapStart":"2026-01-01T00:04:00Z","gapEnd":"{time}"}"""),
        ];
        var outside = 0;
        for (var i = 0; i < 5000; i++)
        {
            var edge = random.Next(2) == 0 ? RecordTimeWindow.Floor : Window.Latest;
            var time = random.Next(4) switch
            {
                0 => edge.AddTicks(random.NextInt64(-10_000, 10_000)),
                1 => edge.AddSeconds(random.Next(-100_000, 100_000)),
                2 => edge.AddDays(random.Next(-5_000, 5_000)),
                _ => new DateTimeOffset(random.Next(1, 10_000), 1, 1, 0, 0, 0, TimeSpan.Zero).AddDays(random.Next(364)),
            };
            var (kind, field, template) = templates[random.Next(templates.Length)];
            var line = template.Replace("{time}", Iso(time), StringComparison.Ordinal).Replace("{sha}", new string('a', 64), StringComparison.Ordinal);
            var body = Encoding.UTF8.GetBytes("\n" + line + "\n");
            var inside = time >= RecordTimeWindow.Floor && time <= Now.AddHours(24);

            Assert.Single(NdjsonReader.Parse(body));
            if (inside)
            {
                Assert.Equal(kind, Assert.Single(NdjsonReader.Parse(body, window: Window)).Kind);
            }
            else
            {
                outside++;
                var error = Assert.Throws<NdjsonFormatException>(() => NdjsonReader.Parse(body, window: Window));
                Assert.Equal((2, field), (error.Line, error.Field));
                Assert.Contains(Iso(time)[..19], error.Message, StringComparison.Ordinal);
            }
        }

        Assert.InRange(outside, 1500, 3500);
    }

    [Fact]
    public void ASeedCsvRowOutsideTheWindowIsRejectedWithItsLineAndAReservationOutsideIsNotTheSessionStart()
    {
        const string Tail = ",st,s1,bob,{res},t,r,arn,f,userpool,S-1-5-21-9,{time}";
        string Row(string type, string process, string host, int pid, string time, string reservation = "1990-01-01T00:00:00Z") =>
            $"{type},1/1/2015,10:00:00,{process},{host},{pid}" + Tail.Replace("{res}", reservation, StringComparison.Ordinal).Replace("{time}", time, StringComparison.Ordinal);
        var csv = SeedCsvReader.Header + "\r\n"
            + Row("4688", "C:\\a.exe", "u", 10, "2015-01-01T10:00:00Z") + "\r\n"
            + Row("4688", "C:\\b.exe", "u", 11, "1999-01-01T10:00:00Z") + "\r\n"
            + Row("4689", "session_end", "session_end", -1, "2015-01-01T12:00:00Z") + "\r\n";

        var bounded = SeedCsvReader.Read(new MemoryStream(Encoding.UTF8.GetBytes(csv)), null, Window);
        var unbounded = SeedCsvReader.Read(new MemoryStream(Encoding.UTF8.GetBytes(csv)), null);

        var rejection = Assert.Single(bounded.Rejected);
        Assert.Equal((3, "process_time '1999-01-01T10:00:00.000Z' is before 2000-01-01T00:00:00.000Z, the earliest time accepted"), (rejection.Line, rejection.Reason));
        var start = Assert.Single(bounded.Records.OfType<SessionRecord>(), r => r.Type == SessionEventType.Start);
        Assert.Equal(new DateTimeOffset(2015, 1, 1, 10, 0, 0, TimeSpan.Zero), start.Time); // the earliest row, not the 1990 reservation
        Assert.Equal("1990-01-01T00:00:00Z", start.ReservationTime); // kept as text
        Assert.Empty(unbounded.Rejected);
    }
}
