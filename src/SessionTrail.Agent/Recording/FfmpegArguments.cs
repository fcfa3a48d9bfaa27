using System.Globalization;

namespace SessionTrail.Agent.Recording;

/// <summary>What one ffmpeg run records: where, how big, from which segment index on.</summary>
public sealed record CapturePlan
{
    /// <summary>x11grab, gdigrab or ddagrab (<see cref="CaptureBackends"/>).</summary>
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
        var args = new List<string> { "-hide_banner", "-nostats", "-loglevel", "level+warning", "-y" };
        switch (plan.Backend)
        {
            case CaptureBackends.X11grab:
                // The whole X screen (all monitors). An odd size is cropped by grabbing one column/row less.
                args.AddRange(["-f", "x11grab", "-draw_mouse", "1", "-framerate", fps, "-video_size", size, "-i", $"{plan.Display}+{g.X},{g.Y}"]);
                break;
            case CaptureBackends.Gdigrab:
                // The virtual screen over all monitors; offsets are virtual-screen coordinates (may be negative).
                args.AddRange(["-f", "gdigrab", "-draw_mouse", "1", "-framerate", fps, "-offset_x", Int(g.X), "-offset_y", Int(g.Y), "-video_size", size, "-i", "desktop"]);
                break;
            case CaptureBackends.Ddagrab:
                // Desktop Duplication of the first output (one monitor per instance); D3D11 frames downloaded to system memory.
                args.AddRange(["-filter_complex", $"ddagrab=output_idx=0:framerate={fps}:draw_mouse=1:video_size={size},hwdownload,format=bgra[v]", "-map", "[v]"]);
                break;
            default:
                throw new ArgumentException($"unknown capture back-end '{plan.Backend}'", nameof(plan));
        }

        var segmentSeconds = Math.Max(1, (int)Math.Round(options.MaxSegmentLength.TotalSeconds));
        var keyframeSeconds = Math.Max(1, (int)Math.Round((options.KeyframeInterval ?? TimeSpan.FromSeconds(Math.Max(segmentSeconds, 60))).TotalSeconds));
        var gop = (keyframeSeconds * options.Fps).ToString(CultureInfo.InvariantCulture);
        args.AddRange([
            "-c:v", "libx264", "-preset", options.Preset, "-crf", Int(options.Crf), "-pix_fmt", "yuv420p",
            "-g", gop, "-keyint_min", gop, "-x264-params", "scenecut=0",
            // A keyframe exactly where each segment starts, so the segment muxer cuts on time.
            "-force_key_frames", $"expr:gte(t,n_forced*{segmentSeconds})",
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
