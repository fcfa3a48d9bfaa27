using System.Buffers.Binary;
using System.IO.Compression;
using Microsoft.AspNetCore.Http;

namespace SessionTrail.Server.Http;

/// <summary>The codings a request body may be sent in (HTTP <c>Content-Encoding</c>, RFC 9110 §8.4.1).</summary>
public enum ContentCoding
{
    Identity,

    /// <summary>gzip (RFC 1952), one member or several concatenated; <c>x-gzip</c> too.</summary>
    Gzip,

    /// <summary>deflate: the zlib format (RFC 1950) around deflate data, as RFC 9110 defines it (not raw deflate).</summary>
    Deflate,

    /// <summary>br: Brotli (RFC 7932).</summary>
    Brotli,
}

/// <summary>A request body refused: <see cref="StatusCode"/> 400 (corrupt or cut short), 413 (too large) or 415 (unknown coding).</summary>
public sealed class BodyRejectedException(int statusCode, string message) : Exception(message)
{
    public int StatusCode { get; } = statusCode;
}

/// <summary>
/// Undoes a <see cref="ContentCoding"/> over a whole body, strictly: the result is the complete decoded body
/// or a <see cref="BodyRejectedException"/> — never the decodable prefix of a body that is cut short or
/// corrupt, never more than the cap, and never any other exception, for any input.
/// </summary>
/// <remarks>
/// .NET's GZipStream, ZLibStream and BrotliStream end quietly when their input ends early (a sync-flushed
/// gzip cut after 400 of 1,000 lines decodes to those 400 lines, as does one missing its 8-byte trailer);
/// they only check a gzip CRC-32/ISIZE or zlib Adler-32 trailer that is there. So this decoder reads the
/// framing itself and drives the decoder to the end:
/// <list type="bullet">
/// <item>gzip: each member's header is parsed here; its deflate data goes through a raw
/// <see cref="DeflateStream"/> fed by a <see cref="ChunkSource"/>, which records whether the decoder asked
/// for input past the end (it does so only when its final block has not come: the data is cut short). A
/// finished member's 8-byte trailer must follow inside the chunk the decoder stopped in, and must hold the
/// CRC-32 and size (mod 2^32) of the bytes this member decoded to. Whatever follows must be another member.</item>
/// <item>deflate: the zlib header is checked here, the deflate data decoded the same way, and the body must
/// end with the Adler-32 of the decoded bytes.</item>
/// <item>br: <see cref="BrotliDecoder"/> says itself whether the stream is done and how much input it used.</item>
/// </list>
/// Cost: the encoded body is held whole (at most the cap), and decoding work is linear in the bytes sent
/// plus the bytes produced, both capped: a body of nothing but empty deflate blocks costs about as much as
/// decoding the cap's worth of data (under a second for 16 MiB).
/// </remarks>
public static class ContentDecoder
{
    /// <summary>
    /// Most gzip members in one body. Concatenated gzip files are legal, but each member costs a decoder
    /// set-up: a 16 MiB body of 20-byte members would cost seconds of CPU for nothing.
    /// </summary>
    public const int MaxGzipMembers = 1000;

    /// <summary>The codings accepted, for error messages.</summary>
    public const string Supported = "gzip, deflate (zlib), br, or none";

    /// <summary>
    /// The coding a <c>Content-Encoding</c> header names: none, <c>identity</c>, <c>gzip</c>, <c>x-gzip</c>,
    /// <c>deflate</c> or <c>br</c> (case-insensitive). Several codings at once, or any other, throw a 415.
    /// </summary>
    public static ContentCoding Parse(string? header)
    {
        var codings = (header ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Where(c => !c.Equals("identity", StringComparison.OrdinalIgnoreCase))
            .ToArray();
        if (codings.Length > 1)
        {
            throw new BodyRejectedException(StatusCodes.Status415UnsupportedMediaType, $"Content-Encoding '{header}' names {codings.Length} codings; send one ({Supported})");
        }

        return codings.Length == 0 ? ContentCoding.Identity : codings[0].ToLowerInvariant() switch
        {
            "gzip" or "x-gzip" => ContentCoding.Gzip,
            "deflate" => ContentCoding.Deflate,
            "br" => ContentCoding.Brotli,
            _ => throw new BodyRejectedException(StatusCodes.Status415UnsupportedMediaType, $"unsupported Content-Encoding '{Clip(header!)}' (use {Supported})"),
        };
    }

    /// <summary>
    /// The decoded bytes of <paramref name="encoded"/>, at most <paramref name="maxBytes"/> of them (the caller
    /// disposes the result). Throws <see cref="BodyRejectedException"/>: 400 naming what is wrong with a cut
    /// or corrupt body, 413 when it decodes to more than <paramref name="maxBytes"/>.
    /// </summary>
    public static PooledBytes Decode(ContentCoding coding, ReadOnlyMemory<byte> encoded, long maxBytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxBytes);
        var output = new PooledBytes(Math.Min(maxBytes, Array.MaxLength - 1) + 1, (int)Math.Min(encoded.Length * 4L + 1024, 1 << 20));
        try
        {
            switch (coding)
            {
                case ContentCoding.Identity:
                    encoded.Span[..Math.Min(encoded.Length, output.Capacity)].CopyTo(output.GetMemory(encoded.Length).Span);
                    output.Advance(Math.Min(encoded.Length, output.Capacity));
                    break;
                case ContentCoding.Gzip:
                    DecodeGzip(encoded, output);
                    break;
                case ContentCoding.Deflate:
                    DecodeZlib(encoded, output);
                    break;
                case ContentCoding.Brotli:
                    DecodeBrotli(encoded.Span, output);
                    break;
                default:
                    throw new ArgumentOutOfRangeException(nameof(coding));
            }

            if (output.Length > maxBytes)
            {
                throw TooLarge(maxBytes);
            }

            return output;
        }
        catch (TooLargeSignal)
        {
            output.Dispose();
            throw TooLarge(maxBytes);
        }
        catch
        {
            output.Dispose();
            throw;
        }
    }

    /// <summary>The 413 for a body over <paramref name="maxBytes"/>.</summary>
    public static BodyRejectedException TooLarge(long maxBytes) => new(
        StatusCodes.Status413PayloadTooLarge, $"body larger than {maxBytes} bytes (as sent or after decompression); send smaller batches");

    private static void DecodeGzip(ReadOnlyMemory<byte> input, PooledBytes output)
    {
        var span = input.Span;
        if (span.IsEmpty)
        {
            throw Invalid("the body is empty but Content-Encoding says gzip");
        }

        var position = 0;
        for (var member = 1; position < span.Length; member++)
        {
            if (member > 1 && !span[position..].StartsWith(GzipMagic))
            {
                throw Invalid($"{span.Length - position} bytes follow the end of the gzip data (member {member - 1} ended at byte {position})");
            }

            if (member > MaxGzipMembers)
            {
                throw Invalid($"the body holds more than {MaxGzipMembers} gzip members; send one (or a few)");
            }

            position = GzipHeaderEnd(span, position, member);
            var start = output.Length;
            var (finished, chunkStart, chunkEnd) = Inflate(input, position, output, $"gzip member {member}");
            if (!finished)
            {
                throw Invalid($"the gzip data is cut short: member {member} ends before its final deflate block ({span.Length} bytes received); send the body whole");
            }

            var decoded = output.Span[start..];
            var crc = System.IO.Hashing.Crc32.HashToUInt32(decoded);
            var size = (uint)decoded.Length;
            position = FindTrailer(span, chunkStart, chunkEnd, trailer =>
                BinaryPrimitives.ReadUInt32LittleEndian(trailer) == crc && BinaryPrimitives.ReadUInt32LittleEndian(trailer[4..]) == size, 8)
                ?? throw Invalid($"gzip member {member}: no trailer with the CRC-32 ({crc:x8}) and size ({size}) of its {decoded.Length} decoded bytes follows its data: the body is cut short or corrupt");
        }
    }

    private static ReadOnlySpan<byte> GzipMagic => [0x1f, 0x8b];

    /// <summary>Checks the RFC 1952 member header at <paramref name="at"/>; returns where its deflate data starts.</summary>
    private static int GzipHeaderEnd(ReadOnlySpan<byte> span, int at, int member)
    {
        const byte FHCRC = 0x02, FEXTRA = 0x04, FNAME = 0x08, FCOMMENT = 0x10;
        var header = span[at..];
        if (header.Length < 10)
        {
            throw Invalid($"gzip member {member}: the body ends inside its 10-byte header");
        }

        if (!header.StartsWith(GzipMagic) || header[2] != 8)
        {
            throw Invalid(member == 1 ? "the body is not gzip data (it does not start with 1f 8b 08)" : $"gzip member {member}: not a deflate member (method {header[2]})");
        }

        var flags = header[3];
        if ((flags & 0xe0) != 0)
        {
            throw Invalid($"gzip member {member}: reserved header flags are set (0x{flags:x2})");
        }

        var i = 10;
        if ((flags & FEXTRA) != 0)
        {
            if (header.Length < i + 2)
            {
                throw Invalid($"gzip member {member}: the body ends inside its header's extra field");
            }

            i += 2 + BinaryPrimitives.ReadUInt16LittleEndian(header[i..]);
        }

        foreach (var flag in new[] { FNAME, FCOMMENT })
        {
            if ((flags & flag) != 0 && i < header.Length)
            {
                var zero = header[i..].IndexOf((byte)0);
                i = zero < 0 ? header.Length + 1 : i + zero + 1;
            }
        }

        if ((flags & FHCRC) != 0)
        {
            if (header.Length >= i + 2 && BinaryPrimitives.ReadUInt16LittleEndian(header[i..]) != (ushort)System.IO.Hashing.Crc32.HashToUInt32(header[..i]))
            {
                throw Invalid($"gzip member {member}: its header CRC does not match");
            }

            i += 2;
        }

        if (i >= header.Length)
        {
            throw Invalid($"gzip member {member}: the body ends inside or right after its header (no deflate data)");
        }

        return at + i;
    }

    private static void DecodeZlib(ReadOnlyMemory<byte> input, PooledBytes output)
    {
        var span = input.Span;
        if (span.Length < 2)
        {
            throw Invalid("the body is too short for zlib data (Content-Encoding: deflate is the zlib format, RFC 1950)");
        }

        if ((span[0] & 0x0f) != 8 || span[0] >> 4 > 7 || ((span[0] << 8) | span[1]) % 31 != 0)
        {
            throw Invalid($"the body does not start with a zlib header (0x{span[0]:x2} 0x{span[1]:x2}); Content-Encoding: deflate means zlib-wrapped deflate (RFC 1950), not raw deflate");
        }

        if ((span[1] & 0x20) != 0)
        {
            throw Invalid("the zlib data needs a preset dictionary, which is not supported");
        }

        var (finished, chunkStart, chunkEnd) = Inflate(input, 2, output, "zlib data");
        if (!finished)
        {
            throw Invalid($"the zlib data is cut short: it ends before its final deflate block ({span.Length} bytes received); send the body whole");
        }

        var adler = Adler32(output.Span);
        var end = FindTrailer(span, chunkStart, chunkEnd, trailer => BinaryPrimitives.ReadUInt32BigEndian(trailer) == adler, 4)
            ?? throw Invalid($"the zlib data has no Adler-32 trailer matching its {output.Length} decoded bytes ({adler:x8}): the body is cut short or corrupt");
        if (end != span.Length)
        {
            throw Invalid($"{span.Length - end} bytes follow the end of the zlib data");
        }
    }

    private static void DecodeBrotli(ReadOnlySpan<byte> input, PooledBytes output)
    {
        using var decoder = new BrotliDecoder();
        var position = 0;
        while (true)
        {
            var room = output.GetMemory(64 * 1024).Span;
            if (room.IsEmpty)
            {
                throw new TooLargeSignal();
            }

            var status = decoder.Decompress(input[position..], room, out var consumed, out var written);
            position += consumed;
            output.Advance(written);
            switch (status)
            {
                case System.Buffers.OperationStatus.Done when position == input.Length:
                    return;
                case System.Buffers.OperationStatus.Done:
                    throw Invalid($"{input.Length - position} bytes follow the end of the brotli data");
                case System.Buffers.OperationStatus.DestinationTooSmall:
                    continue;
                case System.Buffers.OperationStatus.NeedMoreData when position == input.Length || (consumed == 0 && written == 0):
                    throw Invalid($"the brotli data is cut short ({input.Length} bytes received); send the body whole");
                case System.Buffers.OperationStatus.NeedMoreData:
                    continue;
                default:
                    throw Invalid($"the brotli data is corrupt (at or before byte {position})");
            }
        }
    }

    /// <summary>
    /// Decodes the raw deflate data at <paramref name="from"/> into <paramref name="output"/>. Finished is true
    /// when the decoder reached the end of the final block without asking for input past the end of
    /// <paramref name="input"/>; the data then ends inside the last chunk it was given, [ChunkStart, ChunkEnd].
    /// </summary>
    private static (bool Finished, int ChunkStart, int ChunkEnd) Inflate(ReadOnlyMemory<byte> input, int from, PooledBytes output, string what)
    {
        var source = new ChunkSource(input, from);
        using var inflater = new DeflateStream(source, CompressionMode.Decompress, leaveOpen: true);
        while (true)
        {
            var room = output.GetMemory(64 * 1024).Span;
            if (room.IsEmpty)
            {
                throw new TooLargeSignal();
            }

            int read;
            try
            {
                read = inflater.Read(room);
            }
            catch (Exception e) when (e is InvalidDataException or IOException)
            {
                throw Invalid($"the {what} is corrupt: not valid deflate data (at or before byte {source.ChunkEnd})");
            }

            if (read == 0)
            {
                return (!source.AskedPastEnd, source.ChunkStart, source.ChunkEnd);
            }

            output.Advance(read);
        }
    }

    /// <summary>
    /// Where the <paramref name="size"/>-byte trailer that <paramref name="matches"/> starts in [first, last]
    /// (the deflate data ends somewhere in the last chunk the decoder took): the position after it, or null.
    /// A false match inside the deflate data needs <paramref name="size"/> bytes equal to the checksum and
    /// would only shift where the next member is looked for; the decoded bytes are whole either way.
    /// </summary>
    private static int? FindTrailer(ReadOnlySpan<byte> span, int first, int last, TrailerTest matches, int size)
    {
        for (var at = first; at <= last && at + size <= span.Length; at++)
        {
            if (matches(span.Slice(at, size)))
            {
                return at + size;
            }
        }

        return null;
    }

    private delegate bool TrailerTest(ReadOnlySpan<byte> trailer);

    /// <summary>Adler-32 (RFC 1950 §8.2).</summary>
    internal static uint Adler32(ReadOnlySpan<byte> data)
    {
        const uint Mod = 65521;
        uint a = 1, b = 0;
        while (!data.IsEmpty)
        {
            var block = data[..Math.Min(data.Length, 5552)]; // the most bytes before b can overflow 32 bits
            foreach (var x in block)
            {
                a += x;
                b += a;
            }

            a %= Mod;
            b %= Mod;
            data = data[block.Length..];
        }

        return (b << 16) | a;
    }

    private static BodyRejectedException Invalid(string message) => new(StatusCodes.Status400BadRequest, message);

    private static string Clip(string s) => s.Length <= 40 ? s : string.Concat(s.AsSpan(0, 40), "…");

    /// <summary>Thrown inside when the output reached its cap; turned into the 413.</summary>
    private sealed class TooLargeSignal : Exception;

    /// <summary>
    /// The bytes of a body from a position on, handed to the decoder in the chunks it asks for (8 KiB), noting
    /// the last chunk given and whether it asked for more after the end.
    /// </summary>
    private sealed class ChunkSource(ReadOnlyMemory<byte> input, int from) : Stream
    {
        private int position = from;

        public int ChunkStart { get; private set; } = from;

        public int ChunkEnd { get; private set; } = from;

        public bool AskedPastEnd { get; private set; }

        public override int Read(Span<byte> buffer)
        {
            var n = Math.Min(buffer.Length, input.Length - position);
            if (n == 0)
            {
                AskedPastEnd |= !buffer.IsEmpty;
                return 0;
            }

            input.Span.Slice(position, n).CopyTo(buffer);
            ChunkStart = position;
            position += n;
            ChunkEnd = position;
            return n;
        }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
