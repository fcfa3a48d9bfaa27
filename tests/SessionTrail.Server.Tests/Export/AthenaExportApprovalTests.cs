using System.Text;
using SessionTrail.Core.Formats;
using SessionTrail.Server.Export;
using SessionTrail.TestKit;

namespace SessionTrail.Server.Tests.Export;

/// <summary>
/// What `sessiontrail export --format athena|athena-jsonl` writes for the small data set (<see cref="ReportDataSet"/>),
/// against tests/approvals/athena/FORMAT.txt: every object's key and content (the seed's CSV header, one row per
/// process event and the session_end row), the warnings and the counts. Open sessions are written as ending at a fixed now.
/// </summary>
public sealed class AthenaExportApprovalTests : IDisposable
{
    private readonly StoreFixture s = new();
    private readonly TempDataDir outDir = new();

    public AthenaExportApprovalTests() =>
        s.Ingest([.. NdjsonReader.Parse(File.ReadAllBytes(ReportDataSet.NdjsonPath))]);

    public void Dispose()
    {
        s.Dispose();
        outDir.Dispose();
    }

    [Theory]
    [InlineData(AthenaFormat.Csv, "athena/export-csv.txt")]
    [InlineData(AthenaFormat.Jsonl, "athena/export-jsonl.txt")]
    public void TheExportIsWrittenAsApproved(AthenaFormat format, string approval)
    {
        var warnings = new List<string>();
        var summary = new AthenaExporter(s.Store).Export(
            new AthenaExportRequest(format, outDir.Path, IncludeOpen: true, Now: ReportDataSet.Now), warnings.Add);

        var text = new StringBuilder();
        text.Append($"sessions {summary.Sessions}, rows {summary.Rows}, bytes {summary.Bytes}, open skipped {summary.OpenSkipped}, ")
            .Append($"starts without session {summary.StartsWithoutSession}, warnings {summary.Warnings}\n");
        foreach (var warning in warnings)
        {
            text.Append("warning: ").Append(warning).Append('\n');
        }

        foreach (var file in Directory.GetFiles(outDir.Path, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
        {
            text.Append("\n== ").Append(Path.GetRelativePath(outDir.Path, file).Replace('\\', '/')).Append(" ==\n");
            text.Append(File.ReadAllText(file));
        }

        Approvals.Verify(text.ToString(), approval);
    }

    [Fact]
    public void TheCsvHeaderIsTheSeedsAndAsApproved() =>
        Approvals.Verify(AthenaCsvWriter.Header + "\n", "athena/header.csv");
}
