using SessionTrail.Agent.Platform;

namespace SessionTrail.Agent.Recording;

/// <summary>
/// Screen recording settings (agent config section "Agent:Recording", `up --record`). The recorder
/// (<c>Recording/</c>) and the uploader (<c>Recording/Upload/</c>) both read them.
/// </summary>
public sealed class RecordingOptions
{
    /// <summary>Record sessions at all. Off unless `--record` or config turns it on.</summary>
    public bool Enabled { get; set; }

    /// <summary>ffmpeg executable: a path, or a name looked up on PATH.</summary>
    public string FfmpegPath { get; set; } = HostOs.IsWindows ? "ffmpeg.exe" : "ffmpeg";

    /// <summary>Capture back-end: "x11damage" (Linux default: the agent grabs only changed frames, see <see cref="X11.X11DamageCapture"/>; x11grab when the display lacks DAMAGE/MIT-SHM/XFIXES), "x11grab" (ffmpeg grabs every frame), "gdigrab" or "ddagrab" (Windows). Null picks the OS default.</summary>
    public string? Backend { get; set; }

    /// <summary>X display to capture (Linux); null uses $DISPLAY, else ":0".</summary>
    public string? Display { get; set; }

    /// <summary>Frames per second captured (1–30).</summary>
    public int Fps { get; set; } = 5;

    /// <summary>x264 constant rate factor (0–51, lower is better quality and bigger). Defaults from `bench record` (docs/performance.md "Screen recording").</summary>
    public int Crf { get; set; } = 22;

    /// <summary>x264 preset (ultrafast … veryslow).</summary>
    public string Preset { get; set; } = "fast";

    /// <summary>Drop frames identical to the previous one before encoding (ffmpeg `fps` then `mpdecimate=max=fps-1`: a frame at least every second, every 2 s at 1 fps, still reaches the file): a static screen costs almost no encoder time.</summary>
    public bool Decimate { get; set; } = true;

    /// <summary>x11damage: while nothing changes on the screen, the last frame is sent again this often, so fragments keep reaching the disk and the server (a live view advances) and segments are cut on time.</summary>
    public TimeSpan IdleFrameInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Draw the mouse pointer into the recording.</summary>
    public bool DrawMouse { get; set; } = true;

    /// <summary>Time between keyframes (forced by time, as mpdecimate makes frames irregular): a player seeks to the keyframe before the point and decodes from there. Null (the default) means one per segment (<see cref="MaxSegmentLength"/>): keyframes dominate the size of a static screen, and 60 s costs ~6–8 MB/h more at 1080p (docs/performance.md "Screen recording").</summary>
    public TimeSpan? KeyframeInterval { get; set; }

    /// <summary>x264 encoder threads (and lookahead threads); 1 costs the least CPU at a few frames per second. 0 lets x264 choose.</summary>
    public int Threads { get; set; } = 1;

    /// <summary>Further x264 parameters (`-x264-params`, key=value joined by ':'); the defaults keep keyframes at the interval only, no B-frames and a short lookahead (5 frames wait in the encoder: at most ~5 s on a static screen, 1 s at 5 fps when busy; fragments reach the server sooner and a kill loses little), ref=3 pays on scrolling text.</summary>
    public string X264Params { get; set; } = "scenecut=0:bframes=0:rc-lookahead=5:ref=3";

    /// <summary>ffmpeg `-sws_flags` for the RGB → yuv420p conversion, the largest CPU cost on a static screen; "neighbor" (point-sampled chroma) is the cheapest; null keeps ffmpeg's default (bicubic).</summary>
    public string? ScaleFlags { get; set; } = "neighbor";

    /// <summary>XAUTHORITY for the X display (x11grab, xrandr, xmessage); null inherits the agent's environment.</summary>
    public string? XAuthority { get; set; }

    /// <summary>Longest segment; a new file starts after it.</summary>
    public TimeSpan MaxSegmentLength { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>How often the screen geometry is checked (at most 2 s).</summary>
    public TimeSpan GeometryPollInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>How long ffmpeg gets to finish after `q` before its process tree is killed.</summary>
    public TimeSpan StopTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Local spool cap in bytes; when reached the oldest uploaded segments are deleted first.</summary>
    public long SpoolMaxBytes { get; set; } = 2L << 30;

    /// <summary>Where segments go: "server" (default), "s3", "both", or "none" (kept in the agent's spool only; recording pauses when the spool is full).</summary>
    public string Upload { get; set; } = "server";

    /// <summary>How often the open segment's new fragments are sent for near-live viewing.</summary>
    public TimeSpan LiveUploadInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Upload chunk size in bytes.</summary>
    public int ChunkBytes { get; set; } = 4 << 20;

    /// <summary>Which sessions are recorded; empty lists mean all.</summary>
    public RecordingPolicy Policy { get; set; } = new();

    /// <summary>Text shown to the user when a recorded session starts; null for no notice.</summary>
    public string? NoticeText { get; set; }

    /// <summary>Straight-to-S3 upload (the seed's layout), used when <see cref="Upload"/> is "s3" or "both".</summary>
    public RecordingS3Options? S3 { get; set; }

    /// <summary>The first bad recorder setting (its name under Agent:Recording and what is wrong), or null.</summary>
    public (string Setting, string Problem)? Problem()
    {
        if (string.IsNullOrWhiteSpace(FfmpegPath))
        {
            return (nameof(FfmpegPath), "is required");
        }

        if (Backend is not null && Backend.Trim().ToLowerInvariant() is not (CaptureBackends.X11damage or CaptureBackends.X11grab or CaptureBackends.Gdigrab or CaptureBackends.Ddagrab))
        {
            return (nameof(Backend), $"is '{Backend}'; it must be x11damage, x11grab, gdigrab or ddagrab");
        }

        if (IdleFrameInterval < TimeSpan.FromMilliseconds(100) || IdleFrameInterval > TimeSpan.FromSeconds(10))
        {
            return (nameof(IdleFrameInterval), $"is {IdleFrameInterval}; it must be between 0.1 s and 10 s");
        }

        if (Fps is < 1 or > 30)
        {
            return (nameof(Fps), $"is {Fps}; it must be between 1 and 30");
        }

        if (Crf is < 0 or > 51)
        {
            return (nameof(Crf), $"is {Crf}; it must be between 0 and 51");
        }

        if (Preset is not ("ultrafast" or "superfast" or "veryfast" or "faster" or "fast" or "medium" or "slow" or "slower" or "veryslow" or "placebo"))
        {
            return (nameof(Preset), $"is '{Preset}'; it must be an x264 preset (ultrafast … veryslow)");
        }

        if (MaxSegmentLength < TimeSpan.FromSeconds(1) || MaxSegmentLength > TimeSpan.FromHours(24))
        {
            return (nameof(MaxSegmentLength), $"is {MaxSegmentLength}; it must be between 1 s and 24 h");
        }

        if (KeyframeInterval is { } k && (k < TimeSpan.FromSeconds(1) || k > TimeSpan.FromHours(1)))
        {
            return (nameof(KeyframeInterval), $"is {k}; it must be between 1 s and 1 h");
        }

        if (GeometryPollInterval <= TimeSpan.Zero || GeometryPollInterval > TimeSpan.FromSeconds(2))
        {
            return (nameof(GeometryPollInterval), $"is {GeometryPollInterval}; it must be positive and at most 2 s");
        }

        return StopTimeout < TimeSpan.Zero || StopTimeout > TimeSpan.FromMinutes(5) ? (nameof(StopTimeout), $"is {StopTimeout}; it must be between 0 and 5 min") : null;
    }
}

/// <summary>Which sessions are recorded. A session is recorded when every non-empty list matches it.</summary>
public sealed class RecordingPolicy
{
    public List<string> Stacks { get; set; } = [];

    public List<string> Fleets { get; set; } = [];

    public List<string> Users { get; set; } = [];

    /// <summary>Groups (Linux groups of the user, Windows groups); the user must be in one of them.</summary>
    public List<string> Groups { get; set; } = [];

    /// <summary>Users never recorded, whatever the lists above say.</summary>
    public List<string> ExcludeUsers { get; set; } = [];
}

/// <summary>The seed's S3 layout: {Prefix}{stack}/{fleet}/{session}/{yyyy-MM-dd_HH-mm-ss}-metadata.txt and …-video.mp4.</summary>
public sealed class RecordingS3Options
{
    public required string Bucket { get; set; }

    public string Prefix { get; set; } = "";

    public string? Region { get; set; }

    /// <summary>Endpoint for S3-compatible servers (path-style addressing).</summary>
    public string? ServiceUrl { get; set; }

    /// <summary>Named profile in the AWS shared config; null uses the default credential chain.</summary>
    public string? Profile { get; set; }
}
