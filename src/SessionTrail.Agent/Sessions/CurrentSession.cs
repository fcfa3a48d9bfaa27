using System.Text.Json.Serialization;
using SessionTrail.Core.Records;

namespace SessionTrail.Agent.Sessions;

/// <summary>What `sessiontrail session start` was given (all optional; see <see cref="SessionEnvironment"/>).</summary>
public sealed record SessionStartRequest
{
    public string? Id { get; init; }

    public SessionFields Fields { get; init; }
}

/// <summary>
/// The explicit current session, as kept in DIR/agent/session.json (and in a recording spool's session.json).
/// The file keeps the fields flat beside id and times ("id", "user", "stack", …, "started", "ended").
/// </summary>
public sealed record CurrentSession
{
    public required string Id { get; init; }

    /// <summary>What is known of the session besides its id and times.</summary>
    [JsonIgnore]
    public SessionFields Fields { get; init; }

    // The file's flat field names, for JSON only: code reads and sets Fields. Declared here so that the file
    // keeps its order. (Internal, not private: the source generator cannot reach private members.)
    [JsonInclude, JsonPropertyName("user")]
    internal string? FileUser { get => Fields.User; init => Fields = Fields with { User = value }; }

    [JsonInclude, JsonPropertyName("stack")]
    internal string? FileStack { get => Fields.Stack; init => Fields = Fields with { Stack = value }; }

    [JsonInclude, JsonPropertyName("fleet")]
    internal string? FileFleet { get => Fields.Fleet; init => Fields = Fields with { Fleet = value }; }

    [JsonInclude, JsonPropertyName("accessMode")]
    internal string? FileAccessMode { get => Fields.AccessMode; init => Fields = Fields with { AccessMode = value }; }

    [JsonInclude, JsonPropertyName("reservationTime")]
    internal string? FileReservationTime { get => Fields.ReservationTime; init => Fields = Fields with { ReservationTime = value }; }

    [JsonInclude, JsonPropertyName("instanceType")]
    internal string? FileInstanceType { get => Fields.InstanceType; init => Fields = Fields with { InstanceType = value }; }

    [JsonInclude, JsonPropertyName("region")]
    internal string? FileRegion { get => Fields.Region; init => Fields = Fields with { Region = value }; }

    [JsonInclude, JsonPropertyName("imageArn")]
    internal string? FileImageArn { get => Fields.ImageArn; init => Fields = Fields with { ImageArn = value }; }

    public required DateTimeOffset Started { get; init; }

    /// <summary>Set by `sessiontrail session end`; null while the session is active.</summary>
    public DateTimeOffset? Ended { get; init; }

    [JsonIgnore]
    public bool IsActive => Ended is null;
}

[JsonSourceGenerationOptions(WriteIndented = true, PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(CurrentSession))]
internal sealed partial class SessionJsonContext : JsonSerializerContext;
