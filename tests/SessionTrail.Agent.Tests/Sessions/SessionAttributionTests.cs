using Microsoft.Extensions.Logging.Abstractions;
using SessionTrail.Agent.Sessions;
using SessionTrail.Agent.Tests.Fakes;
using SessionTrail.Core.Records;

namespace SessionTrail.Agent.Tests.Sessions;

public sealed class SessionAttributionTests : IDisposable
{
    private readonly SessionTracker _tracker = new();
    private readonly SessionAttributionPipe _pipe;
    private readonly FakeTimeProvider _time = new();

    public SessionAttributionTests() => _pipe = new SessionAttributionPipe(_tracker, uid => uid == 1000 ? "alice" : null);

    public void Dispose() => _time.Dispose();

    [Fact]
    public void AnActiveExplicitSessionWinsOverTheAuditSession()
    {
        _tracker.Explicit = new CurrentSession { Id = "appstream-1", Started = Records.T0 };

        var result = _pipe.Process(Records.Start(1, auditSession: 5));

        Assert.Equal("appstream-1", result!.Session);
        Assert.Empty(_pipe.TakeEmitted());
    }

    [Fact]
    public void AnEndedExplicitSessionIsNotUsed()
    {
        _tracker.Explicit = new CurrentSession { Id = "appstream-1", Started = Records.T0, Ended = Records.T0.AddMinutes(1) };
        Assert.Equal("h1-ses5", _pipe.Process(Records.Start(1, auditSession: 5))!.Session);
    }

    [Fact]
    public void TheFirstRecordOfAnAuditSessionAnnouncesItWithTheLoginUsersName()
    {
        var first = _pipe.Process(Records.Start(1, auditSession: 7, loginUid: 1000, user: "root"));
        var emitted = _pipe.TakeEmitted();
        var second = _pipe.Process(Records.Start(2, auditSession: 7, loginUid: 1000));

        Assert.Equal("h1-ses7", first!.Session);
        Assert.Equal("h1-ses7", second!.Session);
        var start = Assert.IsType<SessionRecord>(Assert.Single(emitted));
        Assert.Equal(SessionEventType.Start, start.Type);
        Assert.Equal("h1-ses7", start.Session);
        Assert.Equal("alice", start.User);
        Assert.Equal(first.Time, start.Time);
        Assert.Empty(_pipe.TakeEmitted());
    }

    [Fact]
    public void WithoutALoginUidNameTheRecordsUserIsUsed()
    {
        _pipe.Process(Records.Start(1, auditSession: 8, loginUid: 4242, user: "carol"));
        Assert.Equal("carol", ((SessionRecord)_pipe.TakeEmitted()[0]).User);
    }

    [Theory]
    [InlineData(null)]
    [InlineData(4294967295L)]
    public void WithoutAnAuditSessionTheHostSessionIsUsedAndAnnouncedOnce(long? audit)
    {
        var a = _pipe.Process(Records.Start(1, auditSession: audit));
        var b = _pipe.Process(Records.Start(2, auditSession: audit));

        Assert.Equal("h1", a!.Session);
        Assert.Equal("h1", b!.Session);
        var start = Assert.IsType<SessionRecord>(Assert.Single(_pipe.TakeEmitted()));
        Assert.Equal("h1", start.Session);
    }

    [Fact]
    public void RecordsThatAlreadyHaveASessionAndSessionRecordsAreLeftAlone()
    {
        var tagged = Records.Start(1, auditSession: 3) with { Session = "given" };
        Assert.Same(tagged, _pipe.Process(tagged));
        var session = new SessionRecord { Type = SessionEventType.Start, Time = Records.T0, Host = "h1", Session = "x" };
        Assert.Same(session, _pipe.Process(session));
        Assert.Empty(_pipe.TakeEmitted());
    }

    private sealed class FakeProbe(params long[] live) : ILiveSessionProbe
    {
        public HashSet<long> Live { get; } = [.. live];

        public IReadOnlySet<long> LiveSessions() => Live;
    }

    [Fact]
    public async Task AnAuditSessionWithoutLiveProcessesGetsAnEndRecord()
    {
        _pipe.Process(Records.Start(1, auditSession: 7));
        _pipe.Process(Records.Start(2, auditSession: 9));
        var probe = new FakeProbe(7);
        var reaper = new AuditSessionReaper(_tracker, probe, TimeSpan.FromSeconds(30), _time, NullLogger.Instance);
        var output = new CollectingOutput();

        Assert.Equal(1, await reaper.ReapOnceAsync(output, CancellationToken.None));
        var end = Assert.IsType<SessionRecord>(Assert.Single(output.Records));
        Assert.Equal(SessionEventType.End, end.Type);
        Assert.Equal("h1-ses9", end.Session);
        Assert.Equal(_time.GetUtcNow(), end.Time);

        // Still live: nothing more. A later record of session 9 starts it again.
        Assert.Equal(0, await reaper.ReapOnceAsync(output, CancellationToken.None));
        _pipe.TakeEmitted();
        _pipe.Process(Records.Start(3, auditSession: 9));
        Assert.Single(_pipe.TakeEmitted());
    }

    [Fact]
    public async Task TheReaperChecksOnItsInterval()
    {
        _pipe.Process(Records.Start(1, auditSession: 7));
        var reaper = new AuditSessionReaper(_tracker, new FakeProbe(), TimeSpan.FromSeconds(30), _time, NullLogger.Instance);
        var output = new CollectingOutput();
        using var stop = new CancellationTokenSource();

        var run = reaper.RunAsync(output, stop.Token);
        await _time.WaitForTimerCreatedAsync();
        Assert.Empty(output.Records);
        _time.Advance(TimeSpan.FromSeconds(30));
        await _time.WaitForTimerCreatedAsync(); // the next round is scheduled after the check
        Assert.Single(output.Records);
        await stop.CancelAsync();
        await run.WaitAsync(TimeSpan.FromSeconds(10));
    }
}
