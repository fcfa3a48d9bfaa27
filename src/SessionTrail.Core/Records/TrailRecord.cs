namespace SessionTrail.Core.Records;

/// <summary>
/// One record as it travels from an agent to the server. Every record carries a stable
/// <see cref="Id"/> (agent id + ":" + sequence for agent records) so that a record sent twice
/// (at-least-once delivery) is stored once.
/// </summary>
public abstract record TrailRecord
{
    /// <summary>Stable, unique id. Empty until the agent's pipeline assigns one.</summary>
    public string Id { get; init; } = "";

    /// <summary>When it happened, UTC.</summary>
    public required DateTimeOffset Time { get; init; }

    /// <summary>Host name of the machine it happened on.</summary>
    public required string Host { get; init; }

    /// <summary>The session this record belongs to, when known.</summary>
    public string? Session { get; init; }

    /// <summary>The wire name of the record kind ("process", "session", "log").</summary>
    public abstract string Kind { get; }
}

public enum ProcessEventType
{
    Start,
    Exit,
}

/// <summary>A process started (exec) or exited.</summary>
public sealed record ProcessRecord : TrailRecord
{
    public override string Kind => RecordKinds.Process;

    public required ProcessEventType Type { get; init; }

    public required int Pid { get; init; }

    public int? ParentPid { get; init; }

    /// <summary>Full path of the executable. Required for a start; optional for an exit.</summary>
    public string? Executable { get; init; }

    /// <summary>Command line, arguments separated by spaces, when it could be read.</summary>
    public string? CommandLine { get; init; }

    /// <summary>Real user id (Linux) of the process.</summary>
    public long? Uid { get; init; }

    /// <summary>User name (Linux login name, Windows DOMAIN\user or SID) when known.</summary>
    public string? User { get; init; }

    /// <summary>Linux audit login uid (/proc/PID/loginuid); the user who logged in, even after su/sudo.</summary>
    public long? LoginUid { get; init; }

    /// <summary>Linux audit session id (/proc/PID/sessionid), or the Windows logon id.</summary>
    public long? AuditSession { get; init; }

    /// <summary>Exit code, for an exit when known.</summary>
    public int? ExitCode { get; init; }
}

public enum SessionEventType
{
    Start,
    End,
}

/// <summary>A session began or ended. The fields of DESIGN.md "Session".</summary>
public sealed record SessionRecord : TrailRecord
{
    public override string Kind => RecordKinds.Session;

    public required SessionEventType Type { get; init; }

    public string? User { get; init; }

    public string? Stack { get; init; }

    public string? Fleet { get; init; }

    /// <summary>AppStream_User_Access_Mode (the seed's auth_type).</summary>
    public string? AccessMode { get; init; }

    /// <summary>AppStream_Session_Reservation_DateTime, as given.</summary>
    public string? ReservationTime { get; init; }

    public string? InstanceType { get; init; }

    public string? Region { get; init; }

    public string? ImageArn { get; init; }
}

/// <summary>
/// One log entry (a Windows event, a journald entry, a line of a file), with its structured fields by
/// name and the decoration the agent's pipes added (e.g. the session's user and stack).
/// </summary>
public sealed record LogRecord : TrailRecord
{
    public override string Kind => RecordKinds.Log;

    /// <summary>Id of the agent source that read it (required).</summary>
    public required string Source { get; init; }

    /// <summary>Channel or log name (Windows "Application", a journald unit, a file path).</summary>
    public string? Channel { get; init; }

    /// <summary>Provider (Windows event provider, journald SYSLOG_IDENTIFIER).</summary>
    public string? Provider { get; init; }

    /// <summary>Windows event id, when the source has one.</summary>
    public int? EventId { get; init; }

    /// <summary>Level as the source names it (e.g. "Information", "err").</summary>
    public string? Level { get; init; }

    /// <summary>The message text; may be empty, never null.</summary>
    public required string Message { get; init; }

    /// <summary>Structured fields by name (Windows EventData, journald fields).</summary>
    public IReadOnlyDictionary<string, string>? Fields { get; init; }

    /// <summary>Fields added by the agent's pipes (e.g. user, stack).</summary>
    public IReadOnlyDictionary<string, string>? Decoration { get; init; }
}

public static class RecordKinds
{
    public const string Process = "process";
    public const string Session = "session";
    public const string Log = "log";
}
