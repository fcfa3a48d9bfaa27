namespace SessionTrail.Agent.Delivery;

/// <summary>
/// Exponential back-off with jitter: attempt n waits initial * 2^(n-1), capped at max, then multiplied by
/// a random factor in [1 - jitter, 1]; a server's Retry-After wins when longer (still capped at max).
/// </summary>
public sealed class Backoff
{
    private readonly TimeSpan _initial;
    private readonly TimeSpan _max;
    private readonly double _jitter;
    private readonly Func<double> _random;

    /// <param name="random">Returns a value in [0, 1); injected so that tests are deterministic.</param>
    public Backoff(TimeSpan initial, TimeSpan max, double jitter = 0.2, Func<double>? random = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(initial, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfLessThan(max, initial);
        _initial = initial;
        _max = max;
        _jitter = Math.Clamp(jitter, 0, 1);
        _random = random ?? Random.Shared.NextDouble;
    }

    /// <summary>The delay before retry number <paramref name="attempt"/> (1 = first retry).</summary>
    public TimeSpan Delay(int attempt, TimeSpan? retryAfter = null)
    {
        var exponent = Math.Clamp(attempt - 1, 0, 30);
        var raw = Math.Min(_initial.TotalMilliseconds * Math.Pow(2, exponent), _max.TotalMilliseconds);
        var jittered = raw * (1 - (_jitter * _random()));
        if (retryAfter is { } ra && ra.TotalMilliseconds > jittered)
        {
            jittered = Math.Min(ra.TotalMilliseconds, _max.TotalMilliseconds);
        }

        return TimeSpan.FromMilliseconds(jittered);
    }
}
