using System.Buffers.Binary;
using System.Text;

namespace SessionTrail.Core.Windows.Evtx;

/// <summary>Bad bytes at <see cref="ChunkOffset"/> (relative to the chunk start); caught per record by the reader.</summary>
internal sealed class EvtxFormatException : Exception
{
    public EvtxFormatException(int chunkOffset, string reason)
        : base(reason)
    {
        ChunkOffset = chunkOffset;
    }

    public EvtxFormatException()
    {
    }

    public EvtxFormatException(string message)
        : base(message)
    {
    }

    public EvtxFormatException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public int ChunkOffset { get; }
}

/// <summary>A node of parsed BinXml before substitution: element, text, substitution or template instance.</summary>
internal abstract class BinXmlNode;

internal sealed class BinXmlElement(string name) : BinXmlNode
{
    public string Name { get; } = name;

    public List<BinXmlAttribute>? Attributes { get; set; }

    public List<BinXmlNode>? Content { get; set; }
}

internal sealed record BinXmlAttribute(string Name, List<BinXmlNode> Value);

internal sealed class BinXmlText(string text) : BinXmlNode
{
    public string Text { get; } = text;
}

internal sealed class BinXmlSubstitution(int index, bool optional) : BinXmlNode
{
    public int Index { get; } = index;

    public bool Optional { get; } = optional;
}

internal sealed class BinXmlTemplateInstance(BinXmlTemplate template, BinXmlValue[] values) : BinXmlNode
{
    public BinXmlTemplate Template { get; } = template;

    public BinXmlValue[] Values { get; } = values;
}

internal sealed class BinXmlTemplate(int offset, List<BinXmlNode> nodes) : BinXmlNode
{
    public int Offset { get; } = offset;

    public List<BinXmlNode> Nodes { get; } = nodes;
}

/// <summary>
/// Parses the Binary XML of one chunk (format: libevtx's "Windows XML Event Log (EVTX)" document and
/// [MS-EVEN6]). Names and template definitions are referenced by chunk offset and cached per chunk.
/// Every read is bounds-checked against the range being parsed; nesting depth is bounded; a template
/// that (directly or through nested BinXml) refers to itself is an error. Errors are
/// <see cref="EvtxFormatException"/> with the chunk offset.
/// </summary>
internal sealed class BinXmlParser
{
    /// <summary>Deepest element/template/BinXml nesting accepted (real events nest about 4 deep).</summary>
    public const int MaxDepth = 48;

    private const int NameHeader = 8;
    private const int TemplateHeader = 24;

    private readonly byte[] chunk;
    private readonly int length;
    private readonly Dictionary<int, string> names = [];
    private readonly Dictionary<int, BinXmlTemplate> templates = [];
    private readonly HashSet<int> templatesInProgress = [];

    public BinXmlParser(byte[] chunk, int length)
    {
        this.chunk = chunk;
        this.length = length;
    }

    public ReadOnlySpan<byte> Chunk => chunk.AsSpan(0, length);

    /// <summary>
    /// Parses the BinXml in [<paramref name="start"/>, <paramref name="end"/>): a record's event, or a
    /// BinXml substitution value (<paramref name="dependencyIds"/> false: its elements have no dependency id).
    /// </summary>
    public List<BinXmlNode> ParseDocument(int start, int end, bool dependencyIds, int depth)
    {
        var pos = start;
        return ParseContent(ref pos, end, dependencyIds, depth, inElement: false);
    }

    private List<BinXmlNode> ParseContent(ref int pos, int end, bool dependencyIds, int depth, bool inElement)
    {
        if (depth > MaxDepth)
        {
            throw new EvtxFormatException(pos, $"BinXml nested deeper than {MaxDepth}");
        }

        var nodes = new List<BinXmlNode>();
        while (pos < end)
        {
            var token = chunk[pos];
            switch (token)
            {
                case 0x00:
                    if (inElement)
                    {
                        throw new EvtxFormatException(pos, "end of BinXml inside an element");
                    }

                    pos++;
                    return nodes;
                case 0x0f:
                    Need(pos, 4, end, "fragment header");
                    pos += 4;
                    break;
                case 0x01 or 0x41:
                    nodes.Add(ParseElement(ref pos, end, dependencyIds, depth + 1));
                    break;
                case 0x04:
                    if (!inElement)
                    {
                        throw new EvtxFormatException(pos, "end element token outside an element");
                    }

                    pos++;
                    return nodes;
                case 0x05 or 0x45 or 0x07 or 0x47 or 0x08 or 0x48 or 0x09 or 0x49 or 0x0d or 0x0e:
                    nodes.Add(ParseValueToken(ref pos, end));
                    break;
                case 0x0a:
                    Need(pos, 5, end, "PI target");
                    var target = U32(pos + 1);
                    pos += 5;
                    ReadName(target, ref pos, end);
                    break;
                case 0x0b:
                    pos++;
                    ReadCountedString(ref pos, end);
                    break;
                case 0x0c:
                    nodes.Add(ParseTemplateInstance(ref pos, end, depth + 1));
                    break;
                default:
                    throw new EvtxFormatException(pos, $"unknown BinXml token 0x{token:x2}");
            }
        }

        if (inElement)
        {
            throw new EvtxFormatException(pos, "element runs past the end of its data");
        }

        return nodes;
    }

    private BinXmlElement ParseElement(ref int pos, int end, bool dependencyIds, int depth)
    {
        var start = pos;
        var token = chunk[pos];
        var header = dependencyIds ? 11 : 9;
        Need(pos, header, end, "element start");
        var sizeAt = pos + (dependencyIds ? 3 : 1);
        var dataSize = U32(sizeAt);
        var elementEnd = (long)sizeAt + 4 + dataSize;
        if (elementEnd > end)
        {
            throw new EvtxFormatException(start, $"element data size {dataSize} runs past the end of its data");
        }

        var nameOffset = U32(sizeAt + 4);
        pos += header;
        var element = new BinXmlElement(ReadName(nameOffset, ref pos, (int)elementEnd));
        var limit = (int)elementEnd;
        if ((token & 0x40) != 0)
        {
            Need(pos, 4, limit, "attribute list size");
            var listSize = U32(pos);
            pos += 4;
            var listEnd = (long)pos + listSize;
            if (listEnd > limit)
            {
                throw new EvtxFormatException(pos - 4, $"attribute list size {listSize} runs past the element");
            }

            element.Attributes = [];
            while (pos < listEnd)
            {
                var attributeToken = chunk[pos];
                if (attributeToken is not (0x06 or 0x46))
                {
                    throw new EvtxFormatException(pos, $"expected an attribute token, found 0x{attributeToken:x2}");
                }

                Need(pos, 5, (int)listEnd, "attribute");
                var attributeName = U32(pos + 1);
                pos += 5;
                var name = ReadName(attributeName, ref pos, (int)listEnd);
                var value = new List<BinXmlNode>();
                while (pos < listEnd && chunk[pos] is 0x05 or 0x45 or 0x08 or 0x48 or 0x09 or 0x49 or 0x0d or 0x0e)
                {
                    value.Add(ParseValueToken(ref pos, (int)listEnd));
                }

                element.Attributes.Add(new BinXmlAttribute(name, value));
            }
        }

        Need(pos, 1, limit, "close start element");
        switch (chunk[pos])
        {
            case 0x02:
                pos++;
                element.Content = ParseContent(ref pos, limit, dependencyIds, depth, inElement: true);
                break;
            case 0x03:
                pos++;
                break;
            default:
                throw new EvtxFormatException(pos, $"expected close start element, found 0x{chunk[pos]:x2}");
        }

        return element;
    }

    private BinXmlNode ParseValueToken(ref int pos, int end)
    {
        var token = chunk[pos];
        switch (token & 0x1f)
        {
            case 0x05:
                Need(pos, 2, end, "value");
                if (chunk[pos + 1] != BinXmlValues.String)
                {
                    throw new EvtxFormatException(pos, $"value text of type 0x{chunk[pos + 1]:x2} (expected a string)");
                }

                pos += 2;
                return new BinXmlText(ReadCountedString(ref pos, end));
            case 0x07:
                pos++;
                return new BinXmlText(ReadCountedString(ref pos, end));
            case 0x08:
                Need(pos, 3, end, "character reference");
                var character = BinaryPrimitives.ReadUInt16LittleEndian(chunk.AsSpan(pos + 1));
                pos += 3;
                return new BinXmlText(((char)character).ToString());
            case 0x09:
                Need(pos, 5, end, "entity reference");
                var nameOffset = U32(pos + 1);
                pos += 5;
                var entity = ReadName(nameOffset, ref pos, end);
                return new BinXmlText(entity switch
                {
                    "lt" => "<",
                    "gt" => ">",
                    "amp" => "&",
                    "quot" => "\"",
                    "apos" => "'",
                    _ => "&" + entity + ";",
                });
            default: // 0x0d normal, 0x0e optional substitution
                Need(pos, 4, end, "substitution");
                var index = BinaryPrimitives.ReadUInt16LittleEndian(chunk.AsSpan(pos + 1));
                pos += 4;
                return new BinXmlSubstitution(index, token == 0x0e);
        }
    }

    private BinXmlTemplateInstance ParseTemplateInstance(ref int pos, int end, int depth)
    {
        var start = pos;
        Need(pos, 10, end, "template instance");
        var definitionOffset = U32(pos + 6);
        pos += 10;
        BinXmlTemplate template;
        if (definitionOffset == pos)
        {
            template = ParseTemplateDefinition(definitionOffset, end, depth);
            pos = TemplateEnd(definitionOffset);
        }
        else if (!templates.TryGetValue(definitionOffset, out template!))
        {
            if (definitionOffset > start)
            {
                throw new EvtxFormatException(start, $"template definition offset 0x{definitionOffset:x} points forward");
            }

            template = ParseTemplateDefinition(definitionOffset, length, depth);
        }

        Need(pos, 4, end, "template value count");
        var count = U32(pos);
        pos += 4;
        if ((long)count * 4 > end - pos)
        {
            throw new EvtxFormatException(pos - 4, $"template value count {count} does not fit the record");
        }

        var values = new BinXmlValue[count];
        var dataAt = pos + (4 * (int)count);
        for (var i = 0; i < count; i++)
        {
            var size = BinaryPrimitives.ReadUInt16LittleEndian(chunk.AsSpan(pos));
            var type = chunk[pos + 2];
            pos += 4;
            if (dataAt + size > end)
            {
                throw new EvtxFormatException(pos - 4, $"template value {i} ({size} bytes) runs past the record");
            }

            values[i] = new BinXmlValue(type, dataAt, size);
            dataAt += size;
        }

        pos = dataAt;
        return new BinXmlTemplateInstance(template, values);
    }

    private BinXmlTemplate ParseTemplateDefinition(int offset, int end, int depth)
    {
        if (templates.TryGetValue(offset, out var cached))
        {
            return cached;
        }

        Need(offset, TemplateHeader, end, "template definition");
        var dataEnd = TemplateEnd(offset);
        if (dataEnd > end || dataEnd < offset)
        {
            throw new EvtxFormatException(offset, $"template definition data size {U32(offset + 20)} runs past its bounds");
        }

        if (!templatesInProgress.Add(offset))
        {
            throw new EvtxFormatException(offset, "template definition refers to itself");
        }

        try
        {
            var pos = offset + TemplateHeader;
            var nodes = ParseContent(ref pos, dataEnd, dependencyIds: true, depth, inElement: false);
            var template = new BinXmlTemplate(offset, nodes);
            templates[offset] = template;
            return template;
        }
        finally
        {
            templatesInProgress.Remove(offset);
        }
    }

    private int TemplateEnd(int offset)
    {
        var size = U32(offset + 20);
        var end = (long)offset + TemplateHeader + size;
        return end > length ? int.MaxValue : (int)end;
    }

    private string ReadName(int offset, ref int pos, int end)
    {
        if (offset == pos)
        {
            Need(offset, NameHeader, end, "name");
            var count = BinaryPrimitives.ReadUInt16LittleEndian(chunk.AsSpan(offset + 6));
            var size = NameHeader + (2 * count) + 2;
            Need(offset, size, end, "name");
            pos += size;
        }

        if (names.TryGetValue(offset, out var name))
        {
            return name;
        }

        Need(offset, NameHeader, length, "name");
        var chars = BinaryPrimitives.ReadUInt16LittleEndian(chunk.AsSpan(offset + 6));
        Need(offset, NameHeader + (2 * chars), length, "name");
        name = Encoding.Unicode.GetString(chunk, offset + NameHeader, 2 * chars);
        names[offset] = name;
        return name;
    }

    private string ReadCountedString(ref int pos, int end)
    {
        Need(pos, 2, end, "string length");
        var chars = BinaryPrimitives.ReadUInt16LittleEndian(chunk.AsSpan(pos));
        Need(pos, 2 + (2 * chars), end, "string");
        var text = Encoding.Unicode.GetString(chunk, pos + 2, 2 * chars);
        pos += 2 + (2 * chars);
        return text;
    }

    private int U32(int at)
    {
        var value = BinaryPrimitives.ReadUInt32LittleEndian(chunk.AsSpan(at));
        return value > int.MaxValue ? int.MaxValue : (int)value;
    }

    private void Need(int pos, int count, int end, string what)
    {
        if (pos < 0 || (long)pos + count > Math.Min(end, length))
        {
            throw pos >= 0 && pos < length
                ? new EvtxFormatException(pos, $"{what} runs past the end of its data")
                : new EvtxFormatException(0, $"{what} at chunk offset 0x{pos:x} is outside the chunk");
        }
    }
}
