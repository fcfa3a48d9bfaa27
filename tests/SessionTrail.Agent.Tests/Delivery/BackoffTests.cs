using SessionTrail.Agent.Delivery;

namespace SessionTrail.Agent.Tests.Delivery;

public sealed class BackoffTests
{
    [Fact]
    public void DelaysDoubleFromTheInitialDelayUpToTheCap()
    {
        var backoff = new Backoff(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(10), jitter: 0.2, random: () => 0);
        var delays = Enumerable.Range(1, 6).Select(a => backoff.Delay(a).TotalSeconds).ToArray();
        Assert.Equal([1, 2, 4, 8, 10, 10], delays);
    }

    [Fact]
    public void JitterShortensTheDelayByAtMostItsFraction()
    {
        var backoff = new Backoff(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(60), jitter: 0.2, random: () => 0.999999);
        var delay = backoff.Delay(3).TotalSeconds;
        Assert.InRange(delay, 3.2, 4.0);
    }

    [Fact]
    public void ALongerRetryAfterWinsButNotBeyondTheCap()
    {
        var backoff = new Backoff(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(30), random: () => 0);
        Assert.Equal(TimeSpan.FromSeconds(7), backoff.Delay(1, TimeSpan.FromSeconds(7)));
        Assert.Equal(TimeSpan.FromSeconds(30), backoff.Delay(1, TimeSpan.FromMinutes(5)));
        Assert.Equal(TimeSpan.FromSeconds(4), backoff.Delay(3, TimeSpan.FromSeconds(1)));
    }
}
