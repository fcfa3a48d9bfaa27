using System.Text;
using SessionTrail.Core.Formats;
using SessionTrail.Core.Records;
using SessionTrail.TestKit;

namespace SessionTrail.Core.Tests.Formats;

/// <summary>
/// The NDJSON wire format of every record kind, as <see cref="NdjsonWriter"/> writes it (the agent's queues, the
/// server's ingest, the S3 and file sinks), against tests/approvals/ndjson/KIND.ndjson: each file holds the record
/// with every field set, then with only the required ones. What the reader reads back is written the same again.
/// </summary>
public sealed class NdjsonApprovalTests
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 1, 8, 0, 0, 123, TimeSpan.Zero);

    public static TheoryData<string> Kinds => [.. Records.Keys];

    private static readonly Dictionary<string, TrailRecord[]> Records = new()
    {
        [RecordKinds.Process] =
        [
            new ProcessRecord
            {
                Id = "agent-1:41", Time = T0, Host = "ip-10-0-0-7", Session = "3f2a9c1e-0b4d-4c55-9d7e-5a1b2c3d4e5f",
                Type = ProcessEventType.Start, Pid = 4242, ParentPid = 1, Executable = "/usr/bin/vim",
                CommandLine = "vim \"notes é.txt\"", Uid = 1000, User = "alice", LoginUid = 1000, AuditSession = 7,
            },
            new ProcessRecord { Id = "agent-1:42", Time = T0.AddSeconds(90), Host = "ip-10-0-0-7", Type = ProcessEventType.Exit, Pid = 4242, ExitCode = 0 },
            new ProcessRecord { Id = "agent-1:43", Time = T0.AddSeconds(91), Host = "ip-10-0-0-7", Type = ProcessEventType.Exit, Pid = 4243 },
        ],
        [RecordKinds.Session] =
        [
            new SessionRecord
            {
                Id = "agent-1:1", Time = T0, Host = "EC2AMAZ-1", Session = "3f2a9c1e-0b4d-4c55-9d7e-5a1b2c3d4e5f", Type = SessionEventType.Start,
                User = "alice@example.com", Stack = "stack-a", Fleet = "fleet-a", AccessMode = "saml", ReservationTime = "2026-11-01T07:59:58Z",
                InstanceType = "stream.standard.medium", Region = "eu-west-1", ImageArn = "arn:aws:appstream:eu-west-1:123456789012:image/img-1",
            },
            new SessionRecord { Id = "agent-1:2", Time = T0.AddHours(2), Host = "EC2AMAZ-1", Session = "3f2a9c1e-0b4d-4c55-9d7e-5a1b2c3d4e5f", Type = SessionEventType.End },
        ],
        [RecordKinds.Log] =
        [
            new LogRecord
            {
                Id = "agent-1:7", Time = T0, Host = "EC2AMAZ-1", Session = "s1", Source = "winlog-app", Channel = "Application",
                Provider = "MsiInstaller", EventId = 1033, Level = "Information", Message = "Installed \"Vim\"\r\nline 2\ttab é",
                Fields = new Dictionary<string, string> { ["ProductName"] = "Vim", ["Status"] = "0" },
                Decoration = new Dictionary<string, string> { ["user"] = "alice", ["stack"] = "stack-a" },
            },
            new LogRecord { Id = "agent-1:8", Time = T0, Host = "h", Source = "journald", Message = "" },
        ],
        [RecordKinds.Segment] =
        [
            new RecordingSegmentRecord
            {
                Id = "agent-1:90", Time = T0.AddMinutes(10), Host = "h", Session = "s1", Index = 1, Start = T0, End = T0.AddMinutes(10).AddMilliseconds(-40),
                Width = 1920, Height = 1080, Fps = 5, Codec = "h264", Bytes = 1234567,
                Sha256 = new string('b', 64), PreviousSha256 = new string('a', 64), File = "1.mp4", EndReason = SegmentEndReasons.MaxLength,
            },
            new RecordingSegmentRecord
            {
                Id = "agent-1:89", Time = T0, Host = "h", Session = "s1", Index = 0, Start = T0.AddMinutes(-10), End = T0,
                Width = 1280, Height = 720, Fps = 5, Codec = "h264", Bytes = 0, Sha256 = new string('a', 64), File = "0.mp4",
            },
        ],
        [RecordKinds.Recording] =
        [
            new RecordingEventRecord
            {
                Id = "agent-1:95", Time = T0, Host = "h", Session = "s1", Type = RecordingEventTypes.Gap, Message = "ffmpeg exited (code 1); restarted",
                GapStart = T0.AddSeconds(-5), GapEnd = T0, Width = 1920, Height = 1080, Segments = 3,
            },
            new RecordingEventRecord { Id = "agent-1:96", Time = T0, Host = "h", Session = "s1", Type = RecordingEventTypes.NotRecorded, Message = "" },
        ],
    };

    [Theory]
    [MemberData(nameof(Kinds))]
    public void EachRecordKindIsWrittenAsApproved(string kind)
    {
        var written = Write(Records[kind]);

        Approvals.Verify(written, $"ndjson/{kind}.ndjson");
        Assert.Equal(written, Write(NdjsonReader.Parse(Encoding.UTF8.GetBytes(written))));
    }

    [Fact]
    public void EveryRecordKindHasAnApprovalFile()
    {
        var kinds = typeof(RecordKinds).GetFields().Select(f => (string)f.GetValue(null)!).Order(StringComparer.Ordinal);

        Assert.Equal(kinds, Records.Keys.Order(StringComparer.Ordinal));
    }

    private static string Write(IEnumerable<TrailRecord> records) =>
        string.Concat(records.Select(r => Encoding.UTF8.GetString(NdjsonWriter.ToLine(r))));
}
