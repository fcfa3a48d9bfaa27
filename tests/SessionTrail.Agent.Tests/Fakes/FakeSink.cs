using System.Text;
using SessionTrail.Agent.Sinks;

namespace SessionTrail.Agent.Tests.Fakes;

/// <summary>A sink that answers with a scripted result per call and remembers what it accepted.</summary>
public sealed class FakeSink(string name, Func<IReadOnlyList<string>, int, SinkResult>? respond = null) : ISink
{
    private readonly Lock _lock = new();
    private readonly List<string> _accepted = [];
    private readonly List<int> _batchSizes = [];
    private int _calls;

    public string Name => name;

    public IReadOnlyList<string> Accepted
    {
        get
        {
            lock (_lock)
            {
                return [.. _accepted];
            }
        }
    }

    public IReadOnlyList<int> BatchSizes
    {
        get
        {
            lock (_lock)
            {
                return [.. _batchSizes];
            }
        }
    }

    public int Calls => Volatile.Read(ref _calls);

    public event Action? Sent;

    public Task<SinkResult> SendAsync(IReadOnlyList<ReadOnlyMemory<byte>> lines, CancellationToken cancellationToken)
    {
        var text = lines.Select(l => Encoding.UTF8.GetString(l.Span)).ToList();
        var call = Interlocked.Increment(ref _calls);
        var result = respond?.Invoke(text, call) ?? SinkResult.Success;
        lock (_lock)
        {
            _batchSizes.Add(text.Count);
            if (result.Outcome == SinkOutcome.Success)
            {
                _accepted.AddRange(text);
            }
        }

        Sent?.Invoke();
        return Task.FromResult(result);
    }
}
