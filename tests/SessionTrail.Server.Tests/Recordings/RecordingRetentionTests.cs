using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;
using SessionTrail.Server.Recordings;

namespace SessionTrail.Server.Tests.Recordings;

/// <summary>Retention deletes old recordings on a fake clock, unless on legal hold; both are audited.</summary>
public sealed class RecordingRetentionTests
{
    private sealed class Fixture : IDisposable
    {
        public Fixture(int days = 90)
        {
            Options = new ServerOptions { DataDir = Data.DataDir, RecordingRetentionDays = days };
            Bytes = new FileSystemRecordingStore(Path.Combine(Data.DataDir, "recordings"));
            Catalog = new RecordingCatalog(Data.Store);
            Inspector = new RecordingInspector(Catalog, Bytes);
            Retention = new RecordingRetention(Catalog, Bytes, Inspector, Options, Data.Clock, NullLogger<RecordingRetention>.Instance);
        }

        public StoreFixture Data { get; } = new();

        public ServerOptions Options { get; }

        public FileSystemRecordingStore Bytes { get; }

        public RecordingCatalog Catalog { get; }

        public RecordingInspector Inspector { get; }

        public RecordingRetention Retention { get; }

        /// <summary>A one-segment recording of <paramref name="session"/> from minute <paramref name="start"/> to +5.</summary>
        public async Task PutAsync(string session, double start)
        {
            var bytes = Seg.Bytes(100, session.Length);
            await Bytes.AppendAsync(session, 0, 0, new MemoryStream(bytes), CancellationToken.None);
            await Bytes.CompleteAsync(session, 0, bytes.Length, Seg.Sha(bytes), CancellationToken.None);
            Data.Ingest(Seg.Record(session, 0, bytes, null, startMinutes: start));
        }

        public void Dispose() => Data.Dispose();
    }

    private static double Days(double days) => days * 24 * 60;

    [Fact]
    public async Task OldRecordingsAreDeletedHeldOnesAndRecentOnesStay()
    {
        using var f = new Fixture(days: 90);
        await f.PutAsync("old", 0);
        await f.PutAsync("held", 0);
        await f.PutAsync("recent", Days(60));
        f.Catalog.SetHold("held", true, "auditor", R.At(1));

        f.Data.Clock.Now = R.At(Days(90) + 4); // "old" ended at minute 5: not yet 90 days
        Assert.Empty(await f.Retention.SweepAsync(CancellationToken.None));

        f.Data.Clock.Now = R.At(Days(90) + 6);
        Assert.Equal(["old"], await f.Retention.SweepAsync(CancellationToken.None));

        Assert.Empty(await f.Bytes.ListAsync("old", CancellationToken.None));
        Assert.Equal([0], await f.Bytes.ListAsync("held", CancellationToken.None));
        Assert.Equal([0], await f.Bytes.ListAsync("recent", CancellationToken.None));
        var listing = (await f.Inspector.ListAsync("old", false, CancellationToken.None))!;
        Assert.Equal("deleted", Assert.Single(listing.Segments).State);
        Assert.NotNull(listing.Deleted);
        var audit = Assert.Single(f.Catalog.QueryAudit(new AuditQuery(null, null, AuditActions.RetentionDelete, null, null, null, 10)));
        Assert.Equal(("system", "old", R.At(Days(90) + 6)), (audit.Who, audit.Session, audit.Time));

        // A second sweep does nothing more; lifting the hold lets the next sweep delete.
        Assert.Empty(await f.Retention.SweepAsync(CancellationToken.None));
        f.Catalog.SetHold("held", false, "auditor", R.At(2));
        Assert.Equal(["held"], await f.Retention.SweepAsync(CancellationToken.None));
    }

    [Fact]
    public async Task ASessionEndLaterThanItsSegmentsCounts()
    {
        using var f = new Fixture(days: 1);
        await f.PutAsync("s1", 0);
        f.Data.Ingest(R.SessionEnd("end", "s1", Days(2)));

        f.Data.Clock.Now = R.At(Days(2.5));
        Assert.Empty(await f.Retention.SweepAsync(CancellationToken.None));
        f.Data.Clock.Now = R.At(Days(3) + 1);
        Assert.Equal(["s1"], await f.Retention.SweepAsync(CancellationToken.None));
    }

    [Fact]
    public async Task ZeroDaysKeepsForever()
    {
        using var f = new Fixture(days: 0);
        await f.PutAsync("s1", 0);
        f.Data.Clock.Now = R.At(Days(10_000));

        Assert.Empty(await f.Retention.SweepAsync(CancellationToken.None));
        Assert.Equal([0], await f.Bytes.ListAsync("s1", CancellationToken.None));
    }

    [Fact]
    public async Task TheServerSweepsAtStart()
    {
        using var dir = new TempDataDir();
        var bytes = Seg.Bytes(100, 1);
        using (var store = SessionTrail.Server.Store.SqliteStore.Open(dir.Path))
        {
            store.Ingest([Seg.Record("old", 0, bytes, null)]); // ended 2026-11-01 08:05
        }

        var files = new FileSystemRecordingStore(Path.Combine(dir.Path, "recordings"));
        await files.AppendAsync("old", 0, 0, new MemoryStream(bytes), CancellationToken.None);
        await files.CompleteAsync("old", 0, bytes.Length, Seg.Sha(bytes), CancellationToken.None);
        var days = (int)Math.Ceiling((DateTimeOffset.UtcNow - R.At(5)).TotalDays) - 1; // just old enough

        var app = ServerApp.Build(new ServerOptions { DataDir = dir.Path, Urls = "http://127.0.0.1:0", RecordingRetentionDays = days }, ["--Logging:LogLevel:Default=Warning"]);
        await using (app)
        {
            await app.StartAsync();
            var deadline = DateTime.UtcNow.AddSeconds(20);
            while ((await files.ListAsync("old", CancellationToken.None)).Count > 0 && DateTime.UtcNow < deadline)
            {
                await Task.Delay(100);
            }

            Assert.Empty(await files.ListAsync("old", CancellationToken.None));
            await app.StopAsync();
        }
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(36_501)]
    public void ABadRetentionIsRefusedNamingTheSetting(int days)
    {
        var error = Assert.Throws<ArgumentException>(() => new ServerOptions { DataDir = "/tmp/x", RecordingRetentionDays = days }.Validate());
        Assert.Contains("RecordingRetentionDays", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TheHoldApiSetsAndLiftsTheHoldShownInTheListing()
    {
        await using var s = await RecordingServer.StartAsync();
        await s.PutChainAsync("s1", Seg.Bytes(10, 1));

        var put = (await (await s.Client.PutAsync("/api/v1/sessions/s1/recordings/hold", null)).Content.ReadFromJsonAsync<JsonElement>())!;
        Assert.Equal((true, true, "test"), (put.GetProperty("hold").GetBoolean(), put.GetProperty("changed").GetBoolean(), put.GetProperty("by").GetString()));
        Assert.True((await s.ListAsync("s1")).GetProperty("hold").GetBoolean());
        var again = (await (await s.Client.PutAsync("/api/v1/sessions/s1/recordings/hold", null)).Content.ReadFromJsonAsync<JsonElement>())!;
        Assert.False(again.GetProperty("changed").GetBoolean());

        var delete = (await (await s.Client.DeleteAsync("/api/v1/sessions/s1/recordings/hold")).Content.ReadFromJsonAsync<JsonElement>())!;
        Assert.False(delete.GetProperty("hold").GetBoolean());
        Assert.False((await s.ListAsync("s1")).GetProperty("hold").GetBoolean());
    }
}
