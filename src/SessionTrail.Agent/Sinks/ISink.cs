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
    /// later with back-off; <see cref="SinkResult.Rejected"/> splits it in halves until each rejected record
    /// stands alone, and moves only those to the dead-letter file;
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
    TooLarge,
}

/// <summary>The classified result of one delivery attempt.</summary>
public sealed record SinkResult(SinkOutcome Outcome, string? Reason = null, TimeSpan? RetryAfter = null)
{
    public static SinkResult Success { get; } = new(SinkOutcome.Success);

    public static SinkResult Retryable(string reason, TimeSpan? retryAfter = null) => new(SinkOutcome.Retryable, reason, retryAfter);

    public static SinkResult Rejected(string reason) => new(SinkOutcome.Rejected, reason);

    public static SinkResult TooLarge(string reason) => new(SinkOutcome.TooLarge, reason);
}
