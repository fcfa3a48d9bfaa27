using SessionTrail.Agent.Delivery;

namespace SessionTrail.Agent.Sinks;

/// <summary>
/// A sink that acknowledges records once it holds them durably itself (e.g. in a local spool) and
/// delivers them later in its own loop (e.g. one object per session). The agent runs
/// <see cref="RunAsync"/> beside the sink's sender and shows <see cref="GetBackgroundStatus"/> in status.
/// </summary>
public interface IBackgroundSink : ISink
{
    /// <summary>Raised after an error or a delivery, so that status is rewritten promptly.</summary>
    event Action? NotableChange;

    /// <summary>
    /// Delivers until <paramref name="stop"/> (returns at once; what is pending resumes at the next start)
    /// or, once <paramref name="drain"/> is cancelled, until nothing is ready to deliver.
    /// </summary>
    Task RunAsync(CancellationToken drain, CancellationToken stop);

    /// <summary>What waits in the sink itself, beyond its queue.</summary>
    BackgroundSinkStatus GetBackgroundStatus();
}

/// <summary>The sink-held part of a sink's status.</summary>
/// <param name="OpenObjects">Objects still filling (sessions not ended yet, days not over).</param>
/// <param name="PendingUploads">Objects complete and waiting for their upload.</param>
/// <param name="UploadedTotal">Objects uploaded since the agent started.</param>
/// <param name="RecentErrors">The last delivery errors.</param>
public sealed record BackgroundSinkStatus(long OpenObjects, long PendingUploads, long UploadedTotal, IReadOnlyList<ErrorEntry> RecentErrors);
