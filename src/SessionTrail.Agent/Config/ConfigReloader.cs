using System.Security.Cryptography;
using Microsoft.Extensions.Logging;
using SessionTrail.Agent.Ids;
using SessionTrail.Agent.Sinks;
using SessionTrail.Agent.Sources;
using SessionTrail.Agent.Status;

namespace SessionTrail.Agent.Config;

/// <summary>One run of the agent built from one version of the config file.</summary>
public interface IAgentRun : IDisposable
{
    /// <summary>Runs until <paramref name="stop"/>, then stops softly (intake stops, accepted records reach the queues, bookmarks are saved).</summary>
    Task RunAsync(CancellationToken stop);

    /// <summary>The config state changed: rewrite the status soon.</summary>
    void StatusChanged();
}

/// <summary>
/// Runs the agent and watches its config file (FileSystemWatcher plus a poll as a safety net). When the
/// file's content changes, the new config is checked first: invalid → the error is logged and shown in
/// the status, the running config stays; valid → the running agent stops softly (sources stop, what they
/// handed over is queued, bookmarks saved) and a new one starts from the new config. Sources resume from
/// their bookmarks (kept by source Id), so no position is lost.
/// </summary>
/// <param name="check">Reads and validates the file; returns null when it can run, else the problems (one per line).</param>
/// <param name="start">Builds a run from the file (called after <paramref name="check"/> passed).</param>
public sealed partial class ConfigReloader(string configFile, Func<string?> check, Func<ConfigState, IAgentRun> start, TimeSpan pollInterval, TimeProvider time, ILogger logger)
{
    /// <summary>The log category of its messages (unchanged since the agent's first layout; operators filter on it).</summary>
    public const string LogCategory = "SessionTrail.Agent.Logs.Config.ConfigReloader";

    /// <summary>How long the file must stay unchanged before it is read (editors write in steps).</summary>
    public TimeSpan SettleDelay { get; init; } = TimeSpan.FromMilliseconds(300);

    /// <summary>Completes each time a changed file was handled (applied or refused); for tests and logs.</summary>
    public event Action<bool>? ChangeHandled;

    /// <summary>
    /// Runs until <paramref name="stop"/>. The first start throws when the config cannot be built (the
    /// caller reports it); later changes never stop the agent.
    /// </summary>
    public async Task RunAsync(CancellationToken stop)
    {
        var full = Path.GetFullPath(configFile);
        var state = new ConfigState(full, time.GetUtcNow());
        var fingerprint = Fingerprint(full);
        var run = start(state);
        using var changed = new SemaphoreSlim(0, 1);
        using var watcher = Watch(full, changed);
        try
        {
            while (true)
            {
                using var runStop = CancellationTokenSource.CreateLinkedTokenSource(stop);
                var running = run.RunAsync(runStop.Token);
                IAgentRun? next = null;
                while (next is null && !running.IsCompleted && !stop.IsCancellationRequested)
                {
                    await WaitForChangeAsync(changed, running, stop);
                    if (running.IsCompleted || stop.IsCancellationRequested)
                    {
                        break;
                    }

                    var now = Fingerprint(full);
                    if (now.SequenceEqual(fingerprint))
                    {
                        continue;
                    }

                    await Task.Delay(SettleDelay, time, stop).ContinueWith(_ => { }, TaskScheduler.Default);
                    now = Fingerprint(full);
                    fingerprint = now;
                    var problems = Check();
                    if (problems is not null)
                    {
                        state.Refused(time.GetUtcNow(), problems);
                        run.StatusChanged();
                        LogReloadRefused(logger, full, problems);
                        ChangeHandled?.Invoke(false);
                        continue;
                    }

                    LogReloading(logger, full);
                    await runStop.CancelAsync();
                    await running;
                    run.Dispose();
                    var started = await StartAgainAsync(state, stop);
                    if (started is null)
                    {
                        return;
                    }

                    run = next = started;
                    ChangeHandled?.Invoke(true);
                }

                if (next is null)
                {
                    await running;
                    return;
                }
            }
        }
        finally
        {
            run.Dispose();
        }
    }

    /// <summary>
    /// Starts the run of the new config; a failure after the check passed (e.g. a resource that is
    /// briefly busy) is logged and retried every poll interval. Null when stopped meanwhile.
    /// </summary>
    private async Task<IAgentRun?> StartAgainAsync(ConfigState state, CancellationToken stop)
    {
        while (true)
        {
            try
            {
                var run = start(state);
                state.Loaded(time.GetUtcNow());
                return run;
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                state.Refused(time.GetUtcNow(), "the new config passed its check but the agent could not start with it (retrying): " + ex.Message);
                LogStartFailed(logger, full: configFile, pollInterval, ex);
            }

            try
            {
                await Task.Delay(pollInterval, time, stop);
            }
            catch (OperationCanceledException)
            {
                return null;
            }
        }
    }

    private string? Check()
    {
        try
        {
            return check();
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            return ex.Message;
        }
    }

    private async Task WaitForChangeAsync(SemaphoreSlim changed, Task running, CancellationToken stop)
    {
        using var poll = new CancellationTokenSource(pollInterval, time);
        using var wait = CancellationTokenSource.CreateLinkedTokenSource(stop, poll.Token);
        try
        {
            await Task.WhenAny(changed.WaitAsync(wait.Token), running);
        }
        catch (OperationCanceledException)
        {
        }

        // Let a pending WaitAsync end before the semaphore could be disposed.
        await wait.CancelAsync();
    }

    private static FileSystemWatcher? Watch(string file, SemaphoreSlim changed)
    {
        void Signal()
        {
            try
            {
                changed.Release();
            }
            catch (Exception ex) when (ex is SemaphoreFullException or ObjectDisposedException)
            {
            }
        }

        try
        {
            var watcher = new FileSystemWatcher(Path.GetDirectoryName(file)!, Path.GetFileName(file))
            {
                NotifyFilter = NotifyFilters.FileName | NotifyFilters.LastWrite | NotifyFilters.Size,
            };
            watcher.Changed += (_, _) => Signal();
            watcher.Created += (_, _) => Signal();
            watcher.Renamed += (_, _) => Signal();
            watcher.EnableRaisingEvents = true;
            return watcher;
        }
        catch (Exception ex) when (ex is IOException or ArgumentException or PlatformNotSupportedException)
        {
            return null; // the poll still notices changes
        }
    }

    private static byte[] Fingerprint(string file)
    {
        try
        {
            return SHA256.HashData(File.ReadAllBytes(file));
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return [];
        }
    }

    [LoggerMessage(EventId = 1601, Level = LogLevel.Information, Message = "Config {File} changed and is valid: restarting the agent with it (bookmarks keep every source's position)")]
    private static partial void LogReloading(ILogger logger, string file);

    [LoggerMessage(EventId = 1603, Level = LogLevel.Error, Message = "Config {Full} passed its check but the agent could not start with it; retrying in {Delay}")]
    private static partial void LogStartFailed(ILogger logger, string full, TimeSpan delay, Exception exception);

    [LoggerMessage(EventId = 1602, Level = LogLevel.Error, Message = "Config {File} changed but is not valid; the agent keeps running the previous config: {Problems}")]
    private static partial void LogReloadRefused(ILogger logger, string file, string problems);
}
