namespace SessionTrail.Agent.Recording;

/// <summary>The screen recorder as `sessiontrail agent status` shows it (in DIR/agent/status.json).</summary>
public sealed record RecorderStatus
{
    /// <summary>"idle" (no session), "starting", "recording", "restarting", "not-recorded" (policy), "failed" (ffmpeg unusable), "stopped".</summary>
    public required string State { get; init; }

    public string? Session { get; init; }

    /// <summary>Index of the segment being written; null when none.</summary>
    public int? SegmentIndex { get; init; }

    /// <summary>Bytes of the segment being written so far.</summary>
    public long? SegmentBytes { get; init; }

    public int? Width { get; init; }

    public int? Height { get; init; }

    public int? FfmpegPid { get; init; }

    /// <summary>The capture back-end of the current run (x11damage, x11grab, gdigrab, ddagrab).</summary>
    public string? Backend { get; init; }

    /// <summary>x11damage: frames sent to ffmpeg during the current run, and how many of them were new pictures (screen or pointer changed).</summary>
    public long? FramesSent { get; init; }

    public long? FramesChanged { get; init; }

    /// <summary>ffmpeg restarts after it died (not counting geometry changes or segment cuts).</summary>
    public int Restarts { get; init; }

    public int SegmentsClosed { get; init; }

    public string? LastError { get; init; }

    public DateTimeOffset? LastErrorTime { get; init; }
}
