using Microsoft.Extensions.Logging.Abstractions;
using SessionTrail.Agent.Delivery;
using SessionTrail.Agent.Queue;
using SessionTrail.Agent.Sinks;
using SessionTrail.Agent.Tests.Sources;

namespace SessionTrail.Agent.Tests.Sinks;

/// <summary>A real disk queue and the real sender in front of a sink, with short back-offs.</summary>
public sealed class SenderHarness : IDisposable
{
    private readonly CancellationTokenSource _drain = new();
    private readonly CancellationTokenSource _stop = new();
    private Task? _run;

    public SenderHarness(ISink sink, string directory, int maxRecords = 100)
    {
        Queue = DiskQueue.Open(Path.Combine(directory, "queue"), new DiskQueueOptions { Fsync = FsyncPolicy.Never }, NullLogger.Instance, TimeProvider.System);
        Sender = new SinkSender(sink, Queue, maxRecords, 1 << 20, new Backoff(TimeSpan.FromMilliseconds(50), TimeSpan.FromMilliseconds(200)), Path.Combine(directory, "dead-letter"), TimeProvider.System, NullLogger.Instance);
    }

    public DiskQueue Queue { get; }

    public SinkSender Sender { get; }

    public async Task EnqueueAsync(IEnumerable<ReadOnlyMemory<byte>> lines)
    {
        foreach (var line in lines)
        {
            await Queue.EnqueueAsync(line, CancellationToken.None);
        }
    }

    /// <summary>Starts sending (not draining yet).</summary>
    public void Start() => _run = Task.Run(() => Sender.RunAsync(_drain.Token, _stop.Token));

    /// <summary>Drains the queue (starting the sender if needed) and fails after <paramref name="timeoutSeconds"/>.</summary>
    public async Task DrainAsync(int timeoutSeconds = 30)
    {
        if (_run is null)
        {
            Start();
        }

        await _drain.CancelAsync();
        try
        {
            await _run!.WaitAsync(TimeSpan.FromSeconds(timeoutSeconds));
        }
        catch (TimeoutException)
        {
            Assert.Fail("the sender did not drain the queue; its errors: " + string.Join(" | ", Sender.Errors.Snapshot().TakeLast(3).Select(e => e.Message)));
        }

        Assert.Equal(0, Queue.GetStats().PendingRecords);
    }

    /// <summary>Polls until <paramref name="condition"/> holds (fails after 20 s).</summary>
    public static async Task UntilAsync(Func<bool> condition, string what)
    {
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "timed out waiting until " + what);
            await Task.Delay(20);
        }
    }

    public void Dispose()
    {
        _stop.Cancel();
        try
        {
            _run?.Wait(TimeSpan.FromSeconds(10));
        }
        catch (AggregateException)
        {
        }

        Queue.Dispose();
        _drain.Dispose();
        _stop.Dispose();
    }
}
