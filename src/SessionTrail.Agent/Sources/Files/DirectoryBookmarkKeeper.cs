using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using SessionTrail.Agent.Config;
using SessionTrail.Agent.Ids;
using SessionTrail.Agent.Sinks;
using SessionTrail.Agent.Sources;

namespace SessionTrail.Agent.Sources.Files;

/// <summary>
/// Loads and saves a DirectorySource's bookmark. A save takes a snapshot of the positions (all after
/// records already handed to the output), waits for <see cref="IDurableRecordOutput.WhenDurableAsync"/>
/// in the background (the source keeps reading), then replaces the file atomically. At most one save
/// runs at a time, at most one per interval; a failed one is retried.
/// </summary>
internal sealed class DirectoryBookmarkKeeper(string sourceId, BookmarkStore store, TimeSpan interval, TimeProvider time, ILogger logger)
{
    private Dictionary<string, FileBookmark> _saved = new(StringComparer.Ordinal);
    private volatile bool _saveFailed;
    private Task _saveTask = Task.CompletedTask;
    private DateTimeOffset _lastSave;

    /// <summary>A bookmark file existed at start (also a corrupt one): files not in it are new, read from their start.</summary>
    public bool HadBookmark { get; private set; }

    /// <summary>Files in the loaded bookmark not yet claimed by <see cref="Take"/>.</summary>
    public int Count => _saved.Count;

    /// <summary>Something changed since the last snapshot.</summary>
    public bool Dirty { get; set; }

    public void Load()
    {
        var path = store.PathOf(sourceId);
        HadBookmark = File.Exists(path);
        try
        {
            var saved = store.Load(sourceId, DirectoryBookmarkJsonContext.Default.DirectoryBookmark);
            _saved = (saved?.Files ?? [])
                .Where(f => f is not null && f.Offset >= 0 && f.Line >= 1 && f.FingerprintLength is >= 0 and <= TailedFile.HeadBytes && !string.IsNullOrEmpty(f.Identity))
                .GroupBy(f => f.Identity, StringComparer.Ordinal)
                .ToDictionary(g => g.Key, g => g.First(), StringComparer.Ordinal);
        }
        catch (InvalidDataException ex)
        {
            // Start policy for a corrupt bookmark: keep the bad file for inspection and read every file from
            // its beginning. Nothing is lost; what was sent before comes again with the same ids.
            var moved = path + ".corrupt";
            try
            {
                File.Move(path, moved, overwrite: true);
            }
            catch (IOException)
            {
                moved = path;
            }

            DirectorySourceLog.BookmarkCorrupt(logger, sourceId, ex.Message, moved);
            _saved = new(StringComparer.Ordinal);
            HadBookmark = true;
        }
    }

    /// <summary>The saved entry of a file identity, once (a later file with the same identity is new).</summary>
    public FileBookmark? Take(string identity) => _saved.Remove(identity, out var saved) ? saved : null;

    public static DirectoryBookmark Snapshot(IEnumerable<TailedFile> files) => new()
    {
        Files = [.. files.Select(f => new FileBookmark
        {
            Identity = f.IdentityText,
            Path = f.Path,
            Offset = f.CommittedOffset,
            Line = f.CommittedLine,
            FingerprintLength = f.HeadLength,
            Fingerprint = TailedFile.Hash(f.Head),
            Headers = f.ParserState.Headers is { } h ? [.. h] : null,
        })],
    };

    /// <summary>Starts a save in the background when something changed, at most once per interval.</summary>
    public void MaybeSave(IEnumerable<TailedFile> files, IRecordOutput output, CancellationToken cancellationToken)
    {
        if (_saveFailed)
        {
            _saveFailed = false;
            Dirty = true;
        }

        var now = time.GetUtcNow();
        if (!Dirty || !_saveTask.IsCompleted || now - _lastSave < interval)
        {
            return;
        }

        var snapshot = Snapshot(files);
        Dirty = false;
        _lastSave = now;
        _saveTask = SaveAsync(snapshot, output, cancellationToken);
    }

    /// <summary>At stop: waits for a running save, then saves the last positions after one more barrier (10 s at most).</summary>
    public async Task SaveAtStopAsync(IEnumerable<TailedFile> files, IRecordOutput output)
    {
        await _saveTask;
        if (!Dirty && !_saveFailed)
        {
            return;
        }

        var snapshot = Snapshot(files);
        try
        {
            if (output is IDurableRecordOutput durable)
            {
                using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(10));
                await durable.WhenDurableAsync(deadline.Token);
            }

            store.Save(sourceId, snapshot, DirectoryBookmarkJsonContext.Default.DirectoryBookmark);
        }
        catch (Exception ex) when (ex is OperationCanceledException or ChannelClosedException or IOException or UnauthorizedAccessException)
        {
            DirectorySourceLog.FinalBookmarkNotSaved(logger, sourceId, ex.Message);
        }
    }

    private async Task SaveAsync(DirectoryBookmark snapshot, IRecordOutput output, CancellationToken cancellationToken)
    {
        try
        {
            // The barrier comes after the records the snapshot's positions cover: once it passes they are
            // on disk in every queue. Without a durable output (tests, benchmarks) the writes are enough.
            if (output is IDurableRecordOutput durable)
            {
                await durable.WhenDurableAsync(cancellationToken);
            }

            store.Save(sourceId, snapshot, DirectoryBookmarkJsonContext.Default.DirectoryBookmark);
        }
        catch (Exception ex) when (ex is OperationCanceledException or ChannelClosedException)
        {
            _saveFailed = true;
        }
        catch (Exception ex)
        {
            DirectorySourceLog.BookmarkSaveFailed(logger, sourceId, ex);
            _saveFailed = true;
        }
    }
}
