namespace SessionTrail.Core.Tests.Windows.Evtx;

/// <summary>
/// The real test data in <c>shared/data/windows-events/</c> (see its README for sources and licences),
/// found by walking up from the test's base directory.
/// </summary>
internal static class EvtxTestData
{
    /// <summary>735 Security 4688 events from FS03.offsec.lan (mdecrevoisier/EVTX-to-MITRE-Attack, CC0 1.0).</summary>
    public const string TchopperFile = "EVTX-to-MITRE-Attack__ID4688-Tchopper.evtx";

    /// <summary>libevtx <c>evtxexport -f xml</c> rendering of 1,200 events, among them the 735 of <see cref="TchopperFile"/> (CC0 1.0).</summary>
    public const string LibevtxXmlFile = "security-4688.evtx-to-mitre-attack.xml";

    public static string PathOf(string file)
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "shared", "data", "windows-events", file);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        throw new FileNotFoundException($"shared/data/windows-events/{file} not found above {AppContext.BaseDirectory} (the project expects shared/ beside the repository)");
    }

    public static byte[] Tchopper() => File.ReadAllBytes(PathOf(TchopperFile));
}
