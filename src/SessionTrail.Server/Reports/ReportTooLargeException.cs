using System.Globalization;

namespace SessionTrail.Server.Reports;

/// <summary>
/// A report would answer more rows than its cap (<see cref="ReportService.MaxRows"/>). The message names the report, the
/// number of rows it would have answered, the cap, how to narrow the question and how to raise the cap; the API answers it
/// as a 422 <c>{"error","rows","maxRows"}</c>, the CLI on stderr with exit code 1.
/// </summary>
public sealed class ReportTooLargeException : InvalidOperationException
{
    /// <param name="report">The report (or dashboard chart) asked for.</param>
    /// <param name="rows">How many rows it would have answered.</param>
    /// <param name="maxRows">The cap.</param>
    /// <param name="detail">More ways to narrow, or what the data spans (ends the sentence on narrowing).</param>
    public ReportTooLargeException(string report, long rows, int maxRows, string? detail = null)
        : base(string.Create(
            CultureInfo.InvariantCulture,
            $"{report} would answer {rows:N0} rows, more than the cap of {maxRows:N0}: narrow it with from/to (--from/--to), user, fleet or stack{(detail is null ? "" : ", " + detail)}. The cap is the server's --report-max-rows (report --max-rows when reading --data)."))
    {
        Report = report;
        Rows = rows;
        MaxRows = maxRows;
    }

    public ReportTooLargeException()
    {
        Report = "";
    }

    public ReportTooLargeException(string message)
        : base(message)
    {
        Report = "";
    }

    public ReportTooLargeException(string message, Exception innerException)
        : base(message, innerException)
    {
        Report = "";
    }

    /// <summary>The report (or dashboard chart) asked for.</summary>
    public string Report { get; }

    /// <summary>How many rows it would have answered.</summary>
    public long Rows { get; }

    /// <summary>The cap it is past.</summary>
    public int MaxRows { get; }
}
