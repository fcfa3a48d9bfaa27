using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using SessionTrail.Core.Formats;
using SessionTrail.Core.Records;
using SessionTrail.Server.Logs;
using SessionTrail.Server.Store;

namespace SessionTrail.Server.Tests.Logs;

public sealed class LogRetentionTests
{
    private const double Day = 24 * 60;

    /// <summary>Ten records a day for <paramref name="days"/> days from T0, each message naming its day ("dayN") and a field naming it too.</summary>
    private static TrailRecord[] Days(int days) =>
        [.. Enumerable.Range(0, days * 10).Select(i => (TrailRecord)LogStoreTests.Log(
            $"l{i}", (i / 10 * Day) + i % 10, $"day{i / 10} record {i}", fields: new() { ["Tag"] = $"tag{i / 10}" }))];

    private static LogRetention Retention(SqliteStore store, TimeProvider clock, int days, int stepRows = 10_000) =>
        new(store, new ServerOptions { DataDir = "unused", LogRetentionDays = days }, clock, NullLogger<LogRetention>.Instance) { StepRows = stepRows, Pause = TimeSpan.Zero };

    private static long Scalar(SqliteStore store, string sql)
    {
        using var c = store.OpenConnection();
        using var cmd = c.CreateCommand();
        cmd.CommandText = sql;
        return (long)cmd.ExecuteScalar()!;
    }

    private static int Found(SqliteStore store, string q) => new LogSearch(store).Search(new LogQuery(q, Limit: 1000)).Records.Count;

    [Fact]
    public async Task RecordsOlderThanTheDaysLeaveTheTableAndTheIndexInBoundedStepsAndNewerOnesAreStillFound()
    {
        // Now is the start of day 10: with 3 days kept, days 0-6 (70 records) are older than the cutoff (start of day 7).
        using var s = new StoreFixture(nowMinutes: 10 * Day);
        s.Ingest(Days(10));

        var deleted = await Retention(s.Store, s.Clock, days: 3, stepRows: 8).SweepAsync(CancellationToken.None);

        Assert.Equal(70, deleted);
        Assert.Equal(30, Scalar(s.Store, "SELECT COUNT(*) FROM logs"));
        Assert.Equal(0, Scalar(s.Store, "SELECT COUNT(*) FROM logs WHERE time < " + R.At(7 * Day).ToUnixTimeMilliseconds()));
        for (var day = 0; day < 10; day++)
        {
            var expected = day < 7 ? 0 : 10;
            Assert.Equal((day, expected), (day, Found(s.Store, $"day{day}")));
            Assert.Equal((day, expected), (day, Found(s.Store, $"tag{day}")));
        }

        // The index itself (not only the search, which joins it to the rows) holds nothing of the deleted rows: no word of
        // theirs, in the message or the fields, is left in it, and "record" matches exactly the rows left.
        for (var day = 0; day < 10; day++)
        {
            Assert.Equal((day, day < 7 ? 0L : 10L), (day, Scalar(s.Store, $"SELECT COUNT(*) FROM logs_fts WHERE logs_fts MATCH 'day{day} OR tag{day}'")));
        }

        Assert.Equal(30, Scalar(s.Store, "SELECT COUNT(*) FROM logs_fts WHERE logs_fts MATCH 'record'"));
        Assert.Equal(0, await Retention(s.Store, s.Clock, days: 3).SweepAsync(CancellationToken.None));
    }

    [Fact]
    public async Task ZeroDaysKeepsEverything()
    {
        using var s = new StoreFixture(nowMinutes: 1000 * Day);
        s.Ingest(Days(2));

        Assert.Equal(0, await Retention(s.Store, s.Clock, days: 0).SweepAsync(CancellationToken.None));
        Assert.Equal(20, Scalar(s.Store, "SELECT COUNT(*) FROM logs"));
    }

    [Fact]
    public async Task ASweepStoppedAfterAStepGoesOnAfterARestart()
    {
        using var dir = new TempDataDir();
        var clock = new FixedClock(R.At(10 * Day));
        var cutoff = R.At(7 * Day).ToUnixTimeMilliseconds();
        using (var store = SqliteStore.Open(dir.Path))
        {
            store.Ingest(Days(10));
            Assert.Equal(25, Retention(store, clock, days: 3, stepRows: 25).Step(cutoff));
        }

        using (var store = SqliteStore.Open(dir.Path))
        {
            Assert.Equal(75, Scalar(store, "SELECT COUNT(*) FROM logs"));
            Assert.Equal(0, Found(store, "day0"));
            Assert.Equal(10, Found(store, "day3"));

            Assert.Equal(45, await Retention(store, clock, days: 3, stepRows: 25).SweepAsync(CancellationToken.None));
            Assert.Equal(30, Scalar(store, "SELECT COUNT(*) FROM logs"));
            Assert.Equal(0, Found(store, "day6"));
            Assert.Equal(10, Found(store, "day7"));
        }
    }

    [Fact]
    public async Task TheServerDeletesOldRecordsPostedOverHttpAndSearchStopsFindingThem()
    {
        var clock = new FixedClock(R.At(10 * Day));
        await using var server = await RunningServer.StartAsync(o => o.LogRetentionDays = 3, services => services.AddSingleton<TimeProvider>(clock));
        var body = string.Concat(Days(10).Select(r => System.Text.Encoding.UTF8.GetString(NdjsonWriter.ToLine(r))));
        var posted = await server.Client.PostAsync("/api/v1/ingest", new StringContent(body, System.Text.Encoding.UTF8, "application/x-ndjson"));
        Assert.Equal("""{"accepted":100,"duplicates":0}""", await posted.Content.ReadAsStringAsync());

        // The service's own first sweep ran at start, on an empty store; this is the next one (hourly in the service).
        await server.App.Services.GetRequiredService<LogRetention>().SweepAsync(CancellationToken.None);

        async Task<int> Count(string q) => JsonDocument.Parse(await server.Client.GetStringAsync($"/api/v1/logs?q={q}&limit=1000")).RootElement.GetArrayLength();
        Assert.Equal(0, await Count("day6"));
        Assert.Equal(10, await Count("day7"));
        Assert.Equal(30, await Count("record"));
    }

    [Fact]
    public void ANegativeOrHugeRetentionIsRefusedByName()
    {
        foreach (var days in new[] { -1, 36_501 })
        {
            var error = Assert.Throws<ArgumentException>(() => new ServerOptions { DataDir = "d", LogRetentionDays = days }.Validate());
            Assert.Contains("LogRetentionDays", error.Message, StringComparison.Ordinal);
        }
    }
}
