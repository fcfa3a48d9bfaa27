namespace SessionTrail.Core.Tests.Windows.Evtx;

/// <summary>
/// The real .evtx test data in the repository's <c>tests/data/windows-events/</c> (see its README for
/// sources and licences).
/// </summary>
internal static class EvtxTestData
{
    /// <summary>735 Security 4688 events from FS03.offsec.lan (mdecrevoisier/EVTX-to-MITRE-Attack, CC0 1.0).</summary>
    public const string TchopperFile = "EVTX-to-MITRE-Attack__ID4688-Tchopper.evtx";

    /// <summary>libevtx <c>evtxexport -f xml</c> rendering of 1,200 events, among them the 735 of <see cref="TchopperFile"/> (CC0 1.0).</summary>
    public const string LibevtxXmlFile = "security-4688.evtx-to-mitre-attack.xml";

    public static string PathOf(string file) => WindowsSamples.PathOf(file);

    public static byte[] Tchopper() => File.ReadAllBytes(PathOf(TchopperFile));
}
