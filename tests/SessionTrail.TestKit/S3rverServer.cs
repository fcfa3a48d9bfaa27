using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;

namespace SessionTrail.TestKit;

/// <summary>
/// A real S3-protocol server for tests: the npm package s3rver (tests/s3rver, installed by
/// <c>npm ci</c> there; .ci/run does it), run by node on a free port of 127.0.0.1 with a fresh folder.
/// It knows one access key id, <see cref="AccessKey"/>, and refuses others (403 InvalidAccessKeyId);
/// it does not verify SigV4 signatures, so a wrong secret key goes unnoticed.
/// It can be stopped and started again on the same port and folder (objects survive).
/// </summary>
public sealed class S3rverServer : IAsyncDisposable
{
    public const string AccessKey = "S3RVER";
    public const string SecretKey = "S3RVER";
    public const string Region = "us-east-1";

    private readonly StringBuilder _output = new();
    private Process? _process;

    private S3rverServer(string directory, int port)
    {
        Directory = directory;
        Port = port;
    }

    /// <summary>s3rver's data folder.</summary>
    public string Directory { get; }

    public int Port { get; }

    public string Url => $"http://127.0.0.1:{Port}";

    public bool Running => _process is { HasExited: false };

    /// <summary>Starts s3rver with <paramref name="buckets"/> created.</summary>
    public static async Task<S3rverServer> StartAsync(params string[] buckets)
    {
        var directory = System.IO.Directory.CreateTempSubdirectory("st-s3rver-").FullName;
        var server = new S3rverServer(directory, FreePort());
        await server.StartAgainAsync(buckets);
        return server;
    }

    /// <summary>tests/s3rver/node_modules/s3rver/bin/s3rver.js, in this repository.</summary>
    public static string Script
    {
        get
        {
            var script = Repository.PathOf("tests", "s3rver", "node_modules", "s3rver", "bin", "s3rver.js");
            return File.Exists(script)
                ? script
                : throw new InvalidOperationException("s3rver is not installed: run `npm ci` in tests/s3rver (./run-tests does).");
        }
    }

    /// <summary>(Re)starts the server on the same port and folder; waits until it accepts connections.</summary>
    public async Task StartAgainAsync(params string[] buckets)
    {
        if (Running)
        {
            throw new InvalidOperationException("s3rver is already running.");
        }

        var psi = new ProcessStartInfo("node") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[] { Script, "-d", Directory, "-a", "127.0.0.1", "-p", Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--silent" })
        {
            psi.ArgumentList.Add(a);
        }

        foreach (var bucket in buckets)
        {
            psi.ArgumentList.Add("--configure-bucket");
            psi.ArgumentList.Add(bucket);
        }

        var p = new Process { StartInfo = psi };
        p.OutputDataReceived += (_, e) => Append(e.Data);
        p.ErrorDataReceived += (_, e) => Append(e.Data);
        p.Start();
        p.BeginOutputReadLine();
        p.BeginErrorReadLine();
        _process = p;
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (true)
        {
            if (p.HasExited)
            {
                throw new InvalidOperationException($"s3rver exited with {p.ExitCode}: {Output}");
            }

            try
            {
                using var client = new TcpClient();
                await client.ConnectAsync(IPAddress.Loopback, Port);
                return;
            }
            catch (SocketException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(100);
            }
        }
    }

    /// <summary>Kills the server (the S3 service goes down); its folder stays.</summary>
    public async Task StopAsync()
    {
        if (_process is { } p)
        {
            if (!p.HasExited)
            {
                p.Kill(entireProcessTree: true);
                await p.WaitForExitAsync();
            }

            p.Dispose();
            _process = null;
        }
    }

    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    /// <summary>A client with the server's key pair, path-style.</summary>
    public AmazonS3Client Client() => new(
        new BasicAWSCredentials(AccessKey, SecretKey),
        new AmazonS3Config { ServiceURL = Url, ForcePathStyle = true, AuthenticationRegion = Region, MaxErrorRetry = 0 });

    /// <summary>Every key in <paramref name="bucket"/>, sorted.</summary>
    public async Task<List<string>> KeysAsync(string bucket)
    {
        using var client = Client();
        var keys = new List<string>();
        string? token = null;
        do
        {
            var page = await client.ListObjectsV2Async(new ListObjectsV2Request { BucketName = bucket, ContinuationToken = token });
            keys.AddRange((page.S3Objects ?? []).Select(o => o.Key));
            token = page.IsTruncated == true ? page.NextContinuationToken : null;
        }
        while (token is not null);
        keys.Sort(StringComparer.Ordinal);
        return keys;
    }

    /// <summary>
    /// The bytes of one object. s3rver replaces an object's file in place (real S3 replaces atomically), so a
    /// read that overlaps a PUT of the same key can end early, or see the old object's headers with a half-written
    /// body (the SDK then fails on the checksum header with an ArgumentOutOfRangeException): such a read is
    /// repeated (up to 5 times).
    /// </summary>
    public async Task<byte[]> GetAsync(string bucket, string key)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                using var client = Client();
                using var response = await client.GetObjectAsync(bucket, key);
                using var buffer = new MemoryStream();
                await response.ResponseStream.CopyToAsync(buffer);
                return buffer.ToArray();
            }
            catch (Exception ex) when (ex is HttpIOException or ArgumentOutOfRangeException && attempt < 5)
            {
                await Task.Delay(100);
            }
        }
    }

    /// <summary>Polls until <paramref name="bucket"/> holds at least <paramref name="count"/> keys; returns them.</summary>
    public async Task<List<string>> WaitForKeysAsync(string bucket, int count, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var keys = await KeysAsync(bucket);
            if (keys.Count >= count || DateTime.UtcNow > deadline)
            {
                return keys;
            }

            await Task.Delay(200);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private static int FreePort()
    {
        using var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        return ((IPEndPoint)l.LocalEndpoint).Port;
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_output)
        {
            _output.AppendLine(line);
        }
    }
}
