using System.Runtime.InteropServices;
using System.Text;
using SessionTrail.Agent.Config;
using SessionTrail.Agent.Ids;
using SessionTrail.Agent.Sinks;
using SessionTrail.Agent.Sources;

namespace SessionTrail.Agent.Sources.Files;

/// <summary>The encodings a file may have. Offsets are always in bytes; lines are cut on whole code units.</summary>
public enum FileTextEncodingKind
{
    /// <summary>Decided from the byte-order mark at the start of the file; UTF-8 without one.</summary>
    Detect,
    Utf8,
    Utf16LittleEndian,
    Utf16BigEndian,
}

/// <summary>
/// Finds line ends in raw bytes and decodes one line: UTF-8 by a vectorized search for '\n'; UTF-16 by a
/// search for the '\n' code unit at even offsets. Invalid bytes decode to U+FFFD (never throw).
/// </summary>
internal sealed class FileTextEncoding
{
    public static readonly FileTextEncoding Utf8 = new(FileTextEncodingKind.Utf8, new UTF8Encoding(false, false), 1);
    public static readonly FileTextEncoding Utf16LittleEndian = new(FileTextEncodingKind.Utf16LittleEndian, new UnicodeEncoding(false, false, false), 2);
    public static readonly FileTextEncoding Utf16BigEndian = new(FileTextEncodingKind.Utf16BigEndian, new UnicodeEncoding(true, false, false), 2);

    private FileTextEncoding(FileTextEncodingKind kind, Encoding encoding, int unit)
    {
        Kind = kind;
        Encoding = encoding;
        UnitBytes = unit;
    }

    public FileTextEncodingKind Kind { get; }

    public Encoding Encoding { get; }

    /// <summary>Bytes per code unit (1 or 2); every line starts at a multiple of it after the BOM.</summary>
    public int UnitBytes { get; }

    public static FileTextEncoding Of(FileTextEncodingKind kind) => kind switch
    {
        FileTextEncodingKind.Utf16LittleEndian => Utf16LittleEndian,
        FileTextEncodingKind.Utf16BigEndian => Utf16BigEndian,
        _ => Utf8,
    };

    /// <summary>
    /// Decides the encoding and the length of the byte-order mark from the first bytes of the file.
    /// False while too few bytes are there to decide (e.g. "EF BB" of a UTF-8 BOM still being written).
    /// </summary>
    public static bool TryDetect(ReadOnlySpan<byte> head, FileTextEncodingKind configured, out FileTextEncoding encoding, out int bomLength)
    {
        bomLength = 0;
        var utf8Bom = head.Length >= 3 && head[0] == 0xEF && head[1] == 0xBB && head[2] == 0xBF;
        var leBom = head.Length >= 2 && head[0] == 0xFF && head[1] == 0xFE;
        var beBom = head.Length >= 2 && head[0] == 0xFE && head[1] == 0xFF;
        switch (configured)
        {
            case FileTextEncodingKind.Utf8:
                encoding = Utf8;
                if (utf8Bom)
                {
                    bomLength = 3;
                }
                else if (IsPrefixOf(head, [0xEF, 0xBB, 0xBF]))
                {
                    return false;
                }

                return true;
            case FileTextEncodingKind.Utf16LittleEndian:
                encoding = Utf16LittleEndian;
                bomLength = leBom ? 2 : 0;
                return head.Length >= 2;
            case FileTextEncodingKind.Utf16BigEndian:
                encoding = Utf16BigEndian;
                bomLength = beBom ? 2 : 0;
                return head.Length >= 2;
            default:
                if (leBom || beBom)
                {
                    encoding = leBom ? Utf16LittleEndian : Utf16BigEndian;
                    bomLength = 2;
                    return true;
                }

                encoding = Utf8;
                if (utf8Bom)
                {
                    bomLength = 3;
                    return true;
                }

                return !(IsPrefixOf(head, [0xEF, 0xBB, 0xBF]) || IsPrefixOf(head, [0xFF, 0xFE]) || IsPrefixOf(head, [0xFE, 0xFF]));
        }
    }

    private static bool IsPrefixOf(ReadOnlySpan<byte> head, ReadOnlySpan<byte> bom) =>
        head.Length < bom.Length && bom.StartsWith(head);

    /// <summary>
    /// Index of the first byte of the line terminator '\n' in <paramref name="data"/> (which starts on a
    /// code unit boundary), or -1. The terminator is <see cref="UnitBytes"/> long.
    /// </summary>
    public int IndexOfNewline(ReadOnlySpan<byte> data)
    {
        if (UnitBytes == 1)
        {
            return data.IndexOf((byte)'\n');
        }

        var chars = MemoryMarshal.Cast<byte, char>(data[..(data.Length & ~1)]);
        var wanted = (Kind == FileTextEncodingKind.Utf16LittleEndian) == BitConverter.IsLittleEndian ? '\n' : (char)0x0A00;
        var i = chars.IndexOf(wanted);
        return i < 0 ? -1 : i * 2;
    }

    /// <summary>The text of a line (without its terminator; a trailing '\r' is dropped too).</summary>
    public string Decode(ReadOnlySpan<byte> line)
    {
        if (UnitBytes == 1)
        {
            if (line.Length > 0 && line[^1] == (byte)'\r')
            {
                line = line[..^1];
            }
        }
        else
        {
            line = line[..(line.Length & ~1)];
            if (line.Length >= 2 && IsCarriageReturn(line[^2..]))
            {
                line = line[..^2];
            }
        }

        return line.IsEmpty ? "" : Encoding.GetString(line);
    }

    private bool IsCarriageReturn(ReadOnlySpan<byte> unit) => Kind == FileTextEncodingKind.Utf16LittleEndian
        ? unit[0] == (byte)'\r' && unit[1] == 0
        : unit[0] == 0 && unit[1] == (byte)'\r';

    /// <summary>
    /// Where to cut a too-long line at most <paramref name="max"/> bytes in: on a code unit boundary and
    /// not inside a UTF-8 sequence or a UTF-16 surrogate pair.
    /// </summary>
    public int SafeCut(ReadOnlySpan<byte> data, int max)
    {
        var cut = Math.Min(max, data.Length);
        if (UnitBytes == 1)
        {
            // Step back over continuation bytes (10xxxxxx), at most 3, to the start of a sequence.
            var back = 0;
            while (cut > 0 && cut < data.Length && back < 3 && (data[cut] & 0xC0) == 0x80)
            {
                cut--;
                back++;
            }

            return cut == 0 ? Math.Min(max, data.Length) : cut;
        }

        cut &= ~1;
        if (cut >= 2 && cut < data.Length - 1)
        {
            var last = Kind == FileTextEncodingKind.Utf16LittleEndian ? (char)(data[cut - 2] | (data[cut - 1] << 8)) : (char)((data[cut - 2] << 8) | data[cut - 1]);
            if (char.IsHighSurrogate(last))
            {
                cut -= 2;
            }
        }

        return Math.Max(cut, 2);
    }
}
