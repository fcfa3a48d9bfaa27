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

    /// <summary>The status as indented JSON (for `sessiontrail agent status --format json`).</summary>
    public string ToJson() => JsonSerializer.Serialize(this, StatusJsonContext.Default.AgentStatus);
}

public sealed record SinkStatus
{
    public required string Name { get; init; }

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

    /// <summary>"starting", "running", "restarting" (after a failure), "completed" or "stopped".</summary>
    public required string State { get; init; }

    public int Restarts { get; init; }

    public string? LastError { get; init; }

    public DateTimeOffset? LastErrorTime { get; init; }
}

[JsonSourceGenerationOptions(WriteIndented = true, PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(AgentStatus))]
internal sealed partial class StatusJsonContext : JsonSerializerContext;
