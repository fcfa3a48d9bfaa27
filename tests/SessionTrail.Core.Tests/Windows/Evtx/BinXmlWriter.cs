using System.Buffers.Binary;
using System.Text;

namespace SessionTrail.Core.Tests.Windows.Evtx;

/// <summary>
/// Writes a one-chunk .evtx file by hand, token by token as the format document describes, for the
/// BinXml features the real sample does not use (nested BinXml values, SYSTEMTIME, arrays, optional
/// substitutions with no value, entity and character references, a template reused by offset).
/// </summary>
internal sealed class BinXmlWriter
{
    private readonly byte[] chunk = new byte[EvtxCorruption.ChunkSize];
    private int records;

    public int Position { get; private set; } = 512;

    public void U8(int v) => chunk[Position++] = (byte)v;

    public void U16(int v)
    {
        BinaryPrimitives.WriteUInt16LittleEndian(chunk.AsSpan(Position), (ushort)v);
        Position += 2;
    }

    public void U32(long v)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(chunk.AsSpan(Position), (uint)v);
        Position += 4;
    }

    public void U64(long v)
    {
        BinaryPrimitives.WriteInt64LittleEndian(chunk.AsSpan(Position), v);
        Position += 8;
    }

    public void Bytes(ReadOnlySpan<byte> b)
    {
        b.CopyTo(chunk.AsSpan(Position));
        Position += b.Length;
    }

    private void Patch32(int at, int v) => BinaryPrimitives.WriteUInt32LittleEndian(chunk.AsSpan(at), (uint)v);

    private void Name(string name)
    {
        U32(0);
        U16(0);
        U16(name.Length);
        Bytes(Encoding.Unicode.GetBytes(name));
        U16(0);
    }

    /// <summary>An element with its name defined inline; <paramref name="dependencyId"/> false inside a BinXml value.</summary>
    public void Element(string name, Action? attributes = null, Action? content = null, bool dependencyId = true)
    {
        U8(attributes is null ? 0x01 : 0x41);
        if (dependencyId)
        {
            U16(0xffff);
        }

        var sizeAt = Position;
        U32(0);
        U32(Position + 4);
        Name(name);
        if (attributes is not null)
        {
            var listAt = Position;
            U32(0);
            attributes();
            Patch32(listAt, Position - listAt - 4);
        }

        if (content is null)
        {
            U8(0x03);
        }
        else
        {
            U8(0x02);
            content();
            U8(0x04);
        }

        Patch32(sizeAt, Position - sizeAt - 4);
    }

    public void Attribute(string name, Action value, bool last = true)
    {
        U8(last ? 0x06 : 0x46);
        U32(Position + 4);
        Name(name);
        value();
    }

    public void Text(string text, bool more = false)
    {
        U8(more ? 0x45 : 0x05);
        U8(0x01);
        U16(text.Length);
        Bytes(Encoding.Unicode.GetBytes(text));
    }

    public void EntityReference(string entity)
    {
        U8(0x49);
        U32(Position + 4);
        Name(entity);
    }

    public void CharacterReference(char c)
    {
        U8(0x48);
        U16(c);
    }

    public void Substitution(int index, byte type, bool optional = false)
    {
        U8(optional ? 0x0e : 0x0d);
        U16(index);
        U8(type);
    }

    /// <summary>A template instance: inline definition when <paramref name="definitionOffset"/> is null. Returns the definition's offset.</summary>
    public int TemplateInstance(Action? body, int? definitionOffset, params (byte Type, Action Write)[] values)
    {
        U8(0x0c);
        U8(0x01);
        U32(0x1234);
        var offset = definitionOffset ?? Position + 4;
        U32(offset);
        if (definitionOffset is null)
        {
            U32(0);
            Bytes(Guid.NewGuid().ToByteArray());
            var sizeAt = Position;
            U32(0);
            U8(0x0f);
            U8(0x01);
            U8(0x01);
            U8(0x00);
            body!();
            U8(0x00);
            Patch32(sizeAt, Position - sizeAt - 4);
        }

        U32(values.Length);
        var descriptors = Position;
        Position += 4 * values.Length;
        for (var i = 0; i < values.Length; i++)
        {
            var start = Position;
            values[i].Write();
            BinaryPrimitives.WriteUInt16LittleEndian(chunk.AsSpan(descriptors + (4 * i)), (ushort)(Position - start));
            chunk[descriptors + (4 * i) + 2] = values[i].Type;
        }

        return offset;
    }

    /// <summary>An event record around <paramref name="binXml"/> (which writes a fragment).</summary>
    public void Record(Action binXml)
    {
        var start = Position;
        records++;
        Bytes("**\0\0"u8);
        U32(0);
        U64(records);
        U64(new DateTime(2024, 2, 29, 13, 14, 15, DateTimeKind.Utc).ToFileTimeUtc());
        U8(0x0f);
        U8(0x01);
        U8(0x01);
        U8(0x00);
        binXml();
        U8(0x00);
        var size = Position - start + 4;
        U32(size);
        Patch32(start + 4, size);
    }

    /// <summary>The whole file: header, this chunk, checksums.</summary>
    public byte[] ToFile()
    {
        "ElfChnk\0"u8.CopyTo(chunk);
        BinaryPrimitives.WriteInt64LittleEndian(chunk.AsSpan(8), 1);
        BinaryPrimitives.WriteInt64LittleEndian(chunk.AsSpan(16), records);
        BinaryPrimitives.WriteInt64LittleEndian(chunk.AsSpan(24), 1);
        BinaryPrimitives.WriteInt64LittleEndian(chunk.AsSpan(32), records);
        Patch32(40, 128);
        Patch32(48, Position);
        var file = new byte[EvtxCorruption.FirstChunk + chunk.Length];
        "ElfFile\0"u8.CopyTo(file);
        BinaryPrimitives.WriteInt64LittleEndian(file.AsSpan(24), records + 1);
        BinaryPrimitives.WriteUInt32LittleEndian(file.AsSpan(32), 128);
        BinaryPrimitives.WriteUInt16LittleEndian(file.AsSpan(36), 1);
        BinaryPrimitives.WriteUInt16LittleEndian(file.AsSpan(38), 3);
        BinaryPrimitives.WriteUInt16LittleEndian(file.AsSpan(40), 4096);
        BinaryPrimitives.WriteUInt16LittleEndian(file.AsSpan(42), 1);
        chunk.CopyTo(file, EvtxCorruption.FirstChunk);
        EvtxCorruption.FixChecksums(file);
        return file;
    }
}
