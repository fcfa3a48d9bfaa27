using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using Amazon.S3;
using Amazon.S3.Model;

namespace SessionTrail.Server.Recordings;

/// <summary>
/// Segment bytes in an S3 bucket. Every appended chunk is its own object,
/// <c>{prefix}{session-dir}/{index:D6}.mp4.parts/{offset:D15}</c>; completion verifies size and SHA-256 over
/// the parts and writes <c>{index:D6}.mp4.sha256</c>. The parts are kept and read as one concatenated object
/// (Range reads map to ranged GETs of the parts they cross) — rather than joined with a multipart copy,
/// because S3's UploadPartCopy needs every part but the last to be at least 5 MiB, while near-live chunks
/// are a few kB to a few hundred kB; joining them would mean downloading and uploading every segment again.
/// Appends to one object are serialised within this process (one server per bucket prefix).
/// </summary>
public sealed class S3RecordingStore : IRecordingStore, IDisposable
{
    private readonly IAmazonS3 s3;
    private readonly string bucket;
    private readonly string prefix;
    private readonly ConcurrentDictionary<(string, int), SemaphoreSlim> locks = new();

    /// <param name="client">The S3 client (owned: disposed with the store).</param>
    /// <param name="bucket">The bucket.</param>
    /// <param name="prefix">Key prefix, "" or ending in '/'.</param>
    public S3RecordingStore(IAmazonS3 client, string bucket, string prefix)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentException.ThrowIfNullOrEmpty(bucket);
        ArgumentNullException.ThrowIfNull(prefix);
        s3 = client;
        this.bucket = bucket;
        this.prefix = prefix.Length == 0 || prefix.EndsWith('/') ? prefix : prefix + "/";
    }

    /// <summary>"s3://bucket/prefix", for messages.</summary>
    public string Describe => $"s3://{bucket}/{prefix}";

    private string SessionPrefix(string session) => prefix + FileSystemRecordingStore.SessionDirectoryName(session) + "/";

    private string Stem(string session, int index)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        return SessionPrefix(session) + index.ToString("D6", CultureInfo.InvariantCulture) + ".mp4";
    }

    /// <summary>One stored chunk: where it starts in the segment, its size and key.</summary>
    private sealed record Part(long Offset, long Size, string Key, DateTimeOffset LastModified);

    /// <summary>The contiguous parts from offset 0 (a part that does not start where the previous ended is ignored with everything after it).</summary>
    private async Task<List<Part>> PartsAsync(string session, int index, CancellationToken ct)
    {
        var partsPrefix = Stem(session, index) + ".parts/";
        var all = new List<Part>();
        foreach (var o in await ObjectsAsync(partsPrefix, ct))
        {
            if (long.TryParse(o.Key.AsSpan(partsPrefix.Length), NumberStyles.None, CultureInfo.InvariantCulture, out var offset))
            {
                all.Add(new Part(offset, o.Size ?? 0, o.Key, o.LastModified is { } m ? new DateTimeOffset(m.ToUniversalTime(), TimeSpan.Zero) : DateTimeOffset.UnixEpoch));
            }
        }

        all.Sort((a, b) => a.Offset.CompareTo(b.Offset));
        var contiguous = new List<Part>(all.Count);
        long next = 0;
        foreach (var part in all)
        {
            if (part.Offset != next)
            {
                break;
            }

            contiguous.Add(part);
            next += part.Size;
        }

        return contiguous;
    }

    private async Task<List<S3Object>> ObjectsAsync(string keyPrefix, CancellationToken ct)
    {
        var objects = new List<S3Object>();
        string? token = null;
        do
        {
            var page = await s3.ListObjectsV2Async(new ListObjectsV2Request { BucketName = bucket, Prefix = keyPrefix, ContinuationToken = token }, ct);
            objects.AddRange(page.S3Objects ?? []);
            token = page.IsTruncated == true ? page.NextContinuationToken : null;
        }
        while (token is not null);
        return objects;
    }

    /// <summary>The verified hash marker and when it was written, or null.</summary>
    private async Task<(string Sha256, DateTimeOffset Time)?> MarkerAsync(string session, int index, CancellationToken ct)
    {
        try
        {
            using var response = await s3.GetObjectAsync(bucket, Stem(session, index) + ".sha256", ct);
            using var reader = new StreamReader(response.ResponseStream);
            var sha = (await reader.ReadToEndAsync(ct)).Trim();
            return (sha, response.LastModified is { } m ? new DateTimeOffset(m.ToUniversalTime(), TimeSpan.Zero) : DateTimeOffset.UnixEpoch);
        }
        catch (AmazonS3Exception e) when (e.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }
    }

    public async Task<RecordingObjectInfo?> GetInfoAsync(string session, int index, CancellationToken ct)
    {
        var parts = await PartsAsync(session, index, ct);
        var marker = await MarkerAsync(session, index, ct);
        if (parts.Count == 0 && marker is null)
        {
            return null;
        }

        var length = parts.Sum(p => p.Size);
        var lastWrite = marker?.Time ?? (parts.Count == 0 ? DateTimeOffset.UnixEpoch : parts.Max(p => p.LastModified));
        return new RecordingObjectInfo(length, marker is not null, marker?.Sha256, lastWrite);
    }

    public async Task<long> AppendAsync(string session, int index, long offset, Stream data, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(data);
        var gate = locks.GetOrAdd((session, index), _ => new SemaphoreSlim(1, 1));
        await gate.WaitAsync(ct);
        try
        {
            var info = await GetInfoAsync(session, index, ct);
            var held = info?.Length ?? 0;
            if (info is { Complete: true })
            {
                throw new UploadOffsetException(held, complete: true);
            }

            if (held != offset)
            {
                throw new UploadOffsetException(held, complete: false);
            }

            using var buffer = new MemoryStream();
            Exception? broken = null;
            try
            {
                await data.CopyToAsync(buffer, 81920, ct);
            }
            catch (Exception e) when (e is IOException or OperationCanceledException or Microsoft.AspNetCore.Http.BadHttpRequestException)
            {
                broken = e; // keep what arrived, as the filesystem store does; the client asks for the offset again
            }

            if (buffer.Length > 0)
            {
                buffer.Position = 0;
                await s3.PutObjectAsync(
                    new PutObjectRequest
                    {
                        BucketName = bucket,
                        Key = Stem(session, index) + ".parts/" + offset.ToString("D15", CultureInfo.InvariantCulture),
                        InputStream = buffer,
                        AutoCloseStream = false,
                        UseChunkEncoding = false,
                        ContentType = "application/octet-stream",
                    },
                    CancellationToken.None);
            }

            if (broken is not null)
            {
                System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(broken).Throw();
            }

            return offset + buffer.Length;
        }
        finally
        {
            gate.Release();
        }
    }

    public async Task<RecordingObjectInfo> CompleteAsync(string session, int index, long bytes, string sha256, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(sha256);
        var gate = locks.GetOrAdd((session, index), _ => new SemaphoreSlim(1, 1));
        await gate.WaitAsync(ct);
        try
        {
            var expected = sha256.ToLowerInvariant();
            var info = await GetInfoAsync(session, index, ct);
            if (info is { Complete: true })
            {
                if (info.Sha256 != expected || info.Length != bytes)
                {
                    throw new UploadVerificationException($"segment {index} is already complete with {info.Length} bytes and SHA-256 {info.Sha256}, not {bytes} bytes and {expected}");
                }

                return info;
            }

            var length = info?.Length ?? 0;
            if (length < bytes)
            {
                throw new UploadOffsetException(length, complete: false);
            }

            if (length > bytes)
            {
                await DeletePartsAsync(session, index, ct);
                throw new UploadVerificationException($"segment {index}: {length} bytes were uploaded, more than the {bytes} declared; the upload was discarded");
            }

            // Hashed over the parts themselves: an empty segment (no parts, nothing PATCHed) hashes as the empty string.
            string actual;
            await using (var held = new ConcatenatedPartsStream(s3, bucket, await PartsAsync(session, index, ct)))
            {
                actual = Convert.ToHexStringLower(await SHA256.HashDataAsync(held, ct));
            }

            if (actual != expected)
            {
                await DeletePartsAsync(session, index, ct);
                throw new UploadVerificationException($"segment {index}: SHA-256 of the {bytes} bytes received is {actual}, not {expected}; the upload was discarded");
            }

            await s3.PutObjectAsync(
                new PutObjectRequest { BucketName = bucket, Key = Stem(session, index) + ".sha256", ContentBody = actual + "\n", UseChunkEncoding = false, ContentType = "text/plain" },
                ct);
            return (await GetInfoAsync(session, index, ct))!;
        }
        finally
        {
            gate.Release();
        }
    }

    public async Task<Stream?> OpenReadAsync(string session, int index, CancellationToken ct)
    {
        var parts = await PartsAsync(session, index, ct);
        return parts.Count == 0 && await MarkerAsync(session, index, ct) is null ? null : new ConcatenatedPartsStream(s3, bucket, parts);
    }

    public async Task<string?> ComputeSha256Async(string session, int index, CancellationToken ct)
    {
        await using var stream = await OpenReadAsync(session, index, ct);
        return stream is null ? null : Convert.ToHexStringLower(await SHA256.HashDataAsync(stream, ct));
    }

    public async Task<IReadOnlyList<int>> ListAsync(string session, CancellationToken ct)
    {
        var sessionPrefix = SessionPrefix(session);
        var indexes = new SortedSet<int>();
        foreach (var o in await ObjectsAsync(sessionPrefix, ct))
        {
            var rest = o.Key.AsSpan(sessionPrefix.Length);
            if (rest.Length > 10 && rest[6..10].SequenceEqual(".mp4") && int.TryParse(rest[..6], NumberStyles.None, CultureInfo.InvariantCulture, out var i))
            {
                indexes.Add(i);
            }
        }

        return [.. indexes];
    }

    public async Task<long> DeleteSessionAsync(string session, CancellationToken ct)
    {
        var objects = await ObjectsAsync(SessionPrefix(session), ct);
        await DeleteAsync(objects.Select(o => o.Key), ct);
        return objects.Sum(o => o.Size ?? 0);
    }

    private async Task DeletePartsAsync(string session, int index, CancellationToken ct) =>
        await DeleteAsync((await ObjectsAsync(Stem(session, index) + ".parts/", ct)).Select(o => o.Key), ct);

    private async Task DeleteAsync(IEnumerable<string> keys, CancellationToken ct)
    {
        foreach (var key in keys)
        {
            await s3.DeleteObjectAsync(bucket, key, ct);
        }
    }

    public void Dispose() => s3.Dispose();

    /// <summary>A read-only, seekable stream over the parts in order; each read is a ranged GET of the part under the position (kept open while reading on).</summary>
    private sealed class ConcatenatedPartsStream(IAmazonS3 s3, string bucket, List<Part> parts) : Stream
    {
        private readonly long length = parts.Sum(p => p.Size);
        private long position;
        private GetObjectResponse? current;
        private Stream? body;
        private long bodyPosition = -1;

        public override bool CanRead => true;

        public override bool CanSeek => true;

        public override bool CanWrite => false;

        public override long Length => length;

        public override long Position
        {
            get => position;
            set => Seek(value, SeekOrigin.Begin);
        }

        public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (position >= length || buffer.Length == 0)
            {
                return 0;
            }

            var part = parts.Last(p => p.Offset <= position);
            var within = Math.Min(buffer.Length, part.Offset + part.Size - position);
            if (body is null || bodyPosition != position)
            {
                Close(disposing: true);
                current = await s3.GetObjectAsync(
                    new GetObjectRequest { BucketName = bucket, Key = part.Key, ByteRange = new ByteRange(position - part.Offset, part.Size - 1) },
                    cancellationToken);
                body = current.ResponseStream;
                bodyPosition = position;
            }

            var read = await body.ReadAsync(buffer[..(int)within], cancellationToken);
            if (read == 0)
            {
                throw new IOException($"s3://{bucket}/{part.Key} ended before its {part.Size} bytes (changed while read?)");
            }

            position += read;
            bodyPosition += read;
            if (position == part.Offset + part.Size)
            {
                Close(disposing: true); // the next read starts the next part
            }

            return read;
        }

        public override long Seek(long offset, SeekOrigin origin)
        {
            var target = origin switch
            {
                SeekOrigin.Begin => offset,
                SeekOrigin.Current => position + offset,
                _ => length + offset,
            };
            ArgumentOutOfRangeException.ThrowIfNegative(target, nameof(offset));
            position = target;
            return position;
        }

        public override void Flush()
        {
        }

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            Close(disposing);
            base.Dispose(disposing);
        }

        private void Close(bool disposing)
        {
            if (disposing)
            {
                body?.Dispose();
                current?.Dispose();
            }

            body = null;
            current = null;
            bodyPosition = -1;
        }
    }
}
