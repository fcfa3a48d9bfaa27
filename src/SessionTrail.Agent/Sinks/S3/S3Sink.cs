using SessionTrail.Agent.Config;

namespace SessionTrail.Agent.Sinks.S3;

/// <summary>
/// The S3 sink: records as objects on any S3-compatible endpoint, one object per session or one per
/// batch (<see cref="S3SinkOptions.Objects"/>). Both config forms build it through
/// <see cref="S3SinkFactory"/>: an entry of the agent's "Sinks" with <c>"Type": "S3"</c> (default: per
/// session) and a log sink with <c>"SinkType": "S3"</c> (default: per batch).
/// </summary>
/// <remarks>
/// The two ways of making objects are the two subclasses, since the agent tells them apart by type:
/// <list type="bullet">
/// <item><see cref="S3SessionObjects"/>, per session: spools records (DIR/agent/s3/NAME) and uploads each
/// session's object in its own loop (<see cref="IBackgroundSink"/>), in the seed's data-lake layout.</item>
/// <item><see cref="S3BatchObjects"/>, per batch: each batch the sender cuts (<see cref="ISinkBatching"/>)
/// becomes one gzip object, PUT before the batch is acknowledged.</item>
/// </list>
/// </remarks>
public abstract class S3Sink : ISink, IDisposable
{
    private protected S3Sink(S3SinkOptions options, IS3ObjectStore store)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(store);
        Options = options;
        Store = store;
    }

    /// <summary><see cref="S3SinkOptions.Name"/>: names the queue (and the spool or dead-letter folder).</summary>
    public string Name => Options.Name;

    public S3SinkOptions Options { get; }

    private protected IS3ObjectStore Store { get; }

    /// <summary>The sink <paramref name="options"/> ask for, writing to <paramref name="store"/> (which it disposes).</summary>
    /// <param name="context">Data directory, host, logs and clock; its <see cref="LogSinkContext.Id"/> is <see cref="S3SinkOptions.Name"/>.</param>
    public static S3Sink Create(S3SinkOptions options, LogSinkContext context, IS3ObjectStore store)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(context);
        return options.Objects switch
        {
            S3Objects.Session => new S3SessionObjects(options, context.DataDir, store, context.Logs.CreateLogger(S3SessionObjects.LoggerCategory), context.Time),
            _ => new S3BatchObjects(options, store, context),
        };
    }

    public abstract Task<SinkResult> SendAsync(IReadOnlyList<ReadOnlyMemory<byte>> lines, CancellationToken cancellationToken);

    public void Dispose()
    {
        Dispose(true);
        GC.SuppressFinalize(this);
    }

    protected virtual void Dispose(bool disposing)
    {
        if (disposing)
        {
            Store.Dispose();
        }
    }
}
