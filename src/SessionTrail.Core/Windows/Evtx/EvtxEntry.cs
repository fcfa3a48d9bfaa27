namespace SessionTrail.Core.Windows.Evtx;

/// <summary>
/// Something wrong in an <c>.evtx</c> file: where (<see cref="Offset"/>, bytes from the start of the file,
/// and the record number when one applies) and what (<see cref="Reason"/>). The reader reports it and
/// goes on with the next record or chunk.
/// </summary>
public sealed record EvtxError(string Source, long Offset, string Reason, long? RecordNumber = null)
{
    /// <summary>One line for the user: <c>Security.evtx offset 0x11200 (record 91): reason</c>.</summary>
    public string Message => RecordNumber is { } record
        ? $"{Source} offset 0x{Offset:x} (record {record}): {Reason}"
        : $"{Source} offset 0x{Offset:x}: {Reason}";

    /// <inheritdoc />
    public override string ToString() => Message;
}

/// <summary>One item read from an <c>.evtx</c> file: an event, or an error in its place.</summary>
public readonly record struct EvtxEntry
{
    private EvtxEntry(WindowsEvent? windowsEvent, EvtxError? error)
    {
        Event = windowsEvent;
        Error = error;
    }

    /// <summary>The event, or null when this entry is an error.</summary>
    public WindowsEvent? Event { get; }

    /// <summary>The error, or null when this entry is an event.</summary>
    public EvtxError? Error { get; }

    internal static EvtxEntry Of(WindowsEvent windowsEvent) => new(windowsEvent, null);

    internal static EvtxEntry Of(EvtxError error) => new(null, error);
}

/// <summary>What the file header says (see <see cref="EvtxReader.Header"/>).</summary>
public sealed record EvtxFileHeader
{
    /// <summary>Major.minor format version (3.1 from Windows Vista, 3.2 from Windows 10 2004).</summary>
    public required Version FormatVersion { get; init; }

    /// <summary>Number of chunks the header counts (a dirty file can hold more).</summary>
    public required int ChunkCount { get; init; }

    /// <summary>The record number the next written record gets: records so far are 1 .. this − 1 in a whole log.</summary>
    public required long NextRecordNumber { get; init; }

    /// <summary>The file was not closed cleanly (flag 0x1): its last chunk may be incomplete.</summary>
    public required bool IsDirty { get; init; }

    /// <summary>The log was full (flag 0x2).</summary>
    public required bool IsFull { get; init; }
}

/// <summary>Counts from one read (see <see cref="EvtxReader.Statistics"/>).</summary>
public sealed class EvtxStatistics
{
    /// <summary>Chunks with a chunk signature.</summary>
    public int Chunks { get; internal set; }

    /// <summary>64 KiB blocks that were all zeros (preallocated, never written): skipped without an error.</summary>
    public int EmptyChunks { get; internal set; }

    /// <summary>Event records found (read or not).</summary>
    public long Records { get; internal set; }

    /// <summary>Events produced.</summary>
    public long Events { get; internal set; }

    /// <summary>Errors reported.</summary>
    public long Errors { get; internal set; }
}
