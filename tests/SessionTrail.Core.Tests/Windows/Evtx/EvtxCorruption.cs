using System.Buffers.Binary;
using SessionTrail.Core.Windows.Evtx;

namespace SessionTrail.Core.Tests.Windows.Evtx;

/// <summary>Byte surgery on a real .evtx file for the corruption and fuzz tests.</summary>
internal static class EvtxCorruption
{
    public const int ChunkSize = EvtxReader.ChunkSize;
    public const int FirstChunk = EvtxReader.FileHeaderSize;

    public static int ChunkAt(int index) => FirstChunk + (index * ChunkSize);

    /// <summary>Recomputes the file header, chunk header and records checksums, so that only the damage under test shows.</summary>
    public static void FixChecksums(byte[] file)
    {
        if (file.Length >= 128)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(file.AsSpan(124), Crc32.Compute(file.AsSpan(0, 120)));
        }

        for (var at = FirstChunk; at + ChunkSize <= file.Length; at += ChunkSize)
        {
            var chunk = file.AsSpan(at, ChunkSize);
            if (!chunk.StartsWith("ElfChnk\0"u8))
            {
                continue;
            }

            var free = (int)Math.Clamp(BinaryPrimitives.ReadUInt32LittleEndian(chunk[48..]), 512u, (uint)ChunkSize);
            BinaryPrimitives.WriteUInt32LittleEndian(chunk[52..], Crc32.Compute(chunk[512..free]));
            BinaryPrimitives.WriteUInt32LittleEndian(chunk[124..], Crc32.Append(Crc32.Compute(chunk[..120]), chunk[128..512]));
        }
    }

    /// <summary>File offset of record <paramref name="number"/> within chunk <paramref name="chunk"/> (1-based within the chunk).</summary>
    public static int RecordAt(byte[] file, int chunk, int number)
    {
        var at = ChunkAt(chunk) + 512;
        for (var i = 1; i < number; i++)
        {
            at += (int)BinaryPrimitives.ReadUInt32LittleEndian(file.AsSpan(at + 4));
        }

        return at;
    }
}
