using SessionTrail.Core.Records;

namespace SessionTrail.Server.Store;

/// <summary>How many records of a batch were new and how many were already stored.</summary>
public readonly record struct IngestResult(int Accepted, int Duplicates);

/// <summary>
/// Keeps records. <see cref="Ingest"/> stores a batch whole or not at all: on any failure it throws
/// and nothing of the batch is stored (the caller may retry the same batch; records already stored
/// are then counted as duplicates and change nothing).
/// </summary>
public interface IRecordStore
{
    IngestResult Ingest(IReadOnlyList<TrailRecord> records);
}
