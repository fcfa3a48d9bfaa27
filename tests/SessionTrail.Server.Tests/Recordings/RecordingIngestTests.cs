using Microsoft.Data.Sqlite;
using SessionTrail.Core.Records;
using SessionTrail.Server.Store;

namespace SessionTrail.Server.Tests.Recordings;

public sealed class RecordingIngestTests
{
    private static List<string> Rows(StoreFixture s, string sql)
    {
        using var connection = s.Store.OpenConnection();
        using var cmd = connection.CreateCommand();
        cmd.CommandText = sql;
        using var reader = cmd.ExecuteReader();
        var rows = new List<string>();
        while (reader.Read())
        {
            rows.Add(string.Join("|", Enumerable.Range(0, reader.FieldCount).Select(i => reader.IsDBNull(i) ? "null" : Convert.ToString(reader.GetValue(i), System.Globalization.CultureInfo.InvariantCulture))));
        }

        return rows;
    }

    [Fact]
    public void SegmentsAndEventsAreStoredAndDuplicatesByIdAreCounted()
    {
        using var s = new StoreFixture();
        var a = Seg.Bytes(100, 1);
        var b = Seg.Bytes(50, 2);
        TrailRecord[] batch =
        [
            Seg.Record("s1", 0, a, null),
            Seg.Record("s1", 1, b, Seg.Sha(a)),
            Seg.Event("s1", "ev1", RecordingEventTypes.Started, 0, "recording 320x240"),
            new RecordingEventRecord { Id = "ev2", Session = "s1", Host = "h1", Time = R.At(6), Type = "gap", Message = "ffmpeg killed", GapStart = R.At(5), GapEnd = R.At(5.5), Width = 320, Height = 240 },
        ];

        Assert.Equal(new IngestResult(4, 0), s.Ingest(batch));
        Assert.Equal(new IngestResult(0, 4), s.Ingest(batch));

        Assert.Equal(
            [$"s1|0|100|{Seg.Sha(a)}|null|000000.mp4|max-length|0|{R.At(0).ToUnixTimeMilliseconds()}|{R.At(5).ToUnixTimeMilliseconds()}|320|240|5|h264",
             $"s1|1|50|{Seg.Sha(b)}|{Seg.Sha(a)}|000001.mp4|max-length|0|{R.At(5).ToUnixTimeMilliseconds()}|{R.At(10).ToUnixTimeMilliseconds()}|320|240|5|h264"],
            Rows(s, "SELECT session, idx, bytes, sha256, prev_sha256, file, end_reason, conflict, start, end, width, height, fps, codec FROM recording_segments ORDER BY seq"));
        Assert.Equal(
            ["ev1|started|recording 320x240|null|null|null", $"ev2|gap|ffmpeg killed|{R.At(5).ToUnixTimeMilliseconds()}|{R.At(5.5).ToUnixTimeMilliseconds()}|320"],
            Rows(s, "SELECT id, type, message, gap_start, gap_end, width FROM recording_events ORDER BY seq"));
    }

    [Fact]
    public void ASecondRecordForTheSameIndexWithAnotherHashIsKeptAsAConflictNeverReplacingTheFirst()
    {
        using var s = new StoreFixture();
        var a = Seg.Bytes(100, 1);
        var forged = Seg.Bytes(100, 9);
        s.Ingest(Seg.Record("s1", 0, a, null));

        Assert.Equal(new IngestResult(1, 0), s.Ingest(Seg.Record("s1", 0, forged, null, id: "rec:s1:0:again")));
        // The same content under another id is not a conflict: a duplicate.
        Assert.Equal(new IngestResult(0, 1), s.Ingest(Seg.Record("s1", 0, a, null, id: "rec:s1:0:third")));

        Assert.Equal(
            [$"rec:s1:0|{Seg.Sha(a)}|0", $"rec:s1:0:again|{Seg.Sha(forged)}|1"],
            Rows(s, "SELECT id, sha256, conflict FROM recording_segments ORDER BY seq"));
    }

    [Fact]
    public void TwoRecordsForOneIndexInOneBatchKeepTheFirstAndTheConflict()
    {
        using var s = new StoreFixture();
        var result = s.Ingest(Seg.Record("s1", 3, Seg.Bytes(10, 1), "x", id: "one"), Seg.Record("s1", 3, Seg.Bytes(10, 2), "x", id: "two"));

        Assert.Equal(new IngestResult(2, 0), result);
        Assert.Equal(["one|0", "two|1"], Rows(s, "SELECT id, conflict FROM recording_segments ORDER BY seq"));
    }

    [Fact]
    public void AVersion2DatabaseIsMigratedToTheRecordingTables()
    {
        using var dir = new TempDataDir();
        using (var v2 = new SqliteConnection($"Data Source={Core.DataDirectory.DatabasePath(dir.Path)}"))
        {
            v2.Open();
            SqliteStore.Execute(v2, Schema.MigrationSql(1) + Schema.MigrationSql(2) + "PRAGMA user_version = 2;");
        }

        using var store = SqliteStore.Open(dir.Path);
        Assert.Equal(new IngestResult(1, 0), store.Ingest([Seg.Record("s1", 0, Seg.Bytes(3, 1), null)]));
        using var connection = store.OpenConnection();
        Assert.Equal(Schema.CurrentVersion, Schema.UserVersion(connection));
    }
}
