using SessionTrail.Core.Records;

namespace SessionTrail.Agent.Pipes;

/// <summary>
/// A step between sources and sinks: filters or decorates records, one at a time, on the pump's
/// single thread. Returns the record, a changed record, or null to drop it. Should not throw; if it
/// does, the pump logs the error and passes the record on unchanged (see <see cref="SafePipe"/>).
/// </summary>
public interface IRecordPipe
{
    TrailRecord? Process(TrailRecord record);
}

/// <summary>
/// Optional ability of a pipe: records it produced itself (e.g. a session start the first time a session
/// is seen). The pump takes them after each <see cref="IRecordPipe.Process"/> call and sends them ahead of
/// the processed record; they do not go through the remaining pipes.
/// </summary>
public interface IEmittingPipe
{
    /// <summary>Returns and forgets the records produced since the last call (empty when none).</summary>
    IReadOnlyList<TrailRecord> TakeEmitted();
}
