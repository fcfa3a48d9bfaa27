using System.Globalization;

namespace SessionTrail.Agent.Recording;

/// <summary>What one ffmpeg run records: where, how big, from which segment index on.</summary>
public sealed record CapturePlan
{
    /// <summary>x11damage, x11grab, gdigrab or ddagrab (<see cref="CaptureBackends"/>).</summary>
    public required string Backend { get; init; }

    /// <summary>X display (x11grab), e.g. ":0".</summary>
    public string Display { get; init; } = ":0";

    public required ScreenGeometry Geometry { get; init; }

    /// <summary>The session's spool folder; segments are written there as 000000.mp4, 000001.mp4 …</summary>
    public required string Directory { get; init; }

    /// <summary>Index of the first segment this run writes.</summary>
    public required int FirstIndex { get; init; }

    /// <summary>ffmpeg's segment list (CSV "file,start,end" per closed segment), outside the spool.</summary>
    public required string SegmentListPath { get; init; }

    /// <summary>ffmpeg knows `-fps_mode` (5.1 and later); older ones take `-vsync`.</summary>
    public bool FpsModeOption { get; init; } = true;
}

/// <summary>
/// Builds ffmpeg's command line (pure). One ffmpeg per geometry: the segment muxer cuts segments at
/// <see cref="RecordingOptions.MaxSegmentLength"/> without a gap (a new ffmpeg per segment loses its start-up,
/// ~1.5 s with x11grab, at every cut). Each segment is a fragmented MP4 (empty moov, a fragment every 2 s,
/// every packet flushed — also inside the segment muxer, via its format options), so a killed ffmpeg leaves
/// every fragment before the kill playable.
/// </summary>
public static class FfmpegArguments
{
    /// <summary>2 s fragments: what is on disk when ffmpeg dies is at most ~2 s (plus the encoder's buffered frames) short.</summary>
    public const int FragmentMicroseconds = 2_000_000;

    /// <summary>The MP4 flags of every segment.</summary>
    public const string MovFlags = "+frag_keyframe+empty_moov+default_base_moof";

    public static IReadOnlyList<string> Build(RecordingOptions options, CapturePlan plan)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(plan);
        var g = plan.Geometry;
        if (g.EvenWidth < 2 || g.EvenHeight < 2)
        {
            throw new ArgumentException($"geometry {g} is too small to record", nameof(plan));
        }

        var fps = options.Fps.ToString(CultureInfo.InvariantCulture);
        var size = $"{g.EvenWidth}x{g.EvenHeight}";
        var mouse = options.DrawMouse ? "1" : "0";
        var args = new List<string> { "-hide_banner", "-nostats", "-loglevel", "level+warning", "-y" };
        switch (plan.Backend)
        {
            case CaptureBackends.X11damage:
                // Raw frames from the agent (X11DamageCapture) on stdin, only when the screen changed: each is stamped
                // when it arrives (1 ms time base), a variable frame rate. The frame size is known, so nothing is probed.
                args.AddRange(["-f", "rawvideo", "-pix_fmt", "bgr0", "-video_size", size, "-framerate", "1000",
                               "-use_wallclock_as_timestamps", "1", "-probesize", "32", "-analyzeduration", "0", "-i", "pipe:0"]);
                break;
            case CaptureBackends.X11grab:
                // The whole X screen (all monitors). An odd size is cropped by grabbing one column/row less.
                args.AddRange(["-f", "x11grab", "-draw_mouse", mouse, "-framerate", fps, "-video_size", size, "-i", $"{plan.Display}+{g.X},{g.Y}"]);
                break;
            case CaptureBackends.Gdigrab:
                // The virtual screen over all monitors; offsets are virtual-screen coordinates (may be negative).
                args.AddRange(["-f", "gdigrab", "-draw_mouse", mouse, "-framerate", fps, "-offset_x", Int(g.X), "-offset_y", Int(g.Y), "-video_size", size, "-i", "desktop"]);
                break;
            case CaptureBackends.Ddagrab:
                // Desktop Duplication of the first output (one monitor per instance); D3D11 frames downloaded to system memory.
                args.AddRange(["-filter_complex", $"ddagrab=output_idx=0:framerate={fps}:draw_mouse={mouse}:video_size={size},hwdownload,format=bgra[v]", "-map", "[v]"]);
                break;
            default:
                throw new ArgumentException($"unknown capture back-end '{plan.Backend}'", nameof(plan));
        }

        var segmentSeconds = Math.Max(1, (int)Math.Round(options.MaxSegmentLength.TotalSeconds));

        // Frames: an even rate first (x11grab catches up with a burst after a late frame), then, with Decimate,
        // frames identical to the one before are dropped (at least one a second is kept) — a static screen then
        // costs almost no encoder time. Variable frame rate in the MP4 (browsers play it).
        var filter = "fps=" + fps + (options.Decimate ? ",mpdecimate=max=" + Int(Math.Max(1, options.Fps - 1)) : "");
        if (plan.Backend == CaptureBackends.X11damage)
        {
            // Frames arrive only on a change (or the idle frame): no filter, and each keeps its own time.
            args.AddRange(plan.FpsModeOption ? ["-fps_mode", "vfr"] : ["-vsync", "vfr"]);
        }
        else if (plan.Backend == CaptureBackends.Ddagrab)
        {
            // ddagrab is a filter source: ours join its graph (-vf cannot be used with -filter_complex).
            var graph = args.IndexOf("-filter_complex") + 1;
            args[graph] = args[graph].Replace("format=bgra[v]", "format=bgra," + filter + "[v]", StringComparison.Ordinal);
        }
        else
        {
            args.AddRange(["-vf", filter]);
        }
        if (options.Decimate && plan.Backend != CaptureBackends.X11damage)
        {
            args.AddRange(plan.FpsModeOption ? ["-fps_mode", "vfr"] : ["-vsync", "vfr"]);
        }

        if (!string.IsNullOrWhiteSpace(options.ScaleFlags))
        {
            args.AddRange(["-sws_flags", options.ScaleFlags]);
        }

        // Keyframes: rare (they dominate the size at a few frames a second): one per segment unless KeyframeInterval
        // is shorter, forced by time (decimated frames are irregular) so each segment starts with one and the segment
        // muxer cuts on time.
        var keyframeSeconds = Math.Max(1, (int)Math.Round(Math.Min(options.KeyframeInterval?.TotalSeconds ?? segmentSeconds, segmentSeconds)));
        var gop = (segmentSeconds * options.Fps).ToString(CultureInfo.InvariantCulture);
        var x264 = new List<string>();
        if (options.Threads > 0)
        {
            x264.Add("threads=" + Int(options.Threads));
            x264.Add("lookahead-threads=" + Int(options.Threads));
        }

        x264.Add(string.IsNullOrWhiteSpace(options.X264Params) ? "scenecut=0" : options.X264Params);
        args.AddRange([
            "-c:v", "libx264", "-preset", options.Preset, "-crf", Int(options.Crf), "-pix_fmt", "yuv420p",
            "-g", gop, "-x264-params", string.Join(':', x264),
            "-force_key_frames", $"expr:gte(t,n_forced*{Int(keyframeSeconds)})",
            "-f", "segment", "-segment_time", Int(segmentSeconds), "-segment_start_number", Int(plan.FirstIndex),
            "-segment_list", plan.SegmentListPath, "-segment_list_type", "csv", "-reset_timestamps", "1",
            "-segment_format", "mp4",
            "-segment_format_options", $"movflags={MovFlags}:frag_duration={FragmentMicroseconds}:flush_packets=1",
            "-flush_packets", "1",
            Path.Combine(plan.Directory, "%06d.mp4"),
        ]);
        return args;
    }

    private static string Int(int v) => v.ToString(CultureInfo.InvariantCulture);
}
