using SessionTrail.Cli.Import;
using SessionTrail.Core.Records;
using SessionTrail.Server;
using SessionTrail.TestKit;

namespace SessionTrail.Cli.Tests.Import;

/// <summary>The --server path of import against a real in-process server (Kestrel on 127.0.0.1).</summary>
public sealed class ServerImportTargetTests : IAsyncLifetime
{
    private RunningServer? server;
    private string url = "";
    private string token = "";

    public async Task InitializeAsync()
    {
        // A small body limit, so that a 5,000-record batch is refused with 413 and must be split.
        server = await RunningServer.StartAsync(o => o.MaxBodyBytes = 64 * 1024);
        token = server.Token;
        url = ServerApp.Addresses(server.App)[0];
    }

    public async Task DisposeAsync()
    {
        if (server is not null)
        {
            await server.DisposeAsync();
        }
    }

    private static List<TrailRecord> Batch(int count) =>
        [.. Enumerable.Range(0, count).Select(i => (TrailRecord)new ProcessRecord
        {
            Id = $"t:{i}",
            Time = new DateTimeOffset(2026, 3, 4, 8, 0, 0, TimeSpan.Zero).AddSeconds(i),
            Host = "h",
            Type = ProcessEventType.Start,
            Pid = i,
            Executable = $"/opt/app{i % 7}/bin/program-with-a-long-name-{i}",
        })];

    [Fact]
    public async Task ABatchOverTheServersLimitIsSplitAndEveryRecordIsStoredOnce()
    {
        await using var target = new ServerImportTarget(url, token);
        var batch = Batch(5000);
        Assert.True(batch.Sum(r => Core.Formats.NdjsonWriter.ToLine(r).Length) > 8 * 64 * 1024); // several halvings are needed
        var first = await target.WriteAsync(batch, CancellationToken.None);
        Assert.Equal((5000, 0), (first.Accepted, first.Duplicates));
        var second = await target.WriteAsync(batch, CancellationToken.None);
        Assert.Equal((0, 5000), (second.Accepted, second.Duplicates));
    }

    [Fact]
    public async Task AWrongTokenStopsTheImportWithTheServersAnswer()
    {
        await using var target = new ServerImportTarget(url, "st_wrong");
        var e = await Assert.ThrowsAsync<HttpRequestException>(() => target.WriteAsync(Batch(3), CancellationToken.None));
        Assert.Contains("401", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ANonHttpUrlIsRefused() =>
        Assert.Throws<ArgumentException>(() => new ServerImportTarget("ftp://x", "t"));
}
