namespace SessionTrail.Server.Tests.Auth;

/// <summary>A clock the test moves by hand (only wall time; timers stay real).</summary>
public sealed class MovableClock : TimeProvider
{
    private DateTimeOffset now = DateTimeOffset.UtcNow;

    public override DateTimeOffset GetUtcNow() => now;

    public void Advance(TimeSpan by) => now += by;
}
