namespace SessionTrail.Agent.Delivery;

/// <summary>One delivery or source error, as shown in status.</summary>
public sealed record ErrorEntry(DateTimeOffset Time, string Message);

/// <summary>A thread-safe ring of the last N errors (default 10).</summary>
public sealed class RecentErrors(int capacity = 10)
{
    private readonly Lock _lock = new();
    private readonly Queue<ErrorEntry> _entries = new();

    public void Add(DateTimeOffset time, string message)
    {
        lock (_lock)
        {
            if (_entries.Count == capacity)
            {
                _entries.Dequeue();
            }

            _entries.Enqueue(new ErrorEntry(time, message));
        }
    }

    public IReadOnlyList<ErrorEntry> Snapshot()
    {
        lock (_lock)
        {
            return [.. _entries];
        }
    }
}
