using Microsoft.Extensions.Logging;
using SessionTrail.Core.Records;

namespace SessionTrail.Agent.Pipes;

/// <summary>Failure isolation: a pipe that throws passes the record on unchanged; the error is logged.</summary>
public sealed partial class SafePipe(IRecordPipe inner, ILogger logger) : IRecordPipe, IEmittingPipe
{
    public IRecordPipe Inner => inner;

    public TrailRecord? Process(TrailRecord record)
    {
        try
        {
            return inner.Process(record);
        }
        catch (Exception ex)
        {
            LogPipeFailed(logger, inner.GetType().Name, ex);
            return record;
        }
    }

    public IReadOnlyList<TrailRecord> TakeEmitted() => inner is IEmittingPipe e ? e.TakeEmitted() : [];

    [LoggerMessage(EventId = 1301, Level = LogLevel.Error, Message = "Pipe {Pipe} failed; record passed on unchanged")]
    private static partial void LogPipeFailed(ILogger logger, string pipe, Exception exception);
}
