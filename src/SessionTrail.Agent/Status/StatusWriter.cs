using Microsoft.Extensions.Logging;

namespace SessionTrail.Agent.Status;

/// <summary>
/// Writes DIR/agent/status.json every <c>interval</c> and soon after <see cref="Signal"/> (a notable
/// change: an error, a delivery, a state change). A failed write is logged and retried with the next one.
/// </summary>
/// <param name="logger">The host's logger: the events keep the host's category.</param>
internal sealed partial class StatusWriter(Func<AgentStatus> status, string dataDir, TimeSpan interval, TimeProvider time, ILogger logger) : IDisposable
{
    private readonly SemaphoreSlim _notable = new(0, 1);

    /// <summary>Rewrites the status soon; safe from any thread, also after disposal.</summary>
    public void Signal()
    {
        try
        {
            _notable.Release();
        }
        catch (Exception ex) when (ex is SemaphoreFullException or ObjectDisposedException)
        {
        }
    }

    /// <summary>Writes until <paramref name="stop"/>.</summary>
    public async Task RunAsync(CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            Write();
            try
            {
                using var wait = new CancellationTokenSource(interval, time);
                using var linked = CancellationTokenSource.CreateLinkedTokenSource(stop, wait.Token);
                await _notable.WaitAsync(linked.Token);
            }
            catch (OperationCanceledException)
            {
            }
        }
    }

    public void Write()
    {
        try
        {
            status().Write(dataDir);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ObjectDisposedException)
        {
            LogStatusWriteFailed(logger, ex);
        }
    }

    public void Dispose() => _notable.Dispose();

    [LoggerMessage(EventId = 1007, Level = LogLevel.Warning, Message = "Could not write agent status")]
    private static partial void LogStatusWriteFailed(ILogger logger, Exception exception);
}
