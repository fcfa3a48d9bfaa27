using SessionTrail.Core.Formats;
using SessionTrail.Core.Records;

namespace SessionTrail.Agent.Tests.Sinks.S3;

/// <summary>NDJSON lines of a small AppStream-like session, as the agent's queue holds them.</summary>
internal static class S3TestRecords
{
    public static readonly DateTimeOffset SessionStart = new(2026, 11, 22, 23, 50, 0, TimeSpan.Zero);

    private static int _sequence;

    public static ReadOnlyMemory<byte> Line(TrailRecord record) => NdjsonWriter.ToLine(record.Id.Length > 0 ? record : record with { Id = "agent-1:" + Interlocked.Increment(ref _sequence) });

    public static TrailRecord Start(string session, string user = "alice") => new SessionRecord
    {
        Type = SessionEventType.Start, Time = SessionStart, Host = "as2-host", Session = session, User = user,
        Stack = "stack-a", Fleet = "fleet-a", AccessMode = "userpool", ReservationTime = "2026-11-22T23:49:00Z",
        InstanceType = "stream.standard.medium", Region = "us-east-1", ImageArn = "arn:aws:appstream:us-east-1::image/base",
    };

    public static TrailRecord End(string session, DateTimeOffset at) => new SessionRecord
    {
        Type = SessionEventType.End, Time = at, Host = "as2-host", Session = session,
    };

    public static TrailRecord Process(string? session, ProcessEventType type, int pid, DateTimeOffset at, string exe = @"C:\Program Files\App\app.exe") => new ProcessRecord
    {
        Type = type, Time = at, Host = "as2-host", Session = session, Pid = pid, Executable = exe, User = "S-1-5-21-1-2-3-1001",
    };

    /// <summary>A whole session: start, <paramref name="runs"/> process start/exit pairs, end (20 minutes later, the next UTC day).</summary>
    public static List<ReadOnlyMemory<byte>> Session(string session, int runs)
    {
        var lines = new List<ReadOnlyMemory<byte>> { Line(Start(session)) };
        for (var i = 0; i < runs; i++)
        {
            var at = SessionStart.AddSeconds(10 + i);
            lines.Add(Line(Process(session, ProcessEventType.Start, 1000 + i, at, $@"C:\Apps\app{i % 7}.exe")));
            lines.Add(Line(Process(session, ProcessEventType.Exit, 1000 + i, at.AddSeconds(30), $@"C:\Apps\app{i % 7}.exe")));
        }

        lines.Add(Line(End(session, SessionStart.AddMinutes(20))));
        return lines;
    }

    public static byte[] Concat(IEnumerable<ReadOnlyMemory<byte>> lines) => [.. lines.SelectMany(l => l.ToArray())];
}
