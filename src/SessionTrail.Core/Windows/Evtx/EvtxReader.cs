using System.Buffers.Binary;

namespace SessionTrail.Core.Windows.Evtx;

/// <summary>
/// Reads a binary Windows event log file (<c>.evtx</c>, e.g. a copied <c>Security.evtx</c>) from a stream, on
/// any OS, as <see cref="WindowsEvent"/>s. Layout (libevtx's "Windows XML Event Log (EVTX)" document):
/// a 4 KiB file header (<c>ElfFile\0</c>), then 64 KiB chunks (<c>ElfChnk\0</c>, a 512-byte header with
/// the string and template tables), each holding event records (<c>**\0\0</c>, size, record number,
/// written time, Binary XML, size again). The stream is read forward only, one chunk at a time.
/// <para>
/// Damage never throws: a bad file header stops the read with one error; a damaged chunk or record gives
/// an <see cref="EvtxError"/> naming its file offset and what is wrong, and reading goes on with the next
/// record (when the record's size can be trusted) or the next chunk. Checksums (CRC-32 of the file
/// header, the chunk header and the chunk's records) are verified; a mismatch is reported and the records
/// are still read (a log copied while Windows was writing it often has a stale checksum in its last chunk)
/// unless <see cref="SkipChunksWithBadChecksum"/> is set. Blocks of zeros (preallocated space) are skipped.
/// </para>
/// </summary>
public sealed class EvtxReader
{
    /// <summary>Size of the file header block.</summary>
    public const int FileHeaderSize = 4096;

    /// <summary>Size of a chunk.</summary>
    public const int ChunkSize = 65536;

    private const int ChunkHeaderSize = 512;
    private const int RecordHeaderSize = 24;

    private readonly Stream stream;
    private readonly string source;

    /// <summary>Reads from <paramref name="stream"/>; <paramref name="source"/> (e.g. the file name) prefixes errors and origins.</summary>
    public EvtxReader(Stream stream, string source)
    {
        ArgumentNullException.ThrowIfNull(stream);
        this.stream = stream;
        this.source = source;
    }

    /// <summary>Skip (with an error) the records of a chunk whose header or records checksum does not match.</summary>
    public bool SkipChunksWithBadChecksum { get; init; }

    /// <summary>The file header, once <see cref="Read"/> has read it.</summary>
    public EvtxFileHeader? Header { get; private set; }

    /// <summary>Counts for the read so far.</summary>
    public EvtxStatistics Statistics { get; } = new();

    /// <summary>Reads a whole file.</summary>
    public static IEnumerable<EvtxEntry> ReadFile(string path)
    {
        using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, ChunkSize);
        foreach (var entry in new EvtxReader(file, Path.GetFileName(path)).Read())
        {
            yield return entry;
        }
    }

    /// <summary>Reads the file: every event and every error, in file order.</summary>
    public IEnumerable<EvtxEntry> Read()
    {
        var header = new byte[FileHeaderSize];
        var read = ReadBlock(header, out var ioError);
        if (ioError is not null)
        {
            yield return Error(0, ioError);
            yield break;
        }

        if (read < 128 || !header.AsSpan(0, 8).SequenceEqual("ElfFile\0"u8))
        {
            yield return Error(0, read < 8 ? "not an EVTX file: too short for a file header" : "not an EVTX file: no ElfFile signature");
            yield break;
        }

        var headerChecksum = BinaryPrimitives.ReadUInt32LittleEndian(header.AsSpan(124));
        if (Crc32.Compute(header.AsSpan(0, 120)) != headerChecksum)
        {
            yield return Error(124, "file header checksum mismatch (the header's counts may be wrong; chunks are still read)");
        }

        var flags = BinaryPrimitives.ReadUInt32LittleEndian(header.AsSpan(120));
        Header = new EvtxFileHeader
        {
            FormatVersion = new Version(BinaryPrimitives.ReadUInt16LittleEndian(header.AsSpan(38)), BinaryPrimitives.ReadUInt16LittleEndian(header.AsSpan(36))),
            ChunkCount = BinaryPrimitives.ReadUInt16LittleEndian(header.AsSpan(42)),
            NextRecordNumber = BinaryPrimitives.ReadInt64LittleEndian(header.AsSpan(24)),
            IsDirty = (flags & 1) != 0,
            IsFull = (flags & 2) != 0,
        };
        if (read < FileHeaderSize)
        {
            yield return Error(read, $"file ends inside its {FileHeaderSize}-byte header: no chunks");
            yield break;
        }

        var chunk = new byte[ChunkSize];
        long chunkStart = FileHeaderSize;
        for (var index = 0; ; index++, chunkStart += ChunkSize)
        {
            read = ReadBlock(chunk, out ioError);
            if (ioError is not null)
            {
                yield return Error(chunkStart, ioError);
                yield break;
            }

            if (read == 0)
            {
                yield break;
            }

            foreach (var entry in ReadChunk(chunk, read, chunkStart, index))
            {
                yield return entry;
            }

            if (read < ChunkSize)
            {
                yield break;
            }
        }
    }

    private IEnumerable<EvtxEntry> ReadChunk(byte[] chunk, int length, long chunkStart, int index)
    {
        var signature = chunk.AsSpan(0, Math.Min(8, length));
        if (!signature.ContainsAnyExcept((byte)0) && (length == ChunkSize || !chunk.AsSpan(0, length).ContainsAnyExcept((byte)0)))
        {
            Statistics.EmptyChunks++;
            yield break;
        }

        var name = $"chunk {index}";
        if (length < ChunkHeaderSize || !signature.SequenceEqual("ElfChnk\0"u8))
        {
            yield return Error(chunkStart, length < ChunkHeaderSize
                ? $"{name}: file ends after {length} bytes of it (truncated)"
                : $"{name}: no ElfChnk signature; chunk skipped");
            yield break;
        }

        Statistics.Chunks++;
        if (length < ChunkSize)
        {
            yield return Error(chunkStart, $"{name}: truncated ({length} of {ChunkSize} bytes); reading the records that are whole");
        }

        var badChecksum = false;
        var headerChecksum = Crc32.Append(Crc32.Compute(chunk.AsSpan(0, 120)), chunk.AsSpan(128, ChunkHeaderSize - 128));
        if (headerChecksum != BinaryPrimitives.ReadUInt32LittleEndian(chunk.AsSpan(124)))
        {
            badChecksum = true;
            yield return Error(chunkStart + 124, $"{name}: chunk header checksum mismatch{Consequence()}");
        }

        var freeSpace = BinaryPrimitives.ReadUInt32LittleEndian(chunk.AsSpan(48));
        var end = length;
        if (freeSpace < ChunkHeaderSize || freeSpace > ChunkSize)
        {
            yield return Error(chunkStart + 48, $"{name}: free space offset 0x{freeSpace:x} is out of range; reading records up to the first gap");
        }
        else if (freeSpace > length)
        {
            // Truncated chunk: the records checksum cannot be checked.
        }
        else
        {
            end = (int)freeSpace;
            var recordsChecksum = BinaryPrimitives.ReadUInt32LittleEndian(chunk.AsSpan(52));
            if (Crc32.Compute(chunk.AsSpan(ChunkHeaderSize, end - ChunkHeaderSize)) != recordsChecksum)
            {
                badChecksum = true;
                yield return Error(chunkStart + 52, $"{name}: event records checksum mismatch{Consequence()}");
            }
        }

        if (badChecksum && SkipChunksWithBadChecksum)
        {
            yield break;
        }

        var parser = new BinXmlParser(chunk, length);
        var builder = new EvtxEventBuilder(parser);
        var pos = ChunkHeaderSize;
        while (pos + RecordHeaderSize <= end)
        {
            var at = chunkStart + pos;
            var span = chunk.AsSpan(pos);
            if (!span.StartsWith("**\0\0"u8))
            {
                if (span[..Math.Min(8, end - pos)].ContainsAnyExcept((byte)0))
                {
                    yield return Error(at, $"{name}: no event record signature; rest of the chunk skipped");
                }

                yield break;
            }

            Statistics.Records++;
            var size = BinaryPrimitives.ReadUInt32LittleEndian(span[4..]);
            var recordNumber = BinaryPrimitives.ReadInt64LittleEndian(span[8..]);
            if (size < RecordHeaderSize + 4 || size > end - pos)
            {
                yield return Error(at, $"{name}: event record size {size} does not fit the chunk; rest of the chunk skipped", recordNumber);
                yield break;
            }

            if (BinaryPrimitives.ReadUInt32LittleEndian(span[((int)size - 4)..]) != size)
            {
                yield return Error(at, $"{name}: event record size {size} does not match its copy at the record's end; rest of the chunk skipped", recordNumber);
                yield break;
            }

            var entry = ReadRecord(builder, pos, (int)size, length, at, recordNumber);
            if (entry.Error is not null)
            {
                Statistics.Errors++;
            }
            else
            {
                Statistics.Events++;
            }

            yield return entry;
            pos += (int)size;
        }

        string Consequence() => SkipChunksWithBadChecksum ? "; chunk skipped" : "; its records are read but may be damaged";
    }

    private EvtxEntry ReadRecord(EvtxEventBuilder builder, int pos, int size, int length, long at, long recordNumber)
    {
        try
        {
            var root = builder.Build(pos + RecordHeaderSize, pos + size - 4);
            return EvtxEntry.Of(EvtxEventBuilder.ToWindowsEvent(root, pos, $"{source}#{recordNumber}"));
        }
        catch (EvtxFormatException e)
        {
            var offset = e.ChunkOffset > 0 && e.ChunkOffset < length ? at - pos + e.ChunkOffset : at;
            return EvtxEntry.Of(new EvtxError(source, offset, e.Message, recordNumber));
        }
        catch (Exception e) when (e is ArgumentException or IndexOutOfRangeException or InvalidOperationException or FormatException or OverflowException)
        {
            // A bounds check missed somewhere: still one record's error, never a crash.
            return EvtxEntry.Of(new EvtxError(source, at, $"internal: {e.GetType().Name}: {e.Message}", recordNumber));
        }
    }

    private EvtxEntry Error(long offset, string reason, long? recordNumber = null)
    {
        if (recordNumber is null)
        {
            Statistics.Errors++;
        }

        return EvtxEntry.Of(new EvtxError(source, offset, reason, recordNumber));
    }

    private int ReadBlock(byte[] buffer, out string? ioError)
    {
        ioError = null;
        var total = 0;
        try
        {
            while (total < buffer.Length)
            {
                var n = stream.Read(buffer, total, buffer.Length - total);
                if (n == 0)
                {
                    break;
                }

                total += n;
            }
        }
        catch (IOException e)
        {
            ioError = $"read error: {e.Message}";
        }

        return total;
    }
}
