using System.Buffers.Binary;
using SessionTrail.Core.Windows.Evtx;
using static SessionTrail.Core.Tests.Windows.Evtx.EvtxCorruption;

namespace SessionTrail.Core.Tests.Windows.Evtx;

/// <summary>Damaged files: each damage gives a clear error with its offset, and the rest of the file is still read.</summary>
public class EvtxReaderCorruptionTests
{
    private static (List<Core.Windows.WindowsEvent> Events, List<EvtxError> Errors, EvtxReader Reader) Read(byte[] bytes, bool skip = false) =>
        EvtxReaderRealFileTests.ReadAll(bytes, skip);

    private static HashSet<long> RecordNumbers(IEnumerable<Core.Windows.WindowsEvent> events) =>
        events.Select(e => long.Parse(e.Origin!.Split('#')[1], System.Globalization.CultureInfo.InvariantCulture)).ToHashSet();

    [Theory]
    [InlineData(0)]
    [InlineData(5)]
    [InlineData(4096)]
    public void Not_an_evtx_file_gives_one_error(int length)
    {
        var bytes = new byte[length];
        "hello, this is a text file"u8.ToArray().AsSpan(0, Math.Min(length, 26)).CopyTo(bytes);
        var (events, errors, _) = Read(bytes);
        Assert.Empty(events);
        var error = Assert.Single(errors);
        Assert.Contains("not an EVTX file", error.Message, StringComparison.Ordinal);
        Assert.StartsWith("test.evtx offset 0x0: ", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_file_cut_inside_a_chunk_gives_every_whole_record_and_says_where_it_ends()
    {
        var cut = ChunkAt(3) + 30000;
        var (events, errors, _) = Read(EvtxTestData.Tchopper()[..cut]);

        Assert.Contains(errors, e => e.Offset == ChunkAt(3) && e.Reason.Contains("chunk 3: truncated (30000 of 65536 bytes)", StringComparison.Ordinal));
        Assert.All(errors, e => Assert.Contains("chunk 3", e.Reason, StringComparison.Ordinal));
        var numbers = RecordNumbers(events);
        Assert.True(numbers.SetEquals(Enumerable.Range(1, numbers.Count).Select(i => (long)i)), "records 1..n, none missing");
        Assert.InRange(events.Count, 271, 359); // chunks 0-2 (records 1-270) and the whole records of chunk 3
    }

    [Fact]
    public void A_changed_byte_in_the_records_is_a_checksum_error_and_the_chunk_can_be_skipped()
    {
        var bytes = EvtxTestData.Tchopper();
        bytes[RecordAt(bytes, 2, 10) + 300] ^= 0x20;

        var (events, errors, _) = Read(bytes);
        var error = Assert.Single(errors);
        Assert.Equal(ChunkAt(2) + 52, error.Offset);
        Assert.Equal($"test.evtx offset 0x{ChunkAt(2) + 52:x}: chunk 2: event records checksum mismatch; its records are read but may be damaged", error.Message);
        Assert.Equal(735, events.Count);

        var (kept, skipErrors, _) = Read(bytes, skip: true);
        Assert.Contains("chunk skipped", Assert.Single(skipErrors).Message, StringComparison.Ordinal);
        Assert.Equal(735 - 90, kept.Count);
        Assert.DoesNotContain(RecordNumbers(kept), n => n is >= 181 and <= 270);
    }

    [Fact]
    public void A_changed_chunk_header_is_a_checksum_error()
    {
        var bytes = EvtxTestData.Tchopper();
        bytes[ChunkAt(1) + 60] = 0x7f;
        var (events, errors, _) = Read(bytes);
        var error = Assert.Single(errors);
        Assert.Equal(ChunkAt(1) + 124, error.Offset);
        Assert.Contains("chunk 1: chunk header checksum mismatch", error.Message, StringComparison.Ordinal);
        Assert.Equal(735, events.Count);
    }

    [Fact]
    public void A_changed_file_header_is_a_checksum_error()
    {
        var bytes = EvtxTestData.Tchopper();
        bytes[42] = 3; // chunk count
        var (events, errors, reader) = Read(bytes);
        Assert.Equal(124, Assert.Single(errors).Offset);
        Assert.Equal(3, reader.Header!.ChunkCount);
        Assert.Equal(735, events.Count);
    }

    [Fact]
    public void A_record_with_a_bad_size_loses_the_rest_of_its_chunk_only()
    {
        var bytes = EvtxTestData.Tchopper();
        var record = RecordAt(bytes, 0, 5);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(record + 4), 0x7fff0000);
        FixChecksums(bytes);

        var (events, errors, _) = Read(bytes);
        var error = Assert.Single(errors);
        Assert.Equal(record, error.Offset);
        Assert.Equal(5, error.RecordNumber);
        Assert.Contains("event record size 2147418112 does not fit the chunk", error.Message, StringComparison.Ordinal);
        Assert.Equal(4 + 645, events.Count);
    }

    [Fact]
    public void A_garbage_chunk_is_skipped_with_an_error()
    {
        var bytes = EvtxTestData.Tchopper();
        "XXXXXXXX"u8.CopyTo(bytes.AsSpan(ChunkAt(4)));
        var (events, errors, _) = Read(bytes);
        var error = Assert.Single(errors);
        Assert.Equal($"test.evtx offset 0x{ChunkAt(4):x}: chunk 4: no ElfChnk signature; chunk skipped", error.Message);
        Assert.Equal(645, events.Count);
    }

    [Fact]
    public void A_template_that_refers_to_itself_is_an_error_per_record_not_a_hang()
    {
        var bytes = EvtxTestData.Tchopper();
        var record = RecordAt(bytes, 0, 1);
        // Record 1: fragment header (4), template instance token, 1 byte, id (4), definition offset (4) = inline.
        var definition = BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(record + 24 + 4 + 6));
        Assert.Equal(record + 24 + 14 - ChunkAt(0), definition);
        // Its body starts with a fragment header; put a template instance of the template itself after it.
        var body = ChunkAt(0) + definition + 24 + 4;
        bytes[body] = 0x0c;
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(body + 6), definition);
        FixChecksums(bytes);

        var (events, errors, _) = Read(bytes);
        Assert.Equal(90, errors.Count); // every record of chunk 0 uses that template
        Assert.All(errors, e => Assert.Contains("template definition refers to itself", e.Message, StringComparison.Ordinal));
        Assert.Equal(ChunkAt(0) + definition, errors[0].Offset);
        Assert.Equal(645, events.Count);
    }

    [Fact]
    public void A_substitution_beyond_the_values_names_the_record()
    {
        var bytes = EvtxTestData.Tchopper();
        var record = RecordAt(bytes, 1, 1);
        // Chunk 1's first record defines the template inline; find its first normal substitution token and make its index 999.
        var at = record + 24;
        while (!(bytes[at] == 0x0d && bytes[at + 3] is 0x01 or 0x04 or 0x06 or 0x11 or 0x13 or 0x15))
        {
            at++;
        }

        BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(at + 1), 999);
        FixChecksums(bytes);
        var (events, errors, _) = Read(bytes);
        Assert.Equal(90, errors.Count);
        Assert.All(errors, e => Assert.Contains("substitution 999 but the template instance has", e.Reason, StringComparison.Ordinal));
        Assert.Equal(91, errors[0].RecordNumber);
        Assert.Equal(645, events.Count);
    }

    [Fact]
    public void A_read_error_from_the_stream_is_an_error_entry()
    {
        var reader = new EvtxReader(new FailingStream(EvtxTestData.Tchopper(), failAt: ChunkAt(2) + 100), "test.evtx");
        var entries = reader.Read().ToList();
        Assert.Equal(180, entries.Count(e => e.Event is not null));
        var error = entries.Single(e => e.Error is not null).Error!;
        Assert.Equal(ChunkAt(2), error.Offset);
        Assert.Contains("read error: disk gone", error.Message, StringComparison.Ordinal);
    }

    private sealed class FailingStream(byte[] data, int failAt) : MemoryStream(data)
    {
        public override int Read(byte[] buffer, int offset, int count)
        {
            if (Position + count > failAt)
            {
                throw new IOException("disk gone");
            }

            return base.Read(buffer, offset, count);
        }
    }
}
