using Microsoft.Data.Sqlite;
using SessionTrail.Core;
using SessionTrail.Core.Records;
using SessionTrail.Server.Logs;
using SessionTrail.Server.Store;

namespace SessionTrail.Server.Tests.Logs;

public sealed class LogStoreTests
{
    internal static LogRecord Log(
        string id, double minutes, string message, string? session = null, string source = "app",
        Dictionary<string, string>? fields = null, Dictionary<string, string>? decoration = null, string host = "h1") => new()
        {
            Id = id,
            Time = R.At(minutes),
            Host = host,
            Session = session,
            Source = source,
            Channel = "Application",
            Provider = "Prov",
            EventId = 1000,
            Level = "Error",
            Message = message,
            Fields = fields,
            Decoration = decoration,
        };

    private static List<string> Ids(LogPage page) => page.Records.Select(r => r.Message).ToList();

    [Fact]
    public void LogsAreStoredOnceAndFoundByWordsInTheMessageOrTheFields()
    {
        using var s = new StoreFixture();
        var batch = new TrailRecord[]
        {
            Log("l1", 1, "disk full on C:"),
            Log("l2", 2, "application crashed", fields: new() { ["Application"] = "excel.exe", ["Path"] = "C:\\Program Files\\Émile" }),
            Log("l3", 3, ""),
        };

        Assert.Equal(new IngestResult(3, 0), s.Ingest(batch));
        Assert.Equal(new IngestResult(0, 3), s.Ingest(batch));
        var search = new LogSearch(s.Store);

        Assert.Equal(["", "application crashed", "disk full on C:"], Ids(search.Search(new LogQuery())));
        Assert.Equal(["disk full on C:"], Ids(search.Search(new LogQuery("disk"))));
        Assert.Equal(["application crashed"], Ids(search.Search(new LogQuery("excel"))));
        Assert.Equal(["application crashed"], Ids(search.Search(new LogQuery("émile"))));
        Assert.Equal(["application crashed"], Ids(search.Search(new LogQuery("crash*"))));
        Assert.Empty(search.Search(new LogQuery("nothing")).Records);
        Assert.Empty(search.Search(new LogQuery("path")).Records); // field names are not indexed, only values
        Assert.Equal(["application crashed"], Ids(search.Search(new LogQuery("excel.exe"))));
        Assert.Equal(["application crashed"], Ids(search.Search(new LogQuery("C:\\Program files"))));
        Assert.Equal(["disk full on C:"], Ids(search.Search(new LogQuery("full on C:"))));
        Assert.Equal(["application crashed"], Ids(search.Search(new LogQuery("fields:files"))));
        var entry = Assert.Single(search.Search(new LogQuery("excel")).Records);
        Assert.Equal(("app", "h1", "Application", "Prov", 1000, "Error", R.At(2).UtcDateTime), (entry.Source, entry.Host, entry.Channel, entry.Provider, entry.EventId, entry.Level, entry.Time));
        Assert.Equal("C:\\Program Files\\Émile", entry.Fields["Path"]);
    }

    [Fact]
    public void TheUserComesFromTheDecorationElseFromTheSessionEvenWhenTheSessionArrivesLater()
    {
        using var s = new StoreFixture();
        s.Ingest(R.SessionStart("s1", "sess-1", 0, user: "alice"));
        s.Ingest(
            Log("l1", 1, "one", session: "sess-1"),
            Log("l2", 2, "two", session: "sess-2"),
            Log("l3", 3, "three", session: "sess-1", decoration: new() { ["user"] = "bob", ["stack"] = "st" }));
        s.Ingest(R.SessionStart("s2", "sess-2", 0, user: "carol"));
        var search = new LogSearch(s.Store);

        Assert.Equal(["one"], Ids(search.Search(new LogQuery(User: "alice"))));
        Assert.Equal(["two"], Ids(search.Search(new LogQuery(User: "carol"))));
        Assert.Equal(["three"], Ids(search.Search(new LogQuery(User: "bob"))));
        Assert.Equal(["three", "one"], Ids(search.Search(new LogQuery(Session: "sess-1"))));
        var three = search.Search(new LogQuery(User: "bob")).Records[0];
        Assert.Equal(("st", "st"), (three.Fields["stack"], three.Decoration["stack"]));
    }

    [Fact]
    public void TimeHostAndSourceFilterTheResults()
    {
        using var s = new StoreFixture();
        s.Ingest(Log("l1", 1, "a"), Log("l2", 2, "b", source: "journal"), Log("l3", 3, "c", host: "h2"), Log("l4", 4, "d"));
        var search = new LogSearch(s.Store);

        Assert.Equal(["c", "b"], Ids(search.Search(new LogQuery(From: R.At(2), To: R.At(4)))));
        Assert.Equal(["c"], Ids(search.Search(new LogQuery(Host: "h2"))));
        Assert.Equal(["b"], Ids(search.Search(new LogQuery(Source: "journal"))));
    }

    [Fact]
    public void FieldFiltersMatchAFieldOrDecorationValueExactly()
    {
        using var s = new StoreFixture();
        s.Ingest(
            Log("l1", 1, "a", fields: new() { ["Image"] = "excel.exe", ["Code"] = "5" }),
            Log("l2", 2, "b", fields: new() { ["Image"] = "excel.exe.bak" }, decoration: new() { ["stack"] = "office" }),
            Log("l3", 3, "c", fields: new() { ["Code"] = "5" }, decoration: new() { ["stack"] = "office" }));
        var search = new LogSearch(s.Store);
        static KeyValuePair<string, string> F(string k, string v) => KeyValuePair.Create(k, v);

        Assert.Equal(["a"], Ids(search.Search(new LogQuery(FieldEquals: [F("Image", "excel.exe")]))));
        Assert.Equal(["c", "b"], Ids(search.Search(new LogQuery(FieldEquals: [F("stack", "office")]))));
        Assert.Equal(["c"], Ids(search.Search(new LogQuery(FieldEquals: [F("stack", "office"), F("Code", "5")]))));
        Assert.Empty(search.Search(new LogQuery(FieldEquals: [F("code", "5")])).Records);
    }

    [Fact]
    public void PagesCoverEveryMatchOnceNewestFirstEvenWithEqualTimes()
    {
        using var s = new StoreFixture();
        var random = new Random(4);
        var records = Enumerable.Range(0, 500)
            .Select(i => (TrailRecord)Log($"l{i}", random.Next(40), $"msg {i} {(i % 3 == 0 ? "alpha" : "beta")}"))
            .ToArray();
        s.Ingest(records[..250]);
        s.Ingest(records[250..]);
        var search = new LogSearch(s.Store);

        foreach (var q in new string?[] { null, "alpha" })
        {
            var all = search.Search(new LogQuery(q, Limit: 1000)).Records.Select(r => r.Message).ToList();
            var paged = new List<string>();
            LogCursor? cursor = null;
            var pages = 0;
            do
            {
                var page = search.Search(new LogQuery(q, Limit: 7, Before: cursor));
                paged.AddRange(Ids(page));
                cursor = page.Next;
                pages++;
                Assert.True(page.Next is null || page.Records.Count == 7);
            }
            while (cursor is not null);

            Assert.Equal(q is null ? 500 : 167, all.Count);
            Assert.Equal(all, paged);
            Assert.Equal((all.Count + 6) / 7, pages);
            Assert.Equal(all.Count, paged.Distinct().Count());
            var times = search.Search(new LogQuery(q, Limit: 1000)).Records.Select(r => r.Time).ToList();
            Assert.Equal(times.OrderDescending(), times);
        }
    }

    [Fact]
    public void AFailingBatchStoresNothingOfAnyKind()
    {
        using var s = new StoreFixture();
        TrailRecord[] good = [R.SessionStart("s1", "sess-1", 0), R.Start("p1", 10, 1, session: "sess-1"), Log("l1", 2, "kept?", session: "sess-1")];
        var bad = Log("l2", 3, "broken") with { Host = null! };

        Assert.ThrowsAny<SqliteException>(() => s.Ingest([.. good, bad]));

        Assert.Empty(new LogSearch(s.Store).Search(new LogQuery()).Records);
        Assert.Empty(s.Runs());
        Assert.Equal(new IngestResult(3, 0), s.Ingest(good));
        Assert.Equal(["kept?"], Ids(new LogSearch(s.Store).Search(new LogQuery("kept"))));
    }

    [Theory]
    [InlineData("\"unbalanced")]
    [InlineData("AND")]
    [InlineData("(unclosed")]
    [InlineData("a OR")]
    public void ABadFullTextQueryIsAClearError(string q)
    {
        using var s = new StoreFixture();
        s.Ingest(Log("l1", 1, "a"));

        var error = Assert.Throws<LogQueryException>(() => new LogSearch(s.Store).Search(new LogQuery(q)));
        Assert.StartsWith("not a valid full-text query: ", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AVersion1DatabaseIsMigratedWithItsDataKept()
    {
        using var dir = new TempDataDir();
        using (var v1 = new SqliteConnection($"Data Source={DataDirectory.DatabasePath(dir.Path)};Pooling=False"))
        {
            v1.Open();
            SqliteStore.Execute(v1, Schema.MigrationSql(1) + """

                PRAGMA user_version = 1;
                INSERT INTO sessions(id, host, user, start) VALUES('sess-1', 'h1', 'alice', 0);
                INSERT INTO tokens(name, hash, created) VALUES('t', x'01', 0);
                """);
        }

        using (var store = SqliteStore.Open(dir.Path))
        {
            using var c = store.OpenConnection();
            Assert.Equal(Schema.CurrentVersion, Schema.UserVersion(c));
            using var cmd = c.CreateCommand();
            cmd.CommandText = "SELECT (SELECT user FROM sessions WHERE id = 'sess-1') || '/' || (SELECT COUNT(*) FROM tokens)";
            Assert.Equal("alice/1", cmd.ExecuteScalar());

            store.Ingest([Log("l1", 1, "after migration", session: "sess-1")]);
            var entry = Assert.Single(new LogSearch(store).Search(new LogQuery("migration")).Records);
            Assert.Equal("alice", entry.User);
        }
    }
}
