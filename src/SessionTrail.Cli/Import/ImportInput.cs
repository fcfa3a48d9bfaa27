using System.IO.Compression;

namespace SessionTrail.Cli.Import;

/// <summary>The formats <c>sessiontrail import</c> reads, told apart by content (not by file name).</summary>
public enum ImportFormat
{
    Unknown,
    SeedCsv,
    Ndjson,
    WindowsEventXml,
    Evtx,
}

/// <summary>
/// Finds the files to import and opens them: directories are walked recursively (the seed's S3 layout
/// <c>appstream_applications/year=YYYY/month=MM/day=DD/&lt;session&gt;.csv</c>, downloaded with or
/// without its leading slash, is just a tree of .csv files), gzip is undone whatever the file is called,
/// and the format is recognised from the first bytes.
/// </summary>
public static class ImportInput
{
    /// <summary>Extensions taken from a directory; other files there are listed as skipped.</summary>
    public static readonly string[] Extensions = [".csv", ".ndjson", ".jsonl", ".json", ".xml", ".evtx", ".gz"];

    /// <summary>
    /// The files to read, in a stable order: each FILE as given, each DIR's matching files sorted by path.
    /// Throws <see cref="FileNotFoundException"/> for a path that does not exist (nothing is imported then).
    /// </summary>
    public static (List<string> Files, List<string> Skipped) Expand(IEnumerable<string> inputs)
    {
        var files = new List<string>();
        var skipped = new List<string>();
        foreach (var input in inputs)
        {
            if (File.Exists(input))
            {
                files.Add(input);
            }
            else if (Directory.Exists(input))
            {
                var found = new List<string>();
                Walk(input, found, skipped);
                foreach (var file in found.Order(StringComparer.Ordinal))
                {
                    (Extensions.Any(e => file.EndsWith(e, StringComparison.OrdinalIgnoreCase)) ? files : skipped).Add(file);
                }
            }
            else
            {
                throw new FileNotFoundException($"no such file or directory: {input}", input);
            }
        }

        return (files, skipped);
    }

    /// <summary>
    /// Every file below <paramref name="dir"/>. Links to folders inside it are not followed (listed as
    /// skipped): a link back up would repeat the tree; the folder given on the command line may be a link.
    /// </summary>
    private static void Walk(string dir, List<string> files, List<string> skipped)
    {
        var options = new EnumerationOptions { IgnoreInaccessible = false, AttributesToSkip = 0 };
        files.AddRange(Directory.EnumerateFiles(dir, "*", options));
        foreach (var sub in Directory.EnumerateDirectories(dir, "*", options))
        {
            if (new DirectoryInfo(sub).LinkTarget is not null)
            {
                skipped.Add(sub + " (a link to a folder, not followed)");
            }
            else
            {
                Walk(sub, files, skipped);
            }
        }
    }

    /// <summary>Opens <paramref name="path"/> (decompressing gzip) and recognises its format from its first bytes.</summary>
    public static (ImportFormat Format, Stream Stream) Open(string path)
    {
        Stream stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 1 << 16);
        try
        {
            var trailer = TrailerSize(stream);
            var head = Peek(ref stream);
            if (head.Length >= 2 && head[0] == 0x1f && head[1] == 0x8b)
            {
                stream = new CheckedGzipStream(new GZipStream(stream, CompressionMode.Decompress), trailer);
                head = Peek(ref stream);
            }

            return (Recognise(head, path), stream);
        }
        catch
        {
            stream.Dispose();
            throw;
        }
    }

    /// <summary>The format the first bytes show; a .csv that shows none is still read as a seed CSV (to say why not).</summary>
    public static ImportFormat Recognise(ReadOnlySpan<byte> head, string path)
    {
        if (head.StartsWith("ElfFile\0"u8))
        {
            return ImportFormat.Evtx;
        }

        if (head.StartsWith("\uFEFF"u8))
        {
            head = head[3..];
        }

        if (head.StartsWith("event_type,"u8))
        {
            return ImportFormat.SeedCsv;
        }

        var text = head.TrimStart(" \t\r\n"u8);
        if (!text.IsEmpty && text[0] == (byte)'{')
        {
            return ImportFormat.Ndjson;
        }

        if (!text.IsEmpty && text[0] == (byte)'<')
        {
            return ImportFormat.WindowsEventXml;
        }

        var name = path.EndsWith(".gz", StringComparison.OrdinalIgnoreCase) ? path[..^3] : path;
        return name.EndsWith(".csv", StringComparison.OrdinalIgnoreCase) ? ImportFormat.SeedCsv : ImportFormat.Unknown;
    }

    /// <summary>The last 4 bytes of the file: a gzip file's ISIZE (uncompressed size mod 2^32).</summary>
    private static uint? TrailerSize(Stream file)
    {
        if (file.Length < 18)
        {
            return null;
        }

        Span<byte> last = stackalloc byte[4];
        file.Seek(-4, SeekOrigin.End);
        file.ReadExactly(last);
        file.Seek(0, SeekOrigin.Begin);
        return System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(last);
    }

    /// <summary>
    /// GZipStream ends quietly when the compressed data is cut short; this compares the bytes it gave with the
    /// size in the gzip trailer at the end and throws <see cref="InvalidDataException"/> when they differ, so a
    /// cut file is reported instead of read as if it were whole. (A file of several concatenated gzip
    /// members is reported too: only the last member's size is in the trailer.)
    /// </summary>
    private sealed class CheckedGzipStream(Stream gzip, uint? expected) : ReadOnlyStream(gzip)
    {
        private long count;

        public override int Read(Span<byte> buffer)
        {
            var n = Inner.Read(buffer);
            count += n;
            if (n == 0 && buffer.Length > 0 && expected is { } size && (uint)count != size)
            {
                throw new InvalidDataException($"the gzip data ends after {count} bytes but its trailer says {size} (mod 2^32): the file is cut short");
            }

            return n;
        }
    }

    /// <summary>Reads up to 256 bytes and replaces <paramref name="stream"/> with one that still starts with them.</summary>
    private static byte[] Peek(ref Stream stream)
    {
        var head = new byte[256];
        var length = 0;
        int read;
        while (length < head.Length && (read = stream.Read(head, length, head.Length - length)) > 0)
        {
            length += read;
        }

        Array.Resize(ref head, length);
        stream = new PrefixedStream(head, stream);
        return head;
    }

    /// <summary>A read-only stream: <c>prefix</c>, then the rest of <c>inner</c>.</summary>
    private sealed class PrefixedStream(byte[] prefix, Stream inner) : ReadOnlyStream(inner)
    {
        private int position;

        public override int Read(Span<byte> buffer)
        {
            if (position < prefix.Length)
            {
                var n = Math.Min(buffer.Length, prefix.Length - position);
                prefix.AsSpan(position, n).CopyTo(buffer);
                position += n;
                return n;
            }

            return Inner.Read(buffer);
        }
    }

    /// <summary>A forward-only, read-only stream over <c>inner</c> (disposed with it): subclasses give <see cref="Stream.Read(Span{byte})"/>.</summary>
    private abstract class ReadOnlyStream(Stream inner) : Stream
    {
        protected Stream Inner { get; } = inner;

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                Inner.Dispose();
            }

            base.Dispose(disposing);
        }

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
