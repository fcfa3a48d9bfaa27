using System.Buffers.Binary;
using System.Globalization;
using System.Text;

namespace SessionTrail.Core.Windows.Evtx;

/// <summary>One substitution value of a template instance: its type and where its bytes are in the chunk.</summary>
internal readonly record struct BinXmlValue(byte Type, int Offset, int Size);

/// <summary>
/// Renders BinXml substitution values as the text Windows shows in event XML (<c>EventRecord.ToXml()</c>):
/// hex integers as <c>0x3e7</c> (no padding), GUIDs upper case in braces, SIDs as <c>S-1-5-18</c>,
/// FILETIME and SYSTEMTIME as ISO-8601 UTC. Array values (type | 0x80) are joined with <c>", "</c>.
/// </summary>
internal static class BinXmlValues
{
    public const byte Null = 0x00;
    public const byte String = 0x01;
    public const byte AnsiString = 0x02;
    public const byte FileTime = 0x11;
    public const byte BinXml = 0x21;
    public const byte ArrayFlag = 0x80;

    /// <summary>Size of one element of a fixed-size type, 0 for variable-size types, -1 for unknown types.</summary>
    public static int FixedSize(byte type) => type switch
    {
        0x03 or 0x04 => 1,
        0x05 or 0x06 => 2,
        0x07 or 0x08 or 0x0b or 0x0d or 0x14 => 4,
        0x09 or 0x0a or 0x0c or 0x11 or 0x15 => 8,
        0x0f or 0x12 => 16,
        0x00 or 0x01 or 0x02 or 0x0e or 0x10 or 0x13 or 0x20 or 0x21 or 0x23 => 0,
        _ => -1,
    };

    /// <summary>Renders <paramref name="value"/>; throws <see cref="EvtxFormatException"/> on a size that does not fit its type.</summary>
    public static string Render(ReadOnlySpan<byte> chunk, BinXmlValue value)
    {
        var bytes = chunk.Slice(value.Offset, value.Size);
        if ((value.Type & ArrayFlag) == 0)
        {
            return RenderOne(bytes, value.Type, value.Offset);
        }

        var type = (byte)(value.Type & ~ArrayFlag);
        var parts = new List<string>();
        if (type == String)
        {
            foreach (var part in Utf16(bytes).Split('\0'))
            {
                parts.Add(part);
            }

            if (parts.Count > 0 && parts[^1].Length == 0)
            {
                parts.RemoveAt(parts.Count - 1);
            }
        }
        else if (type == AnsiString)
        {
            parts.AddRange(Encoding.Latin1.GetString(bytes).Split('\0'));
            if (parts.Count > 0 && parts[^1].Length == 0)
            {
                parts.RemoveAt(parts.Count - 1);
            }
        }
        else if (type == 0x10)
        {
            // An array of size_t: the element width follows from nothing else; 8 when it divides evenly.
            var width = bytes.Length % 8 == 0 ? 8 : 4;
            for (var i = 0; i + width <= bytes.Length; i += width)
            {
                parts.Add(RenderOne(bytes.Slice(i, width), 0x10, value.Offset + i));
            }
        }
        else if (type == 0x13)
        {
            var rest = bytes;
            while (!rest.IsEmpty)
            {
                var length = rest.Length >= 2 ? 8 + (4 * rest[1]) : rest.Length + 1;
                if (length > rest.Length)
                {
                    throw new EvtxFormatException(value.Offset, "SID array element runs past its value");
                }

                parts.Add(RenderOne(rest[..length], type, value.Offset));
                rest = rest[length..];
            }
        }
        else
        {
            var width = FixedSize(type);
            if (width <= 0)
            {
                throw new EvtxFormatException(value.Offset, $"array of value type 0x{type:x2} is not supported");
            }

            if (bytes.Length % width != 0)
            {
                throw new EvtxFormatException(value.Offset, $"array of value type 0x{type:x2}: {bytes.Length} bytes is not a multiple of {width}");
            }

            for (var i = 0; i < bytes.Length; i += width)
            {
                parts.Add(RenderOne(bytes.Slice(i, width), type, value.Offset + i));
            }
        }

        return string.Join(", ", parts);
    }

    private static string RenderOne(ReadOnlySpan<byte> b, byte type, int offset)
    {
        var expected = FixedSize(type);
        if (expected < 0)
        {
            throw new EvtxFormatException(offset, $"unknown value type 0x{type:x2}");
        }

        if (expected > 0 && b.Length != expected)
        {
            throw new EvtxFormatException(offset, $"value type 0x{type:x2} needs {expected} bytes, has {b.Length}");
        }

        var ci = CultureInfo.InvariantCulture;
        switch (type)
        {
            case Null:
                return "";
            case String:
                return Utf16(b).TrimEnd('\0');
            case AnsiString:
                return Encoding.Latin1.GetString(b).TrimEnd('\0');
            case 0x03:
                return ((sbyte)b[0]).ToString(ci);
            case 0x04:
                return b[0].ToString(ci);
            case 0x05:
                return BinaryPrimitives.ReadInt16LittleEndian(b).ToString(ci);
            case 0x06:
                return BinaryPrimitives.ReadUInt16LittleEndian(b).ToString(ci);
            case 0x07:
                return BinaryPrimitives.ReadInt32LittleEndian(b).ToString(ci);
            case 0x08:
                return BinaryPrimitives.ReadUInt32LittleEndian(b).ToString(ci);
            case 0x09:
                return BinaryPrimitives.ReadInt64LittleEndian(b).ToString(ci);
            case 0x0a:
                return BinaryPrimitives.ReadUInt64LittleEndian(b).ToString(ci);
            case 0x0b:
                return BinaryPrimitives.ReadSingleLittleEndian(b).ToString("R", ci);
            case 0x0c:
                return BinaryPrimitives.ReadDoubleLittleEndian(b).ToString("R", ci);
            case 0x0d:
                return BinaryPrimitives.ReadUInt32LittleEndian(b) != 0 ? "true" : "false";
            case 0x0e:
                return Convert.ToHexString(b);
            case 0x0f:
                return new Guid(b).ToString("B").ToUpperInvariant();
            case 0x10:
                return b.Length switch
                {
                    4 => "0x" + BinaryPrimitives.ReadUInt32LittleEndian(b).ToString("x", ci),
                    8 => "0x" + BinaryPrimitives.ReadUInt64LittleEndian(b).ToString("x", ci),
                    _ => throw new EvtxFormatException(offset, $"size_t value of {b.Length} bytes (expected 4 or 8)"),
                };
            case FileTime:
                return FormatTime(ToTime(b, offset));
            case 0x12:
                return FormatTime(SystemTime(b, offset));
            case 0x13:
                return Sid(b, offset);
            case 0x14:
                return "0x" + BinaryPrimitives.ReadUInt32LittleEndian(b).ToString("x", ci);
            case 0x15:
                return "0x" + BinaryPrimitives.ReadUInt64LittleEndian(b).ToString("x", ci);
            default:
                // 0x20 EvtHandle, 0x23 EvtXml: not seen in event logs; BinXml (0x21) is expanded, not rendered.
                return Convert.ToHexString(b);
        }
    }

    /// <summary>UTF-16 little-endian text; an odd trailing byte is an error.</summary>
    public static string Utf16(ReadOnlySpan<byte> b) => Encoding.Unicode.GetString(b);

    /// <summary>A FILETIME (100 ns ticks since 1601-01-01 UTC) as a time; out of range is an error.</summary>
    public static DateTimeOffset ToTime(ReadOnlySpan<byte> b, int offset)
    {
        var ticks = BinaryPrimitives.ReadInt64LittleEndian(b);
        if (ticks < 0 || ticks > DateTime.MaxValue.Ticks - new DateTime(1601, 1, 1).Ticks)
        {
            throw new EvtxFormatException(offset, $"FILETIME 0x{ticks:x} is out of range");
        }

        return new DateTimeOffset(DateTime.FromFileTimeUtc(ticks));
    }

    /// <summary>ISO-8601 UTC with 7 fraction digits, as Windows writes <c>SystemTime</c>.</summary>
    public static string FormatTime(DateTimeOffset time) =>
        time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'", CultureInfo.InvariantCulture);

    private static DateTimeOffset SystemTime(ReadOnlySpan<byte> b, int offset)
    {
        Span<int> f = stackalloc int[8];
        for (var i = 0; i < 8; i++)
        {
            f[i] = BinaryPrimitives.ReadUInt16LittleEndian(b[(2 * i)..]);
        }

        try
        {
            return new DateTimeOffset(f[0], f[1], f[3], f[4], f[5], f[6], f[7], TimeSpan.Zero);
        }
        catch (ArgumentOutOfRangeException)
        {
            throw new EvtxFormatException(offset, "SYSTEMTIME is not a valid date");
        }
    }

    private static string Sid(ReadOnlySpan<byte> b, int offset)
    {
        if (b.Length < 8 || b.Length != 8 + (4 * b[1]))
        {
            throw new EvtxFormatException(offset, $"SID of {b.Length} bytes does not match its sub-authority count");
        }

        var authority = 0UL;
        for (var i = 2; i < 8; i++)
        {
            authority = (authority << 8) | b[i];
        }

        var text = new StringBuilder("S-").Append(b[0]).Append('-').Append(authority);
        for (var i = 0; i < b[1]; i++)
        {
            text.Append('-').Append(BinaryPrimitives.ReadUInt32LittleEndian(b[(8 + (4 * i))..]));
        }

        return text.ToString();
    }
}
