namespace SessionTrail.Agent.Sinks;

/// <summary>
/// Optional for a sink: its own batch limits (KinesisTap "BufferSize", "BufferInterval"), used by its
/// sender instead of the agent-wide ones. A batch is sent when it has <see cref="MaxRecords"/> records
/// or <see cref="MaxBytes"/> bytes, or when the oldest queued record has waited <see cref="MaxLinger"/>.
/// </summary>
public interface ISinkBatching
{
    int MaxRecords { get; }

    long MaxBytes { get; }

    TimeSpan MaxLinger { get; }
}
