using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;
using SessionTrail.Agent.Platform.Linux;

namespace SessionTrail.Agent.Tests.Platform.Linux;

public sealed class ProcessCaptureOptionsTests
{
    [Fact]
    public void DefaultsAreAutoModeOneSecondPollingAndInteractiveUids()
    {
        var o = new ProcessCaptureOptions();
        Assert.Equal(CaptureMode.Auto, o.Mode);
        Assert.Equal(TimeSpan.FromSeconds(1), o.PollInterval);
        Assert.Equal(1000, o.MinUid);
        Assert.Equal(60000, o.MaxUid);
        Assert.Empty(o.Include);
        Assert.Empty(o.Exclude);
        Assert.Empty(o.Validate());
    }

    [Fact]
    public void BindsFromTheProcessesSection()
    {
        var config = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Processes:Mode"] = "Poll",
            ["Processes:PollInterval"] = "00:00:05",
            ["Processes:MinUid"] = "500",
            ["Processes:Include:0"] = "/usr/**",
            ["Processes:Exclude:0"] = "/usr/lib/**",
        }).Build();
        var o = ProcessCaptureOptions.FromConfiguration(config);
        Assert.Equal(CaptureMode.Poll, o.Mode);
        Assert.Equal(TimeSpan.FromSeconds(5), o.PollInterval);
        Assert.Equal(500, o.MinUid);
        Assert.Equal(["/usr/**"], o.Include);
        Assert.Equal(["/usr/lib/**"], o.Exclude);
    }

    [Fact]
    public void EveryErrorNamesItsSetting()
    {
        var o = new ProcessCaptureOptions
        {
            PollInterval = TimeSpan.Zero,
            MinUid = 2000,
            MaxUid = 1000,
            JoinWindow = TimeSpan.FromMinutes(1),
            Include = ["relative/*"],
            ReceiveBufferBytes = 1,
        };
        var errors = o.Validate();
        Assert.Contains(errors, e => e.StartsWith("Processes:PollInterval", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("Processes:MaxUid", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("Processes:JoinWindow", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("Processes:Include:0", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("Processes:ReceiveBufferBytes", StringComparison.Ordinal));
        var ex = Assert.Throws<OptionsValidationException>(o.ThrowIfInvalid);
        Assert.Contains("Processes:MaxUid", ex.Message, StringComparison.Ordinal);
        Assert.True(new ProcessCaptureOptionsValidator().Validate(null, o).Failed);
    }
}
