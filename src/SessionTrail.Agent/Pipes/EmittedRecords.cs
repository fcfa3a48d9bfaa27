using SessionTrail.Core.Records;

namespace SessionTrail.Agent.Pipes;

/// <summary>The records an <see cref="IEmittingPipe"/> produced since the pump last took them.</summary>
public sealed class EmittedRecords
{
    private readonly List<TrailRecord> _records = [];

    public void Add(TrailRecord record) => _records.Add(record);

    /// <summary>Returns and forgets the records (empty when none).</summary>
    public IReadOnlyList<TrailRecord> TakeAll()
    {
        if (_records.Count == 0)
        {
            return [];
        }

        TrailRecord[] taken = [.. _records];
        _records.Clear();
        return taken;
    }
}
