using System.Text.RegularExpressions;
using SessionTrail.Agent.Platform;

namespace SessionTrail.Agent.Recording;

/// <summary>The ffmpeg the recorder will run, checked: its path, version, and the ffprobe beside it (if any).</summary>
public sealed record FfmpegInstallation(string Path, FfmpegVersion Version, string? FfprobePath);

/// <summary>ffmpeg is missing, too old, or lacks what the recording needs; the message names the path and the problem.</summary>
public sealed class RecordingSetupException(string message) : Exception(message);

/// <summary>
/// Finds and checks ffmpeg before recording: the configured path or a PATH lookup, `ffmpeg -version`
/// (≥ 4.4, ≥ 6.0 for ddagrab), `-encoders` listing libx264 and `-devices`/`-filters` listing the capture back-end.
/// </summary>
public static partial class FfmpegDiscovery
{
    private static readonly TimeSpan ToolTimeout = TimeSpan.FromSeconds(20);

    /// <summary>Throws <see cref="RecordingSetupException"/> naming the path and what is wrong.</summary>
    public static async Task<FfmpegInstallation> CheckAsync(string configuredPath, string backend, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(configuredPath);
        var path = ExternalTool.Resolve(configuredPath)
            ?? throw new RecordingSetupException($"ffmpeg not found at '{configuredPath}'{(IsBareName(configuredPath) ? " (looked up on PATH)" : "")}: install ffmpeg ≥ {FfmpegVersion.Minimum.Text} with libx264, or set Agent:Recording:FfmpegPath.");
        var version = await RunAsync(path, ["-hide_banner", "-version"], cancellationToken);
        var parsed = FfmpegVersion.Parse(version)
            ?? throw new RecordingSetupException($"{path}: `-version` did not print an ffmpeg version (first line: '{FirstLine(version)}').");
        var minimum = backend == CaptureBackends.Ddagrab ? FfmpegVersion.MinimumDdagrab : FfmpegVersion.Minimum;
        if (!parsed.IsAtLeast(minimum))
        {
            throw new RecordingSetupException($"{path}: ffmpeg {parsed} is too old; the recorder needs ≥ {minimum.Text}{(backend == CaptureBackends.Ddagrab ? " for ddagrab" : "")}.");
        }

        var encoders = await RunAsync(path, ["-hide_banner", "-encoders"], cancellationToken);
        if (!HasEncoder(encoders, "libx264"))
        {
            throw new RecordingSetupException($"{path}: ffmpeg {parsed} has no libx264 encoder (`-encoders` does not list it); use a build configured with --enable-libx264 (GPL).");
        }

        var hasBackend = backend switch
        {
            CaptureBackends.Ddagrab => HasFilter(await RunAsync(path, ["-hide_banner", "-filters"], cancellationToken), backend),
            CaptureBackends.X11damage => HasDevice(await RunAsync(path, ["-hide_banner", "-demuxers"], cancellationToken), "rawvideo"),
            _ => HasDevice(await RunAsync(path, ["-hide_banner", "-devices"], cancellationToken), backend),
        };
        if (!hasBackend)
        {
            throw new RecordingSetupException($"{path}: ffmpeg {parsed} has no {backend switch
            {
                CaptureBackends.Ddagrab => "ddagrab filter (`-filters`)",
                CaptureBackends.X11damage => "rawvideo demuxer (`-demuxers`), which x11damage feeds",
                _ => backend + " input device (`-devices`)",
            }}.");
        }

        var probe = System.IO.Path.Combine(System.IO.Path.GetDirectoryName(path)!, HostOs.IsWindows ? "ffprobe.exe" : "ffprobe");
        return new FfmpegInstallation(path, parsed, File.Exists(probe) ? probe : ExternalTool.Resolve(HostOs.IsWindows ? "ffprobe.exe" : "ffprobe"));
    }

    /// <summary>True when `ffmpeg -encoders` lists <paramref name="name"/> as a video encoder.</summary>
    public static bool HasEncoder(string encodersOutput, string name) => ListingHas(encodersOutput, name, 'V');

    /// <summary>True when `ffmpeg -devices` lists <paramref name="name"/> as an input (demuxing) device.</summary>
    public static bool HasDevice(string devicesOutput, string name) => ListingHas(devicesOutput, name, 'D');

    /// <summary>True when `ffmpeg -filters` lists <paramref name="name"/>.</summary>
    public static bool HasFilter(string filtersOutput, string name)
    {
        ArgumentNullException.ThrowIfNull(filtersOutput);
        return filtersOutput.Split('\n').Any(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries) is { Length: >= 2 } f && f[1] == name);
    }

    private static bool ListingHas(string output, string name, char flag)
    {
        ArgumentNullException.ThrowIfNull(output);
        foreach (Match m in ListingLine().Matches(output))
        {
            if (m.Groups["name"].Value == name && m.Groups["flags"].Value.Contains(flag, StringComparison.Ordinal))
            {
                return true;
            }
        }

        return false;
    }

    private static bool IsBareName(string p) => !p.Contains('/', StringComparison.Ordinal) && !p.Contains('\\', StringComparison.Ordinal);

    private static string FirstLine(string text) => text.Split('\n', 2)[0].Trim();

    private static async Task<string> RunAsync(string path, string[] args, CancellationToken cancellationToken)
    {
        ExternalTool.Result result;
        try
        {
            result = await ExternalTool.RunAsync(path, args, null, ToolTimeout, cancellationToken);
        }
        catch (Exception ex) when (ex is System.ComponentModel.Win32Exception or TimeoutException or InvalidOperationException or IOException)
        {
            throw new RecordingSetupException($"{path}: could not run `{string.Join(' ', args)}`: {ex.Message}");
        }

        if (result.ExitCode != 0)
        {
            throw new RecordingSetupException($"{path}: `{string.Join(' ', args)}` exited with code {result.ExitCode}: {FirstLine(result.Stderr)}");
        }

        return result.Stdout;
    }

    // " V....D libx264              libx264 H.264 …" (encoders), " D  x11grab         X11 screen capture…" (devices).
    [GeneratedRegex(@"^\s*(?<flags>[A-Z.]{1,6})\s+(?<name>[\w,]+)\s", RegexOptions.Multiline)]
    private static partial Regex ListingLine();
}

/// <summary>The capture back-ends (<see cref="RecordingOptions.Backend"/>).</summary>
public static class CaptureBackends
{
    /// <summary>Linux: the agent grabs changed frames itself (X DAMAGE + MIT-SHM) and pipes them to ffmpeg as raw video.</summary>
    public const string X11damage = "x11damage";
    public const string X11grab = "x11grab";
    public const string Gdigrab = "gdigrab";
    public const string Ddagrab = "ddagrab";

    /// <summary>The configured back-end, or the OS default (gdigrab on Windows, x11damage elsewhere).</summary>
    public static string Resolve(string? configured) => string.IsNullOrWhiteSpace(configured)
        ? (HostOs.IsWindows ? Gdigrab : X11damage)
        : configured.Trim().ToLowerInvariant() switch
        {
            X11damage => X11damage,
            X11grab => X11grab,
            Gdigrab => Gdigrab,
            Ddagrab => Ddagrab,
            _ => throw new RecordingSetupException($"Agent:Recording:Backend '{configured}' is not x11damage, x11grab, gdigrab or ddagrab."),
        };
}
