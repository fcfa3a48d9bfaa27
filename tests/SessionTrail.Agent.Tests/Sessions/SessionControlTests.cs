using SessionTrail.Agent.Sessions;
using SessionTrail.Agent.Tests.Fakes;

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
        var started = SessionControl.Start(_dir.Path, new SessionStartRequest { User = "bob" }, Now, AppStream.GetValueOrDefault);

        var read = SessionControl.Read(_dir.Path);
        Assert.Equal(started, read);
        Assert.Equal("sess-123", read!.Id);
        Assert.Equal("bob", read.User); // given wins over the environment
        Assert.Equal("stack-a", read.Stack);
        Assert.Equal("fleet-a", read.Fleet);
        Assert.Equal("saml", read.AccessMode);
        Assert.Equal("2026-11-22T08:59:00Z", read.ReservationTime);
        Assert.Equal("stream.standard.medium", read.InstanceType);
        Assert.Equal("eu-west-1", read.Region);
        Assert.Equal("arn:aws:appstream:eu-west-1::image/x", read.ImageArn);
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
}
