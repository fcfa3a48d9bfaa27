using SessionTrail.Agent.Sources;
using SessionTrail.Core.Records;

namespace SessionTrail.Agent.Tests.Fakes;

public sealed class CollectingOutput : IRecordOutput
{
    private readonly Lock _lock = new();
    private readonly List<TrailRecord> _records = [];

    public IReadOnlyList<TrailRecord> Records
    {
        get
        {
            lock (_lock)
            {
                return [.. _records];
            }
        }
    }

    public ValueTask WriteAsync(TrailRecord record, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            _records.Add(record);
        }

        return ValueTask.CompletedTask;
    }
}
