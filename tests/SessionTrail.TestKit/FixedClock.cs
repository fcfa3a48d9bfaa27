namespace SessionTrail.TestKit;

/// <summary>A clock that says <see cref="Now"/> until a test moves it (<see cref="Advance"/> or the setter).</summary>
public sealed class FixedClock(DateTimeOffset now) : TimeProvider
{
    public DateTimeOffset Now { get; set; } = now;

    public override DateTimeOffset GetUtcNow() => Now;

    public void Advance(TimeSpan by) => Now += by;
}
