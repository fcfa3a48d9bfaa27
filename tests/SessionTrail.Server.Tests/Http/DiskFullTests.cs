using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using SessionTrail.Core.Formats;
using SessionTrail.Server.Store;
using SessionTrail.Server.Tests.Recordings;

namespace SessionTrail.Server.Tests.Http;

/// <summary>
/// docs/security.md "Disk full": the server's data directory on a real 8 MiB tmpfs, filled to the last byte. Ingest,
/// segment upload and sign-in answer 507 with <c>{"error":"disk full: …"}</c> and Retry-After, leave no
/// partial file and a consistent database, and the same requests succeed once space is freed — same
/// server, no restart, nothing lost or stored twice.
/// </summary>
public sealed class DiskFullTests
{
    private const int RetryAfter = 7;

    private static async Task<(SmallDisk Disk, RunningServer Server)> StartAsync()
    {
        var disk = SmallDisk.Mount(8 << 20);
        try
        {
            var data = Path.Combine(disk.Path, "data");
            return (disk, await RunningServer.StartAsync(o =>
            {
                o.DataDir = data;
                o.DiskFullRetryAfterSeconds = RetryAfter;
            }));
        }
        catch
        {
            disk.Dispose();
            throw;
        }
    }

    private static StringContent Batch(string prefix, int processes)
    {
        var body = new StringBuilder();
        for (var i = 0; i < processes; i++)
        {
            body.Append(Encoding.UTF8.GetString(NdjsonWriter.ToLine(R.Start($"{prefix}-s{i}", 1000 + i, i, exe: $"/opt/app-{i % 50}/bin/tool", user: "alice"))));
            body.Append(Encoding.UTF8.GetString(NdjsonWriter.ToLine(R.Exit($"{prefix}-x{i}", 1000 + i, i + 0.5))));
        }

        return new StringContent(body.ToString(), Encoding.UTF8, "application/x-ndjson");
    }

    private static async Task AssertDiskFullAsync(HttpResponseMessage response, string where)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.InsufficientStorage, $"{(int)response.StatusCode} {body}");
        Assert.Equal(TimeSpan.FromSeconds(RetryAfter), response.Headers.RetryAfter?.Delta);
        var error = JsonDocument.Parse(body).RootElement.GetProperty("error").GetString()!;
        Assert.StartsWith("disk full: ", error, StringComparison.Ordinal);
        Assert.Contains(where, error, StringComparison.Ordinal);
    }

    /// <summary>A query on a reader connection of the server's store, as reports make them (also while the disk is full).</summary>
    private static object Scalar(RunningServer server, string sql)
    {
        using var connection = server.App.Services.GetRequiredService<SqliteStore>().OpenConnection();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        return command.ExecuteScalar()!;
    }

    [SmallDiskFact]
    public async Task IngestOnAFullDiskIs507AndTheSameBatchIsStoredOnceSpaceIsFreed()
    {
        var (disk, server) = await StartAsync();
        using (disk)
        await using (server)
        {
            Assert.Equal(HttpStatusCode.OK, (await server.Client.PostAsync("/api/v1/ingest", Batch("warm", 10))).StatusCode);
            var before = disk.Files();
            disk.Fill();

            var full = await server.Client.PostAsync("/api/v1/ingest", Batch("big", 2000));
            var stillFull = await server.Client.PostAsync("/api/v1/ingest", Batch("big", 2000));

            await AssertDiskFullAsync(full, "sessiontrail.db");
            await AssertDiskFullAsync(stillFull, "sessiontrail.db");
            Assert.Equal(before.Keys, disk.Files().Keys); // no file appeared (the WAL and its index existed before)
            Assert.Equal("ok", Scalar(server, "PRAGMA integrity_check"));
            Assert.Equal(20L, Scalar(server, "SELECT COUNT(*) FROM process_events")); // the refused batch left nothing

            disk.Free();
            var stored = await server.Client.PostAsync("/api/v1/ingest", Batch("big", 2000));
            var again = await server.Client.PostAsync("/api/v1/ingest", Batch("big", 2000));

            Assert.Equal("""{"accepted":4000,"duplicates":0}""", await stored.Content.ReadAsStringAsync());
            Assert.Equal("""{"accepted":0,"duplicates":4000}""", await again.Content.ReadAsStringAsync());
            Assert.Equal(2010L, Scalar(server, "SELECT COUNT(*) FROM runs"));
        }
    }

    [SmallDiskFact]
    public async Task ASegmentChunkOnAFullDiskIs507AndLeavesNoPartialBytes()
    {
        var (disk, server) = await StartAsync();
        using (disk)
        await using (server)
        {
            var segment = UploadApiTests.MakeBytes(320 * 1024, 11);
            var url = UploadApiTests.Url("s-full", 0);
            Assert.Equal(HttpStatusCode.NoContent, (await UploadApiTests.PatchAsync(server.Client, url, 0, segment.AsMemory(0, 64 * 1024))).StatusCode);
            disk.Fill();

            var rest = await UploadApiTests.PatchAsync(server.Client, url, 64 * 1024, segment.AsMemory(64 * 1024));
            var fresh = await UploadApiTests.PatchAsync(server.Client, UploadApiTests.Url("s-full", 1), 0, segment);

            await AssertDiskFullAsync(rest, "000000.mp4.part");
            await AssertDiskFullAsync(fresh, "000001.mp4.part");
            var files = disk.Files();
            var part = Assert.Single(files, f => f.Key.EndsWith(".part", StringComparison.Ordinal));
            Assert.Equal(64 * 1024, part.Value); // exactly the bytes held before the refused chunk
            Assert.EndsWith("000000.mp4.part", part.Key, StringComparison.Ordinal);
            var held = await UploadApiTests.Json(await server.Client.GetAsync(url));
            Assert.Equal(64 * 1024, held.GetProperty("offset").GetInt64());

            disk.Free();
            var resumed = await UploadApiTests.PatchAsync(server.Client, url, 64 * 1024, segment.AsMemory(64 * 1024));
            var complete = await UploadApiTests.CompleteAsync(server.Client, UploadApiTests.Url("s-full", 0, "complete"), segment.Length, Sha(segment));

            Assert.Equal(HttpStatusCode.NoContent, resumed.StatusCode);
            Assert.Equal(HttpStatusCode.OK, complete.StatusCode);
            Assert.Equal(segment, await File.ReadAllBytesAsync(Path.Combine(disk.Path, files.Keys.Single(k => k.EndsWith(".part", StringComparison.Ordinal))[..^5])));
        }
    }

    [SmallDiskFact]
    public async Task CompletingOnAFullDiskIs507LeavesNoHashFileAndCompletesLater()
    {
        var (disk, server) = await StartAsync();
        using (disk)
        await using (server)
        {
            var segment = UploadApiTests.MakeBytes(100_000, 12);
            Assert.Equal(HttpStatusCode.NoContent, (await UploadApiTests.PatchAsync(server.Client, UploadApiTests.Url("s-c", 0), 0, segment)).StatusCode);
            var completeUrl = UploadApiTests.Url("s-c", 0, "complete");
            disk.Fill();

            var full = await UploadApiTests.CompleteAsync(server.Client, completeUrl, segment.Length, Sha(segment));

            await AssertDiskFullAsync(full, "000000.sha256");
            Assert.Equal([".part"], disk.Files().Keys.Where(k => k.Contains("s-c", StringComparison.Ordinal)).Select(Path.GetExtension));

            disk.Free();
            var complete = await UploadApiTests.CompleteAsync(server.Client, completeUrl, segment.Length, Sha(segment));
            Assert.Equal(HttpStatusCode.OK, complete.StatusCode);
            Assert.Equal([".mp4", ".sha256"], disk.Files().Keys.Where(k => k.Contains("s-c", StringComparison.Ordinal)).Select(Path.GetExtension).Order(StringComparer.Ordinal));
        }
    }

    [SmallDiskFact]
    public async Task EveryWriteAnswers507NotJustIngestASignInToo()
    {
        var (disk, server) = await StartAsync();
        using (disk)
        await using (server)
        {
            (await server.SignInAsync("carol", "viewer")).Dispose();
            disk.Fill();

            using var response = await server.Anonymous.PostAsync("/api/v1/auth/login", RunningServer.LoginBody("carol", "correct horse battery"));
            await AssertDiskFullAsync(response, "sessiontrail.db");

            disk.Free();
            using var later = await server.Anonymous.PostAsync("/api/v1/auth/login", RunningServer.LoginBody("carol", "correct horse battery"));
            Assert.Equal(HttpStatusCode.OK, later.StatusCode);
        }
    }

    [SmallDiskFact]
    public async Task ReadsGoOnForASignedInUserWhoseIdleClockIsDueAndARecordingIsNeverViewedUnaudited()
    {
        var clock = new FixedClock(DateTimeOffset.UtcNow);
        var disk = SmallDisk.Mount(8 << 20);
        using (disk)
        await using (var server = await RunningServer.StartAsync(o => { o.DataDir = Path.Combine(disk.Path, "data"); o.DiskFullRetryAfterSeconds = RetryAfter; }, s => s.AddSingleton<TimeProvider>(clock)))
        {
            var video = new byte[4096];
            new Random(3).NextBytes(video);
            var url = "/api/v1/sessions/s-read/recordings/0";
            Assert.Equal(HttpStatusCode.NoContent, (await UploadApiTests.PatchAsync(server.Client, UploadApiTests.Url("s-read", 0), 0, video)).StatusCode);
            Assert.Equal(HttpStatusCode.OK, (await UploadApiTests.CompleteAsync(server.Client, UploadApiTests.Url("s-read", 0, "complete"), video.Length, Sha(video))).StatusCode);
            using var auditor = await server.SignInAsync("aude", "auditor");
            clock.Advance(TimeSpan.FromMinutes(5)); // the session's "last seen" is due to be written on the next request
            disk.Fill();

            using var sessions = await auditor.Client.GetAsync("/api/v1/sessions");
            using var me = await auditor.Client.GetAsync("/api/v1/auth/me");
            Assert.True(sessions.StatusCode == HttpStatusCode.OK, $"{(int)sessions.StatusCode} {await sessions.Content.ReadAsStringAsync()}");
            Assert.Contains("\"signedIn\":true", await me.Content.ReadAsStringAsync(), StringComparison.Ordinal);

            // Viewing a recording is written to the access audit log before a byte is sent: the view is either
            // served and audited (SQLite found room in its write-ahead log) or a 507 with no bytes — never unaudited.
            using var view = await auditor.Client.GetAsync(url);
            if (view.StatusCode == HttpStatusCode.OK)
            {
                Assert.Equal(video, await view.Content.ReadAsByteArrayAsync());
                Assert.Equal(1L, Scalar(server, "SELECT count(*) FROM access_audit WHERE session = 's-read' AND action = 'play'"));
            }
            else
            {
                await AssertDiskFullAsync(view, "sessiontrail.db");
                Assert.Equal(0L, Scalar(server, "SELECT count(*) FROM access_audit WHERE session = 's-read'"));
            }

            disk.Free();
            using var later = await auditor.Client.GetAsync(url);
            Assert.Equal(video, await later.Content.ReadAsByteArrayAsync());
        }
    }

    private static string Sha(byte[] bytes) => Convert.ToHexStringLower(SHA256.HashData(bytes));

    [Fact]
    public void FullDisksAreRecognisedByErrnoHResultAndSqliteCodeOnly()
    {
        Assert.True(DiskFullException.IsDiskFull(new IOException("No space left on device", 28)));
        Assert.True(DiskFullException.IsDiskFull(new IOException("Disk quota exceeded", 122)));
        Assert.True(DiskFullException.IsDiskFull(new IOException("There is not enough space on the disk.", unchecked((int)0x80070070))));
        Assert.True(DiskFullException.IsDiskFull(new InvalidOperationException("wrapped", new SqliteException("database or disk is full", 13))));
        Assert.False(DiskFullException.IsDiskFull(new IOException("Input/output error", 5)));
        Assert.False(DiskFullException.IsDiskFull(new SqliteException("database is locked", 5)));
        Assert.False(DiskFullException.IsDiskFull(new UnauthorizedAccessException("denied")));
        Assert.False(DiskFullException.IsDiskFull(null));
    }
}
