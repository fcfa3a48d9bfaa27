using SessionTrail.Agent.Config;
using SessionTrail.Agent.Ids;
using SessionTrail.Agent.Sinks;

namespace SessionTrail.Agent.Sources;

/// <summary>
/// When a source saves its position: after every <c>everyRecords</c> records, after <c>interval</c>, and
/// when its input runs idle — and in every case only after <see cref="IDurableRecordOutput.WhenDurableAsync"/>
/// says that every record written before is in the durable queues. A crash therefore re-reads (never
/// loses) what came after the saved position; deterministic record ids make the re-read records duplicates
/// the stores drop.
/// </summary>
/// <typeparam name="T">The position (an EventRecordID, a journald cursor, ...).</typeparam>
public sealed class DurableBookmark<T>(IDurableRecordOutput output, Action<T> save, int everyRecords, TimeSpan interval, TimeProvider time)
{
    private T? _position;
    private int _pending;
    private DateTimeOffset _lastSave = time.GetUtcNow();

    /// <summary>How many times the position was saved.</summary>
    public long Saves { get; private set; }

    /// <summary>Positions advanced since the last save.</summary>
    public int Pending => _pending;

    /// <summary>Marks <paramref name="position"/> as read: the records of everything up to it have been written to the output (or filtered out).</summary>
    public void Advance(T position)
    {
        _position = position;
        _pending++;
    }

    /// <summary>Saves when due (<paramref name="idle"/>: the input has nothing more right now).</summary>
    public ValueTask SaveIfDueAsync(bool idle, CancellationToken cancellationToken) =>
        _pending > 0 && (idle || _pending >= everyRecords || time.GetUtcNow() - _lastSave >= interval)
            ? SaveAsync(cancellationToken)
            : ValueTask.CompletedTask;

    /// <summary>Waits until everything written so far is durable, then saves the last advanced position (nothing when nothing is pending).</summary>
    public async ValueTask SaveAsync(CancellationToken cancellationToken)
    {
        if (_pending == 0)
        {
            return;
        }

        var position = _position!;
        var count = _pending;
        await output.WhenDurableAsync(cancellationToken);
        save(position);
        _pending -= count;
        _lastSave = time.GetUtcNow();
        Saves++;
    }
}
