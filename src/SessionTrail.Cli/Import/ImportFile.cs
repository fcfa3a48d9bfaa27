using System.Threading.Channels;
using SessionTrail.Core.Formats;
using SessionTrail.Core.Records;

namespace SessionTrail.Cli.Import;

/// <summary>A line (0 for the file as a whole) that was not imported, and why.</summary>
public readonly record struct ImportRejection(string File, int Line, string Reason)
{
    public override string ToString() => Line > 0 ? $"{File}:{Line}: {Reason}" : $"{File}: {Reason}";
}

/// <summary>
/// What one file gave: its records (handed to the sink as they are read, so a large file is never held
/// in memory; kept in <see cref="Records"/> when there is no sink), how many rows/lines/events it had,
/// and what was refused. A record with a time outside <see cref="Window"/> is refused here, whatever
/// format it came from, so none reaches the store.
/// </summary>
public sealed class ImportFileResult(string path, RecordTimeWindow window, Action<TrailRecord>? sink = null)
{
    /// <summary>The times a record may carry (docs/import.md "Import": the same window as the server's ingest).</summary>
    public RecordTimeWindow Window { get; } = window;

    /// <summary>The records read, when no sink was given.</summary>
    public List<TrailRecord> Records { get; } = [];

    /// <summary>Records read (given to the sink or kept).</summary>
    public int RecordCount { get; private set; }

    /// <summary>
    /// Takes <paramref name="record"/>, or rejects it as <c>file:line: field 'time': …</c> when a time field lies
    /// outside <see cref="Window"/> (<paramref name="where"/> prefixes the reason, e.g. an .evtx record number).
    /// </summary>
    public void Add(TrailRecord record, int line = 0, string where = "")
    {
        ArgumentNullException.ThrowIfNull(record);
        if (Window.Check(record) is { } outside)
        {
            var place = line > 0 || where.Length > 0 ? where : $"record {record.Id}: ";
            Rejected.Add(new ImportRejection(path, line, $"{place}field '{outside.Field}': {outside.Problem}"));
            return;
        }

        RecordCount++;
        if (sink is null)
        {
            Records.Add(record);
        }
        else
        {
            sink(record);
        }
    }

    public List<ImportRejection> Rejected { get; } = [];

    /// <summary>Rows (CSV), non-blank lines (NDJSON) or events (XML, EVTX) read, imported or rejected.</summary>
    public int Rows { get; set; }

    /// <summary>Seed CSV rows whose process contained a comma and were put back together.</summary>
    public int Rejoined { get; set; }

    /// <summary>Seed CSV sessions whose file has no session_end row.</summary>
    public int SessionsWithoutEnd { get; set; }

    /// <summary>Windows events that are not 4688/4689 (read, counted, not imported).</summary>
    public int NotProcessEvents { get; set; }
}

/// <summary>Reads one file of any <see cref="ImportFormat"/> into records; never throws for bad content.</summary>
public static class ImportFile
{
    /// <summary>
    /// Reads <paramref name="path"/>; records go to <paramref name="sink"/> as they are read (or are kept in the
    /// result). Records with a time outside <paramref name="window"/> (default: <see cref="RecordTimeWindow"/> of
    /// this machine's clock now) are rejected with their place.
    /// </summary>
    public static ImportFileResult Read(string path, Action<TrailRecord>? sink = null, RecordTimeWindow? window = null)
    {
        var result = new ImportFileResult(path, window ?? RecordTimeWindow.Of(TimeProvider.System), sink);
        try
        {
            var (format, stream) = ImportInput.Open(path);
            using (stream)
            {
                switch (format)
                {
                    case ImportFormat.SeedCsv:
                        ReadSeedCsv(path, stream, result);
                        break;
                    case ImportFormat.Ndjson:
                        ReadNdjson(path, stream, result);
                        break;
                    default:
                        WindowsEventImport.Read(path, format, stream, result);
                        break;
                }
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidDataException)
        {
            // Records read before the failure are kept; the rest of the file is reported.
            result.Rejected.Add(new ImportRejection(path, 0, $"cannot read{(result.Rows > 0 ? $" after {result.Rows} rows" : "")}: {e.Message}"));
        }
        catch (Exception e) when (e is not OperationCanceledException and not ChannelClosedException)
        {
            // A reader bug: said, for this file only, rather than ending the whole import.
            result.Rejected.Add(new ImportRejection(path, 0, $"cannot read{(result.Rows > 0 ? $" after {result.Rows} rows" : "")}: {e.GetType().Name}: {e.Message}"));
        }

        return result;
    }

    private static void ReadSeedCsv(string path, Stream stream, ImportFileResult result)
    {
        var name = Path.GetFileName(path);
        name = name.EndsWith(".gz", StringComparison.OrdinalIgnoreCase) ? name[..^3] : name;
        var fileSession = name.EndsWith(".csv", StringComparison.OrdinalIgnoreCase) ? name[..^4] : null;
        var csv = SeedCsvReader.Read(stream, fileSession, result.Window);
        result.Rows = csv.Rows;
        result.Rejoined = csv.Rejoined;
        result.SessionsWithoutEnd = csv.SessionsWithoutEnd.Count;
        foreach (var record in csv.Records)
        {
            result.Add(record);
        }

        foreach (var r in csv.Rejected)
        {
            result.Rejected.Add(new ImportRejection(path, r.Line, r.Reason));
        }
    }

    /// <summary>The agent's NDJSON, line by line: a bad line is rejected alone (file:line), the others are kept.</summary>
    private static void ReadNdjson(string path, Stream stream, ImportFileResult result)
    {
        var lineNumber = 0;
        foreach (var line in Lines(stream, NdjsonReader.DefaultMaxLineBytes))
        {
            lineNumber++;
            if (line is null)
            {
                result.Rows++;
                result.Rejected.Add(new ImportRejection(path, lineNumber, $"line is longer than {NdjsonReader.DefaultMaxLineBytes} bytes"));
                continue;
            }

            var span = line.AsSpan();
            if (lineNumber == 1 && span.StartsWith("\uFEFF"u8))
            {
                span = span[3..];
            }

            if (span.Trim(" \t\r"u8).IsEmpty)
            {
                continue;
            }

            result.Rows++;
            if (span[^1] == (byte)'\r')
            {
                span = span[..^1];
            }

            try
            {
                result.Add(NdjsonReader.ParseLine(span, lineNumber), lineNumber);
            }
            catch (NdjsonFormatException e)
            {
                result.Rejected.Add(new ImportRejection(path, lineNumber, e.Field is null ? e.Problem : $"field '{e.Field}': {e.Problem}"));
            }
        }
    }

    /// <summary>The lines of <paramref name="stream"/> without their '\n'; null for a line longer than <paramref name="max"/> bytes.</summary>
    internal static IEnumerable<byte[]?> Lines(Stream stream, int max)
    {
        var buffer = new byte[1 << 16];
        var line = new MemoryStream();
        var tooLong = false;
        int read;
        while ((read = stream.Read(buffer, 0, buffer.Length)) > 0)
        {
            var start = 0;
            while (start < read)
            {
                var newline = Array.IndexOf(buffer, (byte)'\n', start, read - start);
                var end = newline < 0 ? read : newline;
                if (!tooLong)
                {
                    line.Write(buffer, start, end - start);
                    tooLong = line.Length > max;
                }

                if (newline < 0)
                {
                    break;
                }

                yield return tooLong ? null : line.ToArray();
                line.SetLength(0);
                tooLong = false;
                start = newline + 1;
            }
        }

        if (line.Length > 0 || tooLong)
        {
            yield return tooLong ? null : line.ToArray();
        }
    }
}
