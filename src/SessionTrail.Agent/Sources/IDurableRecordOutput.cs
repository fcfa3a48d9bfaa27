namespace SessionTrail.Agent.Sources;

/// <summary>
/// An output that can tell a source when what it wrote is safe on disk: a source that keeps its own
/// position (an event log bookmark) saves that position only after <see cref="WhenDurableAsync"/>, so a
/// crash can repeat records (the server dedupes them by id) but never lose them.
/// </summary>
public interface IDurableRecordOutput : IRecordOutput
{
    /// <summary>
    /// Completes when every record written before this call has been through the pipes and appended
    /// (and fsynced) to every sink's durable queue. Throws <see cref="OperationCanceledException"/> when
    /// cancelled and <see cref="System.Threading.Channels.ChannelClosedException"/> when the agent stops intake.
    /// </summary>
    ValueTask WhenDurableAsync(CancellationToken cancellationToken);
}
