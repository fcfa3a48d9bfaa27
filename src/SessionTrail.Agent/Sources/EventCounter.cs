namespace SessionTrail.Agent.Sources;

/// <summary>A thread-safe event counter.</summary>
public sealed class EventCounter
{
    private long _value;

    public long Value => Interlocked.Read(ref _value);

    internal void Increment() => Interlocked.Increment(ref _value);
}
