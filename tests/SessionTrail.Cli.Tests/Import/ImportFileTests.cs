using System.IO.Compression;
using System.Text;
using SessionTrail.Cli.Import;
using SessionTrail.Core.Formats;
using SessionTrail.Core.Records;

namespace SessionTrail.Cli.Tests.Import;

/// <summary>Files as import meets them: recognised by content, gzip or not, damaged or not.</summary>
public sealed class ImportFileTests : IDisposable
{
    private const string Row = "4688,3/5/2026,10:00:00,C:\\x.exe,PhotonUser,12,st,s1,bob,2026-03-05T09:59:00Z,t,r,arn,f,userpool,S-1-5-21-9,2026-03-05T10:00:00Z";
    private readonly string dir = Directory.CreateTempSubdirectory("st-import-").FullName;

    public void Dispose() => Directory.Delete(dir, recursive: true);

    private string Write(string name, byte[] bytes)
    {
        var path = Path.Combine(dir, name);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    private static byte[] Gzip(byte[] bytes)
    {
        using var buffer = new MemoryStream();
        using (var gzip = new GZipStream(buffer, CompressionLevel.Fastest))
        {
            gzip.Write(bytes);
        }

        return buffer.ToArray();
    }

    private static byte[] Csv(params string[] rows) => Encoding.UTF8.GetBytes("\uFEFF" + SeedCsvReader.Header + "\r\n" + string.Concat(rows.Select(r => r + "\r\n")));

    [Fact]
    public void AGzippedSeedCsvWithAnyNameIsReadAsSeedCsvAndTakesItsSessionFromItsName()
    {
        var path = Write("s9.csv.gz", Gzip(Csv(Row.Replace(",s1,", ",,", StringComparison.Ordinal))));
        var result = ImportFile.Read(path);
        Assert.Empty(result.Rejected);
        Assert.Equal(1, result.Rows);
        var start = Assert.Single(result.Records.OfType<ProcessRecord>());
        Assert.Equal("s9", start.Session); // the script names the file after the session
    }

    [Fact]
    public void NdjsonLinesAreReadOneByOneAndABadOrHugeLineIsRejectedAlone()
    {
        var good = NdjsonWriter.ToLine(new ProcessRecord { Id = "a:1", Time = DateTimeOffset.UnixEpoch, Host = "h", Type = ProcessEventType.Start, Pid = 1, Executable = "/bin/x" });
        byte[] body = [.. good, .. "{\"id\":\"a:2\"}\r\n"u8, .. "\r\n"u8, .. Encoding.UTF8.GetBytes("{\"id\":\"" + new string('x', NdjsonReader.DefaultMaxLineBytes) + "\"}\n"), .. good.AsSpan(0, good.Length - 1)];
        var result = ImportFile.Read(Write("agent.ndjson", body));
        Assert.Equal(4, result.Rows);
        Assert.Equal(2, result.Records.Count);
        Assert.Equal([2, 4], result.Rejected.Select(r => r.Line));
        Assert.Contains("longer than", result.Rejected[1].Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void ACutGzipKeepsWhatWasReadAndSaysTheFileIsCutShort()
    {
        var rows = Enumerable.Range(0, 2000).Select(i => Row.Replace(",12,", $",{i},", StringComparison.Ordinal)).ToArray();
        var gz = Gzip(Csv(rows));
        var result = ImportFile.Read(Write("cut.csv.gz", gz[..(gz.Length / 2)]));
        var rejection = Assert.Single(result.Rejected);
        Assert.Contains("cannot read the rest of the file: the gzip data ends after", rejection.Reason, StringComparison.Ordinal);
        Assert.Equal(result.Rows, result.Records.OfType<ProcessRecord>().Count());
        Assert.InRange(result.Rows, 100, 1999);

        var ndjson = string.Concat(Enumerable.Range(0, 3000).Select(i => Encoding.UTF8.GetString(NdjsonWriter.ToLine(
            new ProcessRecord { Id = $"a:{i}", Time = DateTimeOffset.UnixEpoch, Host = "h", Type = ProcessEventType.Exit, Pid = i }))));
        var ngz = Gzip(Encoding.UTF8.GetBytes(ndjson));
        var cut = ImportFile.Read(Write("cut.ndjson.gz", ngz[..(ngz.Length * 2 / 3)]));
        Assert.Contains("the file is cut short", cut.Rejected[^1].Reason, StringComparison.Ordinal);
        Assert.Equal(3000, ImportFile.Read(Write("whole.ndjson.gz", ngz)).Records.Count);
    }

    [Fact]
    public void AReadErrorInTheMiddleKeepsTheRowsBeforeIt()
    {
        var bytes = Csv(Row, Row.Replace(",12,", ",13,", StringComparison.Ordinal), Row.Replace(",12,", ",14,", StringComparison.Ordinal));
        var csv = SeedCsvReader.Read(new FailingStream(bytes, failAfter: bytes.Length - 10), "s1");
        Assert.Equal(2, csv.Records.OfType<ProcessRecord>().Count());
        Assert.Contains("cannot read the rest", Assert.Single(csv.Rejected).Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void UnknownContentIsRejectedAsAWholeFile()
    {
        var result = ImportFile.Read(Write("notes.json", "just text"u8.ToArray()));
        Assert.Empty(result.Records);
        Assert.Contains("not a format import reads", Assert.Single(result.Rejected).Reason, StringComparison.Ordinal);
        var csv = ImportFile.Read(Write("other.csv", "a,b\r\n1,2\r\n"u8.ToArray()));
        Assert.Contains("not a seed CSV", Assert.Single(csv.Rejected).ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void DirectoriesAreWalkedInOrderAndOtherFilesListedAsSkipped()
    {
        Write("b/appstream_applications/year=2026/month=03/day=05/s2.csv", Csv(Row));
        Write("b/appstream_applications/year=2026/month=03/day=04/s1.csv", Csv(Row));
        Write("b/README.txt", "x"u8.ToArray());
        var (files, skipped) = ImportInput.Expand([Path.Combine(dir, "b")]);
        Assert.Equal(["day=04", "day=05"], files.Select(f => Path.GetFileName(Path.GetDirectoryName(f))));
        Assert.Equal("README.txt", Path.GetFileName(Assert.Single(skipped)));
        Assert.Throws<FileNotFoundException>(() => ImportInput.Expand([Path.Combine(dir, "missing")]));

        // A link back up is not followed (it would repeat the tree until the path is too long).
        Directory.CreateSymbolicLink(Path.Combine(dir, "b", "appstream_applications", "up"), "..");
        var (again, skippedAgain) = ImportInput.Expand([Path.Combine(dir, "b")]);
        Assert.Equal(files, again);
        Assert.Contains(skippedAgain, s => s.EndsWith("up (a link to a folder, not followed)", StringComparison.Ordinal));
    }

    /// <summary>A stream whose reads fail after <c>failAfter</c> bytes (a disk or network error mid-file).</summary>
    private sealed class FailingStream(byte[] bytes, int failAfter) : MemoryStream(bytes)
    {
        public override int Read(byte[] buffer, int offset, int count)
        {
            if (Position >= failAfter)
            {
                throw new IOException("Input/output error");
            }

            return base.Read(buffer, offset, (int)Math.Min(count, failAfter - Position));
        }

        public override int Read(Span<byte> buffer)
        {
            var array = new byte[buffer.Length];
            var n = Read(array, 0, array.Length);
            array.AsSpan(0, n).CopyTo(buffer);
            return n;
        }
    }
}
