using System.Globalization;
using System.Text.RegularExpressions;

namespace SessionTrail.Bench;

/// <summary>Quality of one profile against the lossless reference (both converted to yuv420p the same way).</summary>
public sealed record RecordQualityResult(double Ssim, double Psnr, double MbPerHour);

/// <summary>
/// Fair quality comparison: the display is captured once losslessly (x11grab → libx264rgb -qp 0), that
/// same reference is encoded with every profile, and each result is compared with the reference by
/// ffmpeg's ssim and psnr filters. Both sides go through `fps` (a frame dropped by mpdecimate is shown
/// as the previous one, as a player does) and the reference through `format=yuv420p` with ffmpeg's
/// default scaler: every profile stores yuv420p, so this measures what the encoder settings lose.
/// </summary>
public static partial class RecordQuality
{
    public static async Task<string> CaptureReferenceAsync(string display, int fps, int seconds, string dir)
    {
        var reference = Path.Combine(dir, $"reference-{fps}.mkv");
        var (code, _, error) = await Ffmpeg.RunAsync("ffmpeg", ["-nostdin", "-hide_banner", "-loglevel", "error", "-y", "-f", "x11grab", "-framerate",
            fps.ToString(CultureInfo.InvariantCulture), "-draw_mouse", "1", "-i", display, "-t", seconds.ToString(CultureInfo.InvariantCulture),
            "-c:v", "libx264rgb", "-qp", "0", "-preset", "ultrafast", reference]);
        return code == 0 ? reference : throw new InvalidOperationException($"reference capture failed: {error.Trim()}");
    }

    public static async Task<RecordQualityResult> MeasureAsync(RecordProfile profile, string reference, int fps, string dir)
    {
        var encoded = Path.Combine(dir, $"q-{profile.Name}-{fps}.mp4");
        var args = new List<string> { "-nostdin", "-hide_banner", "-loglevel", "error", "-y", "-i", reference };
        args.AddRange(profile.OutputArgs(fps));
        args.Add(encoded);
        var (code, _, error) = await Ffmpeg.RunAsync("ffmpeg", args);
        if (code != 0)
        {
            throw new InvalidOperationException($"encoding the reference with '{profile.Name}' failed: {error.Trim()}");
        }

        var f = fps.ToString(CultureInfo.InvariantCulture);
        var graph = $"[0:v]fps={f},split[a1][a2];[1:v]format=yuv420p,fps={f},split[b1][b2];[a1][b1]ssim;[a2][b2]psnr";
        var (code2, _, log) = await Ffmpeg.RunAsync("ffmpeg", ["-nostdin", "-hide_banner", "-i", encoded, "-i", reference, "-lavfi", graph, "-f", "null", "-"]);
        var ssim = SsimPattern().Match(log);
        var psnr = PsnrPattern().Match(log);
        if (code2 != 0 || !ssim.Success || !psnr.Success)
        {
            throw new InvalidOperationException($"ssim/psnr of '{profile.Name}' failed: {log[^Math.Min(400, log.Length)..]}");
        }

        var probe = await Ffmpeg.RunAsync("ffprobe", ["-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0", reference]);
        var duration = double.Parse(probe.Out.Trim(), CultureInfo.InvariantCulture);
        return new RecordQualityResult(
            double.Parse(ssim.Groups[1].Value, CultureInfo.InvariantCulture),
            psnr.Groups[1].Value == "inf" ? double.PositiveInfinity : double.Parse(psnr.Groups[1].Value, CultureInfo.InvariantCulture),
            new FileInfo(encoded).Length * 3600 / duration / 1e6);
    }

    [GeneratedRegex(@"SSIM .*All:([0-9.]+)")]
    private static partial Regex SsimPattern();

    [GeneratedRegex(@"PSNR .*average:([0-9.]+|inf)")]
    private static partial Regex PsnrPattern();
}
