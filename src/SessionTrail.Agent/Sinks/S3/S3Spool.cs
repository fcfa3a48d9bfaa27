using System.Globalization;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;
using SessionTrail.Agent.Platform;
using SessionTrail.Core;

namespace SessionTrail.Agent.Sinks.S3;

/// <summary>Where a spool file is: still filling, waiting for its upload, or uploaded (kept for the retention).</summary>
public enum SpoolState
{
    Open,
    Ready,
    Uploaded,
}

/// <summary>
/// The S3 sink's local spool: one NDJSON file per future object (a session, or a host's unattributed
/// records of one UTC day) under DIR/agent/s3/NAME/{open,ready,uploaded}/. Thread-safe.
/// </summary>
/// <remarks>
/// Invariants: <see cref="Append"/> returns only after the lines are on disk (fsync of the file, and of
/// the folder when the file is new or moved), so the sink may acknowledge them. A file moves
/// open → ready (its session ended, its day closed) → uploaded (only after a PUT of exactly its current
/// length succeeded) → deleted after the retention. A line appended to an uploaded file that it did not
/// hold already (same record id) moves it back to ready, so the object is uploaded again, complete.
/// Lines are raw records; duplicates (at-least-once delivery) are removed when the object is rendered.
/// </remarks>
public sealed class S3Spool
{
    private const string Extension = ".ndjson";
    private readonly Lock _lock = new();
    private readonly string _root;

    /// <summary>Opens (creates) the spool in <paramref name="root"/>; leftover temp files are ignored.</summary>
    public S3Spool(string root)
    {
        _root = root;
        foreach (var state in Enum.GetValues<SpoolState>())
        {
            DataAccess.Current.CreateDirectory(DirectoryOf(state));
        }
    }

    public string Root => _root;

    /// <summary>The spool file name of a session's object.</summary>
    public static string SessionName(string session) => "s_" + Escape(session);

    /// <summary>The spool file name of a host's unattributed records of one UTC day.</summary>
    public static string DayName(string host, DateOnly day) => "d_" + day.ToString("yyyyMMdd", CultureInfo.InvariantCulture) + "_" + Escape(host);

    /// <summary>The UTC day of a <see cref="DayName"/>; null for a session name.</summary>
    public static DateOnly? DayOf(string name) =>
        name.StartsWith("d_", StringComparison.Ordinal) && name.Length >= 11 &&
        DateOnly.TryParseExact(name.AsSpan(2, 8), "yyyyMMdd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var day) ? day : null;

    /// <summary>
    /// Appends <paramref name="lines"/> (each ending in '\n') to the file <paramref name="name"/> and makes
    /// them durable; with <paramref name="complete"/> an open file becomes ready. Returns the file's state
    /// afterwards. Throws <see cref="IOException"/> when the disk fails (nothing is acknowledged then).
    /// </summary>
    public SpoolState Append(string name, IReadOnlyList<ReadOnlyMemory<byte>> lines, bool complete)
    {
        ArgumentNullException.ThrowIfNull(lines);
        lock (_lock)
        {
            var uploaded = PathOf(SpoolState.Uploaded, name);
            if (File.Exists(uploaded))
            {
                // A late or resent record for an object already uploaded: only new records re-open it.
                var fresh = NewOnly(lines, uploaded);
                if (fresh.Count == 0)
                {
                    return SpoolState.Uploaded;
                }

                AppendDurably(uploaded, fresh);
                Move(uploaded, PathOf(SpoolState.Ready, name));
                return SpoolState.Ready;
            }

            var ready = PathOf(SpoolState.Ready, name);
            if (File.Exists(ready))
            {
                AppendDurably(ready, lines);
                return SpoolState.Ready;
            }

            var open = PathOf(SpoolState.Open, name);
            AppendDurably(open, lines);
            if (complete)
            {
                Move(open, ready);
                return SpoolState.Ready;
            }

            return SpoolState.Open;
        }
    }

    /// <summary>The file names in <paramref name="state"/>, oldest change first.</summary>
    public IReadOnlyList<string> List(SpoolState state)
    {
        lock (_lock)
        {
            return [.. new DirectoryInfo(DirectoryOf(state)).EnumerateFiles("*" + Extension)
                .OrderBy(f => f.LastWriteTimeUtc).ThenBy(f => f.Name, StringComparer.Ordinal)
                .Select(f => f.Name[..^Extension.Length])];
        }
    }

    /// <summary>The content of a ready file; null when it is not ready (any more).</summary>
    public byte[]? ReadReady(string name) => Read(SpoolState.Ready, name);

    /// <summary>The content of a file in <paramref name="state"/>; null when it is not there (any more).</summary>
    public byte[]? Read(SpoolState state, string name)
    {
        lock (_lock)
        {
            var path = PathOf(state, name);
            return File.Exists(path) ? File.ReadAllBytes(path) : null;
        }
    }

    /// <summary>Moves an open file to ready (its day closed). False when it is not open.</summary>
    public bool MarkReady(string name)
    {
        lock (_lock)
        {
            var open = PathOf(SpoolState.Open, name);
            if (!File.Exists(open) || File.Exists(PathOf(SpoolState.Ready, name)))
            {
                return false;
            }

            Move(open, PathOf(SpoolState.Ready, name));
            return true;
        }
    }

    /// <summary>
    /// After a PUT of the first <paramref name="uploadedLength"/> bytes succeeded: moves the ready file to
    /// uploaded when that is all it holds (true); false when lines were appended meanwhile (upload again).
    /// </summary>
    public bool MarkUploaded(string name, long uploadedLength, DateTimeOffset now)
    {
        lock (_lock)
        {
            var ready = new FileInfo(PathOf(SpoolState.Ready, name));
            if (!ready.Exists || ready.Length != uploadedLength)
            {
                return false;
            }

            var uploaded = PathOf(SpoolState.Uploaded, name);
            Move(ready.FullName, uploaded);
            File.SetLastWriteTimeUtc(uploaded, now.UtcDateTime);
            return true;
        }
    }

    /// <summary>
    /// Moves a ready file that cannot become an object to DIR/agent/s3/NAME/failed/ (kept for a person to
    /// look at; it no longer blocks the uploads behind it). Returns the new path.
    /// </summary>
    public string Quarantine(string name)
    {
        lock (_lock)
        {
            var failed = Path.Combine(_root, "failed");
            DataAccess.Current.CreateDirectory(failed);
            var to = Path.Combine(failed, name + "." + DateTime.UtcNow.ToString("yyyyMMddTHHmmssfff", CultureInfo.InvariantCulture) + Extension);
            Move(PathOf(SpoolState.Ready, name), to);
            return to;
        }
    }

    /// <summary>Deletes uploaded files last changed before <paramref name="before"/>; returns how many.</summary>
    public int DeleteUploadedBefore(DateTimeOffset before)
    {
        lock (_lock)
        {
            var deleted = 0;
            foreach (var file in new DirectoryInfo(DirectoryOf(SpoolState.Uploaded)).EnumerateFiles("*" + Extension))
            {
                if (file.LastWriteTimeUtc < before.UtcDateTime)
                {
                    file.Delete();
                    deleted++;
                }
            }

            return deleted;
        }
    }

    /// <summary>Where <paramref name="name"/> is now; null when the spool does not hold it.</summary>
    public SpoolState? StateOf(string name)
    {
        lock (_lock)
        {
            foreach (var state in new[] { SpoolState.Ready, SpoolState.Open, SpoolState.Uploaded })
            {
                if (File.Exists(PathOf(state, name)))
                {
                    return state;
                }
            }

            return null;
        }
    }

    /// <summary>The file of <paramref name="name"/> in <paramref name="state"/>.</summary>
    public string PathOf(SpoolState state, string name) => Path.Combine(DirectoryOf(state), name + Extension);

    private string DirectoryOf(SpoolState state) => Path.Combine(_root, state.ToString().ToLowerInvariant());

    /// <summary>
    /// File-name safe and injective: ASCII letters, digits, '.' and '-' stay, every other UTF-8 byte is
    /// "_XX"; names longer than 150 characters keep 100 and add a SHA-256 of the whole.
    /// </summary>
    internal static string Escape(string value)
    {
        var sb = new StringBuilder(value.Length);
        foreach (var b in Encoding.UTF8.GetBytes(value))
        {
            if (char.IsAsciiLetterOrDigit((char)b) || b is (byte)'-' || (b is (byte)'.' && sb.Length > 0))
            {
                sb.Append((char)b);
            }
            else
            {
                sb.Append('_').Append(b.ToString("X2", CultureInfo.InvariantCulture));
            }
        }

        if (sb.Length <= 150)
        {
            return sb.ToString();
        }

        var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(value)));
        return sb.ToString(0, 100) + "~" + hash;
    }

    /// <summary>The lines whose record ids the file does not hold yet (a line that is no record counts as new).</summary>
    private static List<ReadOnlyMemory<byte>> NewOnly(IReadOnlyList<ReadOnlyMemory<byte>> lines, string path)
    {
        var held = S3ObjectFormats.Parse(File.ReadAllBytes(path), out _).Select(r => r.Record.Id).ToHashSet(StringComparer.Ordinal);
        return [.. lines.Where(l => S3ObjectFormats.Parse(l, out _) is not [var r] || !held.Contains(r.Record.Id))];
    }

    private static void AppendDurably(string path, IReadOnlyList<ReadOnlyMemory<byte>> lines)
    {
        var created = !File.Exists(path);
        using (var file = new FileStream(path, DataAccess.Current.Options(FileMode.Append, FileAccess.Write, FileShare.Read, 1 << 16)))
        {
            foreach (var line in lines)
            {
                file.Write(line.Span);
                if (!line.Span.EndsWith("\n"u8))
                {
                    file.WriteByte((byte)'\n'); // one record a line, whatever the caller passed
                }
            }

            file.Flush(flushToDisk: true);
        }

        if (created)
        {
            FsyncDirectory(Path.GetDirectoryName(path)!);
        }
    }

    private static void Move(string from, string to)
    {
        File.Move(from, to, overwrite: false);
        FsyncDirectory(Path.GetDirectoryName(to)!);
        FsyncDirectory(Path.GetDirectoryName(from)!);
    }

    /// <summary>Makes a created, renamed or deleted entry durable (Linux; elsewhere the rename is trusted).</summary>
    private static unsafe void FsyncDirectory(string directory)
    {
        if (!HostOs.IsLinux)
        {
            return;
        }

        var bytes = Encoding.UTF8.GetBytes(directory + "\0");
        fixed (byte* p = bytes)
        {
            var fd = DirectoryFsync.open(p, DirectoryFsync.ORdOnly);
            if (fd < 0)
            {
                throw new IOException($"Cannot open spool folder {directory} to fsync it (errno {Marshal.GetLastPInvokeError()}).");
            }

            try
            {
                if (DirectoryFsync.fsync(fd) != 0)
                {
                    throw new IOException($"fsync of spool folder {directory} failed (errno {Marshal.GetLastPInvokeError()}).");
                }
            }
            finally
            {
                _ = DirectoryFsync.close(fd);
            }
        }
    }

    private static unsafe class DirectoryFsync
    {
        public const int ORdOnly = 0;

        [DllImport("libc", SetLastError = true)]
        public static extern int open(byte* pathname, int flags);

        [DllImport("libc", SetLastError = true)]
        public static extern int fsync(int fd);

        [DllImport("libc", SetLastError = true)]
        public static extern int close(int fd);
    }
}
