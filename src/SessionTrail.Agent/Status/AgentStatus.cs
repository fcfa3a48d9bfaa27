using System.Text.Json;
using System.Text.Json.Serialization;
using SessionTrail.Agent.Delivery;
using SessionTrail.Agent.Storage;
using SessionTrail.Core;

namespace SessionTrail.Agent.Status;

/// <summary>What the running agent reports in DIR/agent/status.json (rewritten every 2 s and on notable changes).</summary>
public sealed record AgentStatus
{
    public const string FileName = "status.json";

    public required DateTimeOffset WrittenAt { get; init; }

    public required string AgentId { get; init; }

    /// <summary>"running", "stopping" or "stopped".</summary>
    public required string State { get; init; }

    public required DateTimeOffset StartedAt { get; init; }

    public required IReadOnlyList<SinkStatus> Sinks { get; init; }

    public required IReadOnlyList<SourceStatus> Sources { get; init; }

    /// <summary>The log pipes (KinesisTap "Pipes") with their filter counts; empty without log shipping.</summary>
    public IReadOnlyList<PipeStatus> Pipes { get; init; } = [];

    /// <summary>The config file and its reloads; null when the agent runs without watching one.</summary>
    public ConfigStatus? Config { get; init; }

    /// <summary>The screen recorder; null when recording is off.</summary>
    public Recording.RecorderStatus? Recorder { get; init; }

    /// <summary>The recording uploader (spool, pending segments, live lag); null when the agent does not record.</summary>
    public Recording.Upload.RecordingUploadStatus? RecordingUpload { get; init; }

    /// <summary>
    /// Reads DIR/agent/status.json. Null when the agent never ran there. Throws
    /// <see cref="InvalidDataException"/> when the file is not a status document.
    /// </summary>
    public static AgentStatus? Read(string dataDir)
    {
        var path = FilePath(dataDir);
        if (!File.Exists(path))
        {
            return null;
        }

        try
        {
            return JsonSerializer.Deserialize(File.ReadAllBytes(path), StatusJsonContext.Default.AgentStatus);
        }
        catch (JsonException ex)
        {
            throw new InvalidDataException($"{path} is not a SessionTrail agent status: {ex.Message}", ex);
        }
    }

    public static string FilePath(string dataDir) => Path.Combine(DataDirectory.AgentDirectory(dataDir), FileName);

    /// <summary>Writes atomically (temp file, flush, rename).</summary>
    public void Write(string dataDir) =>
        AtomicFile.WriteAllBytes(FilePath(dataDir), JsonSerializer.SerializeToUtf8Bytes(this, StatusJsonContext.Default.AgentStatus));

    /// <summary>The status as indented JSON (for `sessiontrail agent status --json`).</summary>
    public string ToJson() => JsonSerializer.Serialize(this, StatusJsonContext.Default.AgentStatus);
}

public sealed record SinkStatus
{
    public required string Name { get; init; }

    /// <summary>A log sink's "SinkType" (e.g. "OpenSearch"); null for the agent's own sinks.</summary>
    public string? SinkType { get; init; }

    /// <summary>"ok", or "queue full" while <see cref="Full"/>.</summary>
    public string State { get; init; } = "ok";

    /// <summary>What the queue does when full (DropOldest, RejectNew, Block).</summary>
    public string? QueueFullPolicy { get; init; }

    public long PendingRecords { get; init; }

    public long PendingBytes { get; init; }

    /// <summary>Age of the oldest undelivered record (upper bound: the age of its queue segment); null when none.</summary>
    public double? OldestPendingSeconds { get; init; }

    /// <summary>Records acknowledged by the sink since the agent started.</summary>
    public long AckedTotal { get; init; }

    /// <summary>Records lost to the queue cap (DropOldest / RejectNew) since the agent started.</summary>
    public long DroppedTotal { get; init; }

    /// <summary>Records written to DIR/agent/dead-letter/&lt;sink&gt;.ndjson since the agent started.</summary>
    public long DeadLetteredTotal { get; init; }

    public long RetriesTotal { get; init; }

    /// <summary>Sinks that deliver objects (S3): objects still filling (sessions not ended); null for other sinks.</summary>
    public long? OpenObjects { get; init; }

    /// <summary>Objects complete and waiting for their upload; null for other sinks.</summary>
    public long? PendingUploads { get; init; }

    /// <summary>Objects uploaded since the agent started; null for other sinks.</summary>
    public long? UploadedTotal { get; init; }

    /// <summary>True from when the queue hit its size cap until it is back below half of it.</summary>
    public bool Full { get; init; }

    public IReadOnlyList<ErrorEntry> RecentErrors { get; init; } = [];
}

public sealed record SourceStatus
{
    public required string Name { get; init; }

    /// <summary>A log source's "SourceType"; null for the agent's own sources.</summary>
    public string? SourceType { get; init; }

    /// <summary>"starting", "running", "restarting" (after a failure), "completed" or "stopped".</summary>
    public required string State { get; init; }

    public int Restarts { get; init; }

    public string? LastError { get; init; }

    public DateTimeOffset? LastErrorTime { get; init; }
}

/// <summary>A log pipe: which source feeds which sink, and what its filter let through.</summary>
public sealed record PipeStatus
{
    public required string Id { get; init; }

    public required string Source { get; init; }

    public required string Sink { get; init; }

    /// <summary>The filter pattern ("not " first when negated); null for a direct pipe.</summary>
    public string? Filter { get; init; }

    public long? Passed { get; init; }

    public long? Blocked { get; init; }

    /// <summary>Matches that took longer than the match timeout (counted as no match).</summary>
    public long? Timeouts { get; init; }
}

/// <summary>The agent's config file as the status shows it.</summary>
public sealed record ConfigStatus
{
    public required string File { get; init; }

    /// <summary>When the config now running was loaded.</summary>
    public required DateTimeOffset LoadedAt { get; init; }

    /// <summary>Reloads applied since the agent started.</summary>
    public int Reloads { get; init; }

    /// <summary>Why the latest change of the file was refused (the old config keeps running); null when it was applied.</summary>
    public string? ReloadError { get; init; }

    public DateTimeOffset? ReloadErrorTime { get; init; }
}

/// <summary>The live, thread-safe config state a reloader updates and the host reports.</summary>
public sealed class ConfigState(string file, DateTimeOffset loadedAt)
{
    private readonly Lock _lock = new();
    private DateTimeOffset _loadedAt = loadedAt;
    private int _reloads;
    private string? _error;
    private DateTimeOffset? _errorTime;

    public string File { get; } = file;

    public void Loaded(DateTimeOffset at)
    {
        lock (_lock)
        {
            _loadedAt = at;
            _reloads++;
            _error = null;
            _errorTime = null;
        }
    }

    public void Refused(DateTimeOffset at, string error)
    {
        lock (_lock)
        {
            _error = error;
            _errorTime = at;
        }
    }

    public ConfigStatus Snapshot()
    {
        lock (_lock)
        {
            return new ConfigStatus { File = File, LoadedAt = _loadedAt, Reloads = _reloads, ReloadError = _error, ReloadErrorTime = _errorTime };
        }
    }
}

[JsonSourceGenerationOptions(WriteIndented = true, PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(AgentStatus))]
internal sealed partial class StatusJsonContext : JsonSerializerContext;
