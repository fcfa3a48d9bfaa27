namespace SessionTrail.Cli.Import;

/// <summary>Windows Security 4688/4689 events from event XML or .evtx files.</summary>
public static class WindowsEventImport
{
    public static void Read(string path, ImportFormat format, Stream stream, ImportFileResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        var what = format switch
        {
            ImportFormat.WindowsEventXml => "Windows event XML is not supported by this build",
            ImportFormat.Evtx => ".evtx files are not supported by this build",
            _ => "not a format import reads (seed CSV, SessionTrail NDJSON; gzip or not)",
        };
        result.Rejected.Add(new ImportRejection(path, 0, what));
    }
}
