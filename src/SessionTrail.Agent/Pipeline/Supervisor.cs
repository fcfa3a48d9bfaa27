using Microsoft.Extensions.Logging;
using SessionTrail.Agent.Sources;
using SessionTrail.Agent.Status;

namespace SessionTrail.Agent.Pipeline;

/// <summary>
/// Keeps the agent's loops running: a source that throws is restarted after
/// <c>restartDelay</c> (its state shows the error); a delivery loop (a sink's sender, a sink's own
/// background loop, the recording uploader) that throws is restarted the same way until the deadline.
/// Every failure is logged and signalled through <c>notable</c> so that status is rewritten promptly.
/// </summary>
/// <param name="logger">The host's logger: the events keep the host's category.</param>
internal sealed partial class Supervisor(TimeSpan restartDelay, TimeProvider time, ILogger logger, Action notable)
{
    /// <summary>Runs <paramref name="source"/> until <paramref name="stop"/>; restarts it after a fault.</summary>
    public async Task RunSourceAsync(IRecordSource source, SourceState state, IRecordOutput output, CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            state.State = "running";
            try
            {
                await source.RunAsync(output, stop);
                if (!stop.IsCancellationRequested)
                {
                    state.State = "completed";
                    LogSourceCompleted(logger, source.Name);
                    notable();
                    return;
                }
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
            }
            catch (Exception ex)
            {
                // A program that cannot be started is a setup problem: its one-line message says what to do, a stack trace would hide it.
                var missing = ex as ExternalProgramException;
                state.Fail(time.GetUtcNow(), missing?.Message ?? ex.GetType().Name + ": " + ex.Message);
                if (missing is null)
                {
                    LogSourceFailed(logger, source.Name, restartDelay, ex);
                }
                else
                {
                    LogSourceCannotStartProgram(logger, source.Name, restartDelay, missing.Message);
                }

                notable();
                if (!await DelayAsync(stop))
                {
                    break;
                }

                state.Restarts++;
            }
        }

        state.State = "stopped";
    }

    /// <summary>
    /// Runs a delivery loop (<paramref name="run"/> gets drain and deadline) until it returns or the
    /// deadline passes; after a fault it logs it, tells <paramref name="failed"/> and restarts it.
    /// </summary>
    public async Task RunDeliveryAsync(string name, Func<CancellationToken, CancellationToken, Task> run, CancellationToken drain, CancellationToken deadline, Action<Exception>? failed = null)
    {
        while (!deadline.IsCancellationRequested)
        {
            try
            {
                await run(drain, deadline);
                return;
            }
            catch (OperationCanceledException) when (deadline.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                failed?.Invoke(ex);
                LogSenderFailed(logger, name, ex);
                notable();
                if (!await DelayAsync(deadline))
                {
                    return;
                }
            }
        }
    }

    /// <summary>Waits the restart delay; false when <paramref name="cancellationToken"/> ends the wait.</summary>
    private async Task<bool> DelayAsync(CancellationToken cancellationToken)
    {
        try
        {
            await Task.Delay(restartDelay, time, cancellationToken);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    [LoggerMessage(EventId = 1004, Level = LogLevel.Error, Message = "Source {Source} failed; restarting in {Delay}")]
    private static partial void LogSourceFailed(ILogger logger, string source, TimeSpan delay, Exception exception);

    [LoggerMessage(EventId = 1008, Level = LogLevel.Error, Message = "Source {Source} failed; restarting in {Delay}: {Problem}")]
    private static partial void LogSourceCannotStartProgram(ILogger logger, string source, TimeSpan delay, string problem);

    [LoggerMessage(EventId = 1005, Level = LogLevel.Warning, Message = "Source {Source} completed on its own")]
    private static partial void LogSourceCompleted(ILogger logger, string source);

    [LoggerMessage(EventId = 1006, Level = LogLevel.Error, Message = "Sender for sink {Sink} failed; restarting")]
    private static partial void LogSenderFailed(ILogger logger, string sink, Exception exception);
}
