using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;

namespace SessionTrail.Agent.Platform.Linux;

/// <summary>How the Linux process source learns about processes.</summary>
public enum CaptureMode
{
    /// <summary>Kernel events when the agent has the privileges, else /proc polling with a warning.</summary>
    Auto,

    /// <summary>Kernel events (netlink process connector + fanotify) only; the source fails when they cannot start.</summary>
    Kernel,

    /// <summary>/proc polling only: misses processes shorter than the poll interval.</summary>
    Poll,
}

/// <summary>
/// Settings of the Linux process source (configuration section <see cref="SectionName"/>).
/// Every property documents its default.
/// </summary>
public sealed class ProcessCaptureOptions
{
    /// <summary>The configuration section these options bind from: "Processes".</summary>
    public const string SectionName = "Processes";

    /// <summary>Kernel events or /proc polling. Default <see cref="CaptureMode.Auto"/>.</summary>
    public CaptureMode Mode { get; set; } = CaptureMode.Auto;

    /// <summary>How often /proc is scanned in poll mode. Default 1 second; at least 10 ms.</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Executable path globs to capture (<c>*</c>, <c>**</c>, <c>?</c>). Default empty: every path.
    /// </summary>
    public List<string> Include { get; set; } = [];

    /// <summary>Executable path globs never captured, applied after <see cref="Include"/>. Default empty.</summary>
    public List<string> Exclude { get; set; } = [];

    /// <summary>Lowest real uid captured. Default 1000 (the first interactive user on Debian/Ubuntu/RHEL).</summary>
    public long MinUid { get; set; } = 1000;

    /// <summary>Highest real uid captured. Default 60000 (interactive users; excludes nobody = 65534).</summary>
    public long MaxUid { get; set; } = 60000;

    /// <summary>
    /// How long an exec event waits for the fanotify event that carries its executable path (the two
    /// kernel sockets are not ordered against each other). Default 200 ms; between 1 ms and 10 s.
    /// </summary>
    public TimeSpan JoinWindow { get; set; } = TimeSpan.FromMilliseconds(200);

    /// <summary>Longest command line kept, in bytes; 0 turns command lines off. Default 4096.</summary>
    public int MaxCommandLineLength { get; set; } = 4096;

    /// <summary>
    /// Receive buffer of the netlink socket in bytes (set with SO_RCVBUFFORCE as root): absorbs
    /// bursts so that the kernel does not drop events (ENOBUFS). Default 16 MiB; at least 64 KiB.
    /// </summary>
    public int ReceiveBufferBytes { get; set; } = 16 * 1024 * 1024;

    /// <summary>Binds the options from <paramref name="configuration"/>'s "Processes" section (defaults for missing keys).</summary>
    public static ProcessCaptureOptions FromConfiguration(IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var options = new ProcessCaptureOptions();
        configuration.GetSection(SectionName).Bind(options);
        return options;
    }

    /// <summary>Every problem, each naming the setting ("Processes:MinUid ..."); empty when valid.</summary>
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        const string p = SectionName + ":";
        if (!Enum.IsDefined(Mode))
        {
            errors.Add($"{p}{nameof(Mode)} must be Auto, Kernel or Poll (was {(int)Mode}).");
        }

        if (PollInterval < TimeSpan.FromMilliseconds(10))
        {
            errors.Add($"{p}{nameof(PollInterval)} must be at least 00:00:00.010 (was {PollInterval}).");
        }

        if (JoinWindow < TimeSpan.FromMilliseconds(1) || JoinWindow > TimeSpan.FromSeconds(10))
        {
            errors.Add($"{p}{nameof(JoinWindow)} must be between 1 ms and 10 s (was {JoinWindow}).");
        }

        if (MinUid < 0 || MinUid > uint.MaxValue)
        {
            errors.Add($"{p}{nameof(MinUid)} must be between 0 and 4294967295 (was {MinUid}).");
        }

        if (MaxUid < MinUid || MaxUid > uint.MaxValue)
        {
            errors.Add($"{p}{nameof(MaxUid)} must be between {nameof(MinUid)} ({MinUid}) and 4294967295 (was {MaxUid}).");
        }

        if (MaxCommandLineLength < 0 || MaxCommandLineLength > 1024 * 1024)
        {
            errors.Add($"{p}{nameof(MaxCommandLineLength)} must be between 0 and 1048576 (was {MaxCommandLineLength}).");
        }

        if (ReceiveBufferBytes < 64 * 1024)
        {
            errors.Add($"{p}{nameof(ReceiveBufferBytes)} must be at least 65536 (was {ReceiveBufferBytes}).");
        }

        CheckGlobs(errors, p + nameof(Include), Include);
        CheckGlobs(errors, p + nameof(Exclude), Exclude);
        return errors;
    }

    /// <summary>Throws <see cref="OptionsValidationException"/> listing every problem when the options are invalid.</summary>
    public void ThrowIfInvalid()
    {
        var errors = Validate();
        if (errors.Count > 0)
        {
            throw new OptionsValidationException(SectionName, typeof(ProcessCaptureOptions), errors);
        }
    }

    private static void CheckGlobs(List<string> errors, string name, List<string>? globs)
    {
        if (globs is null)
        {
            errors.Add($"{name} must be a list of path globs (was null).");
            return;
        }

        for (int i = 0; i < globs.Count; i++)
        {
            if (string.IsNullOrWhiteSpace(globs[i]) || !globs[i].StartsWith('/') && !globs[i].StartsWith('*'))
            {
                errors.Add($"{name}:{i} must be an absolute path glob starting with '/' or '*' (was '{globs[i]}').");
            }
        }
    }
}

/// <summary>Adapter for <c>services.AddOptions&lt;ProcessCaptureOptions&gt;().Bind(..).ValidateOnStart()</c>.</summary>
public sealed class ProcessCaptureOptionsValidator : IValidateOptions<ProcessCaptureOptions>
{
    public ValidateOptionsResult Validate(string? name, ProcessCaptureOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var errors = options.Validate();
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
