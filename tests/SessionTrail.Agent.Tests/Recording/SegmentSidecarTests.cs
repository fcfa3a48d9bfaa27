using System.Text;
using System.Text.Json;
using SessionTrail.Agent.Recording;
using SessionTrail.Agent.Tests.Fakes;
using SessionTrail.Core.Records;

namespace SessionTrail.Agent.Tests.Recording;

/// <summary>
/// A segment's sidecar is its <see cref="RecordingSegmentRecord"/> without what is set when the record is sent
/// (id, host, time). Sidecars in users' spools written before the sidecar was the record still read, and the
/// file written is the same, byte for byte.
/// </summary>
public sealed class SegmentSidecarTests : IDisposable
{
    /// <summary>A sidecar as the agent wrote it when the spool had its own sidecar type (fractional times, a previous hash).</summary>
    private const string ChainedSidecarBeforeRecord = """
        {
          "session": "as2-7f3c",
          "index": 3,
          "start": "2026-11-02T09:15:00.25+00:00",
          "end": "2026-11-02T09:20:00.75+00:00",
          "width": 1920,
          "height": 1080,
          "fps": 5,
          "codec": "h264",
          "bytes": 1234567,
          "sha256": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
          "previousSha256": "60303ae22b998861bce3b28f33eec1be758a213c86c93c076dbe9f558c11c752",
          "file": "000003.mp4",
          "endReason": "max-length"
        }
        """;

    /// <summary>The same for a session's first segment (no previous hash, no end reason: nulls are left out).</summary>
    private const string FirstSidecarBeforeRecord = """
        {
          "session": "h-20261102T090000Z",
          "index": 0,
          "start": "2026-11-02T09:00:00+00:00",
          "end": "2026-11-02T09:05:00+00:00",
          "width": 1280,
          "height": 720,
          "fps": 5,
          "codec": "h264",
          "bytes": 4096,
          "sha256": "2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae",
          "file": "000000.mp4"
        }
        """;

    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private RecordingSegmentRecord Read(string text)
    {
        var path = Path.Combine(_dir.Path, "000000.json");
        File.WriteAllText(path, text.ReplaceLineEndings()); // the writer ends lines with Environment.NewLine
        return RecordingSpool.ReadSidecar(path);
    }

    [Fact]
    public void ASidecarWrittenBeforeTheRecordReadsAsTheSegmentsRecordWithTimeItsEndAndNoIdOrHost()
    {
        var read = Read(ChainedSidecarBeforeRecord);

        Assert.Equal(new RecordingSegmentRecord
        {
            Id = "",
            Time = new DateTimeOffset(2026, 11, 2, 9, 20, 0, 750, TimeSpan.Zero),
            Host = "",
            Session = "as2-7f3c",
            Index = 3,
            Start = new DateTimeOffset(2026, 11, 2, 9, 15, 0, 250, TimeSpan.Zero),
            End = new DateTimeOffset(2026, 11, 2, 9, 20, 0, 750, TimeSpan.Zero),
            Width = 1920,
            Height = 1080,
            Fps = 5,
            Codec = "h264",
            Bytes = 1234567,
            Sha256 = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
            PreviousSha256 = "60303ae22b998861bce3b28f33eec1be758a213c86c93c076dbe9f558c11c752",
            File = "000003.mp4",
            EndReason = SegmentEndReasons.MaxLength,
        }, read);
        Assert.Equal((null, null), (Read(FirstSidecarBeforeRecord).PreviousSha256, Read(FirstSidecarBeforeRecord).EndReason));
    }

    [Theory]
    [InlineData(ChainedSidecarBeforeRecord)]
    [InlineData(FirstSidecarBeforeRecord)]
    public void ASidecarWrittenBeforeTheRecordIsWrittenAgainByteForByte(string file) =>
        Assert.Equal(file.ReplaceLineEndings(), Encoding.UTF8.GetString(RecordingSpool.SerializeSidecar(Read(file))));

    [Fact]
    public void WhatIsSetWhenTheRecordIsSentIsNotWrittenToTheSidecar()
    {
        var sent = Read(ChainedSidecarBeforeRecord) with { Id = "rec:as2-7f3c:3", Host = "host-1", Time = DateTimeOffset.UnixEpoch };

        Assert.Equal(ChainedSidecarBeforeRecord.ReplaceLineEndings(), Encoding.UTF8.GetString(RecordingSpool.SerializeSidecar(sent)));
    }

    [Theory]
    [InlineData("session")]
    [InlineData("sha256")]
    [InlineData("end")]
    public void ASidecarWithoutARequiredFieldIsUnreadable(string field)
    {
        var without = string.Join('\n', ChainedSidecarBeforeRecord.Split('\n').Where(l => !l.TrimStart().StartsWith($"\"{field}\"", StringComparison.Ordinal)));

        Assert.Throws<JsonException>(() => Read(without));
    }
}
