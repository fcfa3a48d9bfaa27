using SessionTrail.Core.Records;
using SessionTrail.Server.Store;

namespace SessionTrail.Cli.Import;

/// <summary>Where imported records go: the store in a data directory, or a server's ingest API.</summary>
public interface IImportTarget : IAsyncDisposable
{
    /// <summary>Stores one batch whole; records whose id is already stored count as duplicates.</summary>
    Task<IngestResult> WriteAsync(IReadOnlyList<TrailRecord> batch, CancellationToken cancellationToken);
}

/// <summary>
/// Writes straight into DIR/sessiontrail.db (created when missing). SQLite in WAL mode with a busy
/// timeout: this works while a server runs on the same data directory (one writer at a time; each
/// batch is one transaction).
/// </summary>
public sealed class StoreImportTarget(string dataDir) : IImportTarget
{
    private readonly SqliteStore store = SqliteStore.Open(dataDir, progress => Console.Error.WriteLine("store: " + progress));

    public Task<IngestResult> WriteAsync(IReadOnlyList<TrailRecord> batch, CancellationToken cancellationToken) =>
        Task.FromResult(store.Ingest(batch));

    public ValueTask DisposeAsync()
    {
        store.Dispose();
        return ValueTask.CompletedTask;
    }
}
