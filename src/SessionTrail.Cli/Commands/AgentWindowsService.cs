using System.Runtime.Versioning;
using System.ServiceProcess;

namespace SessionTrail.Cli.Commands;

/// <summary>
/// `sessiontrail agent --service`: the agent under the Windows Service Control Manager. Start runs the
/// agent on a worker task; Stop and system shutdown do what Ctrl+C does on a console (stop intake, flush
/// with the deadline, persist), asking the SCM for the time that takes. When the agent ends by itself
/// (an error), the service stops with a non-zero exit code so the SCM's recovery actions restart it.
/// </summary>
[SupportedOSPlatform("windows")]
internal sealed class AgentWindowsService : ServiceBase
{
    /// <summary>The longest the SCM is asked to wait for a stop: the flush deadline plus margin.</summary>
    public static readonly TimeSpan StopTime = TimeSpan.FromSeconds(30);

    private readonly Func<CancellationToken, Task> _run;
    private readonly CancellationTokenSource _stop = new();
    private Task? _running;

    public AgentWindowsService(string name, Func<CancellationToken, Task> run)
    {
        ServiceName = name;
        CanStop = true;
        CanShutdown = true;
        AutoLog = true;
        _run = run;
    }

    /// <summary>The agent's own failure, when it ended by itself; null while it runs or after a normal stop.</summary>
    public Exception? Failure { get; private set; }

    protected override void OnStart(string[] args)
    {
        _running = Task.Run(async () =>
        {
            try
            {
                await _run(_stop.Token);
            }
            catch (Exception ex) when (!_stop.IsCancellationRequested)
            {
                Failure = ex;
            }

            if (!_stop.IsCancellationRequested)
            {
                // Ended without being asked: report a failure so that "restart on failure" applies.
                ExitCode = 1;
                Stop();
            }
        });
    }

    protected override void OnStop() => StopAgent();

    protected override void OnShutdown() => StopAgent();

    private void StopAgent()
    {
        RequestAdditionalTime((int)StopTime.TotalMilliseconds);
        _stop.Cancel();
        _running?.Wait(StopTime);
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _stop.Dispose();
        }

        base.Dispose(disposing);
    }
}
