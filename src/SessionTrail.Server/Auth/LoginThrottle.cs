namespace SessionTrail.Server.Auth;

/// <summary>
/// Slows down password guessing, in memory. Failed sign-ins are counted per user name (any case) and per
/// client address; a count is forgotten <see cref="Window"/> after its last failure, and a user's count
/// is cleared by a successful sign-in. From the <see cref="UserLimit"/>th failure for a name (or the
/// <see cref="AddressLimit"/>th from an address) that key is locked for 30 s, doubling with each further
/// failure up to <see cref="MaxLock"/>; while locked, sign-in answers 429 with <c>Retry-After</c> without
/// checking the password. At most <see cref="MaxEntries"/> keys are kept (stale ones are dropped first).
/// </summary>
public sealed class LoginThrottle(TimeProvider clock)
{
    /// <summary>Failures for one user name before it is locked.</summary>
    public const int UserLimit = 5;

    /// <summary>Failures from one address before it is locked.</summary>
    public const int AddressLimit = 20;

    /// <summary>The most keys remembered.</summary>
    public const int MaxEntries = 10_000;

    /// <summary>A count is forgotten this long after its last failure.</summary>
    public static readonly TimeSpan Window = TimeSpan.FromMinutes(15);

    /// <summary>The first lock.</summary>
    public static readonly TimeSpan FirstLock = TimeSpan.FromSeconds(30);

    /// <summary>The longest lock.</summary>
    public static readonly TimeSpan MaxLock = TimeSpan.FromMinutes(15);

    private readonly Dictionary<string, Entry> entries = new(StringComparer.Ordinal);
    private readonly Lock gate = new();

    /// <summary>How long until <paramref name="user"/> from <paramref name="address"/> may try again, or null when not locked.</summary>
    public TimeSpan? RetryAfter(string user, string? address)
    {
        var now = clock.GetUtcNow();
        lock (gate)
        {
            var wait = Locked(UserKey(user), now);
            var byAddress = Locked(AddressKey(address), now);
            return wait is null || byAddress > wait ? byAddress : wait;
        }
    }

    /// <summary>Counts a failed sign-in.</summary>
    public void Failed(string user, string? address)
    {
        var now = clock.GetUtcNow();
        lock (gate)
        {
            if (entries.Count >= MaxEntries)
            {
                Prune(now);
            }

            Count(UserKey(user), UserLimit, now);
            Count(AddressKey(address), AddressLimit, now);
        }
    }

    /// <summary>A successful sign-in clears the user's count (the address keeps its own).</summary>
    public void Succeeded(string user)
    {
        lock (gate)
        {
            entries.Remove(UserKey(user));
        }
    }

    private static string UserKey(string user) => "u:" + user.Trim().ToUpperInvariant();

    private static string AddressKey(string? address) => "a:" + (address ?? "?");

    private TimeSpan? Locked(string key, DateTimeOffset now) =>
        entries.TryGetValue(key, out var e) && e.LockedUntil > now ? e.LockedUntil - now : null;

    private void Count(string key, int limit, DateTimeOffset now)
    {
        if (!entries.TryGetValue(key, out var e) || now - e.Last > Window && e.LockedUntil <= now)
        {
            e = new Entry();
            entries[key] = e;
        }

        e.Failures++;
        e.Last = now;
        if (e.Failures >= limit)
        {
            var doublings = Math.Min(e.Failures - limit, 10);
            var lockFor = TimeSpan.FromTicks(Math.Min(MaxLock.Ticks, FirstLock.Ticks << doublings));
            e.LockedUntil = now + lockFor;
        }
    }

    private void Prune(DateTimeOffset now)
    {
        foreach (var key in entries.Where(p => now - p.Value.Last > Window && p.Value.LockedUntil <= now).Select(p => p.Key).ToList())
        {
            entries.Remove(key);
        }

        if (entries.Count >= MaxEntries)
        {
            foreach (var key in entries.OrderBy(p => p.Value.Last).Take(entries.Count - (MaxEntries / 2)).Select(p => p.Key).ToList())
            {
                entries.Remove(key);
            }
        }
    }

    private sealed class Entry
    {
        public int Failures { get; set; }

        public DateTimeOffset Last { get; set; }

        public DateTimeOffset LockedUntil { get; set; }
    }
}
