namespace SessionTrail.Agent.Sinks;

/// <summary>
/// A destination for records: the SessionTrail server, files, S3, OpenSearch, Firehose. Each sink gets
/// its own durable queue and one sender loop, so <see cref="SendAsync"/> is never called concurrently.
/// </summary>
public interface ISink
{
    /// <summary>Unique, file-name safe name, e.g. "server"; names the queue folder and the dead-letter file.</summary>
    string Name { get; }

    /// <summary>
    /// Delivers a batch of NDJSON lines (each ending in '\n'), all or nothing. Returns how it went:
    /// <see cref="SinkResult.Success"/> acknowledges the batch; <see cref="SinkResult.Retryable"/> retries it
    /// later with back-off; <see cref="SinkResult.Rejected"/> (the request as a whole is refused) moves it to the
    /// dead-letter file; <see cref="SinkResult.RecordRejected"/> (a record of it is refused) moves that record there
    /// and delivers the others of the batch;
    /// <see cref="SinkResult.TooLarge"/> splits it in halves. An exception other than cancellation of
    /// <paramref name="cancellationToken"/> counts as retryable.
    /// </summary>
    Task<SinkResult> SendAsync(IReadOnlyList<ReadOnlyMemory<byte>> lines, CancellationToken cancellationToken);
}

public enum SinkOutcome
{
    Success,
    Retryable,
    Rejected,
    RecordRejected,
    TooLarge,
}

/// <summary>The classified result of one delivery attempt.</summary>
public sealed record SinkResult(SinkOutcome Outcome, string? Reason = null, TimeSpan? RetryAfter = null)
{
    /// <summary>With <see cref="SinkOutcome.RecordRejected"/>: the refused record's place in the batch (1 = the first), when the destination names it.</summary>
    public int? Line { get; init; }

    public static SinkResult Success { get; } = new(SinkOutcome.Success);

    public static SinkResult Retryable(string reason, TimeSpan? retryAfter = null) => new(SinkOutcome.Retryable, reason, retryAfter);

    /// <summary>The destination refuses the request as such (not one of its records): the whole batch is dead-lettered.</summary>
    public static SinkResult Rejected(string reason) => new(SinkOutcome.Rejected, reason);

    /// <summary>
    /// The destination refuses the batch because of a record in it (and stores nothing of it), the one at
    /// <paramref name="line"/> when it says which: only refused records are dead-lettered, the others are delivered.
    /// </summary>
    public static SinkResult RecordRejected(string reason, int? line) => new(SinkOutcome.RecordRejected, reason) { Line = line };

    public static SinkResult TooLarge(string reason) => new(SinkOutcome.TooLarge, reason);
}
