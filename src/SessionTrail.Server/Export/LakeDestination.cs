using System.Globalization;
using System.Text.RegularExpressions;
using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;

namespace SessionTrail.Server.Export;

/// <summary>
/// Where the lake's files go: a folder or an S3 prefix. A file appears whole or not at all — a folder's file is
/// written to a hidden temporary name beside it (Athena, Trino, Spark and DuckDB skip names starting with '.')
/// and renamed over the old one; an S3 object is replaced by one PUT, which S3 makes visible atomically.
/// </summary>
public abstract partial class LakeDestination : IDisposable
{
    /// <summary>How the destination is named in the store's tracking table and messages (a full path, or s3://bucket/prefix/).</summary>
    public abstract string Name { get; }

    /// <summary>Replaces the file at <paramref name="key"/> (a relative path with '/') with <paramref name="bytes"/>.</summary>
    public abstract Task PutAsync(string key, MemoryStream bytes, CancellationToken ct);

    /// <summary>Removes the file at <paramref name="key"/> when it exists (a day left with no rows).</summary>
    public abstract Task DeleteAsync(string key, CancellationToken ct);

    public void Dispose()
    {
        Dispose(true);
        GC.SuppressFinalize(this);
    }

    protected virtual void Dispose(bool disposing)
    {
    }

    /// <summary>
    /// The destination <paramref name="target"/> names: <c>s3://BUCKET[/PREFIX]</c> (S3, or an S3-compatible
    /// <paramref name="endpoint"/>, path-style) or a folder. Throws <see cref="ArgumentException"/> naming what is wrong
    /// with an s3:// URL; a folder is created, and must be writable (checked here, before anything is read or written).
    /// </summary>
    public static LakeDestination Open(string target, string? endpoint, string region, Amazon.Runtime.AWSCredentials? credentials = null)
    {
        ArgumentNullException.ThrowIfNull(target);
        if (!target.StartsWith("s3:", StringComparison.OrdinalIgnoreCase))
        {
            return endpoint is null
                ? new FolderDestination(Path.TrimEndingDirectorySeparator(Path.GetFullPath(target)))
                : throw new ArgumentException($"--s3-endpoint goes with --out s3://BUCKET[/PREFIX], not the folder '{target}'");
        }

        var (bucket, prefix) = ParseS3(target);
        return new S3Destination(S3Clients.Create(endpoint, region, credentials), bucket, prefix);
    }

    /// <summary>The bucket and key prefix ("" or ending in '/') of an s3:// URL.</summary>
    internal static (string Bucket, string Prefix) ParseS3(string url)
    {
        if (!url.StartsWith("s3://", StringComparison.Ordinal))
        {
            throw new ArgumentException($"--out '{url}' is not an S3 URL: write s3://BUCKET or s3://BUCKET/PREFIX (lower-case s3, two slashes)");
        }

        var rest = url["s3://".Length..];
        var slash = rest.IndexOf('/', StringComparison.Ordinal);
        var bucket = slash < 0 ? rest : rest[..slash];
        var prefix = slash < 0 ? "" : rest[(slash + 1)..];
        if (!BucketName().IsMatch(bucket))
        {
            throw new ArgumentException($"--out '{url}': '{bucket}' is not an S3 bucket name (3 to 63 lower-case letters, digits, '.' and '-', starting and ending with a letter or digit)");
        }

        if (prefix.Contains("//", StringComparison.Ordinal) || prefix.StartsWith('/'))
        {
            throw new ArgumentException($"--out '{url}': the prefix '{prefix}' has an empty path segment");
        }

        return (bucket, prefix.Length == 0 || prefix.EndsWith('/') ? prefix : prefix + "/");
    }

    [GeneratedRegex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", RegexOptions.CultureInvariant)]
    private static partial Regex BucketName();

    private sealed class FolderDestination : LakeDestination
    {
        private readonly string root;

        public FolderDestination(string root)
        {
            this.root = root;
            var probe = Path.Combine(root, $".probe-{Guid.NewGuid():N}.tmp");
            try
            {
                Directory.CreateDirectory(root);
                File.WriteAllBytes(probe, []);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new IOException($"--out {root} is not writable: {e.Message}", e);
            }

            File.Delete(probe);
        }

        public override string Name => root;

        public override async Task PutAsync(string key, MemoryStream bytes, CancellationToken ct)
        {
            var path = Path.Combine(root, key);
            var folder = Path.GetDirectoryName(path)!;
            Directory.CreateDirectory(folder);
            var temporary = Path.Combine(folder, $".{Path.GetFileName(path)}.{Guid.NewGuid():N}.tmp");
            try
            {
                await using (var file = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16, FileOptions.Asynchronous))
                {
                    bytes.Position = 0;
                    await bytes.CopyToAsync(file, ct);
                    await file.FlushAsync(ct);
                    file.Flush(flushToDisk: true);
                }

                File.Move(temporary, path, overwrite: true);
            }
            finally
            {
                File.Delete(temporary); // nothing when the rename happened
            }
        }

        public override Task DeleteAsync(string key, CancellationToken ct)
        {
            File.Delete(Path.Combine(root, key));
            return Task.CompletedTask;
        }
    }

    private sealed class S3Destination(IAmazonS3 s3, string bucket, string prefix) : LakeDestination
    {
        public override string Name => $"s3://{bucket}/{prefix}";

        public override async Task PutAsync(string key, MemoryStream bytes, CancellationToken ct)
        {
            bytes.Position = 0;
            await S3Async(key, () => s3.PutObjectAsync(
                new PutObjectRequest
                {
                    BucketName = bucket,
                    Key = prefix + key,
                    InputStream = bytes,
                    AutoCloseStream = false,
                    UseChunkEncoding = false,
                    ContentType = "application/vnd.apache.parquet",
                },
                ct));
        }

        public override Task DeleteAsync(string key, CancellationToken ct) => S3Async(key, () => s3.DeleteObjectAsync(bucket, prefix + key, ct));

        /// <summary>Runs an S3 call, its failure as an <see cref="IOException"/> naming the object (the CLI's one-line error).</summary>
        private async Task S3Async(string key, Func<Task> call)
        {
            try
            {
                await call();
            }
            catch (AmazonServiceException e)
            {
                throw new IOException($"S3 refused {Name}{key}: {e.Message}", e);
            }
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                s3.Dispose();
            }

            base.Dispose(disposing);
        }
    }
}

/// <summary>S3 clients as the server's recordings and the lake export make them: AWS (a region) or an S3-compatible endpoint (path-style).</summary>
public static class S3Clients
{
    /// <param name="endpoint">An S3-compatible endpoint URL, or null for AWS itself.</param>
    /// <param name="region">The AWS region (the signing region with an endpoint).</param>
    /// <param name="credentials">Explicit credentials (tests); null for the AWS SDK's standard chain.</param>
    public static AmazonS3Client Create(string? endpoint, string region, Amazon.Runtime.AWSCredentials? credentials)
    {
        var config = new AmazonS3Config { MaxErrorRetry = 3 };
        if (endpoint is not null)
        {
            if (!Uri.TryCreate(endpoint, UriKind.Absolute, out _))
            {
                throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"the S3 endpoint '{endpoint}' is not an absolute URL"));
            }

            config.ServiceURL = endpoint;
            config.ForcePathStyle = true;
            config.AuthenticationRegion = region;
        }
        else
        {
            config.RegionEndpoint = Amazon.RegionEndpoint.GetBySystemName(region);
        }

        return credentials is null ? new AmazonS3Client(config) : new AmazonS3Client(credentials, config);
    }
}
