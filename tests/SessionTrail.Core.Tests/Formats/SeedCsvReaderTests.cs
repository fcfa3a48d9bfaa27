using System.Text;
using SessionTrail.Core.Formats;
using SessionTrail.Core.Records;

namespace SessionTrail.Core.Tests.Formats;

/// <summary>Seed CSV files as the seed's PowerShell script writes them, in several cultures.</summary>
public sealed class SeedCsvReaderTests
{
    private static readonly DateTimeOffset T0 = new(2026, 3, 4, 22, 15, 7, TimeSpan.Zero);
    private const string Firefox = SeedCsvGenerator.Firefox;
    private const string Excel = SeedCsvGenerator.Excel;

    private static SeedSession Sample() => SeedCsvGenerator.Known(T0);

    private static SeedCsvReaderResult Read(byte[] bytes, string? fileSession = null) =>
        SeedCsvReader.Read(new MemoryStream(bytes), fileSession);

    private static SeedCsvReaderResult Read(string text, string? fileSession = null) => Read(Encoding.UTF8.GetBytes(text), fileSession);

    public static TheoryData<string> Cultures() => [.. SeedCulture.All.Select(c => c.Name)];

    [Theory]
    [MemberData(nameof(Cultures))]
    public void EveryCultureGivesTheSameRecordsWithUtcTimesFromProcessTime(string cultureName)
    {
        var culture = SeedCulture.All.Single(c => c.Name == cultureName);
        var session = Sample();
        var bytes = SeedCsvGenerator.Write(session, culture);
        Assert.Equal([0xEF, 0xBB, 0xBF], bytes[..3]);
        Assert.Contains("\r\n", Encoding.UTF8.GetString(bytes), StringComparison.Ordinal);

        var result = Read(bytes);

        Assert.Empty(result.Rejected);
        Assert.Equal(5, result.Rows); // 2 starts, 2 exits, session_end
        var host = "appstream:" + session.Id;
        var processes = result.Records.OfType<ProcessRecord>().ToList();
        Assert.All(result.Records, r => Assert.Equal(host, r.Host));
        Assert.All(result.Records, r => Assert.Equal(session.Id, r.Session));
        Assert.Equal(
            [(ProcessEventType.Start, Firefox, 4242, T0), (ProcessEventType.Start, Excel, 5120, T0.AddMinutes(5)),
             (ProcessEventType.Exit, Firefox, 4242, T0.AddMinutes(30)), (ProcessEventType.Exit, SeedCsvGenerator.PhotonAgent, 3000, T0.AddMinutes(50))],
            processes.Select(p => (p.Type, p.Executable!, p.Pid, p.Time)).OrderBy(x => x.Item1).ThenBy(x => x.Item4).ToList());
        Assert.All(processes, p => Assert.Equal("alice@example.com", p.User));

        var sessions = result.Records.OfType<SessionRecord>().ToList();
        var end = Assert.Single(sessions, s => s.Type == SessionEventType.End);
        Assert.Equal(session.End, end.Time);
        var start = Assert.Single(sessions, s => s.Type == SessionEventType.Start);
        Assert.Equal(session.Reservation, start.Time);
        Assert.Equal(("alice@example.com", "stack-eng", "fleet-eng", "userpool", session.ReservationText), (start.User, start.Stack, start.Fleet, start.AccessMode, start.ReservationTime));
        Assert.Equal(("stream.standard.medium", "us-east-1", session.ImageArn), (start.InstanceType, start.Region, start.ImageArn));
        Assert.Equal([session.Id], result.Sessions);
        Assert.Empty(result.SessionsWithoutEnd);
    }

    [Fact]
    public void IdsAreTheSameWhateverTheCultureOrTheHostAndUseridColumns()
    {
        var ids = SeedCulture.All.Select(c => Read(SeedCsvGenerator.Write(Sample(), c)).Records.Select(r => r.Id).Order().ToList()).ToList();
        // As an exporter may write it: other host and userid columns (SessionTrail's athena-csv writes the record's host and user).
        var exported = Sample() with { Processes = [.. Sample().Processes.Select(p => p with { SubjectUser = "appstream:x", Sid = "alice@example.com" })] };
        ids.Add([.. Read(SeedCsvGenerator.Write(exported, SeedCulture.EnGb)).Records.Select(r => r.Id).Order()]);
        Assert.All(ids, list => Assert.Equal(ids[0], list));
        Assert.Equal(ids[0].Count, ids[0].Distinct().Count());
        Assert.All(ids[0], id => Assert.StartsWith("csv:", id, StringComparison.Ordinal));
    }

    [Fact]
    public void IdenticalRowsKeepDistinctStableIds()
    {
        // The same pid started twice in the same second (a quick reuse): two rows identical but for nothing.
        var session = Sample() with
        {
            Processes = [new SeedProcess(Firefox, 4242, T0, T0.AddSeconds(1)), new SeedProcess(Firefox, 4242, T0, T0.AddSeconds(1))],
        };
        var first = Read(SeedCsvGenerator.Write(session, SeedCulture.EnUs)).Records.Select(r => r.Id).ToList();
        var second = Read(SeedCsvGenerator.Write(session, SeedCulture.EnUs)).Records.Select(r => r.Id).ToList();
        Assert.Equal(first, second);
        Assert.Equal(first.Count, first.Distinct().Count());
        Assert.Equal(6, first.Count); // 2 starts, 2 exits, end, start
    }

    [Fact]
    public void ACommaInTheProcessPathIsRejoined()
    {
        var odd = @"C:\Program Files\Vendor, Inc\Tool,v2\tool.exe";
        var session = Sample() with { Processes = [new SeedProcess(odd, 77, T0, T0.AddMinutes(1))] };
        var result = Read(SeedCsvGenerator.Write(session, SeedCulture.DeDe));
        Assert.Empty(result.Rejected);
        Assert.Equal(2, result.Rejoined);
        Assert.All(result.Records.OfType<ProcessRecord>(), p => Assert.Equal(odd, p.Executable));
    }

    [Fact]
    public void ACommaThatCannotBePlacedIsRejectedWithItsLine()
    {
        var bytes = SeedCsvGenerator.Write(Sample() with { Processes = [new SeedProcess(Firefox, 77, T0, T0.AddMinutes(1))] }, SeedCulture.EnUs);
        var lines = Encoding.UTF8.GetString(bytes).Split("\r\n").ToList();
        lines[1] = lines[1].Replace("stack-eng", "stack,eng", StringComparison.Ordinal); // a comma in a fixed-shape field
        var result = Read(string.Join("\r\n", lines));
        var rejection = Assert.Single(result.Rejected);
        Assert.Equal(2, rejection.Line);
        Assert.Contains("cannot be placed", rejection.Reason, StringComparison.Ordinal);
        Assert.Single(result.Records.OfType<ProcessRecord>()); // the exit is kept
    }

    [Fact]
    public void ACommaInEveryRowWithNoCleanRowIsRejected()
    {
        var session = Sample() with { User = "doe, jane", Processes = [new SeedProcess(Firefox, 77, T0, T0.AddMinutes(1))] };
        var result = Read(SeedCsvGenerator.Write(session, SeedCulture.EnUs));
        Assert.Equal(3, result.Rejected.Count);
        Assert.Empty(result.Records);
        Assert.All(result.Rejected, r => Assert.Contains("no row with 17 fields", r.Reason, StringComparison.Ordinal));
    }

    [Fact]
    public void BadRowsAreRejectedOneByOneWithLineAndReason()
    {
        var good = "4688,3/4/2026,22:15:07,C:\\a.exe,PhotonUser,42,st,sess,u,2026-03-04T22:00:00Z,t,r,arn,f,userpool,S-1-5-21-1,2026-03-04T22:15:07Z";
        string With(int field, string value)
        {
            var f = good.Split(',');
            f[field] = value;
            return string.Join(',', f);
        }

        var text = string.Join("\r\n",
            SeedCsvReader.Header,
            good,
            "4688,3/4/2026,22:15:07,C:\\a.exe,PhotonUser,42",
            With(0, "4624"),
            With(5, "4x2"),
            With(16, "3/4/2026 22:15"),
            With(16, "1447-09-15T22:15:07Z"),
            With(16, "2026-02-30T22:15:07Z"),
            With(5, "-1"),
            With(3, ""),
            "",
            good.Replace("4688,", "4689,", StringComparison.Ordinal)) + "\r\n";
        var result = Read(text);

        Assert.Equal(10, result.Rows);
        Assert.Equal(
            [(3, "expected 17 fields, got 6"), (4, "event_type '4624' is neither 4688 nor 4689"), (5, "pid '4x2' is not a number"),
             (6, "process_time '3/4/2026 22:15' is not yyyy-MM-ddTHH:mm:ssZ"),
             (7, "process_time '1447-09-15T22:15:07Z' has year 1447: written in a non-Gregorian calendar (Hijri/Persian culture); not converted"),
             (8, "process_time '2026-02-30T22:15:07Z' is not a valid date and time"),
             (9, "pid -1 is negative (only the session_end row has -1)"), (10, "process is empty on a 4688 (start) row")],
            result.Rejected.Select(r => (r.Line, r.Reason)).ToList());
        Assert.Equal(2, result.Records.OfType<ProcessRecord>().Count());
        // No reservation-time row parse problem: 2026-03-04T22:00:00Z is the session start.
        Assert.Equal(new DateTimeOffset(2026, 3, 4, 22, 0, 0, TimeSpan.Zero), result.Records.OfType<SessionRecord>().Single().Time);
    }

    [Fact]
    public void AFileThatIsNotASeedCsvIsRejectedAsAWhole()
    {
        var result = Read("a,b,c\r\n1,2,3\r\n");
        Assert.True(result.NotSeedCsv);
        Assert.Equal(1, Assert.Single(result.Rejected).Line);
        Assert.Empty(result.Records);
        Assert.True(Read("").NotSeedCsv);
    }

    [Fact]
    public void TheCorrectedHeaderAndLfLineEndsAreAcceptedAndAnUnparsableReservationFallsBackToTheEarliestRow()
    {
        var text = SeedCsvReader.FixedHeader + "\n"
            + "4689,04.03.2026,23:00:00,C:\\a.exe,PhotonUser,42,st,,u,04.03.2026 21:00,t,r,arn,f,userpool,S-1-5-21-1,2026-03-04T23:00:00Z\n"
            + "4688,04.03.2026,22:00:00,C:\\a.exe,PhotonUser,42,st,,u,04.03.2026 21:00,t,r,arn,f,userpool,S-1-5-21-1,2026-03-04T22:00:00Z\n";
        var result = Read(text, fileSession: "from-file-name");
        Assert.Empty(result.Rejected);
        var start = result.Records.OfType<SessionRecord>().Single();
        Assert.Equal(new DateTimeOffset(2026, 3, 4, 22, 0, 0, TimeSpan.Zero), start.Time);
        Assert.Equal("04.03.2026 21:00", start.ReservationTime);
        Assert.Equal(["from-file-name"], result.SessionsWithoutEnd);
        Assert.All(result.Records, r => Assert.Equal("from-file-name", r.Session));
    }

    [Fact]
    public void ABomBeforeAnAppendedLineIsIgnored()
    {
        var bytes = SeedCsvGenerator.Write(Sample(), SeedCulture.EnUs);
        var text = Encoding.UTF8.GetString(bytes[3..]);
        var withBoms = "\uFEFF" + text.Replace("\r\n4688", "\r\n\uFEFF4688", StringComparison.Ordinal);
        var result = Read(Encoding.UTF8.GetBytes(withBoms));
        Assert.Empty(result.Rejected);
        Assert.Equal(Read(bytes).Records.Select(r => r.Id), result.Records.Select(r => r.Id));
    }

    [Fact]
    public void ProcessTimeInTheCulturesOwnFormat()
    {
        Assert.True(SeedCsvReader.TryParseProcessTime("2026-03-04T22.15.07Z", out var fi, out _));
        Assert.True(SeedCsvReader.TryParseProcessTime("2569-03-04T22:15:07Z", out var th, out _));
        Assert.Equal(T0, fi);
        Assert.Equal(T0, th);
        Assert.False(SeedCsvReader.TryParseProcessTime("2026-03-04T22:15.07Z", out _, out _));
        Assert.False(SeedCsvReader.TryParseProcessTime("2026-03-04 22:15:07Z", out _, out _));
    }

    [Fact]
    public void ARealisticGeneratedSessionHasEveryRowAccountedFor()
    {
        var random = new Random(5);
        for (var i = 0; i < 50; i++)
        {
            var session = SeedCsvGenerator.Random(random, i, 100, new DateTimeOffset(2026, 5, 1, 0, 0, 0, TimeSpan.Zero));
            var culture = SeedCulture.All[i % SeedCulture.All.Length];
            var result = Read(SeedCsvGenerator.Write(session, culture));
            Assert.Empty(result.Rejected);
            var starts = session.Processes.Count(p => p.Start is not null);
            var exits = session.Processes.Count(p => p.Exit is not null);
            Assert.Equal(starts + exits + 1, result.Rows);
            Assert.Equal(starts, result.Records.OfType<ProcessRecord>().Count(p => p.Type == ProcessEventType.Start));
            Assert.Equal(exits, result.Records.OfType<ProcessRecord>().Count(p => p.Type == ProcessEventType.Exit));
            Assert.Equal(result.Records.Count, result.Records.Select(r => r.Id).Distinct().Count());
        }
    }
}
