namespace SessionTrail.Agent.Status;

/// <summary>A running source's state as its supervisor sees it; <see cref="Snapshot"/> is what status shows.</summary>
internal sealed class SourceState(string name, string? sourceType)
{
    private readonly Lock _lock = new();
    private string? _lastError;
    private DateTimeOffset? _lastErrorTime;

    public volatile string State = "starting";

    public int Restarts { get; set; }

    public void Fail(DateTimeOffset at, string error)
    {
        lock (_lock)
        {
            State = "restarting";
            _lastError = error;
            _lastErrorTime = at;
        }
    }

    public SourceStatus Snapshot()
    {
        lock (_lock)
        {
            return new SourceStatus { Name = name, SourceType = sourceType, State = State, Restarts = Restarts, LastError = _lastError, LastErrorTime = _lastErrorTime };
        }
    }
}
