using System.Globalization;
using System.Text.RegularExpressions;

namespace SessionTrail.Agent.Recording;

/// <summary>One monitor of the desktop, in virtual-screen coordinates.</summary>
public sealed record MonitorArea(string Name, int X, int Y, int Width, int Height)
{
    public override string ToString() => $"{Name} {Width}x{Height}+{X}+{Y}";
}

/// <summary>
/// The whole desktop as the recorder captures it: the virtual screen (origin <see cref="X"/>,<see cref="Y"/>,
/// may be negative on Windows) and the monitors on it. Two geometries are equal when the size, origin and
/// the monitor layout are equal — any difference starts a new segment.
/// </summary>
public sealed record ScreenGeometry(int X, int Y, int Width, int Height, IReadOnlyList<MonitorArea> Monitors)
{
    /// <summary>The size actually encoded: libx264 yuv420p needs even sizes, so an odd row/column is cropped (never scaled).</summary>
    public int EvenWidth => Width & ~1;

    public int EvenHeight => Height & ~1;

    public bool Equals(ScreenGeometry? other) =>
        other is not null && X == other.X && Y == other.Y && Width == other.Width && Height == other.Height && Monitors.SequenceEqual(other.Monitors);

    public override int GetHashCode() => HashCode.Combine(X, Y, Width, Height, Monitors.Count);

    public override string ToString() =>
        $"{Width}x{Height}{(X != 0 || Y != 0 ? $"+{X}+{Y}" : "")} ({Monitors.Count} monitor{(Monitors.Count == 1 ? "" : "s")}{(Monitors.Count > 0 ? ": " + string.Join(", ", Monitors) : "")})";
}

/// <summary>Reads the output of `xrandr --current`: the screen's current size and each connected, active output.</summary>
public static partial class XrandrParser
{
    /// <summary>Throws <see cref="FormatException"/> naming the line when there is no "Screen N: … current W x H" line.</summary>
    public static ScreenGeometry Parse(string output, int screen = 0)
    {
        ArgumentNullException.ThrowIfNull(output);
        var lines = output.Split('\n');
        var inScreen = false;
        ScreenGeometry? found = null;
        var monitors = new List<MonitorArea>();
        for (var i = 0; i < lines.Length; i++)
        {
            var line = lines[i].TrimEnd('\r');
            var s = ScreenLine().Match(line);
            if (s.Success)
            {
                if (inScreen)
                {
                    break;
                }

                if (int.Parse(s.Groups["n"].Value, CultureInfo.InvariantCulture) != screen)
                {
                    continue;
                }

                inScreen = true;
                found = new ScreenGeometry(0, 0, Int(s, "w", i), Int(s, "h", i), monitors);
                continue;
            }

            if (!inScreen || line.StartsWith(' ') || line.StartsWith('\t') || line.Length == 0)
            {
                continue;
            }

            var o = OutputLine().Match(line);
            if (o.Success)
            {
                monitors.Add(new MonitorArea(o.Groups["name"].Value, Int(o, "x", i), Int(o, "y", i), Int(o, "w", i), Int(o, "h", i)));
            }
        }

        if (found is null)
        {
            throw new FormatException($"xrandr output has no 'Screen {screen}: … current W x H' line (line 1: '{(lines.Length > 0 ? lines[0].Trim() : "")}').");
        }

        return found with { Monitors = [.. monitors.OrderBy(m => m.Name, StringComparer.Ordinal)] };
    }

    private static int Int(Match m, string group, int line)
    {
        if (!int.TryParse(m.Groups[group].Value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var v) || v < -65536 || v > 65536)
        {
            throw new FormatException($"xrandr output line {line + 1}: '{m.Groups[group].Value}' is not a pixel value.");
        }

        return v;
    }

    [GeneratedRegex(@"^Screen (?<n>\d+):.*?\bcurrent (?<w>\d+) x (?<h>\d+)")]
    private static partial Regex ScreenLine();

    // "VNC-0 connected 1920x1080+0+0 0mm x 0mm", "DP-1 connected primary 2560x1440+1920+0 (normal left …) 597mm x 336mm".
    // A connected output without a mode (switched off) has no geometry and is not a monitor.
    [GeneratedRegex(@"^(?<name>\S+) connected (?:primary )?(?<w>\d+)x(?<h>\d+)(?<x>[+-]\d+)(?<y>[+-]\d+)")]
    private static partial Regex OutputLine();
}
