namespace SessionTrail.Core.Tests.Windows;

/// <summary>
/// The real Windows event captures in <c>shared/data/windows-events/</c> (beside the repository, never
/// copied into it: one file's licence forbids that). Found by walking up from the test's directory.
/// </summary>
internal static class WindowsSamples
{
    public const string LibevtxFile = "security-4688.evtx-to-mitre-attack.xml";
    public const string OtrfFile = "security-4688-4689.otrf.xml";

    private static readonly Lazy<string?> Folder = new(Find);

    public static string? Directory => Folder.Value;

    public static string PathOf(string file) =>
        Path.Combine(Directory ?? throw new InvalidOperationException("shared/data/windows-events not found"), file);

    public static IEnumerable<string> XmlFiles() =>
        System.IO.Directory.GetFiles(Directory!, "*.xml").OrderBy(f => f, StringComparer.Ordinal);

    private static string? Find()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "shared", "data", "windows-events");
            if (File.Exists(Path.Combine(candidate, LibevtxFile)) && File.Exists(Path.Combine(candidate, OtrfFile)))
            {
                return candidate;
            }
        }

        return null;
    }
}

/// <summary>A test on the real Windows captures; skipped, saying why, when <c>shared/data/windows-events</c> is absent.</summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class WindowsSamplesFactAttribute : FactAttribute
{
    public WindowsSamplesFactAttribute()
    {
        if (WindowsSamples.Directory is null)
        {
            Skip = "needs the real captures in shared/data/windows-events/ (a folder named shared beside or above the repository); not found above "
                + AppContext.BaseDirectory;
        }
    }
}
