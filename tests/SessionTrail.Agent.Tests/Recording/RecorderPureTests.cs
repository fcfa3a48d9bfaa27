using SessionTrail.Agent.Config;
using SessionTrail.Agent.Recording;
using SessionTrail.Agent.Sessions;

namespace SessionTrail.Agent.Tests.Recording;

public sealed class RecorderPureTests
{
    private static string Sample(string name) => File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Recording", "Samples", name));

    private static CapturePlan Plan(string backend, int w, int h, int x = 0, int y = 0) => new()
    {
        Backend = backend,
        Display = ":7",
        Geometry = new ScreenGeometry(x, y, w, h, []),
        Directory = "/spool/s",
        FirstIndex = 12,
        SegmentListPath = "/state/s.csv",
    };

    private static string Joined(IReadOnlyList<string> args) => string.Join(' ', args);

    [Fact]
    public void X11grab_grabs_the_whole_screen_into_fragmented_mp4_segments()
    {
        var o = new RecordingOptions { Fps = 2, Crf = 30, Preset = "faster", MaxSegmentLength = TimeSpan.FromMinutes(5) };
        var a = Joined(FfmpegArguments.Build(o, Plan(CaptureBackends.X11grab, 1920, 1080)));
        Assert.Contains("-f x11grab -draw_mouse 1 -framerate 2 -video_size 1920x1080 -i :7+0,0", a, StringComparison.Ordinal);
        Assert.Contains("-c:v libx264 -preset faster -crf 30 -pix_fmt yuv420p", a, StringComparison.Ordinal);

        // The benchmark's profile: an even rate, unchanged frames dropped (one a second kept), point-sampled chroma.
        Assert.Contains("-i :7+0,0 -vf fps=2,mpdecimate=max=1 -fps_mode vfr -sws_flags neighbor -c:v libx264", a, StringComparison.Ordinal);

        // GOP = the segment length (300 s × 2 fps), no scene-cut keyframes, one x264 thread, a keyframe at each cut.
        Assert.Contains("-g 600 -x264-params threads=1:lookahead-threads=1:scenecut=0:bframes=0:rc-lookahead=5:ref=3 -force_key_frames expr:gte(t,n_forced*300)", a, StringComparison.Ordinal);
        Assert.Contains("-f segment -segment_time 300 -segment_start_number 12 -segment_list /state/s.csv -segment_list_type csv -reset_timestamps 1", a, StringComparison.Ordinal);
        Assert.Contains("-segment_format mp4 -segment_format_options movflags=+frag_keyframe+empty_moov+default_base_moof:frag_duration=2000000:flush_packets=1 -flush_packets 1", a, StringComparison.Ordinal);
        Assert.EndsWith(Path.Combine("/spool/s", "%06d.mp4"), a, StringComparison.Ordinal);
        Assert.Contains("-loglevel level+warning", a, StringComparison.Ordinal);
        Assert.DoesNotContain("-nostdin", a, StringComparison.Ordinal);
        Assert.DoesNotContain("-v 0", a, StringComparison.Ordinal);
    }

    [Fact]
    public void Keyframes_come_once_per_segment_unless_a_shorter_interval_is_configured()
    {
        var a = Joined(FfmpegArguments.Build(new RecordingOptions { Fps = 5, MaxSegmentLength = TimeSpan.FromSeconds(4) }, Plan(CaptureBackends.X11grab, 1280, 800)));
        Assert.Contains("-g 20 ", a, StringComparison.Ordinal);
        Assert.Contains("n_forced*4)", a, StringComparison.Ordinal);

        // Forced by time: decimated frames are irregular, so a frame count would drift.
        var b = Joined(FfmpegArguments.Build(new RecordingOptions { Fps = 5, KeyframeInterval = TimeSpan.FromSeconds(10) }, Plan(CaptureBackends.X11grab, 1280, 800)));
        Assert.Contains("-g 1500 ", b, StringComparison.Ordinal);
        Assert.Contains("-force_key_frames expr:gte(t,n_forced*10)", b, StringComparison.Ordinal);
    }

    [Fact]
    public void Decimation_threads_scaling_and_old_ffmpeg_follow_the_options()
    {
        var plain = Joined(FfmpegArguments.Build(new RecordingOptions { Decimate = false, Threads = 0, ScaleFlags = null, X264Params = "" }, Plan(CaptureBackends.X11grab, 1280, 800)));
        Assert.Contains("-vf fps=5 -c:v libx264", plain, StringComparison.Ordinal);
        Assert.Contains("-x264-params scenecut=0 ", plain, StringComparison.Ordinal);
        Assert.DoesNotContain("mpdecimate", plain, StringComparison.Ordinal);
        Assert.DoesNotContain("vfr", plain, StringComparison.Ordinal);
        Assert.DoesNotContain("threads=", plain, StringComparison.Ordinal);
        Assert.DoesNotContain("-sws_flags", plain, StringComparison.Ordinal);

        var old = Joined(FfmpegArguments.Build(new RecordingOptions(), Plan(CaptureBackends.X11grab, 1280, 800) with { FpsModeOption = false }));
        Assert.Contains("-vf fps=5,mpdecimate=max=4 -vsync vfr ", old, StringComparison.Ordinal);
        Assert.DoesNotContain("-fps_mode", old, StringComparison.Ordinal);
    }

    [Fact]
    public void Odd_sizes_are_cropped_to_even_never_scaled()
    {
        var a = FfmpegArguments.Build(new RecordingOptions(), Plan(CaptureBackends.X11grab, 1283, 801));
        Assert.Equal("1282x800", a[a.ToList().IndexOf("-video_size") + 1]);
        Assert.DoesNotContain(a, x => x.Contains("scale", StringComparison.Ordinal));
        Assert.Throws<ArgumentException>(() => FfmpegArguments.Build(new RecordingOptions(), Plan(CaptureBackends.X11grab, 1, 1)));
    }

    [Fact]
    public void Gdigrab_captures_the_virtual_screen_from_its_origin()
    {
        var a = Joined(FfmpegArguments.Build(new RecordingOptions(), Plan(CaptureBackends.Gdigrab, 3841, 1080, -1920, 0)));
        Assert.Contains("-f gdigrab -draw_mouse 1 -framerate 5 -offset_x -1920 -offset_y 0 -video_size 3840x1080 -i desktop", a, StringComparison.Ordinal);
    }

    [Fact]
    public void X11damage_reads_raw_frames_from_stdin_stamped_on_arrival_without_filters()
    {
        var a = Joined(FfmpegArguments.Build(new RecordingOptions(), Plan(CaptureBackends.X11damage, 1921, 1080)));
        Assert.StartsWith("-hide_banner -nostats -loglevel level+warning -y -f rawvideo -pix_fmt bgr0 -video_size 1920x1080 -framerate 1000 -use_wallclock_as_timestamps 1 -probesize 32 -analyzeduration 0 -i pipe:0 -fps_mode vfr -sws_flags neighbor -c:v libx264", a, StringComparison.Ordinal);
        Assert.DoesNotContain("mpdecimate", a, StringComparison.Ordinal);
        Assert.DoesNotContain("-vf", a, StringComparison.Ordinal);
        Assert.Contains("-force_key_frames expr:gte(t,n_forced*300)", a, StringComparison.Ordinal);
        Assert.Contains("-draw_mouse 0", Joined(FfmpegArguments.Build(new RecordingOptions { DrawMouse = false }, Plan(CaptureBackends.X11grab, 1280, 800))), StringComparison.Ordinal);
    }

    [Fact]
    public void The_default_back_end_is_damage_capture_on_linux_and_gdigrab_on_windows()
    {
        Assert.Equal(OperatingSystem.IsWindows() ? CaptureBackends.Gdigrab : CaptureBackends.X11damage, CaptureBackends.Resolve(null));
        Assert.Equal(CaptureBackends.X11damage, CaptureBackends.Resolve(" X11Damage "));
        Assert.Contains("x11damage, x11grab", Assert.Throws<RecordingSetupException>(() => CaptureBackends.Resolve("vnc")).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Ddagrab_is_a_filter_graph_downloaded_to_bgra()
    {
        var a = Joined(FfmpegArguments.Build(new RecordingOptions { Fps = 1 }, Plan(CaptureBackends.Ddagrab, 2560, 1440)));
        Assert.Contains("-filter_complex ddagrab=output_idx=0:framerate=1:draw_mouse=1:video_size=2560x1440,hwdownload,format=bgra,fps=1,mpdecimate=max=1[v] -map [v] -fps_mode vfr", a, StringComparison.Ordinal);
        Assert.DoesNotContain("-vf", a, StringComparison.Ordinal); // -vf cannot be used with -filter_complex
        Assert.Contains("-pix_fmt yuv420p", a, StringComparison.Ordinal);
    }

    [Fact]
    public void Xrandr_outputs_captured_from_xvnc_are_read()
    {
        var small = XrandrParser.Parse(Sample("xrandr-1280.txt"));
        Assert.Equal((1280, 800), (small.Width, small.Height));
        Assert.Equal([new MonitorArea("VNC-0", 0, 0, 1280, 800)], small.Monitors);
        var big = XrandrParser.Parse(Sample("xrandr-1920.txt"));
        Assert.Equal((1920, 1080), (big.Width, big.Height));
        Assert.NotEqual(small, big);
        Assert.Equal(small, XrandrParser.Parse(Sample("xrandr-1280.txt")));
    }

    [Fact]
    public void Xrandr_with_two_monitors_and_a_disconnected_output()
    {
        // The layout of a two-head X server (format as xrandr 1.5 prints it).
        const string text = """
            Screen 0: minimum 8 x 8, current 4480 x 1440, maximum 32767 x 32767
            DP-1 connected primary 2560x1440+1920+0 (normal left inverted right x axis y axis) 597mm x 336mm
               2560x1440     59.95*+
            HDMI-1 connected 1920x1080+0+360 (normal left inverted right x axis y axis) 527mm x 296mm
               1920x1080     60.00*+  50.00
            DP-2 disconnected (normal left inverted right x axis y axis)
            HDMI-2 connected (normal left inverted right x axis y axis)
               1920x1080     60.00 +
            """;
        var g = XrandrParser.Parse(text);
        Assert.Equal((4480, 1440), (g.Width, g.Height));
        Assert.Equal([new MonitorArea("DP-1", 1920, 0, 2560, 1440), new MonitorArea("HDMI-1", 0, 360, 1920, 1080)], g.Monitors);

        // Same size, another layout: a change.
        Assert.NotEqual(g, XrandrParser.Parse(text.Replace("+0+360", "+0+0", StringComparison.Ordinal)));
    }

    [Fact]
    public void Bad_xrandr_output_is_a_format_error_naming_what_is_missing()
    {
        var ex = Assert.Throws<FormatException>(() => XrandrParser.Parse("Can't open display :99\n"));
        Assert.Contains("Screen 0", ex.Message, StringComparison.Ordinal);
        Assert.Throws<FormatException>(() => XrandrParser.Parse(Sample("xrandr-1280.txt"), screen: 1));
        Assert.Equal(1, XrandrGeometryProbe.ScreenNumber(":0.1"));
        Assert.Equal(0, XrandrGeometryProbe.ScreenNumber("localhost:10"));
    }

    [Fact]
    public void Xrandr_parser_survives_mutations_of_real_output()
    {
        var samples = new[] { Sample("xrandr-1280.txt"), Sample("xrandr-1920.txt") };
        var random = new Random(5);
        for (var i = 0; i < 3000; i++)
        {
            var chars = samples[i % 2].ToCharArray();
            for (var m = random.Next(1, 6); m > 0; m--)
            {
                chars[random.Next(chars.Length)] = "0123456789x+- :\n\u00e9"[random.Next(17)];
            }

            try
            {
                var g = XrandrParser.Parse(new string(chars));
                Assert.True(g.Width >= 0 && g.Height >= 0);
            }
            catch (FormatException)
            {
            }
        }
    }

    [Theory]
    [InlineData("000004.mp4,0.000000,4.400000", "000004.mp4", 0.0, 4.4)]
    [InlineData("/spool/s/000005.mp4,4.400000,8.400000\r", "000005.mp4", 4.4, 8.4)]
    public void Segment_list_lines_are_read(string line, string file, double start, double end)
    {
        var e = SegmentListReader.Parse(line)!.Value;
        Assert.Equal(file, e.File);
        Assert.Equal(TimeSpan.FromSeconds(start), e.Start);
        Assert.Equal(TimeSpan.FromSeconds(end), e.End);
    }

    [Theory]
    [InlineData("")]
    [InlineData("000004.mp4,0.0")]
    [InlineData("000004.mp4,5,4")]
    [InlineData("000004.mp4,nan,4")]
    public void Bad_segment_list_lines_are_ignored(string line) => Assert.Null(SegmentListReader.Parse(line));

    [Fact]
    public void Ffprobe_output_is_read()
    {
        var r = SegmentProbe.Parse("codec_name=h264\nwidth=1282\nheight=800\nduration=4.400000\n")!;
        Assert.Equal(new SegmentProbeResult("h264", 1282, 800, TimeSpan.FromSeconds(4.4)), r);
        Assert.Null(SegmentProbe.Parse("garbage"));
        Assert.Null(SegmentProbe.Parse("codec_name=h264\nwidth=1\nheight=1\nduration=N/A\n")!.Duration);
    }

    [Fact]
    public void Recording_settings_are_validated_with_the_setting_named()
    {
        var options = new AgentOptions { ServerUrl = "", Recording = new RecordingOptions { Enabled = true, Fps = 50 } };
        var ex = Assert.Throws<AgentOptionsException>(options.Validate);
        Assert.Equal("Recording:Fps", ex.Setting);
        Assert.Contains("between 1 and 30", ex.Message, StringComparison.Ordinal);
        options.Recording = new RecordingOptions { Enabled = true, GeometryPollInterval = TimeSpan.FromSeconds(5) };
        Assert.Equal("Recording:GeometryPollInterval", Assert.Throws<AgentOptionsException>(options.Validate).Setting);
        options.Recording = new RecordingOptions { Enabled = true, Preset = "warp" };
        Assert.Equal("Recording:Preset", Assert.Throws<AgentOptionsException>(options.Validate).Setting);
        options.Recording = new RecordingOptions { Enabled = true, IdleFrameInterval = TimeSpan.FromSeconds(30) };
        Assert.Equal("Recording:IdleFrameInterval", Assert.Throws<AgentOptionsException>(options.Validate).Setting);
        options.Recording = new RecordingOptions { Enabled = true, Backend = "x11damage" };
        options.Validate();
        options.Recording = new RecordingOptions { Enabled = false, Fps = 50 };
        options.Validate();
    }

    [Fact]
    public void The_config_section_Agent_Recording_binds_every_option()
    {
        using var dir = new Fakes.TempDir();
        var file = Path.Combine(dir.Path, "agent.json");
        File.WriteAllText(file, """
            { "Agent": { "ServerUrl": "", "Recording": {
                "FfmpegPath": "/opt/ffmpeg/bin/ffmpeg", "Backend": "x11grab", "Display": ":3", "Fps": 2, "Crf": 30, "Preset": "faster",
                "MaxSegmentLength": "00:01:00", "KeyframeInterval": "00:00:30", "GeometryPollInterval": "00:00:00.500", "StopTimeout": "00:00:05",
                "IdleFrameInterval": "00:00:02", "DrawMouse": false,
                "NoticeText": "Recorded.", "XAuthority": "/run/user/1000/gdm/Xauthority",
                "Policy": { "Stacks": ["s1"], "Fleets": ["f1"], "Users": ["alice"], "Groups": ["audited"], "ExcludeUsers": ["bob"] } } } }
            """);
        var o = AgentConfiguration.Load(file, new Dictionary<string, string?> { ["Recording:Enabled"] = "true" }).Recording;
        Assert.True(o.Enabled);
        Assert.Equal(("/opt/ffmpeg/bin/ffmpeg", "x11grab", ":3", 2, 30, "faster"), (o.FfmpegPath, o.Backend, o.Display, o.Fps, o.Crf, o.Preset));
        Assert.Equal((TimeSpan.FromMinutes(1), TimeSpan.FromSeconds(30), TimeSpan.FromMilliseconds(500), TimeSpan.FromSeconds(5)), (o.MaxSegmentLength, o.KeyframeInterval!.Value, o.GeometryPollInterval, o.StopTimeout));
        Assert.Equal(("Recorded.", "/run/user/1000/gdm/Xauthority"), (o.NoticeText, o.XAuthority));
        Assert.Equal((TimeSpan.FromSeconds(2), false), (o.IdleFrameInterval, o.DrawMouse));
        Assert.Equal(["audited"], o.Policy.Groups);
        Assert.Equal(["bob"], o.Policy.ExcludeUsers);
        File.WriteAllText(file, """{ "Agent": { "ServerUrl": "", "Recording": { "Fsp": 2 } } }""");
        Assert.Throws<InvalidDataException>(() => AgentConfiguration.Load(file));
    }

    private sealed class FixedGroups(params string[] groups) : IUserGroups
    {
        public string? AskedFor { get; private set; }

        public Task<IReadOnlyList<string>?> GroupsOfAsync(string user, CancellationToken cancellationToken)
        {
            AskedFor = user;
            return Task.FromResult<IReadOnlyList<string>?>(groups.Length == 0 ? null : groups);
        }
    }

    private static CurrentSession Session(string? user, string? stack = "stack-a", string? fleet = "fleet-a") =>
        new() { Id = "s", Fields = new() { User = user, Stack = stack, Fleet = fleet }, Started = DateTimeOffset.UnixEpoch };

    [Fact]
    public async Task Policy_empty_records_everyone()
    {
        Assert.Null(await RecordingPolicyCheck.WhyNotAsync(new RecordingPolicy(), Session(null, null, null), new FixedGroups(), default));
    }

    [Fact]
    public async Task Policy_lists_must_all_match_and_exclusions_win()
    {
        var policy = new RecordingPolicy { Stacks = ["STACK-A"], Users = ["alice", @"CORP\carol"], ExcludeUsers = ["bob"] };
        Assert.Null(await RecordingPolicyCheck.WhyNotAsync(policy, Session(@"CORP\Alice"), new FixedGroups(), default));
        Assert.Null(await RecordingPolicyCheck.WhyNotAsync(policy, Session(@"CORP\carol"), new FixedGroups(), default));
        Assert.Contains("Policy.Users", await RecordingPolicyCheck.WhyNotAsync(policy, Session(@"OTHER\carol"), new FixedGroups(), default), StringComparison.Ordinal);
        Assert.Contains("Policy.Stacks", await RecordingPolicyCheck.WhyNotAsync(policy, Session("alice", "stack-b"), new FixedGroups(), default), StringComparison.Ordinal);
        Assert.Contains("excluded", await RecordingPolicyCheck.WhyNotAsync(new RecordingPolicy { ExcludeUsers = ["bob"] }, Session("bob@corp.example"), new FixedGroups(), default), StringComparison.Ordinal);
        Assert.Contains("Policy.Fleets", await RecordingPolicyCheck.WhyNotAsync(new RecordingPolicy { Fleets = ["f"] }, Session("x", fleet: null), new FixedGroups(), default), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Policy_groups_use_the_users_groups_and_unknown_groups_are_not_recorded()
    {
        var policy = new RecordingPolicy { Groups = ["audited"] };
        var groups = new FixedGroups("users", "Audited");
        Assert.Null(await RecordingPolicyCheck.WhyNotAsync(policy, Session(@"CORP\dave"), groups, default));
        Assert.Equal("dave", groups.AskedFor);
        Assert.Contains("none of Policy.Groups", await RecordingPolicyCheck.WhyNotAsync(policy, Session("dave"), new FixedGroups("users"), default), StringComparison.Ordinal);
        Assert.Contains("could not be read", await RecordingPolicyCheck.WhyNotAsync(policy, Session("dave"), new FixedGroups(), default), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Linux_groups_come_from_id()
    {
        var groups = await new IdCommandUserGroups().GroupsOfAsync("root", default);
        Assert.Contains("root", groups!);
        Assert.Null(await new IdCommandUserGroups().GroupsOfAsync("no-such-user-" + Guid.NewGuid().ToString("N")[..8], default));
        Assert.Null(await new IdCommandUserGroups().GroupsOfAsync("-x", default));
    }
}
