using SessionTrail.Agent.Sessions;
using System.Text;
using System.Text.Json;
using SessionTrail.Agent.Recording;
using SessionTrail.Agent.Tests.Fakes;
using SessionTrail.Core.Records;

namespace SessionTrail.Agent.Tests.Sessions;

public sealed class SessionControlTests : IDisposable
{
    private static readonly DateTimeOffset Now = new(2026, 11, 22, 9, 0, 0, TimeSpan.Zero);
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private static readonly Dictionary<string, string> AppStream = new()
    {
        [SessionEnvironment.SessionId] = "sess-123",
        [SessionEnvironment.UserName] = "alice",
        [SessionEnvironment.StackName] = "stack-a",
        [SessionEnvironment.Fleet] = "fleet-a",
        [SessionEnvironment.AccessMode] = "saml",
        [SessionEnvironment.ReservationTime] = "2026-11-22T08:59:00Z",
        [SessionEnvironment.InstanceType] = "stream.standard.medium",
        [SessionEnvironment.Region] = "eu-west-1",
        [SessionEnvironment.ImageArn] = "arn:aws:appstream:eu-west-1::image/x",
    };

    [Fact]
    public void StartWritesTheSessionFileWithMissingFieldsTakenFromTheAppStreamEnvironment()
    {
        var started = SessionControl.Start(_dir.Path, new SessionStartRequest { Fields = new() { User = "bob" } }, Now, AppStream.GetValueOrDefault);

        var read = SessionControl.Read(_dir.Path);
        Assert.Equal(started, read);
        Assert.Equal("sess-123", read!.Id);
        Assert.Equal("bob", read.Fields.User); // given wins over the environment
        Assert.Equal("stack-a", read.Fields.Stack);
        Assert.Equal("fleet-a", read.Fields.Fleet);
        Assert.Equal("saml", read.Fields.AccessMode);
        Assert.Equal("2026-11-22T08:59:00Z", read.Fields.ReservationTime);
        Assert.Equal("stream.standard.medium", read.Fields.InstanceType);
        Assert.Equal("eu-west-1", read.Fields.Region);
        Assert.Equal("arn:aws:appstream:eu-west-1::image/x", read.Fields.ImageArn);
        Assert.Equal(Now, read.Started);
        Assert.True(read.IsActive);
    }

    [Fact]
    public void WithoutAnIdOrEnvironmentAnIdIsMadeFromHostAndTime()
    {
        var started = SessionControl.Start(_dir.Path, new SessionStartRequest(), Now, _ => null);
        Assert.Equal(Environment.MachineName + "-20261122T090000Z", started.Id);
    }

    [Fact]
    public void EndSetsTheEndTimeAndASecondEndDoesNothing()
    {
        SessionControl.Start(_dir.Path, new SessionStartRequest { Id = "s1" }, Now, _ => null);
        var ended = SessionControl.End(_dir.Path, Now.AddHours(1));

        Assert.Equal(Now.AddHours(1), ended!.Ended);
        Assert.False(SessionControl.Read(_dir.Path)!.IsActive);
        Assert.Null(SessionControl.End(_dir.Path, Now.AddHours(2)));
    }

    [Fact]
    public void EndWithoutASessionReturnsNull() => Assert.Null(SessionControl.End(_dir.Path, Now));

    /// <summary>session.json as the agent before SessionFields wrote it (every field set, session ended).</summary>
    private const string FullFileBeforeFields = """
        {
          "id": "as2-7f3c",
          "user": "alice@example.com",
          "stack": "stack-a",
          "fleet": "fleet-a",
          "accessMode": "saml",
          "reservationTime": "2026-11-02T08:59:00Z",
          "instanceType": "stream.standard.medium",
          "region": "eu-west-1",
          "imageArn": "arn:aws:appstream:eu-west-1::image/x",
          "started": "2026-11-02T09:00:00+00:00",
          "ended": "2026-11-02T10:30:00+00:00"
        }
        """;

    /// <summary>The same, with only some fields known and the session active (nulls are left out).</summary>
    private const string SparseFileBeforeFields = """
        {
          "id": "h-20261102T090000Z",
          "user": "bob",
          "stack": "lab",
          "started": "2026-11-02T09:00:00+00:00"
        }
        """;

    public static TheoryData<string, string> FilesBeforeFields => new()
    {
        { "full, agent", FullFileBeforeFields },
        { "sparse, agent", SparseFileBeforeFields },
        { "full, recording spool", FullFileBeforeFields },
        { "sparse, recording spool", SparseFileBeforeFields },
    };

    [Theory]
    [MemberData(nameof(FilesBeforeFields))]
    public void ASessionFileWrittenBeforeSessionFieldsReadsBackEqualAndIsWrittenTheSameByteForByte(string name, string file)
    {
        var type = name.EndsWith("spool", StringComparison.Ordinal) ? RecorderJsonContext.Default.CurrentSession : SessionJsonContext.Default.CurrentSession;
        var expected = file.ReplaceLineEndings(); // the writer ends lines with Environment.NewLine

        var read = JsonSerializer.Deserialize(Encoding.UTF8.GetBytes(expected), type)!;

        Assert.Equal(expected, Encoding.UTF8.GetString(JsonSerializer.SerializeToUtf8Bytes(read, type)));
        Assert.Equal(read, JsonSerializer.Deserialize(JsonSerializer.SerializeToUtf8Bytes(read, type), type));
    }

    [Fact]
    public void TheSessionFileCarriesEveryFieldFlatUnderItsOldName()
    {
        var read = JsonSerializer.Deserialize(Encoding.UTF8.GetBytes(FullFileBeforeFields), SessionJsonContext.Default.CurrentSession)!;

        Assert.Equal(new CurrentSession
        {
            Id = "as2-7f3c",
            Fields = new SessionFields
            {
                User = "alice@example.com", Stack = "stack-a", Fleet = "fleet-a", AccessMode = "saml", ReservationTime = "2026-11-02T08:59:00Z",
                InstanceType = "stream.standard.medium", Region = "eu-west-1", ImageArn = "arn:aws:appstream:eu-west-1::image/x",
            },
            Started = new DateTimeOffset(2026, 11, 2, 9, 0, 0, TimeSpan.Zero),
            Ended = new DateTimeOffset(2026, 11, 2, 10, 30, 0, TimeSpan.Zero),
        }, read);
        Assert.Equal(new SessionFields { User = "bob", Stack = "lab" }, JsonSerializer.Deserialize(Encoding.UTF8.GetBytes(SparseFileBeforeFields), SessionJsonContext.Default.CurrentSession)!.Fields);
    }
}
