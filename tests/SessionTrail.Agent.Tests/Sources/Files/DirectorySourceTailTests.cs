using System.Text;
using SessionTrail.Agent.Config;
using SessionTrail.Agent.Ids;
using SessionTrail.Agent.Sinks;
using SessionTrail.Agent.Sources;
using SessionTrail.Agent.Sources.Files;
using SessionTrail.Agent.Tests.Sources;

namespace SessionTrail.Agent.Tests.Sources.Files;

/// <summary>Tail semantics on real files: rotation, truncation, partial lines, bookmarks, encodings.</summary>
public sealed class DirectorySourceTailTests
{
    internal static void Append(string path, string text, Encoding? encoding = null)
    {
        using var stream = new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete);
        var bytes = (encoding ?? new UTF8Encoding(false)).GetBytes(text);
        stream.Write(bytes);
    }

    internal static string Lines(string prefix, int from, int count) =>
        string.Concat(Enumerable.Range(from, count).Select(i => $"{prefix} line {i} user=alice action=open file=/srv/data/report-{i}.xlsx\n"));

    private static List<string> Messages(IEnumerable<Core.Records.LogRecord> records) => [.. records.Select(r => r.Message)];

    [Fact]
    public async Task EachLineIsARecordWithFileFieldsAndAStableId()
    {
        await using var h = new FileSourceHarness();
        var path = h.PathOf("app.log");
        Append(path, "first line\r\nsecond line\n");
        Append(h.PathOf("ignored.txt"), "not matched by *.log\n");
        h.Start();
        var records = await h.SettledAsync(2);
        Assert.Equal(["first line", "second line"], Messages(records));
        var second = records[1];
        Assert.Equal("applogs", second.Source);
        Assert.Equal("host1", second.Host);
        Assert.Equal(path, second.Channel);
        Assert.Equal(path, second.Channel);
        Assert.False(second.Fields!.ContainsKey("_filepath")); // the path is the Channel, not repeated per record
        Assert.Equal("12", second.Fields!["_position"]);
        Assert.Equal("2", second.Fields!["_linenumber"]);
        Assert.StartsWith("log-", second.Id, StringComparison.Ordinal);
        Assert.NotEqual(records[0].Id, second.Id);
        Assert.True(DateTimeOffset.UtcNow - second.Time < TimeSpan.FromMinutes(1));
    }

    [Fact]
    public async Task APartialLastLineIsEmittedOnlyWhenItsLineEndArrives()
    {
        await using var h = new FileSourceHarness();
        var path = h.PathOf("app.log");
        Append(path, "complete\nhalf of a li");
        h.Start();
        await h.SettledAsync(1, quietMs: 800);
        Append(path, "ne that ends now\n");
        var records = await h.SettledAsync(2);
        Assert.Equal(["complete", "half of a line that ends now"], Messages(records));
        Assert.Equal("9", records[1].Fields!["_position"]);
    }

    [Fact]
    public async Task RotationByRenameMidStreamLosesAndDoublesNoLine()
    {
        await using var h = new FileSourceHarness();
        var path = h.PathOf("app.log");
        h.Start();
        var expected = new List<string>();
        for (var round = 0; round < 5; round++)
        {
            // The writer keeps its handle across the rename for a moment, as real loggers do; the rename
            // comes once the source has opened the file and is reading it.
            using (var writer = new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete))
            {
                var before = expected.Count;
                for (var i = 0; i < 400; i++)
                {
                    var line = $"round {round} line {i} {new string('x', i % 50)}";
                    expected.Add(line);
                    writer.Write(Encoding.UTF8.GetBytes(line + "\n"));
                    if (i == 300)
                    {
                        writer.Flush();
                        await h.WaitForAsync(before + 1);
                        File.Move(path, h.PathOf($"app.log.{round}"));
                    }

                    if (i == 350)
                    {
                        // Still writing to the renamed file after the source noticed the rename.
                        writer.Flush();
                        await Task.Delay(200);
                    }
                }
            }
        }

        var records = await h.SettledAsync(expected.Count, quietMs: 2500);
        Assert.Equal(expected.Order(StringComparer.Ordinal), Messages(records).Order(StringComparer.Ordinal));
        Assert.Equal(expected.Count, records.Select(r => r.Id).Distinct().Count());
        Assert.True(h.Logs.Has("left the folder"), "the rotation is logged");
    }

    [Fact]
    public async Task ARenamedFileThatStillMatchesKeepsItsIdentityAndIsNotReadTwice()
    {
        await using var h = new FileSourceHarness(new() { ["FileNameFilter"] = "app*" });
        var path = h.PathOf("app.log");
        Append(path, Lines("old", 0, 10));
        h.Start();
        await h.WaitForAsync(10);
        File.Move(path, h.PathOf("app.1.log"));
        Append(h.PathOf("app.1.log"), Lines("late", 0, 2));
        Append(path, Lines("new", 0, 3));
        var records = await h.SettledAsync(15, quietMs: 1000);
        Assert.Equal(10, records.Count(r => r.Message.StartsWith("old", StringComparison.Ordinal)));
        Assert.All(records.Where(r => r.Message.StartsWith("late", StringComparison.Ordinal)), r => Assert.Equal(h.PathOf("app.1.log"), r.Channel));
        Assert.True(h.Logs.Has("was renamed to"));
    }

    [Fact]
    public async Task ATruncatedFileIsReadAgainFromTheStartAndTheTruncationIsLogged()
    {
        await using var h = new FileSourceHarness();
        var path = h.PathOf("app.log");
        Append(path, Lines("before", 0, 20));
        h.Start();
        await h.WaitForAsync(20);
        using (var stream = new FileStream(path, FileMode.Open, FileAccess.Write, FileShare.ReadWrite))
        {
            stream.SetLength(0);
        }

        await Task.Delay(300);
        Append(path, "after 1\nafter 2\n");
        var records = await h.SettledAsync(22);
        Assert.Equal(["after 1", "after 2"], Messages(records.Skip(20)));
        Assert.Equal("0", records[20].Fields!["_position"]);
        Assert.True(h.Logs.Has("was truncated"), string.Join("\n", h.Logs.Entries.Select(e => e.Text)));
    }

    [Fact]
    public async Task CopyTruncateDeliversTheNewLinesAndDoesNotRepeatTheOldOnes()
    {
        await using var h = new FileSourceHarness();
        var path = h.PathOf("app.log");
        Append(path, Lines("old", 0, 50));
        h.Start();
        await h.WaitForAsync(50);
        File.Copy(path, h.PathOf("app.log.1"));
        using (var stream = new FileStream(path, FileMode.Open, FileAccess.Write, FileShare.ReadWrite))
        {
            stream.SetLength(0);
        }

        // The new content is larger than the old read position before the source looks again: only the
        // changed first bytes (fingerprint) tell it is new.
        Append(path, Lines("new", 0, 80));
        var records = await h.SettledAsync(130, quietMs: 1000);
        Assert.Equal(50, records.Count(r => r.Message.StartsWith("old", StringComparison.Ordinal)));
        Assert.Equal(Lines("new", 0, 80).Split('\n', StringSplitOptions.RemoveEmptyEntries), Messages(records.Skip(50)));
        Assert.Equal(130, records.Select(r => r.Id).Distinct().Count());
    }

    [Fact]
    public async Task ADeletedAndRecreatedFileIsReadFromItsStart()
    {
        await using var h = new FileSourceHarness();
        var path = h.PathOf("app.log");
        Append(path, Lines("gen1", 0, 5));
        h.Start();
        await h.WaitForAsync(5);
        File.Delete(path);
        await Task.Delay(200);
        Append(path, Lines("gen2", 0, 5));
        var records = await h.SettledAsync(10, quietMs: 2500);
        Assert.Equal(Lines("gen2", 0, 5).Split('\n', StringSplitOptions.RemoveEmptyEntries), Messages(records.Skip(5)));
        Assert.True(h.Logs.Has("read to its end"), "the deleted file is forgotten");
        Assert.Equal(10, records.Select(r => r.Id).Distinct().Count());
    }

    [Fact]
    public async Task Utf16LittleEndianWithBomIsDecodedAcrossReadBoundariesWithByteOffsets()
    {
        await using var h = new FileSourceHarness();
        var path = h.PathOf("app.log");
        var lines = Enumerable.Range(0, 6000).Select(i => $"{i} Größe 東京 😀 {new string('é', i % 97)}").ToList();
        var bytes = new List<byte>(Encoding.Unicode.GetPreamble());
        bytes.AddRange(Encoding.Unicode.GetBytes(string.Concat(lines.Select(l => l + "\r\n"))));
        var all = bytes.ToArray();
        Assert.True(all.Length > 3 * 256 * 1024, "crosses several read buffers");
        // Written in odd-sized pieces so reads end inside code units and surrogate pairs.
        File.WriteAllBytes(path, all[..100_001]);
        h.Start();
        await Task.Delay(300);
        using (var stream = new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.ReadWrite))
        {
            for (var at = 100_001; at < all.Length; at += 77_777)
            {
                stream.Write(all.AsSpan(at, Math.Min(77_777, all.Length - at)));
                stream.Flush();
            }
        }

        var records = await h.SettledAsync(lines.Count);
        Assert.Equal(lines, Messages(records));
        var expectedOffset = 2 + Encoding.Unicode.GetByteCount(string.Concat(lines.Take(4321).Select(l => l + "\r\n")));
        Assert.Equal(expectedOffset.ToString(System.Globalization.CultureInfo.InvariantCulture), records[4321].Fields!["_position"]);
    }

    [Fact]
    public async Task Utf16BigEndianIsDetectedByItsBom()
    {
        await using var h = new FileSourceHarness();
        var encoding = new UnicodeEncoding(bigEndian: true, byteOrderMark: true);
        File.WriteAllBytes(h.PathOf("app.log"), [.. encoding.GetPreamble(), .. encoding.GetBytes("Ärger 1\nÄrger 2\n")]);
        h.Start();
        Assert.Equal(["Ärger 1", "Ärger 2"], Messages(await h.SettledAsync(2)));
    }

    [Fact]
    public async Task AfterAStopTheSourceResumesFromItsBookmarkWithoutRepeatOrLoss()
    {
        await using var h = new FileSourceHarness();
        var path = h.PathOf("app.log");
        Append(path, Lines("a", 0, 100));
        h.Start();
        var first = await h.SettledAsync(100);
        await h.StopAsync();
        Assert.True(File.Exists(h.BookmarkPath));
        Append(path, Lines("b", 0, 30));
        Append(h.PathOf("new.log"), Lines("c", 0, 5));
        h.Start();
        var second = await h.SettledAsync(35);
        Assert.Equal(Lines("b", 0, 30).Split('\n', StringSplitOptions.RemoveEmptyEntries), Messages(second.Where(r => r.Channel == path)));
        Assert.Equal(5, second.Count(r => r.Channel == h.PathOf("new.log")));
        Assert.Equal("101", second.First(r => r.Channel == path).Fields!["_linenumber"]);
        Assert.Empty(first.Select(r => r.Id).Intersect(second.Select(r => r.Id)));
    }

    [Fact]
    public async Task RecordsWrittenButNotDurableAreReadAgainWithTheSameIds()
    {
        await using var h = new FileSourceHarness();
        var path = h.PathOf("app.log");
        Append(path, Lines("a", 0, 40));
        h.Start();
        await h.SettledAsync(40);
        await h.WaitForBookmarkAsync(b => b.Files.Count == 1 && b.Files[0].Offset == new FileInfo(path).Length);

        // The queues stop confirming durability: the bookmark must stay where it is.
        h.Output.Close();
        Append(path, Lines("b", 0, 25));
        var before = await h.SettledAsync(65, quietMs: 1500);
        var saved = h.Bookmarks.Load("applogs", DirectoryBookmarkJsonContext.Default.DirectoryBookmark)!;
        Assert.Equal(Encoding.UTF8.GetByteCount(Lines("a", 0, 40)), saved.Files[0].Offset);
        await h.CrashAsync();

        h.Start();
        var again = await h.SettledAsync(25);
        Assert.Equal(before.Skip(40).Select(r => r.Id), again.Select(r => r.Id));
        Assert.Equal(Messages(before.Skip(40)), Messages(again));
    }

    [Fact]
    public async Task ACorruptBookmarkIsSetAsideLoggedAndFilesAreReadFromTheStart()
    {
        await using var h = new FileSourceHarness(new() { ["InitialPosition"] = "EOS" });
        var path = h.PathOf("app.log");
        Append(path, Lines("a", 0, 10));
        h.Start();
        await Task.Delay(300);
        Append(path, Lines("b", 0, 2));
        var firstRun = await h.SettledAsync(2);
        await h.StopAsync();
        File.WriteAllText(h.BookmarkPath, "{\"Version\":1,\"Files\":[{\"Identity\":");
        h.Start();
        var records = await h.SettledAsync(12);
        Assert.Equal(Messages(records.Skip(10)), Messages(firstRun));
        Assert.Equal(firstRun.Select(r => r.Id), records.Skip(10).Select(r => r.Id));
        Assert.True(File.Exists(h.BookmarkPath + ".corrupt"));
        Assert.Contains(h.Logs.Entries, e => e.Level == Microsoft.Extensions.Logging.LogLevel.Error && e.Text.Contains("unreadable", StringComparison.Ordinal));
    }

    [Fact]
    public async Task OnTheFirstStartEosSkipsWhatIsThereAndBosReadsIt()
    {
        await using var eos = new FileSourceHarness(new() { ["InitialPosition"] = "EOS" });
        Append(eos.PathOf("app.log"), Lines("old", 0, 10) + "unterminated ");
        eos.Start();
        await Task.Delay(400);
        Append(eos.PathOf("app.log"), "tail\nnew line\n");
        Assert.Equal(["unterminated tail", "new line"], Messages(await eos.SettledAsync(2)));

        await using var bos = new FileSourceHarness(new() { ["InitialPosition"] = "0" });
        Append(bos.PathOf("app.log"), Lines("old", 0, 10));
        bos.Start();
        await bos.SettledAsync(10);
    }

    [Fact]
    public async Task ABookmarkedInodeWithOtherFirstBytesIsReadFromTheStart()
    {
        await using var h = new FileSourceHarness();
        var path = h.PathOf("app.log");
        Append(path, Lines("a", 0, 30));
        h.Start();
        await h.SettledAsync(30);
        await h.StopAsync();

        // Same inode (rewritten in place while stopped), longer than the bookmark, other content.
        using (var stream = new FileStream(path, FileMode.Open, FileAccess.Write, FileShare.ReadWrite))
        {
            stream.SetLength(0);
            stream.Write(Encoding.UTF8.GetBytes(Lines("z", 0, 40)));
        }

        h.Start();
        var records = await h.SettledAsync(40);
        Assert.Equal(Lines("z", 0, 40).Split('\n', StringSplitOptions.RemoveEmptyEntries), Messages(records));
        Assert.True(h.Logs.Has("other content"));
    }

    [Fact]
    public async Task TheBookmarkIsSavedOnlyAfterTheRecordsAreDurable()
    {
        await using var h = new FileSourceHarness();
        var output = new DurableOutput();
        output.Close();
        var path = h.PathOf("app.log");
        Append(path, Lines("a", 0, 10));
        h.Start(output);
        await h.SettledAsync(10, quietMs: 1500);
        Assert.True(output.Barriers > 0);
        Assert.False(File.Exists(h.BookmarkPath), "no bookmark before the barrier passed");
        output.Open();
        await h.WaitForBookmarkAsync(b => b.Files.Count == 1 && b.Files[0].Offset == new FileInfo(path).Length && b.Files[0].Line == 11);
    }

    [Fact]
    public async Task AFileGrowingWhileReadIsDeliveredCompletelyAndInOrder()
    {
        await using var h = new FileSourceHarness();
        var path = h.PathOf("app.log");
        h.Start();
        var expected = new List<string>();
        using (var writer = new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.ReadWrite))
        {
            for (var i = 0; i < 20_000; i++)
            {
                var line = $"{i:D6} GET /api/v1/items/{i} 200 {i % 1000}ms";
                expected.Add(line);
                writer.Write(Encoding.UTF8.GetBytes(line + "\n"));
                if (i % 500 == 0)
                {
                    writer.Flush();
                    await Task.Delay(5);
                }
            }
        }

        Assert.Equal(expected, Messages(await h.SettledAsync(expected.Count)));
    }

    [Fact]
    public async Task ManyFilesAreAllTailed()
    {
        await using var h = new FileSourceHarness(new() { ["IncludeSubdirectories"] = "true" });
        for (var f = 0; f < 150; f++)
        {
            var dir = f % 3 == 0 ? h.PathOf("sub" + (f % 7)) : h.LogDir;
            Directory.CreateDirectory(dir);
            Append(Path.Combine(dir, $"svc{f}.log"), Lines($"svc{f}", 0, 20));
        }

        h.Start();
        await h.WaitForAsync(3000);
        Append(h.PathOf("svc1.log"), Lines("svc1", 20, 1));
        var records = await h.SettledAsync(3001);
        Assert.Equal(150, records.Select(r => r.Channel).Distinct().Count());
        Assert.Equal(21, records.Count(r => r.Channel == h.PathOf("svc1.log")));
    }

    [Fact]
    public async Task SkipLinesSkipsTheFirstLinesOfEveryFile()
    {
        await using var h = new FileSourceHarness(new() { ["SkipLines"] = "2" });
        Append(h.PathOf("a.log"), "header 1\nheader 2\nrow 1\nrow 2\n");
        h.Start();
        var records = await h.SettledAsync(2);
        Assert.Equal(["row 1", "row 2"], Messages(records));
        Assert.Equal("3", records[0].Fields!["_linenumber"]);
    }

    [Fact]
    public async Task AFolderCreatedAfterTheStartIsPickedUpAndItsNewFilesAreReadFromTheStart()
    {
        await using var h = new FileSourceHarness(new() { ["InitialPosition"] = "EOS" });
        Directory.Delete(h.LogDir);
        h.Start();
        await Task.Delay(300);
        Assert.True(h.Logs.Has("does not exist"));
        Directory.CreateDirectory(h.LogDir);
        Append(h.PathOf("late.log"), Lines("late", 0, 3));
        var records = await h.SettledAsync(3);
        Assert.Equal(Lines("late", 0, 3).Split('\n', StringSplitOptions.RemoveEmptyEntries), Messages(records));
    }

    [Fact]
    public async Task InitialPositionTimestampReadsOnlyFilesWrittenSinceThen()
    {
        await using var h = new FileSourceHarness(new() { ["InitialPosition"] = "Timestamp", ["InitialPositionTimestamp"] = "2026-01-01 00:00:00" });
        Append(h.PathOf("old.log"), Lines("old", 0, 4));
        File.SetLastWriteTimeUtc(h.PathOf("old.log"), new DateTime(2025, 6, 1, 0, 0, 0, DateTimeKind.Utc));
        Append(h.PathOf("recent.log"), Lines("recent", 0, 2));
        File.SetLastWriteTimeUtc(h.PathOf("recent.log"), new DateTime(2026, 6, 1, 0, 0, 0, DateTimeKind.Utc));
        h.Start();
        var records = await h.SettledAsync(2);
        Assert.All(records, r => Assert.Equal(h.PathOf("recent.log"), r.Channel));
    }

    [Fact]
    public async Task AConfiguredUtf16EncodingReadsAFileWithoutBom()
    {
        await using var h = new FileSourceHarness(new() { ["Encoding"] = "utf-16" });
        File.WriteAllBytes(h.PathOf("app.log"), Encoding.Unicode.GetBytes("Ereignis 1\r\nEreignis 2\r\n"));
        h.Start();
        var records = await h.SettledAsync(2);
        Assert.Equal(["Ereignis 1", "Ereignis 2"], Messages(records));
        Assert.Equal("24", records[1].Fields!["_position"]);
    }
}
