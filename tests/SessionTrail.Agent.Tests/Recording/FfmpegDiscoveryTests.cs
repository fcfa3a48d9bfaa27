using SessionTrail.Agent.Recording;
using SessionTrail.Agent.Tests.Fakes;

namespace SessionTrail.Agent.Tests.Recording;

public sealed class FfmpegDiscoveryTests
{
    private static string Sample(string name) => File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Recording", "Samples", name));

    [Theory]
    [InlineData("ffmpeg version 5.1.8-0+deb12u1 Copyright (c) 2000-2025 the FFmpeg developers", 5, 1)]
    [InlineData("ffmpeg version n6.1 Copyright (c) 2000-2023 the FFmpeg developers", 6, 1)]
    [InlineData("ffmpeg version n4.4.2 Copyright (c) 2000-2021 the FFmpeg developers", 4, 4)]
    [InlineData("ffmpeg version 7.0.2-full_build-www.gyan.dev Copyright (c) 2000-2024 the FFmpeg developers", 7, 0)]
    [InlineData("ffmpeg version 4.4.2-0ubuntu0.22.04.1 Copyright (c) 2000-2021 the FFmpeg developers", 4, 4)]
    [InlineData("ffmpeg version 4.2.7-0ubuntu0.1 Copyright (c) 2000-2022 the FFmpeg developers", 4, 2)]
    [InlineData("ffmpeg version 6.0-static https://johnvansickle.com/ffmpeg/  Copyright (c) 2000-2023 the FFmpeg developers", 6, 0)]
    public void Release_versions_are_read_from_the_first_line(string line, int major, int minor)
    {
        var v = FfmpegVersion.Parse(line + "\nbuilt with gcc 12\n")!;
        Assert.Equal((major, minor), (v.Major, v.Minor));
        Assert.False(v.FromLibavformat);
    }

    [Theory]
    [InlineData("N-112345-g8f6a2c4e2b", "libavformat    60. 16.100 / 60. 16.100", 6, 0)]
    [InlineData("2024-03-07-git-97beb63a66-full_build-www.gyan.dev", "libavformat    61.  1.100 / 61.  1.100", 7, 0)]
    [InlineData("N-104465-g08a501946f", "libavformat    58. 76.100 / 58. 76.100", 4, 4)]
    [InlineData("N-99999-gabcdef", "libavformat    58. 45.100 / 58. 45.100", 4, 0)]
    public void Git_builds_are_dated_by_their_libavformat(string version, string lavf, int major, int minor)
    {
        var text = $"ffmpeg version {version} Copyright (c) 2000-2024 the FFmpeg developers\nbuilt with gcc 13.2.0\nlibavutil      58. 29.100 / 58. 29.100\n{lavf}\n";
        var v = FfmpegVersion.Parse(text)!;
        Assert.Equal((major, minor), (v.Major, v.Minor));
        Assert.True(v.FromLibavformat);
        Assert.Contains("libavformat says", v.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void The_installed_debian_ffmpeg_output_is_read()
    {
        var v = FfmpegVersion.Parse(Sample("ffmpeg-5.1-debian-version.txt"))!;
        Assert.Equal(5, v.Major);
        Assert.StartsWith("5.1.", v.Text, StringComparison.Ordinal);
        Assert.True(v.IsAtLeast(FfmpegVersion.Minimum));
        Assert.False(v.IsAtLeast(FfmpegVersion.MinimumDdagrab));
    }

    [Theory]
    [InlineData("")]
    [InlineData("avconv version 12")]
    [InlineData("ffmpeg version ??? Copyright")]
    [InlineData("ffmpeg version N-1-gdead\nno library lines")]
    public void Not_ffmpeg_output_is_null(string text) => Assert.Null(FfmpegVersion.Parse(text));

    [Fact]
    public void Listings_of_the_real_ffmpeg_are_read()
    {
        var encoders = Sample("ffmpeg-5.1-debian-encoders.txt");
        Assert.True(FfmpegDiscovery.HasEncoder(encoders, "libx264"));
        Assert.False(FfmpegDiscovery.HasEncoder(encoders, "libx264x"));
        Assert.False(FfmpegDiscovery.HasEncoder(encoders.Replace(" libx264 ", " libx265x ", StringComparison.Ordinal), "libx264"));
        var devices = Sample("ffmpeg-5.1-debian-devices.txt");
        Assert.True(FfmpegDiscovery.HasDevice(devices, "x11grab"));
        Assert.False(FfmpegDiscovery.HasDevice(devices, "gdigrab"));
        Assert.False(FfmpegDiscovery.HasDevice(devices, "caca")); // output only ("  E caca")
    }

    [Fact]
    public async Task A_missing_ffmpeg_is_a_clear_error_naming_the_path()
    {
        var ex = await Assert.ThrowsAsync<RecordingSetupException>(() => FfmpegDiscovery.CheckAsync("/nonexistent/bin/ffmpeg", CaptureBackends.X11grab));
        Assert.Contains("/nonexistent/bin/ffmpeg", ex.Message, StringComparison.Ordinal);
        Assert.Contains("not found", ex.Message, StringComparison.Ordinal);
        var bare = await Assert.ThrowsAsync<RecordingSetupException>(() => FfmpegDiscovery.CheckAsync("ffmpeg-does-not-exist", CaptureBackends.X11grab));
        Assert.Contains("PATH", bare.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_too_old_or_libx264_less_ffmpeg_is_refused()
    {
        using var dir = new TempDir();
        var old = FakeFfmpeg(dir.Path, "old", "ffmpeg version 4.2.7-0ubuntu0.1 Copyright (c) 2000-2022 the FFmpeg developers", Sample("ffmpeg-5.1-debian-encoders.txt"));
        var ex = await Assert.ThrowsAsync<RecordingSetupException>(() => FfmpegDiscovery.CheckAsync(old, CaptureBackends.X11grab));
        Assert.Contains(old, ex.Message, StringComparison.Ordinal);
        Assert.Contains("too old", ex.Message, StringComparison.Ordinal);
        Assert.Contains("4.4", ex.Message, StringComparison.Ordinal);

        var nox264 = FakeFfmpeg(dir.Path, "nox264", "ffmpeg version 6.1 Copyright", "Encoders:\n ------\n V....D libopenh264          OpenH264 H.264\n");
        ex = await Assert.ThrowsAsync<RecordingSetupException>(() => FfmpegDiscovery.CheckAsync(nox264, CaptureBackends.X11grab));
        Assert.Contains("libx264", ex.Message, StringComparison.Ordinal);

        var real = Sample("ffmpeg-5.1-debian-version.txt");
        ex = await Assert.ThrowsAsync<RecordingSetupException>(() => FfmpegDiscovery.CheckAsync(FakeFfmpeg(dir.Path, "five", real.Split('\n')[0], Sample("ffmpeg-5.1-debian-encoders.txt")), CaptureBackends.Ddagrab));
        Assert.Contains("6.0 for ddagrab", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_installed_ffmpeg_passes_the_check()
    {
        Assert.True(XvncDisplay.Which("ffmpeg") is not null, "ffmpeg is not installed (see .ci/run)");
        var found = await FfmpegDiscovery.CheckAsync("ffmpeg", CaptureBackends.X11grab);
        Assert.Equal("/usr/bin/ffmpeg", found.Path);
        Assert.True(found.Version.IsAtLeast(FfmpegVersion.Minimum));
        Assert.Equal("/usr/bin/ffprobe", found.FfprobePath);
    }

    private static string FakeFfmpeg(string dir, string name, string version, string encoders)
    {
        var path = Path.Combine(dir, name);
        File.WriteAllText(Path.Combine(dir, name + ".version"), version + "\n");
        File.WriteAllText(Path.Combine(dir, name + ".encoders"), encoders);
        File.WriteAllText(path, $"#!/bin/sh\ncase \"$2\" in -version) cat '{path}.version';; -encoders) cat '{path}.encoders';; *) echo ' D  x11grab  X11';; esac\n");
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }

        return path;
    }
}
