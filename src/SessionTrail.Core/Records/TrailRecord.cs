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

/// <summary>A session began or ended, with what is known of it (<see cref="Fields"/>).</summary>
public sealed record SessionRecord : TrailRecord
{
    public override string Kind => RecordKinds.Session;

    public required SessionEventType Type { get; init; }

    /// <summary>The session's fields. The properties below read and set them one by one.</summary>
    public SessionFields Fields { get; init; }

    public string? User { get => Fields.User; init => Fields = Fields with { User = value }; }

    public string? Stack { get => Fields.Stack; init => Fields = Fields with { Stack = value }; }

    public string? Fleet { get => Fields.Fleet; init => Fields = Fields with { Fleet = value }; }

    /// <summary>AppStream_User_Access_Mode (the seed's auth_type).</summary>
    public string? AccessMode { get => Fields.AccessMode; init => Fields = Fields with { AccessMode = value }; }

    /// <summary>AppStream_Session_Reservation_DateTime, as given.</summary>
    public string? ReservationTime { get => Fields.ReservationTime; init => Fields = Fields with { ReservationTime = value }; }

    public string? InstanceType { get => Fields.InstanceType; init => Fields = Fields with { InstanceType = value }; }

    public string? Region { get => Fields.Region; init => Fields = Fields with { Region = value }; }

    public string? ImageArn { get => Fields.ImageArn; init => Fields = Fields with { ImageArn = value }; }
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

/// <summary>
/// A closed segment of a session's screen recording (one video file). Segments of a session are numbered
/// from 0 and hash-chained: <see cref="PreviousSha256"/> is the <see cref="Sha256"/> of segment
/// <see cref="Index"/> - 1 (null for index 0), so a missing, reordered or altered segment is detectable.
/// <see cref="TrailRecord.Time"/> is when the segment was closed; <see cref="TrailRecord.Session"/> is required.
/// Wire kind "segment".
/// </summary>
public sealed record RecordingSegmentRecord : TrailRecord
{
    public override string Kind => RecordKinds.Segment;

    /// <summary>0-based position of the segment in its session's recording; continues across agent restarts.</summary>
    public required int Index { get; init; }

    /// <summary>Time of the first frame (UTC).</summary>
    public required DateTimeOffset Start { get; init; }

    /// <summary>Time of the last frame (UTC).</summary>
    public required DateTimeOffset End { get; init; }

    /// <summary>Pixels captured, the whole screen at the time.</summary>
    public required int Width { get; init; }

    public required int Height { get; init; }

    /// <summary>Frames per second asked of the capture.</summary>
    public required int Fps { get; init; }

    /// <summary>Video codec as ffprobe names it, e.g. "h264".</summary>
    public required string Codec { get; init; }

    /// <summary>Size of the file in bytes.</summary>
    public required long Bytes { get; init; }

    /// <summary>SHA-256 of the file, lowercase hex (64 characters).</summary>
    public required string Sha256 { get; init; }

    /// <summary>SHA-256 of the previous segment of the same session; null for index 0.</summary>
    public string? PreviousSha256 { get; init; }

    /// <summary>File name of the segment, e.g. "000003.mp4".</summary>
    public required string File { get; init; }

    /// <summary>Why the segment was closed: see <see cref="SegmentEndReasons"/>.</summary>
    public string? EndReason { get; init; }
}

/// <summary>Values of <see cref="RecordingSegmentRecord.EndReason"/>.</summary>
public static class SegmentEndReasons
{
    /// <summary>It reached the maximum segment length.</summary>
    public const string MaxLength = "max-length";

    /// <summary>The screen size or monitor layout changed.</summary>
    public const string Geometry = "geometry";

    /// <summary>The session ended (or the recording was stopped).</summary>
    public const string SessionEnd = "session-end";

    /// <summary>ffmpeg exited or was killed while recording it.</summary>
    public const string FfmpegExit = "ffmpeg-exit";

    /// <summary>Found unclosed after an agent crash and closed at the next start.</summary>
    public const string Recovered = "recovered";

    /// <summary>The local spool reached its cap with segments not yet uploaded: recording pauses.</summary>
    public const string SpoolFull = "spool-full";

    /// <summary>The agent stopped (service stop, shutdown).</summary>
    public const string AgentStop = "agent-stop";
}

/// <summary>
/// Something that happened to a session's recording, shown on the session's timeline: it started or
/// stopped, a gap (ffmpeg died and was restarted, the geometry changed), an error, a notice shown to the
/// user, or the policy not recording the session. Wire kind "recording"; <see cref="TrailRecord.Session"/> is required.
/// </summary>
public sealed record RecordingEventRecord : TrailRecord
{
    public override string Kind => RecordKinds.Recording;

    /// <summary>One of <see cref="RecordingEventTypes"/>.</summary>
    public required string Type { get; init; }

    /// <summary>What happened, for people; may be empty, never null.</summary>
    public required string Message { get; init; }

    /// <summary>For a gap: the last moment recorded before it.</summary>
    public DateTimeOffset? GapStart { get; init; }

    /// <summary>For a gap: the first moment recorded after it (null while it lasts).</summary>
    public DateTimeOffset? GapEnd { get; init; }

    /// <summary>The screen size from this event on (started, geometry).</summary>
    public int? Width { get; init; }

    public int? Height { get; init; }

    /// <summary>For stopped: how many segments the session's recording has in all (indexes 0 … Segments-1), so a missing last one shows.</summary>
    public int? Segments { get; init; }
}

/// <summary>Values of <see cref="RecordingEventRecord.Type"/>.</summary>
public static class RecordingEventTypes
{
    public const string Started = "started";
    public const string Stopped = "stopped";
    public const string Gap = "gap";
    public const string Geometry = "geometry";
    public const string Error = "error";
    public const string Notice = "notice";
    public const string NotRecorded = "not-recorded";
}

public static class RecordKinds
{
    public const string Process = "process";
    public const string Session = "session";
    public const string Log = "log";
    public const string Segment = "segment";
    public const string Recording = "recording";
}
