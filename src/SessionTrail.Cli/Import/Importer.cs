using System.Diagnostics;
using System.Threading.Channels;
using SessionTrail.Core.Records;

namespace SessionTrail.Cli.Import;

/// <summary>
/// Reads files (on a background task) and writes their records to an <see cref="IImportTarget"/> in
/// batches, counting everything for the summary. A file's content problems never stop the import:
/// they are collected as rejections — records with a time outside the <see cref="RecordTimeWindow"/> of
/// <paramref name="clock"/> (taken once, at the start) among them. A failure of the target (store, server) does stop it.
/// </summary>
public sealed class Importer(IImportTarget target, int batchSize = Importer.DefaultBatchSize, TextWriter? progress = null, TimeProvider? clock = null)
{
    public const int DefaultBatchSize = 5000;

    private readonly RecordTimeWindow window = RecordTimeWindow.Of(clock ?? TimeProvider.System);
    private readonly ImportSummary summary = new();
    private readonly HashSet<string> sessions = new(StringComparer.Ordinal);
    private long lastProgress = -1;

    public async Task<ImportSummary> RunAsync(IReadOnlyList<string> files, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(files);
        var watch = Stopwatch.StartNew();
        var batches = Channel.CreateBounded<List<TrailRecord>>(new BoundedChannelOptions(2) { SingleReader = true, SingleWriter = true });
        var reader = Task.Factory.StartNew(
            () => ReadAll(files, batches.Writer, cancellationToken), cancellationToken, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        try
        {
            await foreach (var batch in batches.Reader.ReadAllAsync(cancellationToken))
            {
                var stored = await target.WriteAsync(batch, cancellationToken);
                summary.Stored += stored.Accepted;
                summary.Duplicates += stored.Duplicates;
                Progress(files.Count, force: false);
            }
        }
        finally
        {
            // Stop the reader when writing failed, then surface its own failure if it had one.
            batches.Writer.TryComplete();
            await reader.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            summary.Sessions = sessions.Count;
            summary.Elapsed = watch.Elapsed;
            if (progress is not null && Interlocked.Read(ref lastProgress) >= 0)
            {
                lock (progress)
                {
                    progress.Write("\r\u001b[K");
                    progress.Flush();
                }
            }
        }

        await reader;
        return summary;
    }

    /// <summary>The counts so far (all of them once <see cref="RunAsync"/> has returned or failed).</summary>
    public ImportSummary Summary => summary;

    /// <summary>Runs on its own thread: reads file after file, handing full batches to the writing side.</summary>
    private void ReadAll(IReadOnlyList<string> files, ChannelWriter<List<TrailRecord>> writer, CancellationToken cancellationToken)
    {
        var batch = new List<TrailRecord>(batchSize);
        void Add(TrailRecord record)
        {
            if (record.Session is { } session)
            {
                sessions.Add(session);
            }

            batch.Add(record);
            if (batch.Count >= batchSize)
            {
                // Blocks while two batches wait to be written; throws ChannelClosedException when writing failed.
                writer.WriteAsync(batch, cancellationToken).AsTask().GetAwaiter().GetResult();
                batch = new List<TrailRecord>(batchSize);
                Progress(files.Count, force: false);
            }
        }

        try
        {
            foreach (var file in files)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var result = ImportFile.Read(file, Add, window);
                lock (summary)
                {
                    summary.Files++;
                    summary.Rows += result.Rows;
                    summary.Records += result.RecordCount;
                    summary.Rejoined += result.Rejoined;
                    summary.NotProcessEvents += result.NotProcessEvents;
                    summary.SessionsWithoutEnd += result.SessionsWithoutEnd;
                    summary.Reject(result.Rejected);
                }

                Progress(files.Count, force: false);
            }

            if (batch.Count > 0)
            {
                writer.WriteAsync(batch, cancellationToken).AsTask().GetAwaiter().GetResult();
            }
        }
        catch (ChannelClosedException)
        {
            // The writing side failed; its exception is the one reported.
        }
        finally
        {
            writer.TryComplete();
        }
    }

    /// <summary>One status line on a terminal, redrawn at most 4 times a second.</summary>
    private void Progress(int total, bool force)
    {
        if (progress is null)
        {
            return;
        }

        var now = Environment.TickCount64;
        var last = Interlocked.Read(ref lastProgress);
        if (!force && last >= 0 && now - last < 250)
        {
            return;
        }

        if (Interlocked.CompareExchange(ref lastProgress, now, last) != last)
        {
            return;
        }

        string line;
        lock (summary)
        {
            line = $"\rimport: {summary.Files}/{total} files, {summary.Rows} rows, {summary.Stored} stored, {summary.RejectedCount} rejected";
        }

        lock (progress)
        {
            progress.Write(line + "\u001b[K");
            progress.Flush();
        }
    }
}
