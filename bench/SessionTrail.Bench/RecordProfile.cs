using System.Globalization;
using SessionTrail.Agent.Recording;

namespace SessionTrail.Bench;

/// <summary>
/// One set of ffmpeg settings compared by `bench record`: the input options (after `-f x11grab`), the
/// output options (before the file name), how many keyframes it puts into a stretch of frames
/// (fps, frames, seconds → keyframes) and its segment length, both needed to turn a short run into
/// megabytes per hour of 5-minute files.
/// </summary>
public sealed record RecordProfile(string Name, Func<int, string[]> InputArgs, Func<int, string[]> OutputArgs, Func<int, double, double, double> Keyframes, int SegmentSeconds)
{
    /// <summary>Fragmented MP4 that survives kill -9 (see shared/notes/recording-ffmpeg.md).</summary>
    internal static readonly string[] Fragmented =
        ["-movflags", "+frag_keyframe+empty_moov+default_base_moof", "-frag_duration", "2000000", "-flush_packets", "1"];

    /// <summary>The seed's command: `-f gdigrab -framerate 5 -t 300 -i desktop -vcodec libx264 -pix_fmt yuv420p` (x264 defaults: medium, crf 23, keyint 250), plain MP4.</summary>
    public static RecordProfile Seed { get; } = new("seed", fps => ["-framerate", Str(fps)], _ => ["-vcodec", "libx264", "-pix_fmt", "yuv420p"], (_, frames, _) => Math.Ceiling(frames / 250), 300);

    /// <summary>SessionTrail's defaults, built from <see cref="RecordingOptions"/> as the recorder builds them.</summary>
    public static RecordProfile SessionTrail(RecordingOptions o) => new(
        "sessiontrail",
        fps => ["-framerate", Str(fps), "-draw_mouse", "1"],
        fps => SessionTrailOutput(o, fps),
        (_, _, seconds) => Math.Ceiling(seconds / (o.KeyframeInterval ?? o.MaxSegmentLength).TotalSeconds),
        (int)o.MaxSegmentLength.TotalSeconds);

    /// <summary>
    /// A profile from the command line: NAME=OUTPUT-ARGS, where {fps} and {gop} (one keyframe per 5-minute
    /// segment) are replaced, e.g. `fast=-c:v libx264 -preset veryfast -pix_fmt yuv420p -g {gop}`.
    /// The keyframe interval is read from `-g` (x264's default 250 without it).
    /// </summary>
    public static RecordProfile Parse(string spec)
    {
        var eq = spec.IndexOf('=', StringComparison.Ordinal);
        if (eq <= 0)
        {
            throw new ArgumentException($"--profile '{spec}': expected NAME=ffmpeg output options");
        }

        var name = spec[..eq];
        var template = spec[(eq + 1)..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        string[] Expand(int fps) => template.Select(a => a.Replace("{fps}", Str(fps), StringComparison.Ordinal)
                                                          .Replace("{gop}", Str(fps * 300), StringComparison.Ordinal)).ToArray();
        double Keys(int fps, double frames, double seconds)
        {
            var args = Expand(fps);
            var i = Array.IndexOf(args, "-g");
            return Math.Ceiling(frames / (i >= 0 && i + 1 < args.Length ? int.Parse(args[i + 1], CultureInfo.InvariantCulture) : 250));
        }

        return new(name, fps => ["-framerate", Str(fps), "-draw_mouse", "1"], Expand, Keys, 300);
    }

    /// <summary>The output options for <paramref name="o"/> at <paramref name="fps"/> (everything between the input and the file name).</summary>
    public static string[] SessionTrailOutput(RecordingOptions o, int fps)
    {
        var args = new List<string>();
        // fps first: x11grab catches up after a late frame with a burst of extra frames (seen under load); the fps filter
        // keeps the grid (as the seed's default constant frame rate does) before the costly RGB → YUV conversion.
        // mpdecimate max = most consecutive frames dropped: at least one frame a second reaches the encoder and the file.
        var filter = o.Decimate ? $"fps={Str(fps)},mpdecimate=max={Str(Math.Max(1, fps - 1))}" : $"fps={Str(fps)}";
        args.AddRange(["-vf", filter, "-fps_mode", "vfr"]);

        if (o.ScaleFlags is { Length: > 0 } flags)
        {
            args.AddRange(["-sws_flags", flags]);
        }

        var x264 = $"threads={Str(o.Threads)}:lookahead-threads={Str(o.Threads)}";
        if (o.X264Params.Length > 0)
        {
            x264 += ":" + o.X264Params;
        }

        // -g counts frames, which mpdecimate makes irregular: the interval is forced by time, -g only caps it at the segment.
        args.AddRange(["-c:v", "libx264", "-preset", o.Preset, "-crf", Str(o.Crf), "-pix_fmt", "yuv420p",
                       "-g", Str((int)Math.Round(o.MaxSegmentLength.TotalSeconds * fps)), "-x264-params", x264]);
        if (o.KeyframeInterval is { } interval && interval < o.MaxSegmentLength)
        {
            args.AddRange(["-force_key_frames", $"expr:gte(t,n_forced*{Str((int)interval.TotalSeconds)})"]);
        }

        args.AddRange(Fragmented);
        args.AddRange(["-f", "mp4"]);
        return [.. args];
    }

    private static string Str(int value) => value.ToString(CultureInfo.InvariantCulture);
}
