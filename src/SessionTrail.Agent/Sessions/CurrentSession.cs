using System.Text.Json.Serialization;

namespace SessionTrail.Agent.Sessions;

/// <summary>What `sessiontrail session start` was given (all optional; see <see cref="SessionEnvironment"/>).</summary>
public sealed record SessionStartRequest
{
    public string? Id { get; init; }

    public string? User { get; init; }

    public string? Stack { get; init; }

    public string? Fleet { get; init; }

    public string? AccessMode { get; init; }

    public string? ReservationTime { get; init; }

    public string? InstanceType { get; init; }

    public string? Region { get; init; }

    public string? ImageArn { get; init; }
}

/// <summary>The explicit current session, as kept in DIR/agent/session.json.</summary>
public sealed record CurrentSession
{
    public required string Id { get; init; }

    public string? User { get; init; }

    public string? Stack { get; init; }

    public string? Fleet { get; init; }

    public string? AccessMode { get; init; }

    public string? ReservationTime { get; init; }

    public string? InstanceType { get; init; }

    public string? Region { get; init; }

    public string? ImageArn { get; init; }

    public required DateTimeOffset Started { get; init; }

    /// <summary>Set by `sessiontrail session end`; null while the session is active.</summary>
    public DateTimeOffset? Ended { get; init; }

    [JsonIgnore]
    public bool IsActive => Ended is null;
}

[JsonSourceGenerationOptions(WriteIndented = true, PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(CurrentSession))]
internal sealed partial class SessionJsonContext : JsonSerializerContext;
