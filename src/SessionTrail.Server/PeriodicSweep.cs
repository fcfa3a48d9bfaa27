namespace SessionTrail.Server;

/// <summary>The loop of the retention services: a sweep at start, then one per interval until the host stops.</summary>
internal static class PeriodicSweep
{
    /// <summary>
    /// Runs <paramref name="sweep"/> now and then every <paramref name="interval"/> of <paramref name="clock"/> until
    /// <paramref name="ct"/> is cancelled. A sweep that throws an exception <paramref name="expected"/> accepts is
    /// reported to <paramref name="failed"/> and the next tick tries again; cancellation ends the loop quietly.
    /// </summary>
    public static async Task RunAsync(
        TimeSpan interval, TimeProvider clock, Func<CancellationToken, Task> sweep, Func<Exception, bool> expected, Action<Exception> failed, CancellationToken ct)
    {
        using var timer = new PeriodicTimer(interval, clock);
        do
        {
            try
            {
                await sweep(ct);
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (expected(e))
            {
                failed(e);
            }
        }
        while (await WaitAsync(timer, ct));
    }

    private static async Task<bool> WaitAsync(PeriodicTimer timer, CancellationToken ct)
    {
        try
        {
            return await timer.WaitForNextTickAsync(ct);
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }
}
