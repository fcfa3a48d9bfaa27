namespace SessionTrail.Cli.Import;

/// <summary>The counts an import prints at the end, and the first rejections.</summary>
public sealed class ImportSummary
{
    /// <summary>How many rejections are listed one by one; the rest are only counted.</summary>
    public const int ListedRejections = 20;

    public int Files { get; set; }

    /// <summary>Files under a DIR argument that were not read (not an importable extension).</summary>
    public List<string> Skipped { get; } = [];

    public long Rows { get; set; }

    public long Records { get; set; }

    public long Stored { get; set; }

    public long Duplicates { get; set; }

    public int Sessions { get; set; }

    public long Rejoined { get; set; }

    /// <summary>Seed CSV sessions whose file had no session_end row: their runs without an exit stay open.</summary>
    public long SessionsWithoutEnd { get; set; }

    /// <summary>Windows events read that are not process events (other event ids): not imported, not errors.</summary>
    public long NotProcessEvents { get; set; }

    public long RejectedCount { get; private set; }

    public List<ImportRejection> Rejected { get; } = [];

    public TimeSpan Elapsed { get; set; }

    /// <summary>0: everything imported; 2: some rows or files were rejected (all else was imported).</summary>
    public int ExitCode => RejectedCount > 0 ? 2 : 0;

    public void Reject(IEnumerable<ImportRejection> rejections)
    {
        ArgumentNullException.ThrowIfNull(rejections);
        foreach (var r in rejections)
        {
            RejectedCount++;
            if (Rejected.Count < ListedRejections)
            {
                Rejected.Add(r);
            }
        }
    }

    public void Write(TextWriter output)
    {
        ArgumentNullException.ThrowIfNull(output);
        var rate = Elapsed.TotalSeconds > 0 ? Rows / Elapsed.TotalSeconds : 0;
        output.WriteLine($"files:      {Files}");
        if (Skipped.Count > 0)
        {
            output.WriteLine($"skipped:    {Skipped.Count} (not .csv/.ndjson/.jsonl/.json/.xml/.evtx/.gz, or a link to a folder), e.g. {string.Join(", ", Skipped.Take(3))}");
        }

        output.WriteLine($"rows:       {Rows}");
        output.WriteLine($"records:    {Records}");
        output.WriteLine($"stored:     {Stored}");
        output.WriteLine($"duplicates: {Duplicates}");
        output.WriteLine($"sessions:   {Sessions}");
        if (Rejoined > 0)
        {
            output.WriteLine($"rejoined:   {Rejoined} (rows whose process contained a comma, put back together)");
        }

        if (SessionsWithoutEnd > 0)
        {
            output.WriteLine($"no end:     {SessionsWithoutEnd} (seed CSV sessions without a session_end row: their runs without an exit stay open)");
        }

        if (NotProcessEvents > 0)
        {
            output.WriteLine($"other:      {NotProcessEvents} (Windows events that are not 4688/4689, not imported)");
        }

        output.WriteLine($"rejected:   {RejectedCount}");
        foreach (var r in Rejected)
        {
            output.WriteLine("  " + r);
        }

        if (RejectedCount > Rejected.Count)
        {
            output.WriteLine($"  … and {RejectedCount - Rejected.Count} more");
        }

        output.WriteLine($"elapsed:    {Elapsed.TotalSeconds:0.0} s ({rate:0} rows/s)");
    }
}
