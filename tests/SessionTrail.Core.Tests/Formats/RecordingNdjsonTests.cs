using System.Text;
using SessionTrail.Core.Formats;
using SessionTrail.Core.Records;

namespace SessionTrail.Core.Tests.Formats;

/// <summary>The "segment" and "recording" record kinds on the NDJSON wire.</summary>
public sealed class RecordingNdjsonTests
{
    private const string Hash0 = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
    private const string Hash1 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

    private const string Segment = """{"id":"rec:s1:1","kind":"segment","time":"2026-11-01T08:10:00.500Z","host":"h1","session":"s1","index":1,"start":"2026-11-01T08:05:00.000Z","end":"2026-11-01T08:10:00.000Z","width":1920,"height":1080,"fps":5,"codec":"h264","bytes":123456,"sha256":"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855","prevSha256":"9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08","file":"000001.mp4","endReason":"geometry"}""";

    private const string Gap = """{"id":"a:7","kind":"recording","time":"2026-11-01T08:10:02.000Z","host":"h1","session":"s1","type":"gap","message":"ffmpeg was killed","gapStart":"2026-11-01T08:10:00.000Z","gapEnd":"2026-11-01T08:10:01.250Z","width":1280,"height":800}""";

    private static List<TrailRecord> Parse(string body) => NdjsonReader.Parse(Encoding.UTF8.GetBytes(body));

    private static NdjsonFormatException Fails(string body) => Assert.Throws<NdjsonFormatException>(() => Parse(body));

    private static DateTimeOffset At(int minute, int second = 0, int ms = 0) => new(2026, 11, 1, 8, minute, second, ms, TimeSpan.Zero);

    [Fact]
    public void ReadsEveryFieldOfASegmentRecord()
    {
        var g = Assert.IsType<RecordingSegmentRecord>(Assert.Single(Parse(Segment)));

        Assert.Equal(("rec:s1:1", "segment", "h1", "s1", At(10, 0, 500)), (g.Id, g.Kind, g.Host, g.Session, g.Time));
        Assert.Equal((1, At(5), At(10)), (g.Index, g.Start, g.End));
        Assert.Equal((1920, 1080, 5, "h264", 123456L), (g.Width, g.Height, g.Fps, g.Codec, g.Bytes));
        Assert.Equal((Hash1, Hash0, "000001.mp4", "geometry"), (g.Sha256, g.PreviousSha256, g.File, g.EndReason));
    }

    [Fact]
    public void ReadsEveryFieldOfARecordingEvent()
    {
        var e = Assert.IsType<RecordingEventRecord>(Assert.Single(Parse(Gap)));

        Assert.Equal(("a:7", "recording", "h1", "s1", At(10, 2)), (e.Id, e.Kind, e.Host, e.Session, e.Time));
        Assert.Equal(("gap", "ffmpeg was killed", At(10), At(10, 1, 250)), (e.Type, e.Message, e.GapStart, e.GapEnd));
        Assert.Equal((1280, 800), (e.Width, e.Height));
    }

    [Fact]
    public void WhatTheWriterWritesTheReaderReadsBackByteForByte()
    {
        var records = Parse(Segment + "\n" + Gap);
        var written = string.Concat(records.Select(r => Encoding.UTF8.GetString(NdjsonWriter.ToLine(r))));

        Assert.Equal(Segment + "\n" + Gap + "\n", written);
        Assert.Equal(records, Parse(written));
    }

    [Fact]
    public void RecordsBuiltInCodeRoundTripWithTheOptionalFieldsAbsent()
    {
        TrailRecord[] records =
        [
            new RecordingSegmentRecord
            {
                Id = "rec:s 2:0", Time = At(1), Host = "h", Session = "s 2", Index = 0, Start = At(0), End = At(1),
                Width = 1, Height = 16384, Fps = 60, Codec = "h264", Bytes = 0, Sha256 = Hash0, File = "000000.mp4",
            },
            new RecordingEventRecord { Id = "e", Time = At(2), Host = "h", Session = "s 2", Type = RecordingEventTypes.NotRecorded, Message = "" },
            new RecordingEventRecord
            {
                Id = "e2", Time = At(3), Host = "h", Session = "s 2", Type = RecordingEventTypes.Gap, Message = "open gap", GapStart = At(2, 59, 999),
            },
        ];
        var body = string.Concat(records.Select(r => Encoding.UTF8.GetString(NdjsonWriter.ToLine(r))));

        var read = Parse(body);

        Assert.Equal(records, read);
        var segment = Assert.IsType<RecordingSegmentRecord>(read[0]);
        Assert.Null(segment.PreviousSha256);
        Assert.Null(segment.EndReason);
        Assert.DoesNotContain("prevSha256", body, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("\"session\":\"s1\",", "", "session", "required for a segment record")]
    [InlineData("\"index\":1,", "", "index", "required for a segment record")]
    [InlineData("\"index\":1,", "\"index\":-1,", "index", "must be between 0 and 999999, got -1")]
    [InlineData("\"index\":1,", "\"index\":1000000,", "index", "must be between 0 and 999999, got 1000000")]
    [InlineData("\"index\":1,", "\"index\":\"1\",", "index", "expected an integer, got string")]
    [InlineData("\"index\":1,", "\"index\":1.5,", "index", "expected an integer in range, got 1.5")]
    [InlineData("\"start\":\"2026-11-01T08:05:00.000Z\",", "", "start", "required for a segment record")]
    [InlineData("\"start\":\"2026-11-01T08:05:00.000Z\",", "\"start\":\"2026-11-01 08:05\",", "start", "expected an ISO-8601 time with Z or an offset, got '2026-11-01 08:05'")]
    [InlineData("\"end\":\"2026-11-01T08:10:00.000Z\",", "\"end\":5,", "end", "expected a string, got number")]
    [InlineData("\"end\":\"2026-11-01T08:10:00.000Z\",", "", "end", "required for a segment record")]
    [InlineData("\"width\":1920,", "\"width\":0,", "width", "must be between 1 and 16384, got 0")]
    [InlineData("\"width\":1920,", "", "width", "required for a segment record")]
    [InlineData("\"height\":1080,", "\"height\":16385,", "height", "must be between 1 and 16384, got 16385")]
    [InlineData("\"fps\":5,", "\"fps\":0,", "fps", "must be between 1 and 60, got 0")]
    [InlineData("\"fps\":5,", "\"fps\":61,", "fps", "must be between 1 and 60, got 61")]
    [InlineData("\"fps\":5,", "", "fps", "required for a segment record")]
    [InlineData("\"codec\":\"h264\",", "", "codec", "required for a segment record")]
    [InlineData("\"codec\":\"h264\",", "\"codec\":\"\",", "codec", "required for a segment record")]
    [InlineData("\"bytes\":123456,", "", "bytes", "required for a segment record")]
    [InlineData("\"bytes\":123456,", "\"bytes\":-1,", "bytes", "must be >= 0, got -1")]
    [InlineData("\"bytes\":123456,", "\"bytes\":1e30,", "bytes", "expected an integer in range, got 1e30")]
    [InlineData("\"sha256\":\"e3b0", "\"sha256\":\"E3B0", "sha256", "expected 64 lowercase hex digits, got 'E3B0c44298fc1c149afbf4c8996fb92427ae41e4…'")]
    [InlineData("\"sha256\":\"e3b0", "\"sha256\":\"0e3b0", "sha256", "expected 64 lowercase hex digits, got '0e3b0c44298fc1c149afbf4c8996fb92427ae41e…'")]
    [InlineData("\"sha256\":\"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\",", "", "sha256", "required for a segment record")]
    [InlineData("\"prevSha256\":\"9f86", "\"prevSha256\":\"xf86", "prevSha256", "expected 64 lowercase hex digits, got 'xf86d081884c7d659a2feaa0c55ad015a3bf4f1b…'")]
    [InlineData("\"prevSha256\":\"9f86", "\"prevSha256\":\"\",\"x\":\"", "prevSha256", "expected 64 lowercase hex digits, got ''")]
    [InlineData("\"file\":\"000001.mp4\"", "\"file\":\"../000001.mp4\"", "file", "expected a plain file name, got '../000001.mp4'")]
    [InlineData("\"file\":\"000001.mp4\"", "\"file\":\"..\"", "file", "expected a plain file name, got '..'")]
    [InlineData("\"file\":\"000001.mp4\"", "\"file\":\"a\\\\b.mp4\"", "file", "expected a plain file name, got 'a\\b.mp4'")]
    [InlineData("\"file\":\"000001.mp4\",", "", "file", "required for a segment record")]
    [InlineData("\"endReason\":\"geometry\"", "\"endReason\":\"\"", "endReason", "must not be empty (omit it instead)")]
    [InlineData("\"endReason\":\"geometry\"", "\"endReason\":1", "endReason", "expected a string, got number")]
    [InlineData("\"fps\":5,", "\"fps\":5,\"fps\":6,", "fps", "appears more than once")]
    public void AWrongSegmentFieldIsNamedWithItsLine(string find, string replace, string field, string problem)
    {
        Assert.Contains(find, Segment, StringComparison.Ordinal);
        var error = Fails(Segment + "\n" + Segment.Replace(find, replace, StringComparison.Ordinal));

        Assert.Equal(2, error.Line);
        Assert.Equal(field, error.Field);
        Assert.Equal(problem, error.Problem);
    }

    [Theory]
    [InlineData("\"session\":\"s1\",", "", "session", "required for a recording record")]
    [InlineData("\"type\":\"gap\",", "", "type", "required for a recording record")]
    [InlineData("\"type\":\"gap\",", "\"type\":\"paused\",", "type", "unknown recording type 'paused' (expected started, stopped, gap, geometry, error, notice, not-recorded)")]
    [InlineData("\"message\":\"ffmpeg was killed\",", "", "message", "required for a recording record (may be empty)")]
    [InlineData("\"message\":\"ffmpeg was killed\",", "\"message\":[],", "message", "expected a string, got array")]
    [InlineData("\"gapStart\":\"2026-11-01T08:10:00.000Z\"", "\"gapStart\":\"yesterday\"", "gapStart", "expected an ISO-8601 time with Z or an offset, got 'yesterday'")]
    [InlineData("\"gapEnd\":\"2026-11-01T08:10:01.250Z\"", "\"gapEnd\":\"2026-11-01T08:10:01\"", "gapEnd", "expected an ISO-8601 time with Z or an offset, got '2026-11-01T08:10:01'")]
    [InlineData("\"width\":1280", "\"width\":0", "width", "must be between 1 and 16384, got 0")]
    [InlineData("\"height\":800", "\"height\":\"800\"", "height", "expected an integer, got string")]
    public void AWrongRecordingFieldIsNamedWithItsLine(string find, string replace, string field, string problem)
    {
        Assert.Contains(find, Gap, StringComparison.Ordinal);
        var error = Fails(Gap + "\n" + Gap.Replace(find, replace, StringComparison.Ordinal));

        Assert.Equal(2, error.Line);
        Assert.Equal(field, error.Field);
        Assert.Equal(problem, error.Problem);
    }

    [Fact]
    public void AStoppedEventCarriesTheSegmentCountWithinRange()
    {
        const string Stopped = """{"id":"a:9","kind":"recording","time":"2026-11-01T08:20:00.000Z","host":"h1","session":"s1","type":"stopped","message":"recording stopped (session-end)","segments":3}""";
        var e = Assert.IsType<RecordingEventRecord>(Assert.Single(Parse(Stopped)));
        Assert.Equal(("stopped", 3), (e.Type, e.Segments));
        Assert.Equal(Stopped + "\n", Encoding.UTF8.GetString(NdjsonWriter.ToLine(e)));
        Assert.Equal(0, Assert.IsType<RecordingEventRecord>(Assert.Single(Parse(Stopped.Replace("\"segments\":3", "\"segments\":0", StringComparison.Ordinal)))).Segments);
        var error = Fails(Stopped.Replace("\"segments\":3", "\"segments\":-1", StringComparison.Ordinal));
        Assert.Equal(("segments", "must be between 0 and 1000000, got -1"), (error.Field, error.Problem));
    }

    [Fact]
    public void ARecordingEventNeedsNeitherGapTimesNorGeometry()
    {
        var e = Assert.IsType<RecordingEventRecord>(Parse("""{"id":"x","kind":"recording","time":"2026-11-01T08:00:00Z","host":"h","session":"s","type":"started","message":""}""")[0]);

        Assert.Equal(("started", "", null, null, null), (e.Type, e.Message, e.GapStart, e.Width, e.Height));
    }

    [Fact]
    public void EveryRecordingTypeConstantIsAccepted()
    {
        foreach (var type in typeof(RecordingEventTypes).GetFields().Select(f => (string)f.GetValue(null)!))
        {
            var e = Assert.IsType<RecordingEventRecord>(Parse(Gap.Replace("\"type\":\"gap\"", $"\"type\":\"{type}\"", StringComparison.Ordinal))[0]);
            Assert.Equal(type, e.Type);
        }
    }

    [Fact]
    public void MutatedRecordingLinesFailOnlyWithTheReadersErrorAndBothOutcomesOccur()
    {
        var samples = new[] { Encoding.UTF8.GetBytes(Segment), Encoding.UTF8.GetBytes(Gap) };
        var interesting = Encoding.UTF8.GetBytes("{}[]\":,\\ 0123456789-+.eEabcdefABCDEF/Z:T");
        var random = new Random(5);
        var (parsed, failed) = (0, 0);
        for (var i = 0; i < 20_000; i++)
        {
            var body = ByteMutator.Mutate(samples[i % 2], random, 1 + random.Next(3), interesting);
            try
            {
                foreach (var g in NdjsonReader.Parse(body).OfType<RecordingSegmentRecord>())
                {
                    // Whatever got through honours the documented ranges.
                    Assert.InRange(g.Index, 0, NdjsonReader.MaxSegmentIndex);
                    Assert.InRange(g.Fps, 1, NdjsonReader.MaxFps);
                    Assert.True(g.Bytes >= 0);
                    Assert.Matches("^[0-9a-f]{64}$", g.Sha256);
                }

                parsed++;
            }
            catch (NdjsonFormatException e)
            {
                Assert.True(e.Line >= 1, e.Message);
                failed++;
            }
        }

        Assert.True(parsed > 100 && failed > 100, $"parsed {parsed}, failed {failed}");
    }
}
