using Xunit;

namespace SessionTrail.TestKit;

/// <summary>A test of Linux behaviour (the real /proc, Linux-only code paths): skipped, saying why, on other systems — never passed without running.</summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class LinuxFactAttribute : FactAttribute
{
    public LinuxFactAttribute()
    {
        if (!OperatingSystem.IsLinux())
        {
            Skip = "needs Linux";
        }
    }
}
