using System.Security.Cryptography;
using System.Text;
using Microsoft.Win32.SafeHandles;
using SessionTrail.Agent.Config;
using SessionTrail.Agent.Ids;
using SessionTrail.Agent.Sinks;
using SessionTrail.Agent.Sources;

namespace SessionTrail.Agent.Sources.Files;

/// <summary>
/// One file being tailed: its open handle (kept open so a renamed or deleted file can be read to its
/// end), where reading stands, and the committed position (end of the last record emitted, what the
/// bookmark stores). Used by one loop only; not thread-safe.
/// </summary>
internal sealed class TailedFile(FileIdentity identity, SafeFileHandle handle, string path) : IDisposable
{
    public const int HeadBytes = 1024;

    private readonly byte[] _head = new byte[HeadBytes];
    private string? _fullFingerprint;
    private int _lastFingerprintLength = -1;
    private string _lastFingerprint = "";

    public FileIdentity Identity { get; } = identity;

    public string IdentityText { get; } = identity.ToString();

    public SafeFileHandle Handle { get; } = handle;

    public string Path { get; private set; } = path;

    public string Name { get; private set; } = System.IO.Path.GetFileName(path);

    /// <summary>Byte offset of the next line not yet read (a line start).</summary>
    public long ReadPos { get; set; }

    /// <summary>Number (1-based) of the line at <see cref="ReadPos"/>.</summary>
    public long NextLine { get; set; } = 1;

    /// <summary>End of the last record emitted (or line skipped) with nothing held before it: the bookmark.</summary>
    public long CommittedOffset { get; set; }

    public long CommittedLine { get; set; } = 1;

    public FileTextEncoding? Encoding { get; set; }

    public int BomLength { get; set; }

    public FileParserState ParserState { get; set; } = new();

    /// <summary>The multi-line record being collected (complete lines, not yet emitted).</summary>
    public StringBuilder Group { get; } = new();

    public bool HasGroup { get; set; }

    public long GroupStart { get; set; }

    public long GroupEnd { get; set; }

    public long GroupLine { get; set; }

    public long GroupNextLine { get; set; }

    /// <summary>Pieces of an over-long line emitted so far (0: not inside one).</summary>
    public int SplitPart { get; set; }

    public bool WarnedSplit { get; set; }

    /// <summary>Largest end of data seen, to tell growth from re-reading a partial last line.</summary>
    public long KnownEnd { get; set; }

    public DateTimeOffset LastGrowth { get; set; }

    /// <summary>No longer found in the folder (renamed away or deleted); read to its end, then forgotten.</summary>
    public bool Orphaned { get; set; }

    public int HeadLength { get; private set; }

    public ReadOnlySpan<byte> Head => _head.AsSpan(0, HeadLength);

    public void Rename(string path)
    {
        Path = path;
        Name = System.IO.Path.GetFileName(path);
    }

    /// <summary>Reads the first bytes again when fewer than min(1 KiB, <paramref name="upTo"/>) are known.</summary>
    public void EnsureHead(long upTo)
    {
        if (HeadLength < HeadBytes && HeadLength < upTo)
        {
            HeadLength = RandomAccess.Read(Handle, _head, 0);
            _fullFingerprint = null;
        }
    }

    /// <summary>Forgets what was known of the content (after a truncation or a replacement).</summary>
    public void ResetContent()
    {
        HeadLength = 0;
        _fullFingerprint = null;
        _lastFingerprintLength = -1;
        ReadPos = 0;
        NextLine = 1;
        CommittedOffset = 0;
        CommittedLine = 1;
        Encoding = null;
        BomLength = 0;
        ParserState = new FileParserState();
        Group.Clear();
        HasGroup = false;
        SplitPart = 0;
        KnownEnd = 0;
    }

    /// <summary>
    /// Fingerprint of the first min(1 KiB, <paramref name="end"/>) bytes: part of every record id, so a
    /// reused inode or a truncated and rewritten file never repeats the ids of the old content.
    /// </summary>
    public string FingerprintUpTo(long end)
    {
        var length = (int)Math.Min(Math.Min(end, HeadBytes), HeadLength);
        if (length == HeadBytes)
        {
            return _fullFingerprint ??= Hash(_head.AsSpan(0, HeadBytes));
        }

        if (length != _lastFingerprintLength)
        {
            _lastFingerprint = Hash(_head.AsSpan(0, length));
            _lastFingerprintLength = length;
        }

        return _lastFingerprint;
    }

    public static string Hash(ReadOnlySpan<byte> data)
    {
        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(data, hash);
        return Convert.ToHexStringLower(hash[..8]);
    }

    public void Dispose() => Handle.Dispose();
}
