using SessionTrail.Agent.Config;
using SessionTrail.Agent.Ids;
using SessionTrail.Agent.Sources;

namespace SessionTrail.Agent.Sinks;

/// <summary>
/// A token bucket: <see cref="PerSecond"/> tokens a second, at most one second's worth saved up. A request
/// for more than that waits for a full bucket and leaves it in debt, so any size passes eventually.
/// </summary>
public sealed class RateLimiter
{
    private readonly Lock _lock = new();
    private readonly double _perSecond;
    private readonly TimeProvider _time;
    private double _tokens;
    private DateTimeOffset _last;

    public RateLimiter(double perSecond, TimeProvider time)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(perSecond, 0);
        ArgumentNullException.ThrowIfNull(time);
        _perSecond = perSecond;
        _time = time;
        _tokens = perSecond;
        _last = time.GetUtcNow();
    }

    public double PerSecond => _perSecond;

    /// <summary>Waits until <paramref name="amount"/> tokens may be spent, then spends them.</summary>
    public async Task WaitAsync(double amount, CancellationToken cancellationToken)
    {
        while (true)
        {
            TimeSpan wait;
            lock (_lock)
            {
                var now = _time.GetUtcNow();
                _tokens = Math.Min(_perSecond, _tokens + ((now - _last).TotalSeconds * _perSecond));
                _last = now;
                var needed = Math.Min(amount, _perSecond);
                if (_tokens >= needed)
                {
                    _tokens -= amount;
                    return;
                }

                wait = TimeSpan.FromSeconds((needed - _tokens) / _perSecond);
            }

            await Task.Delay(wait < TimeSpan.FromMilliseconds(1) ? TimeSpan.FromMilliseconds(1) : wait, _time, cancellationToken);
        }
    }
}
