using System.Globalization;
using SessionTrail.Core.Windows;
using SessionTrail.Core.Windows.Evtx;

namespace SessionTrail.Cli.Import;

/// <summary>
/// Windows Security 4688/4689 events from event XML (<see cref="WindowsEventXmlReader"/>) or binary
/// <c>.evtx</c> files (<see cref="EvtxReader"/>), mapped by <see cref="SecurityProcessEvents"/> — the same
/// code the live Windows source uses, so ids (<c>win:{Computer}:{Channel}:{EventRecordID}</c>) match.
/// Every process event is imported (capture filters do not apply to import). Events of other ids are
/// counted as not process events; events that cannot be read or mapped are rejected with their place.
/// </summary>
public static class WindowsEventImport
{
    public static void Read(string path, ImportFormat format, Stream stream, ImportFileResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        switch (format)
        {
            case ImportFormat.WindowsEventXml:
                foreach (var item in WindowsEventXmlReader.Read(stream, path))
                {
                    result.Rows++;
                    if (item.Error is { } error)
                    {
                        result.Rejected.Add(new ImportRejection(path, error.Line, $"column {error.Column}: {error.Reason}"));
                        if (error.Fatal)
                        {
                            result.Rows--; // the rest of the document, not an event
                        }
                    }
                    else
                    {
                        Map(path, item.Event!, result);
                    }
                }

                break;
            case ImportFormat.Evtx:
                foreach (var item in new EvtxReader(stream, path).Read())
                {
                    result.Rows++;
                    if (item.Error is { } error)
                    {
                        var where = error.RecordNumber is { } record ? $"offset 0x{error.Offset:x} (record {record})" : $"offset 0x{error.Offset:x}";
                        result.Rejected.Add(new ImportRejection(path, 0, $"{where}: {error.Reason}"));
                    }
                    else
                    {
                        Map(path, item.Event!, result);
                    }
                }

                break;
            default:
                result.Rejected.Add(new ImportRejection(path, 0, "not a format import reads (seed CSV, SessionTrail NDJSON, Windows event XML, .evtx; gzip or not)"));
                break;
        }
    }

    private static void Map(string path, WindowsEvent e, ImportFileResult result)
    {
        var mapped = SecurityProcessEvents.Map(e);
        if (mapped.Record is { } record)
        {
            var (line, where) = result.Window.Check(record) is null ? (0, "") : Place(path, e); // the place only for a rejection
            result.Add(record, line, where);
        }
        else if (mapped.Skipped is not null)
        {
            result.NotProcessEvents++;
        }
        else
        {
            var (line, where) = Place(path, e);
            result.Rejected.Add(new ImportRejection(path, line, where + mapped.Error));
        }
    }

    /// <summary>The line of an XML event (its origin is "path:line"), or the record id of an .evtx one.</summary>
    private static (int Line, string Where) Place(string path, WindowsEvent e)
    {
        var origin = e.Origin ?? "";
        if (origin.StartsWith(path + ":", StringComparison.Ordinal)
            && int.TryParse(origin.AsSpan(path.Length + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var line))
        {
            return (line, "");
        }

        return (0, e.RecordId is { } id ? $"record {id}: " : "");
    }
}
