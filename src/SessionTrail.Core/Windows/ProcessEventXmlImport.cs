using SessionTrail.Core.Records;

namespace SessionTrail.Core.Windows;

/// <summary>
/// One event of a Windows event XML file as <c>import</c> sees it: a process record, an event that is not
/// a process event (<see cref="Skipped"/>, not an error), or an error (<see cref="Error"/>) at
/// <see cref="Origin"/>:<see cref="Line"/>. <see cref="Fatal"/> errors are broken XML: reading goes on at the next <c>&lt;Event</c> tag after them.
/// </summary>
public sealed record ProcessEventReadResult(string Origin, int Line, ProcessRecord? Record, string? Skipped, string? Error)
{
    public bool Fatal { get; init; }

    /// <summary><c>origin:line: error</c> (or the skip reason).</summary>
    public override string ToString() => $"{Origin}:{Line}: {Error ?? Skipped ?? "process " + Record?.Type}";
}

/// <summary>
/// The one call for importing Windows event XML (any rendering, see <see cref="WindowsEventXmlReader"/>):
/// reads every event and maps 4688/4689 with <see cref="SecurityProcessEvents.Map"/>. Every event gives
/// exactly one result; no filter is applied (capture filters are for live capture only); record ids are
/// the deterministic <c>win:{Computer}:{Channel}:{EventRecordID}</c>, so importing twice, or importing what
/// the live agent already sent, stores each event once.
/// </summary>
public static class ProcessEventXmlImport
{
    public static IEnumerable<ProcessEventReadResult> Read(TextReader reader, string origin) =>
        Map(WindowsEventXmlReader.Read(reader, origin), origin);

    /// <summary>Reads a file (encoding from its BOM or XML declaration); the path is the origin.</summary>
    public static IEnumerable<ProcessEventReadResult> ReadFile(string path) =>
        Map(WindowsEventXmlReader.ReadFile(path), path);

    private static IEnumerable<ProcessEventReadResult> Map(IEnumerable<WindowsEventReadResult> results, string origin)
    {
        foreach (var result in results)
        {
            if (result.Error is { } error)
            {
                yield return new ProcessEventReadResult(error.Origin, error.Line, null, null, error.Reason) { Fatal = error.Fatal };
                continue;
            }

            var e = result.Event!;
            var mapped = SecurityProcessEvents.Map(e);
            yield return new ProcessEventReadResult(origin, e.Line ?? 0, mapped.Record, mapped.Skipped, mapped.Error);
        }
    }
}
