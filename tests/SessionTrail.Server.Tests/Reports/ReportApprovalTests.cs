using System.Net;
using Microsoft.Extensions.DependencyInjection;
using SessionTrail.Server.Reports;
using SessionTrail.Server.Tests.Http;
using SessionTrail.TestKit;

namespace SessionTrail.Server.Tests.Reports;

/// <summary>
/// Every report's JSON as GET /api/v1/reports/NAME answers it (a real server on a fixed clock), over the small data set
/// <see cref="ReportDataSet"/> sent to POST /api/v1/ingest, against tests/approvals/reports/api/CASE.json.
/// The CLI's `report --format json|csv` is held to the same answers (SessionTrail.Cli.Tests ReportApprovalTests).
/// </summary>
public sealed class ReportApprovalTests
{
    public static TheoryData<string> Cases => [.. ReportDataSet.Cases.Select(c => c.Name)];

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task EachReportAnswersAsApproved(string name)
    {
        var (_, report, query) = ReportDataSet.Cases.Single(c => c.Name == name);
        await using var server = await RunningServer.StartAsync(services: s => s.AddSingleton<TimeProvider>(new FixedClock(ReportDataSet.Now)));
        using var body = new ByteArrayContent(await File.ReadAllBytesAsync(ReportDataSet.NdjsonPath));
        body.Headers.ContentType = new("application/x-ndjson");
        var ingest = await server.Client.PostAsync("/api/v1/ingest", body);
        Assert.True(ingest.IsSuccessStatusCode, await ingest.Content.ReadAsStringAsync());

        var response = await server.Client.GetAsync($"/api/v1/reports/{report}?{query}");
        var json = await response.Content.ReadAsStringAsync();

        Assert.True(response.StatusCode == HttpStatusCode.OK, json);
        Assert.Equal("application/json; charset=utf-8", response.Content.Headers.ContentType?.ToString());
        Approvals.Verify(json + "\n", $"reports/api/{name}.json");
    }

    [Fact]
    public void EveryReportHasAnApprovedAnswer()
    {
        var covered = ReportDataSet.Cases.Select(c => c.Report).ToHashSet();

        Assert.Equal(ReportService.ReportNames.Order(StringComparer.Ordinal), covered.Order(StringComparer.Ordinal));
    }
}
