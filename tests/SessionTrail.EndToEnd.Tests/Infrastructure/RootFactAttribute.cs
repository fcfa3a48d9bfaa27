namespace SessionTrail.EndToEnd.Tests.Infrastructure;

/// <summary>
/// A test that needs root: kernel process capture (fanotify needs CAP_SYS_ADMIN) and running
/// programs as another user. Reported as skipped, with the reason, when not root.
/// </summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class RootFactAttribute : FactAttribute
{
    public RootFactAttribute()
    {
        if (!Machine.IsRoot)
        {
            Skip = "needs root (kernel process capture, running programs as a test user); run ./run-tests as root";
        }
        else if (!File.Exists("/usr/bin/setpriv") && !File.Exists("/bin/setpriv"))
        {
            Skip = "needs setpriv (Debian package util-linux)";
        }
    }
}
