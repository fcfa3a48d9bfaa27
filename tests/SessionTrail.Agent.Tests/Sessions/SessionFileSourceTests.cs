using Microsoft.Extensions.Logging.Abstractions;
using SessionTrail.Agent.Sessions;
using SessionTrail.Agent.Tests.Fakes;
using SessionTrail.Core.Records;

namespace SessionTrail.Agent.Tests.Sessions;

public sealed class SessionFileSourceTests : IDisposable
{
    private static readonly DateTimeOffset Now = new(2026, 11, 22, 9, 0, 0, TimeSpan.Zero);
    private readonly TempDir _dir = new();
    private readonly SessionTracker _tracker = new();
    private readonly FakeTimeProvider _time = new();

    public void Dispose()
    {
        _time.Dispose();
        _dir.Dispose();
    }

    private SessionFileSource Source() => new(_dir.Path, _tracker, "h1", TimeSpan.FromSeconds(5), _time, NullLogger.Instance);

    [Fact]
    public async Task StartAndEndWrittenByTheCliBecomeRecordsWithTheCliTimesOnce()
    {
        var output = new CollectingOutput();
        SessionControl.Start(_dir.Path, new SessionStartRequest { Id = "s1", Fields = new() { User = "alice", Stack = "st" } }, Now, _ => null);

        await Source().CheckAsync(output, CancellationToken.None);
        await Source().CheckAsync(output, CancellationToken.None); // e.g. after a restart: not repeated
        Assert.Equal("s1", _tracker.Explicit!.Id);

        SessionControl.End(_dir.Path, Now.AddHours(2));
        await Source().CheckAsync(output, CancellationToken.None);
        await Source().CheckAsync(output, CancellationToken.None);

        Assert.Null(_tracker.Explicit);
        var records = output.Records.Cast<SessionRecord>().ToList();
        Assert.Equal([SessionEventType.Start, SessionEventType.End], records.Select(r => r.Type));
        Assert.Equal([Now, Now.AddHours(2)], records.Select(r => r.Time));
        Assert.All(records, r => Assert.Equal("s1", r.Session));
        Assert.Equal("alice", records[0].User);
        Assert.Equal("st", records[0].Stack);
    }

    [Fact]
    public async Task ANewSessionReplacingAnUnendedOneEndsThePreviousOne()
    {
        var output = new CollectingOutput();
        SessionControl.Start(_dir.Path, new SessionStartRequest { Id = "s1" }, Now, _ => null);
        await Source().CheckAsync(output, CancellationToken.None);
        SessionControl.Start(_dir.Path, new SessionStartRequest { Id = "s2" }, Now.AddHours(1), _ => null);
        await Source().CheckAsync(output, CancellationToken.None);

        var records = output.Records.Cast<SessionRecord>().Select(r => (r.Session, r.Type)).ToList();
        Assert.Equal([("s1", SessionEventType.Start), ("s1", SessionEventType.End), ("s2", SessionEventType.Start)], records);
    }

    [Fact]
    public async Task TheRunningSourceSeesTheFileChange()
    {
        var output = new SignallingOutput();
        using var stop = new CancellationTokenSource();
        var run = Source().RunAsync(output, stop.Token);

        SessionControl.Start(_dir.Path, new SessionStartRequest { Id = "watched" }, Now, _ => null);
        // The watcher wakes the source; the poll (fake time) is the safety net if an event is missed.
        var seen = output.First.WaitAsync(TimeSpan.FromSeconds(10));
        while (!seen.IsCompleted)
        {
            _time.Advance(TimeSpan.FromSeconds(5));
            await Task.WhenAny(seen, Task.Delay(50));
        }

        Assert.Equal("watched", (await seen).Session);
        await stop.CancelAsync();
        await run.WaitAsync(TimeSpan.FromSeconds(10));
    }

    private sealed class SignallingOutput : SessionTrail.Agent.Sources.IRecordOutput
    {
        private readonly TaskCompletionSource<TrailRecord> _first = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Task<TrailRecord> First => _first.Task;

        public ValueTask WriteAsync(TrailRecord record, CancellationToken cancellationToken)
        {
            _first.TrySetResult(record);
            return ValueTask.CompletedTask;
        }
    }
}
