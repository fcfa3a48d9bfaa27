using SessionTrail.Agent.Recording.Upload;
using SessionTrail.Agent.Tests.Fakes;

namespace SessionTrail.Agent.Tests.Recording.Upload;

/// <summary>The set-aside ledger on a clock that moves only when told: back-off per segment, no sleeping.</summary>
public sealed class SetAsideSegmentsTests : IDisposable
{
    private static readonly DateTimeOffset T0 = new(2026, 12, 1, 8, 0, 0, TimeSpan.Zero);
    private readonly FakeTimeProvider clock = new(T0);

    public void Dispose() => clock.Dispose();

    private static SpoolSegment Segment(string session, int index, string dir = "/spool/x")
    {
        var s = new SpoolSession(dir, session, T0, new Dictionary<string, string>());
        return new SpoolSegment(s, index, $"{dir}/{index:D6}.mp4", $"{dir}/{index:D6}.json", $"{dir}/{index:D6}.uploaded");
    }

    [Fact]
    public void EachFailureWaitsTwiceAsLongUpToTheCapAndSinceStaysTheFirstFailure()
    {
        var ledger = new SetAsideSegments(clock, () => 0); // no jitter: 10 s, 20 s, 40 s … 15 min
        var segment = Segment("s", 0);
        var waits = new List<TimeSpan>();

        for (var attempt = 1; attempt <= 9; attempt++)
        {
            Assert.Equal(attempt == 1, ledger.Fail(segment, "refused " + attempt));
            var entry = Assert.Single(ledger.Snapshot());
            waits.Add(entry.NextRetry - clock.GetUtcNow());
            Assert.Equal((T0, attempt, "refused " + attempt, clock.GetUtcNow()), (entry.Since, entry.Attempts, entry.Reason, entry.LastAttempt));
            Assert.True(ledger.Waiting(segment));
            clock.Advance(entry.NextRetry - clock.GetUtcNow() - TimeSpan.FromMilliseconds(1));
            Assert.True(ledger.Waiting(segment)); // 1 ms before the retry
            clock.Advance(TimeSpan.FromMilliseconds(1));
            Assert.False(ledger.Waiting(segment)); // due
            Assert.True(ledger.Contains(segment));
        }

        Assert.Equal([10, 20, 40, 80, 160, 320, 640, 900, 900], waits.Select(w => w.TotalSeconds));
    }

    [Fact]
    public void SuccessClearsAndSegmentsGoneFromTheSpoolAreForgotten()
    {
        var ledger = new SetAsideSegments(clock, () => 0.5);
        var a = Segment("a", 0);
        var b = Segment("b", 3, "/spool/b");
        var sameSessionOtherFolder = Segment("a", 0, "/spool/a2");
        ledger.Fail(a, "x");
        clock.Advance(TimeSpan.FromSeconds(1));
        ledger.Fail(b, "y");
        ledger.Fail(sameSessionOtherFolder, "z");

        Assert.Equal(["a/0", "a/0", "b/3"], ledger.Snapshot().Select(e => e.Segment));
        Assert.Equal(TimeSpan.FromSeconds(7.5), ledger.Snapshot()[0].NextRetry - T0); // jitter: 10 s × (1 − 0.5 × 0.5)
        Assert.True(ledger.Clear(a));
        Assert.False(ledger.Clear(a));
        Assert.False(ledger.Waiting(a));
        ledger.KeepOnly(new HashSet<string> { b.VideoPath });
        Assert.Equal(["b/3"], ledger.Snapshot().Select(e => e.Segment));
        Assert.True(ledger.Fail(a, "again")); // a new run of failures
        Assert.Equal(clock.GetUtcNow(), ledger.Snapshot().Single(e => e.Segment == "a/0").Since);
    }
}
