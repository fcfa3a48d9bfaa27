using System.Globalization;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using SessionTrail.Agent.Delivery;
using SessionTrail.Agent.Queue;
using SessionTrail.Agent.Recording;
using SessionTrail.Agent.Recording.Upload;
using SessionTrail.Agent.Sinks;
using SessionTrail.Agent.Tests.Fakes;
using SessionTrail.Agent.Tests.Recording.Upload;
using SessionTrail.Core.Formats;
using SessionTrail.Core.Records;
using SessionTrail.Server;
using SessionTrail.Server.Auth;

namespace SessionTrail.Agent.Tests.Sinks;

/// <summary>
/// docs/security.md "Disk full", the agent's side, against the real server (in process) whose data directory is a
/// real tmpfs filled to the last byte: a 507 is temporary, the records and segments stay on the agent's disk,
/// the wait is the server's Retry-After, and everything arrives once — after space is freed, no restart.
/// </summary>
public sealed class DiskFullDeliveryTests : IDisposable
{
    private const int RetryAfterSeconds = 7;
    private static readonly DateTimeOffset T0 = new(2026, 11, 30, 8, 0, 0, TimeSpan.Zero);
    private readonly TempDir _dir = new();
    private readonly FakeTimeProvider _time = new();

    public void Dispose()
    {
        _time.Dispose();
        _dir.Dispose();
    }

    private static async Task<(WebApplication App, Uri Url, string Token)> StartServerAsync(SmallDisk disk)
    {
        var options = new ServerOptions { DataDir = Path.Combine(disk.Path, "data"), Urls = "http://127.0.0.1:0", DiskFullRetryAfterSeconds = RetryAfterSeconds };
        var app = ServerApp.Build(options, ["--Logging:LogLevel:Default=Critical"]);
        await app.StartAsync();
        return (app, new Uri(ServerApp.Addresses(app)[0]), app.Services.GetRequiredService<TokenStore>().Create("agent"));
    }

    [SmallDiskFact]
    public async Task A507IsTemporaryTheSenderWaitsTheRetryAfterKeepsTheRecordsAndDeliversThemOnce()
    {
        using var disk = SmallDisk.Mount(8 << 20);
        var (app, url, token) = await StartServerAsync(disk);
        await using var _ = app;
        using var queue = DiskQueue.Open(Path.Combine(_dir.Path, "queue"), new DiskQueueOptions(), NullLogger.Instance, TimeProvider.System);
        for (var i = 0; i < 2000; i++)
        {
            await queue.EnqueueAsync(NdjsonWriter.ToLine(new ProcessRecord
            {
                Id = "agent:" + i.ToString(CultureInfo.InvariantCulture), Time = T0.AddSeconds(i), Host = "h1", Type = ProcessEventType.Start, Pid = i, Executable = "/usr/bin/tool-" + (i % 40).ToString(CultureInfo.InvariantCulture),
            }), CancellationToken.None);
        }

        using var sink = new SessionTrailServerSink(url, token, NullLogger.Instance);
        var sender = new SinkSender(sink, queue, 5000, 4 << 20, new Backoff(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(60), random: () => 0), Path.Combine(_dir.Path, "dead-letter"), _time, NullLogger.Instance);
        disk.Fill();

        var run = Task.Run(() => sender.RunAsync(new CancellationToken(canceled: true), CancellationToken.None));
        await _time.WaitForTimerCreatedAsync();

        Assert.Equal([TimeSpan.FromSeconds(RetryAfterSeconds)], _time.PendingDelays()); // the server's Retry-After, not the 1 s back-off
        var error = Assert.Single(sender.Errors.Snapshot()).Message;
        Assert.StartsWith("server answered 507: {\"error\":\"disk full: ", error, StringComparison.Ordinal);
        Assert.Equal(2000, queue.GetStats().PendingRecords);
        Assert.False(Directory.Exists(Path.Combine(_dir.Path, "dead-letter")));

        disk.Free();
        _time.Advance(TimeSpan.FromSeconds(RetryAfterSeconds));
        await run.WaitAsync(TimeSpan.FromSeconds(60));

        Assert.Equal(0, queue.GetStats().PendingRecords);
        using var connection = app.Services.GetRequiredService<SessionTrail.Server.Store.SqliteStore>().OpenConnection();
        using var count = connection.CreateCommand();
        count.CommandText = "SELECT COUNT(*), COUNT(DISTINCT id) FROM process_events";
        using var reader = count.ExecuteReader();
        Assert.True(reader.Read());
        Assert.Equal((2000L, 2000L), (reader.GetInt64(0), reader.GetInt64(1)));
    }

    [SmallDiskFact]
    public async Task TheUploaderTreatsAFullServerDiskAsTemporaryForChunksAndCompletionAndFinishesOnceThereIsRoom()
    {
        using var disk = SmallDisk.Mount(8 << 20);
        var (app, url, token) = await StartServerAsync(disk);
        await using var _ = app;
        var video = new byte[300_000];
        new Random(5).NextBytes(video);
        var agentDir = Path.Combine(_dir.Path, "agent");
        var sidecar = new SpoolWriter(agentDir).Segment("s-full", 0, video, T0);
        var segment = SpoolScan.Sessions(RecordingSpool.Root(agentDir)).Single().Segments.Single();
        using var target = new ServerRecordingTarget(url, token, 64 * 1024);

        disk.Fill();
        var chunk = await Assert.ThrowsAsync<RecordingUploadException>(() => target.SendOpenAsync(segment, CancellationToken.None));
        disk.Free();
        Assert.Equal(video.Length, await target.SendOpenAsync(segment, CancellationToken.None));
        disk.Fill();
        var complete = await Assert.ThrowsAsync<RecordingUploadException>(() => target.FinishAsync(segment, sidecar, CancellationToken.None));
        disk.Free();
        await target.FinishAsync(segment, sidecar, CancellationToken.None);

        Assert.Equal((TimeSpan.FromSeconds(RetryAfterSeconds), TimeSpan.FromSeconds(RetryAfterSeconds)), (chunk.RetryAfter, complete.RetryAfter));
        Assert.Contains("PATCH upload: the server answered 507", chunk.Message, StringComparison.Ordinal);
        Assert.Contains("POST complete: the server answered 507", complete.Message, StringComparison.Ordinal);
        Assert.Contains("disk full", complete.Message, StringComparison.Ordinal);
        var held = await app.Services.GetRequiredService<SessionTrail.Server.Recordings.IRecordingStore>().GetInfoAsync("s-full", 0, CancellationToken.None);
        Assert.Equal((true, (long)video.Length, sidecar.Sha256), (held!.Complete, held.Length, held.Sha256));
    }
}
