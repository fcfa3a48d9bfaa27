using System.Collections.Concurrent;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using SessionTrail.Core;

namespace SessionTrail.Server.Recordings;

/// <summary>
/// Segments on the server's disk: DIR/recordings/{session-dir}/{index:D6}.mp4 while uploading is
/// "{index}.mp4.part"; completion renames it and writes "{index}.sha256". Folders are 0700 and files 0600
/// on Unix. Appends to one object are serialised; different objects proceed in parallel.
/// A full disk is a <see cref="DiskFullException"/> that leaves no partial file: a chunk that did not fit is
/// cut off again (the .part holds what it held before, or is gone), a hash file that did not fit is removed.
/// </summary>
public sealed class FileSystemRecordingStore : IRecordingStore
{
    private readonly string _root;
    private readonly ConcurrentDictionary<(string, int), SemaphoreSlim> _locks = new();

    public FileSystemRecordingStore(string root)
    {
        ArgumentException.ThrowIfNullOrEmpty(root);
        _root = root;
        CreatePrivateDirectory(_root);
    }

    public string Root => _root;

    /// <summary>Longest folder name used as is; longer encodings are shortened (file systems allow 255 bytes).</summary>
    public const int MaxDirectoryNameLength = 200;

    /// <summary>
    /// A file-name-safe folder name for a session id ([A-Za-z0-9._-] kept, others %XX of UTF-8; reversible).
    /// An encoding longer than <see cref="MaxDirectoryNameLength"/> characters (a 256-character id may need
    /// 2,304) is cut to its first 120 characters + "~" + the first 32 hex digits of the id's SHA-256.
    /// </summary>
    public static string SessionDirectoryName(string session)
    {
        var encoded = SessionTrail.Core.SafeFileName.Encode(session);
        if (encoded.Length <= MaxDirectoryNameLength)
        {
            return encoded;
        }

        var cut = encoded[..120];
        var percent = cut.LastIndexOf('%');
        if (percent > cut.Length - 3)
        {
            cut = cut[..percent]; // never split a %XX
        }

        return cut + "~" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(session)))[..32];
    }

    public Task<RecordingObjectInfo?> GetInfoAsync(string session, int index, CancellationToken ct)
    {
        var (final, part, hash) = Paths(session, index);
        RecordingObjectInfo? info = null;
        if (File.Exists(final))
        {
            var fi = new FileInfo(final);
            var sha = File.Exists(hash) ? File.ReadAllText(hash).Trim() : null;
            info = new RecordingObjectInfo(fi.Length, true, sha, fi.LastWriteTimeUtc);
        }
        else if (File.Exists(part))
        {
            var fi = new FileInfo(part);
            info = new RecordingObjectInfo(fi.Length, false, null, fi.LastWriteTimeUtc);
        }

        return Task.FromResult(info);
    }

    public async Task<long> AppendAsync(string session, int index, long offset, Stream data, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(data);
        var gate = _locks.GetOrAdd((session, index), _ => new SemaphoreSlim(1, 1));
        await gate.WaitAsync(ct);
        try
        {
            var (final, part, _) = Paths(session, index);
            if (File.Exists(final))
            {
                throw new UploadOffsetException(new FileInfo(final).Length, complete: true);
            }

            if (offset != 0 && !File.Exists(part))
            {
                throw new UploadOffsetException(0, complete: false);
            }

            try
            {
                CreatePrivateDirectory(Path.GetDirectoryName(part)!);

                // Unbuffered: every byte written has reached the file when a write returns or fails, so a
                // failure never leaves bytes in a buffer that a later flush would try (and fail) to write.
                var options = new FileStreamOptions { Mode = FileMode.OpenOrCreate, Access = FileAccess.Write, Share = FileShare.Read, BufferSize = 0 };
                if (!OperatingSystem.IsWindows())
                {
                    options.UnixCreateMode = DataAccess.Current.FileMode;
                }

                await using var file = new FileStream(part, options);
                if (file.Length != offset)
                {
                    throw new UploadOffsetException(file.Length, complete: false);
                }

                file.Seek(offset, SeekOrigin.Begin);
                try
                {
                    await data.CopyToAsync(file, 81920, ct);
                    file.Flush(flushToDisk: true);
                }
                catch (Exception e) when (!DiskFullException.IsDiskFull(e))
                {
                    // A broken request keeps what arrived (flushed); the client asks for the offset again.
                    file.Flush(flushToDisk: true);
                    throw;
                }

                return file.Length;
            }
            catch (Exception e) when (DiskFullException.IsDiskFull(e))
            {
                // Nothing of this chunk is kept: the .part goes back to the bytes held before it (away when
                // that was none), so no partial file stays and the client resends the chunk from the same
                // offset once there is room.
                Truncate(part, offset);
                throw new DiskFullException(part, e);
            }
        }
        finally
        {
            gate.Release();
        }
    }

    public async Task<RecordingObjectInfo> CompleteAsync(string session, int index, long bytes, string sha256, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(sha256);
        var gate = _locks.GetOrAdd((session, index), _ => new SemaphoreSlim(1, 1));
        await gate.WaitAsync(ct);
        try
        {
            var (final, part, hash) = Paths(session, index);
            var expected = sha256.ToLowerInvariant();
            if (File.Exists(final))
            {
                var held = File.Exists(hash) ? File.ReadAllText(hash).Trim() : await HashFileAsync(final, ct);
                var length = new FileInfo(final).Length;
                if (held != expected || length != bytes)
                {
                    throw new UploadVerificationException($"segment {index} is already complete with {length} bytes and SHA-256 {held}, not {bytes} bytes and {expected}");
                }

                return new RecordingObjectInfo(length, true, held, new FileInfo(final).LastWriteTimeUtc);
            }

            if (!File.Exists(part))
            {
                if (bytes != 0)
                {
                    throw new UploadOffsetException(0, complete: false);
                }

                // An empty segment (a crash can leave one) has no chunk to PATCH: completing it creates the empty object.
                CreatePrivateDirectory(Path.GetDirectoryName(part)!);
                await WritePrivateTextAsync(part, "", ct);
            }

            var actualLength = new FileInfo(part).Length;
            if (actualLength != bytes)
            {
                if (actualLength > bytes)
                {
                    File.Delete(part);
                    throw new UploadVerificationException($"segment {index}: {actualLength} bytes were uploaded, more than the {bytes} declared; the upload was discarded");
                }

                throw new UploadOffsetException(actualLength, complete: false);
            }

            var actual = await HashFileAsync(part, ct);
            if (actual != expected)
            {
                File.Delete(part);
                throw new UploadVerificationException($"segment {index}: SHA-256 of the {bytes} bytes received is {actual}, not {expected}; the upload was discarded");
            }

            try
            {
                await WritePrivateTextAsync(hash, actual + "\n", ct);
            }
            catch (Exception e) when (DiskFullException.IsDiskFull(e))
            {
                File.Delete(hash); // no half-written hash file; the .part stays whole for the next try
                throw new DiskFullException(hash, e);
            }

            File.Move(part, final);
            return new RecordingObjectInfo(bytes, true, actual, DateTimeOffset.UtcNow);
        }
        finally
        {
            gate.Release();
        }
    }

    public Task<Stream?> OpenReadAsync(string session, int index, CancellationToken ct)
    {
        var (final, part, _) = Paths(session, index);
        foreach (var path in new[] { final, part })
        {
            try
            {
                return Task.FromResult<Stream?>(new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 1, useAsync: true));
            }
            catch (FileNotFoundException)
            {
            }
            catch (DirectoryNotFoundException)
            {
                return Task.FromResult<Stream?>(null);
            }
        }

        return Task.FromResult<Stream?>(null);
    }

    public async Task<string?> ComputeSha256Async(string session, int index, CancellationToken ct)
    {
        var (final, part, _) = Paths(session, index);
        var path = File.Exists(final) ? final : File.Exists(part) ? part : null;
        return path is null ? null : await HashFileAsync(path, ct);
    }

    public Task<IReadOnlyList<int>> ListAsync(string session, CancellationToken ct)
    {
        var dir = Path.Combine(_root, SessionDirectoryName(session));
        if (!Directory.Exists(dir))
        {
            return Task.FromResult<IReadOnlyList<int>>([]);
        }

        var indexes = new SortedSet<int>();
        foreach (var path in Directory.EnumerateFiles(dir))
        {
            var name = Path.GetFileName(path);
            var stem = name.EndsWith(".mp4.part", StringComparison.Ordinal) ? name[..^9] : name.EndsWith(".mp4", StringComparison.Ordinal) ? name[..^4] : null;
            if (stem is not null && int.TryParse(stem, NumberStyles.None, CultureInfo.InvariantCulture, out var i))
            {
                indexes.Add(i);
            }
        }

        return Task.FromResult<IReadOnlyList<int>>([.. indexes]);
    }

    public Task<long> DeleteSessionAsync(string session, CancellationToken ct)
    {
        var dir = Path.Combine(_root, SessionDirectoryName(session));
        if (!Directory.Exists(dir))
        {
            return Task.FromResult(0L);
        }

        var freed = Directory.EnumerateFiles(dir).Sum(f => new FileInfo(f).Length);
        Directory.Delete(dir, recursive: true);
        return Task.FromResult(freed);
    }

    private (string Final, string Part, string Hash) Paths(string session, int index)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        var dir = Path.Combine(_root, SessionDirectoryName(session));
        var stem = Path.Combine(dir, index.ToString("D6", CultureInfo.InvariantCulture));
        return (stem + ".mp4", stem + ".mp4.part", stem + ".sha256");
    }

    /// <summary>Cuts <paramref name="part"/> back to <paramref name="length"/> bytes; deletes it when that is 0.</summary>
    private static void Truncate(string part, long length)
    {
        if (length == 0)
        {
            if (File.Exists(part))
            {
                File.Delete(part);
            }

            return;
        }

        using var handle = File.OpenHandle(part, FileMode.Open, FileAccess.Write);
        RandomAccess.SetLength(handle, length);
    }

    private static async Task WritePrivateTextAsync(string path, string text, CancellationToken ct)
    {
        var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = DataAccess.Current.FileMode;
        }

        await using var file = new FileStream(path, options);
        await file.WriteAsync(Encoding.UTF8.GetBytes(text), ct);
        file.Flush(flushToDisk: true);
    }

    private static async Task<string> HashFileAsync(string path, CancellationToken ct)
    {
        await using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 1 << 16, useAsync: true);
        var hash = await SHA256.HashDataAsync(stream, ct);
        return Convert.ToHexStringLower(hash);
    }

    private static void CreatePrivateDirectory(string path)
    {
        DataAccess.Current.CreateDirectory(path);
    }
}
