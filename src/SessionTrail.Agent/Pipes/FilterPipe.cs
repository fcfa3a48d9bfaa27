using SessionTrail.Core.Records;

namespace SessionTrail.Agent.Pipes;

/// <summary>Keeps the records that match a predicate, drops the others.</summary>
public sealed class FilterPipe(Func<TrailRecord, bool> keep) : IRecordPipe
{
    public TrailRecord? Process(TrailRecord record) => keep(record) ? record : null;
}
