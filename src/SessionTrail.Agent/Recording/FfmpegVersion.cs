using System.Globalization;
using System.Text.RegularExpressions;

namespace SessionTrail.Agent.Recording;

/// <summary>
/// The version of an ffmpeg build as `ffmpeg -version` prints it. Release builds name it on the first line
/// ("ffmpeg version 5.1.8-0+deb12u1", "n6.1", "7.0.2-full_build-www.gyan.dev"); git builds
/// ("N-112345-g…", "2024-01-01-git-…") do not, so their libavformat version stands in (lavf 58.76 = 4.4,
/// 59 = 5.x, 60 = 6.x, 61 = 7.x, 62 = 8.x).
/// </summary>
public sealed partial record FfmpegVersion(int Major, int Minor, string Text, bool FromLibavformat)
{
    /// <summary>Oldest ffmpeg the recorder runs with.</summary>
    public static readonly FfmpegVersion Minimum = new(4, 4, "4.4", false);

    /// <summary>Oldest ffmpeg that has the ddagrab filter (Windows Desktop Duplication).</summary>
    public static readonly FfmpegVersion MinimumDdagrab = new(6, 0, "6.0", false);

    public bool IsAtLeast(FfmpegVersion other)
    {
        ArgumentNullException.ThrowIfNull(other);
        return Major > other.Major || (Major == other.Major && Minor >= other.Minor);
    }

    /// <summary>Reads the output of `ffmpeg -version`; null when it is not ffmpeg's.</summary>
    public static FfmpegVersion? Parse(string versionOutput)
    {
        ArgumentNullException.ThrowIfNull(versionOutput);
        var line = FirstLine().Match(versionOutput);
        if (!line.Success)
        {
            return null;
        }

        var text = line.Groups["v"].Value;
        var release = ReleaseVersion().Match(text);
        if (release.Success)
        {
            return new FfmpegVersion(int.Parse(release.Groups["maj"].Value, CultureInfo.InvariantCulture), int.Parse(release.Groups["min"].Value, CultureInfo.InvariantCulture), text, false);
        }

        var lavf = Libavformat().Match(versionOutput);
        if (!lavf.Success)
        {
            return null;
        }

        var major = int.Parse(lavf.Groups["maj"].Value, CultureInfo.InvariantCulture);
        var minor = int.Parse(lavf.Groups["min"].Value, CultureInfo.InvariantCulture);
        (int, int) release2 = major switch
        {
            < 58 => (3, 0),
            58 => minor >= 76 ? (4, 4) : (4, 0),
            _ => (major - 54, 0),
        };
        return new FfmpegVersion(release2.Item1, release2.Item2, text, true);
    }

    public override string ToString() => FromLibavformat ? $"{Text} (libavformat says {Major}.{Minor})" : Text;

    [GeneratedRegex(@"^\s*ffmpeg version (?<v>\S+)", RegexOptions.Multiline)]
    private static partial Regex FirstLine();

    // "5.1.8-0+deb12u1", "n6.1", "n4.4.2", "7.0.2-full_build", "6.0": digits first (after an optional 'n').
    [GeneratedRegex(@"^n?(?<maj>\d{1,3})\.(?<min>\d{1,3})(?:[.\-+~_].*)?$")]
    private static partial Regex ReleaseVersion();

    [GeneratedRegex(@"^\s*libavformat\s+(?<maj>\d+)\.\s*(?<min>\d+)\.", RegexOptions.Multiline)]
    private static partial Regex Libavformat();
}
