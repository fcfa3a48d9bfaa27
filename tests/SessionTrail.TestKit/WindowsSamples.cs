using Xunit;

namespace SessionTrail.TestKit;

/// <summary>
/// The real Windows event captures the tests read. The CC0 ones, and one derived from them, are in the
/// repository (<c>tests/data/windows-events/</c>, see its README for sources and licences), so every test
/// on them runs in any clone. The OTRF capture may not be copied into the repository: it is read from
/// <c>shared/data/windows-events/</c> above the repository when it is there, and the tests that need it
/// (<see cref="OtrfFactAttribute"/>, <see cref="OtrfCaptureAttribute"/>) are reported skipped, with the
/// reason, when it is not. No behaviour is tested only on it.
/// </summary>
public static class WindowsSamples
{
    /// <summary>1,200 real 4688 events rendered by libevtx (indented, padded hex). Repository, CC0.</summary>
    public const string LibevtxFile = "security-4688.evtx-to-mitre-attack.xml";

    /// <summary>
    /// The same 1,200 starts in the EventRecord.ToXml() shape, in time order with record ids 1..N, plus 915
    /// made-up 4689 exits (tests/data/windows-events/derive-compact.py). Repository, derived from CC0.
    /// </summary>
    public const string CompactFile = "security-4688-4689.compact.xml";

    /// <summary>342 real 4688 and 270 real 4689 events, ToXml() shape. Only in shared/ (unclear licence).</summary>
    public const string OtrfFile = "security-4688-4689.otrf.xml";

    /// <summary>Why the OTRF tests are skipped when they are.</summary>
    public const string OtrfSkipReason =
        "needs the OTRF capture shared/data/windows-events/" + OtrfFile + " above the repository; its licence (MIT or GPL-3.0?) "
        + "keeps it out of the repository, and every behaviour it shows is also tested on the repository's CC0 data";

    private static readonly Lazy<string> Captures = new(FindRepositoryFolder);
    private static readonly Lazy<string?> Otrf = new(FindOtrf);

    /// <summary><c>tests/data/windows-events</c> of this repository.</summary>
    public static string Directory => Captures.Value;

    /// <summary>The OTRF capture's path, or null when shared/ is not above the repository.</summary>
    public static string? OtrfPath => Otrf.Value;

    /// <summary>A capture's path: the repository's copy, or for <see cref="OtrfFile"/> the one in shared/.</summary>
    public static string PathOf(string file) =>
        file == OtrfFile
            ? OtrfPath ?? throw new InvalidOperationException(OtrfSkipReason)
            : Path.Combine(Directory, file);

    /// <summary>The event XML captures in the repository (the libevtx rendering and the ToXml-shaped one).</summary>
    public static IEnumerable<string> XmlFiles() => [PathOf(LibevtxFile), PathOf(CompactFile)];

    /// <summary>Every line of a ToXml-shaped capture that is one event, as EventRecord.ToXml() gives it.</summary>
    public static List<string> EventLines(string file) =>
        [.. File.ReadLines(PathOf(file)).Where(l => l.StartsWith("<Event ", StringComparison.Ordinal))];

    private static string FindRepositoryFolder()
    {
        var folder = Repository.PathOf("tests", "data", "windows-events");
        return File.Exists(Path.Combine(folder, LibevtxFile))
            ? folder
            : throw new DirectoryNotFoundException(folder + " (part of the repository) holds no " + LibevtxFile);
    }

    private static string? FindOtrf() => Repository.FindAbove(Path.Combine("shared", "data", "windows-events", OtrfFile));
}

/// <summary>A test on the OTRF capture; skipped, saying why, when it is not above the repository.</summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class OtrfFactAttribute : FactAttribute
{
    public OtrfFactAttribute()
    {
        if (WindowsSamples.OtrfPath is null)
        {
            Skip = WindowsSamples.OtrfSkipReason;
        }
    }
}

/// <summary>Theory data: each event XML capture in the repository, by path.</summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class RepositoryCapturesAttribute : Xunit.Sdk.DataAttribute
{
    public override IEnumerable<object[]> GetData(System.Reflection.MethodInfo testMethod) =>
        WindowsSamples.XmlFiles().Select(f => new object[] { Path.GetFileName(f) });
}

/// <summary>Theory data: the OTRF capture, or one row reported skipped (with the reason) when it is absent.</summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class OtrfCaptureAttribute : Xunit.Sdk.DataAttribute
{
    public OtrfCaptureAttribute()
    {
        if (WindowsSamples.OtrfPath is null)
        {
            Skip = WindowsSamples.OtrfSkipReason;
        }
    }

    public override IEnumerable<object[]> GetData(System.Reflection.MethodInfo testMethod) => [[WindowsSamples.OtrfFile]];
}
