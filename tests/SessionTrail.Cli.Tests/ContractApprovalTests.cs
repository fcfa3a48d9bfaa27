using System.Text.Json;
using System.Text.Json.Nodes;
using SessionTrail.Agent.Delivery;
using SessionTrail.Agent.Recording;
using SessionTrail.Agent.Recording.Upload;
using SessionTrail.Agent.Status;
using SessionTrail.Cli.Commands;
using SessionTrail.Cli.Output;
using SessionTrail.Cli.Tests.Recordings;
using SessionTrail.Core.Formats;
using SessionTrail.Server.Reports;
using SessionTrail.Server.Store;
using SessionTrail.TestKit;

namespace SessionTrail.Cli.Tests;

/// <summary>
/// Output of the CLI meant for scripts and files, against tests/approvals: `report --format json|csv` over the small data
/// set (<see cref="ReportDataSet"/>, the same answers the API gives), `agent status --json`, and `appstream config-json`
/// (the seed's config.json, tests/data/appstream/session-scripts-config.json, as we derive it).
/// </summary>
public sealed class ContractApprovalTests : IDisposable
{
    private static readonly DateTimeOffset T0 = new(2026, 12, 1, 8, 0, 0, TimeSpan.Zero);
    private readonly string dir = Directory.CreateTempSubdirectory("st-approve-").FullName;

    public void Dispose() => Directory.Delete(dir, recursive: true);

    public static TheoryData<string> ReportCases => [.. ReportDataSet.Cases.Select(c => c.Name)];

    [Theory]
    [MemberData(nameof(ReportCases))]
    public void EachReportIsWrittenAsApprovedInJsonAndCsvAndItsJsonIsTheApis(string name)
    {
        using (var store = SqliteStore.Open(dir))
        {
            store.Ingest(NdjsonReader.Parse(File.ReadAllBytes(ReportDataSet.NdjsonPath)));
        }

        var report = ReportDataSet.Cases.Single(c => c.Name == name).Report;
        var query = ReportDataSet.Query(name);
        string? Q(string key) => query.GetValueOrDefault(key);
        var filter = new ReportFilter(
            ReportCommand.ParseTime("--from", Q("from")),
            ReportCommand.ParseTime("--to", Q("to")),
            Q("user"),
            Q("by") == "month" ? ReportPeriod.Month : ReportPeriod.Day,
            Q("days") is { } days ? int.Parse(days, System.Globalization.CultureInfo.InvariantCulture) : null,
            Q("fleet"),
            Q("stack"));
        var (rows, columns) = ReportCommand.FromData(dir, report, filter, ReportService.DefaultMaxRows, new FixedClock(ReportDataSet.Now));

        var json = Render(rows, columns, ReportFormat.Json);
        Approvals.Verify(json, $"reports/cli/{name}.json");
        Approvals.Verify(Render(rows, columns, ReportFormat.Csv), $"reports/cli/{name}.csv");
        var api = File.ReadAllText(Path.Combine(Approvals.Folder, "reports", "api", name + ".json"));
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(api), JsonNode.Parse(json)), $"`report {name} --format json` is not the API's JSON (tests/approvals/reports/api/{name}.json)");
    }

    [Fact]
    public async Task AgentStatusJsonIsWrittenAsApproved()
    {
        var error = new ErrorEntry(T0.AddMinutes(-1), "POST /api/v1/ingest: the server answered 503");
        new AgentStatus
        {
            WrittenAt = T0, AgentId = "agent-1", State = "running", StartedAt = T0.AddHours(-1),
            Sinks =
            [
                new SinkStatus
                {
                    Name = "server", PendingRecords = 12, PendingBytes = 3400, OldestPendingSeconds = 2.5, AckedTotal = 1000,
                    RetriesTotal = 3, RecentErrors = [error],
                },
                new SinkStatus
                {
                    Name = "s3-logs", SinkType = "S3", State = "queue full", QueueFullPolicy = "DropOldest", Full = true, DroppedTotal = 5,
                    DeadLetteredTotal = 1, OpenObjects = 2, PendingUploads = 1, UploadedTotal = 40,
                },
            ],
            Sources =
            [
                new SourceStatus { Name = "processes", State = "running" },
                new SourceStatus { Name = "winlog-app", SourceType = "WindowsEventLogSource", State = "restarting", Restarts = 2, LastError = "channel not found", LastErrorTime = T0.AddMinutes(-5) },
            ],
            Pipes = [new PipeStatus { Id = "app-to-s3", Source = "winlog-app", Sink = "s3-logs", Filter = "not ^Audit", Passed = 90, Blocked = 10, Timeouts = 0 }],
            Config = new ConfigStatus { File = "/etc/sessiontrail/appsettings.json", LoadedAt = T0.AddMinutes(-30), Reloads = 1, ReloadError = "Sinks[0]: unknown SinkType 'X'", ReloadErrorTime = T0.AddMinutes(-10) },
            Recorder = new RecorderStatus
            {
                State = "recording", Session = "s1", SegmentIndex = 3, SegmentBytes = 123456, Width = 1920, Height = 1080, FfmpegPid = 4242,
                Backend = "x11grab", FramesSent = 500, FramesChanged = 120, Restarts = 1, SegmentsClosed = 3, LastError = "ffmpeg exited (code 1)", LastErrorTime = T0.AddMinutes(-20),
            },
            RecordingUpload = new RecordingUploadStatus
            {
                State = "uploading", Upload = "server", PendingSegments = 3, PendingBytes = 900000, OpenSegments = 1, UploadingNow = "s1/2",
                UploadedSegmentsTotal = 7, UploadedBytesTotal = 7000000, DeletedSegmentsTotal = 6, SpoolBytes = 1000000, SpoolMaxBytes = 1073741824,
                LiveLagSeconds = 4.25, LastError = "PATCH upload: the server answered 500", LastErrorTime = T0.AddMinutes(-2),
                SetAside = [new SetAsideSegment("s-stuck/0", "PATCH upload: the server answered 500", T0.AddMinutes(-30), 6, T0.AddMinutes(-2), T0.AddMinutes(3))],
            },
        }.Write(dir);

        var (code, json) = await RecordingVerifierTests.RunCliAsync("agent", "status", "--data", dir, "--json");

        Assert.True(code == 0, json);
        Approvals.Verify(json, "cli/agent-status.json");
    }

    [Fact]
    public async Task TheSeedsConfigJsonIsDerivedAsApproved()
    {
        var (code, json) = await RecordingVerifierTests.RunCliAsync("appstream", "config-json");
        var (optionsCode, withOptions) = await RecordingVerifierTests.RunCliAsync(
            "appstream", "config-json", "--exe", @"D:\Tools\ST\sessiontrail.exe", "--data", @"D:\Data\ST", "--start-wait", "10", "--end-wait", "45");

        Assert.True(code == 0, json);
        Assert.True(optionsCode == 0, withOptions);
        Approvals.Verify(json, "cli/appstream-config.json");
        Approvals.Verify(withOptions, "cli/appstream-config-options.json");
        using var seed = JsonDocument.Parse(File.ReadAllText(Repository.DataFile("appstream/session-scripts-config.json")));
        using var ours = JsonDocument.Parse(json);
        Assert.Equal(
            seed.RootElement.EnumerateObject().Select(p => p.Name),
            ours.RootElement.EnumerateObject().Select(p => p.Name));
    }

    private static string Render(JsonElement rows, IReadOnlyList<string> columns, ReportFormat format)
    {
        using var text = new StringWriter { NewLine = "\n" };
        ReportRenderer.Render(rows, columns, format, text);
        return text.ToString();
    }
}
