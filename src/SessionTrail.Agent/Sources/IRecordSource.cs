using SessionTrail.Core.Records;

namespace SessionTrail.Agent.Sources;

/// <summary>
/// Something that produces records: processes, event logs, files, recordings.
/// </summary>
public interface IRecordSource
{
    /// <summary>Name used in logs and status, e.g. "linux-processes".</summary>
    string Name { get; }

    /// <summary>
    /// Produces records into <paramref name="output"/> until <paramref name="cancellationToken"/> is
    /// cancelled, then returns (it does not throw <see cref="OperationCanceledException"/> for a
    /// normal stop). A write may wait when the pipeline is full (back-pressure). On a fault it cannot
    /// recover from it throws; the agent logs the exception, reports it in its status and starts the
    /// source again after a delay.
    /// </summary>
    Task RunAsync(IRecordOutput output, CancellationToken cancellationToken);
}

/// <summary>Where a source puts its records: the agent's pipes and then its durable queues.</summary>
public interface IRecordOutput
{
    /// <summary>
    /// Hands one record to the pipeline. Completes when the record is accepted (it may wait under
    /// back-pressure). Throws <see cref="OperationCanceledException"/> when cancelled.
    /// </summary>
    ValueTask WriteAsync(TrailRecord record, CancellationToken cancellationToken);
}
