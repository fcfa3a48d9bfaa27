using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using SessionTrail.Agent.Recording;
using SessionTrail.Core.Records;
using SessionTrail.Server;
using SessionTrail.Server.Auth;
using SessionTrail.Server.Recordings;

namespace SessionTrail.Agent.Tests.Recording.Upload;

/// <summary>The real SessionTrail server in process on 127.0.0.1: stoppable and restartable on the same port and data directory.</summary>
public sealed class InProcessServer : IAsyncDisposable
{
    private readonly string _dataDir;
    private WebApplication? _app;

    private InProcessServer(string dataDir) => _dataDir = dataDir;

    public int Port { get; private set; }

    public string Token { get; private set; } = "";

    public Uri Url => new($"http://127.0.0.1:{Port.ToString(CultureInfo.InvariantCulture)}/");

    public IRecordingStore Store => _app!.Services.GetRequiredService<IRecordingStore>();

    /// <summary>The store's folder, readable whether the server runs or not.</summary>
    public FileSystemRecordingStore OfflineStore => new(Path.Combine(_dataDir, "recordings"));

    public static async Task<InProcessServer> StartAsync(string dataDir)
    {
        var server = new InProcessServer(dataDir);
        await server.StartAgainAsync();
        server.Token = server._app!.Services.GetRequiredService<TokenStore>().Create("uploader-test");
        return server;
    }

    /// <summary>(Re)starts on the same port (first time: a free one) and data directory.</summary>
    public async Task StartAgainAsync()
    {
        var options = new ServerOptions { DataDir = _dataDir, Urls = $"http://127.0.0.1:{Port.ToString(CultureInfo.InvariantCulture)}" };
        _app = ServerApp.Build(options, ["--Logging:LogLevel:Default=Warning"]);
        await _app.StartAsync();
        Port = new Uri(ServerApp.Addresses(_app)[0]).Port;
    }

    /// <summary>Stops the server: requests in flight are aborted at once (a hard stop).</summary>
    public async Task StopAsync()
    {
        if (_app is { } app)
        {
            using var now = new CancellationTokenSource();
            await now.CancelAsync();
            try
            {
                await app.StopAsync(now.Token);
            }
            catch (OperationCanceledException)
            {
            }

            await app.DisposeAsync();
            _app = null;
        }
    }

    public async Task<byte[]?> HeldBytesAsync(string session, int index)
    {
        await using var stream = await OfflineStore.OpenReadAsync(session, index, default);
        if (stream is null)
        {
            return null;
        }

        using var copy = new MemoryStream();
        await stream.CopyToAsync(copy);
        return copy.ToArray();
    }

    public async ValueTask DisposeAsync() => await StopAsync();
}

/// <summary>Counts what the uploader puts on the wire: every PATCH (offset, bytes, answer) and every request (with its decoded path).</summary>
public sealed class CountingHandler() : DelegatingHandler(new SocketsHttpHandler())
{
    public ConcurrentQueue<(string Method, long Offset, long Bytes, int Status, string Path)> Requests { get; } = new();

    /// <summary>Runs before each request is sent (a test changing the spool mid-upload).</summary>
    public Action<HttpRequestMessage>? BeforeSend { get; set; }

    /// <summary>The requests whose path names <paramref name="session"/>'s segment <paramref name="index"/>.</summary>
    public int CountFor(string session, int index) =>
        Requests.Count(r => r.Path.Contains($"/sessions/{session}/recordings/{index.ToString(CultureInfo.InvariantCulture)}/", StringComparison.Ordinal));

    public long PatchedBytes => Requests.Where(r => r.Method == "PATCH").Sum(r => r.Bytes);

    public int Count(string method) => Requests.Count(r => r.Method == method);

    /// <summary>Waits this long before each PATCH (slows an upload down enough to interrupt it).</summary>
    public TimeSpan PatchDelay { get; init; }

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var offset = request.Headers.TryGetValues("Upload-Offset", out var v) ? long.Parse(v.Single(), CultureInfo.InvariantCulture) : -1;
        var bytes = request.Content?.Headers.ContentLength ?? 0;
        if (request.Method == HttpMethod.Patch && PatchDelay > TimeSpan.Zero)
        {
            await Task.Delay(PatchDelay, cancellationToken);
        }

        BeforeSend?.Invoke(request);
        var path = Uri.UnescapeDataString(request.RequestUri!.AbsolutePath);
        try
        {
            var response = await base.SendAsync(request, cancellationToken);
            Requests.Enqueue((request.Method.Method, offset, bytes, (int)response.StatusCode, path));
            return response;
        }
        catch
        {
            Requests.Enqueue((request.Method.Method, offset, bytes, -1, path));
            throw;
        }
    }
}

/// <summary>
/// A TCP proxy in front of the server that can cut every connection in the middle of a request body: after
/// <see cref="CutAfterBytes"/> bytes went from client to server on one connection, both sides are reset.
/// </summary>
public sealed class CuttingProxy : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly int _target;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _accept;

    public CuttingProxy(int targetPort)
    {
        _target = targetPort;
        _listener.Start();
        _accept = AcceptAsync();
    }

    public Uri Url => new($"http://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port.ToString(CultureInfo.InvariantCulture)}/");

    /// <summary>Cut a connection once this many request bytes went through it; long.MaxValue = never.</summary>
    public long CutAfterBytes { get; set; } = long.MaxValue;

    private int _cuts;

    /// <summary>How many connections were cut.</summary>
    public int Cuts => Volatile.Read(ref _cuts);

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        try
        {
            await _accept;
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
        {
        }

        _stop.Dispose();
    }

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            var client = await _listener.AcceptTcpClientAsync(_stop.Token);
            _ = Task.Run(() => RelayAsync(client));
        }
    }

    private async Task RelayAsync(TcpClient client)
    {
        using var server = new TcpClient();
        using (client)
        {
            try
            {
                await server.ConnectAsync(IPAddress.Loopback, _target);
                var up = PumpAsync(client.GetStream(), server.GetStream(), cut: true, client, server);
                var down = PumpAsync(server.GetStream(), client.GetStream(), cut: false, client, server);
                await Task.WhenAny(up, down);
            }
            catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException)
            {
            }
        }
    }

    private async Task PumpAsync(NetworkStream from, NetworkStream to, bool cut, TcpClient client, TcpClient server)
    {
        var buffer = new byte[16 * 1024];
        long total = 0;
        while (true)
        {
            var read = await from.ReadAsync(buffer, _stop.Token);
            if (read == 0)
            {
                return;
            }

            var limit = CutAfterBytes;
            if (cut && total + read > limit)
            {
                await to.WriteAsync(buffer.AsMemory(0, (int)(limit - total)));
                await to.FlushAsync();
                await Task.Delay(200);
                Interlocked.Increment(ref _cuts);
                CutAfterBytes = long.MaxValue; // once
                client.Client.LingerState = new LingerOption(true, 0);
                server.Client.LingerState = new LingerOption(true, 0);
                client.Close();
                server.Close();
                return;
            }

            total += read;
            await to.WriteAsync(buffer.AsMemory(0, read));
        }
    }
}

/// <summary>Real fragmented MP4s made by ffmpeg's testsrc (generated once per test run) and their top-level boxes.</summary>
public static class Mp4Samples
{
    private static readonly Lazy<byte[]> SmallLazy = new(() => Make("testsrc=size=320x240:rate=5", 10, ""));
    private static readonly Lazy<byte[]> NoisyLazy = new(() => Make("testsrc=size=320x240:rate=10", 10, "-vf noise=alls=60:allf=t -preset ultrafast"));

    /// <summary>10 s, 5 fps, 320×240, 1 s fragments (the brief's command): ~30 KB.</summary>
    public static byte[] Small => SmallLazy.Value;

    /// <summary>10 s of noise at 10 fps, 320×240, 1 s fragments: a few MB (many chunks).</summary>
    public static byte[] Noisy => NoisyLazy.Value;

    /// <summary>Ends of the top-level boxes: the first is the end of ftyp+moov, then one per moof+mdat pair.</summary>
    public static List<int> FragmentEnds(byte[] mp4)
    {
        var ends = new List<int>();
        var at = 0;
        while (at + 8 <= mp4.Length)
        {
            long size = (uint)(mp4[at] << 24 | mp4[at + 1] << 16 | mp4[at + 2] << 8 | mp4[at + 3]);
            var type = Encoding.ASCII.GetString(mp4, at + 4, 4);
            if (size == 1)
            {
                size = BitConverter.ToInt64([.. mp4.AsSpan(at + 8, 8).ToArray().Reverse()]);
            }

            at += (int)size;
            if (type is "moov" or "mdat" or "mfra")
            {
                ends.Add(at);
            }
        }

        return ends;
    }

    /// <summary>Frames ffprobe decodes from <paramref name="path"/>; -1 when it cannot read it.</summary>
    public static int ProbeFrames(string path)
    {
        var psi = new ProcessStartInfo("ffprobe") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { "-v", "error", "-count_frames", "-select_streams", "v:0", "-show_entries", "stream=nb_read_frames", "-of", "csv=p=0", path })
        {
            psi.ArgumentList.Add(a);
        }

        using var p = Process.Start(psi)!;
        var output = p.StandardOutput.ReadToEnd();
        p.StandardError.ReadToEnd();
        p.WaitForExit();
        return p.ExitCode == 0 && int.TryParse(output.Trim(), out var n) ? n : -1;
    }

    private static byte[] Make(string source, int seconds, string extra)
    {
        var path = Path.Combine(Path.GetTempPath(), "st-upload-sample-" + Guid.NewGuid().ToString("N")[..8] + ".mp4");
        var args = $"-v error -y -f lavfi -i {source} -t {seconds} {extra} -c:v libx264 -pix_fmt yuv420p -movflags +frag_keyframe+empty_moov+default_base_moof -frag_duration 1000000 {path}";
        var psi = new ProcessStartInfo("ffmpeg") { RedirectStandardError = true };
        foreach (var a in args.Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            psi.ArgumentList.Add(a);
        }

        using var p = Process.Start(psi)!;
        var error = p.StandardError.ReadToEnd();
        p.WaitForExit();
        if (p.ExitCode != 0)
        {
            throw new InvalidOperationException($"ffmpeg failed ({p.ExitCode}): {error}");
        }

        var bytes = File.ReadAllBytes(path);
        File.Delete(path);
        return bytes;
    }
}

/// <summary>Writes a spool the way the recorder does (RecordingSpool's contract).</summary>
public sealed class SpoolWriter(string dataDir)
{
    public string DataDir { get; } = dataDir;

    public string SessionDirectory(string session) => RecordingSpool.SessionDirectory(DataDir, session);

    public void Session(string session, string json)
    {
        Directory.CreateDirectory(SessionDirectory(session));
        File.WriteAllText(Path.Combine(SessionDirectory(session), "session.json"), json);
    }

    public string VideoPath(string session, int index) => Path.Combine(SessionDirectory(session), RecordingSpool.SegmentFileName(index));

    public string MarkerPath(string session, int index) => Path.Combine(SessionDirectory(session), RecordingSpool.UploadedMarkerName(index));

    /// <summary>Appends bytes to the (open) segment's video, flushed.</summary>
    public void Append(string session, int index, ReadOnlySpan<byte> bytes)
    {
        Directory.CreateDirectory(SessionDirectory(session));
        using var file = new FileStream(VideoPath(session, index), FileMode.Append, FileAccess.Write, FileShare.ReadWrite);
        file.Write(bytes);
        file.Flush(flushToDisk: true);
    }

    /// <summary>Closes the segment: writes its sidecar (hash of the video on disk unless <paramref name="sha256"/> is given).</summary>
    public RecordingSegmentRecord Close(string session, int index, DateTimeOffset start, string? sha256 = null, string? previous = null)
    {
        var bytes = File.ReadAllBytes(VideoPath(session, index));
        var sidecar = new RecordingSegmentRecord
        {
            Time = start.AddSeconds(10),
            Host = "",
            Session = session,
            Index = index,
            Start = start,
            End = start.AddSeconds(10),
            Width = 320,
            Height = 240,
            Fps = 5,
            Codec = "h264",
            Bytes = bytes.Length,
            Sha256 = sha256 ?? Convert.ToHexStringLower(SHA256.HashData(bytes)),
            PreviousSha256 = previous,
            File = RecordingSpool.SegmentFileName(index),
            EndReason = "max-length",
        };
        File.WriteAllBytes(Path.Combine(SessionDirectory(session), RecordingSpool.SidecarFileName(index)), RecordingSpool.SerializeSidecar(sidecar));
        return sidecar;
    }

    /// <summary>A whole closed segment.</summary>
    public RecordingSegmentRecord Segment(string session, int index, byte[] video, DateTimeOffset start, string? sha256 = null)
    {
        Append(session, index, video);
        return Close(session, index, start, sha256);
    }
}

/// <summary>Keeps every log line as "Level message".</summary>
public sealed class ListLoggerProvider : Microsoft.Extensions.Logging.ILoggerProvider
{
    private readonly ConcurrentQueue<string> _messages = new();

    public IReadOnlyList<string> Messages => [.. _messages];

    public Microsoft.Extensions.Logging.ILogger CreateLogger(string categoryName) => new Logger(_messages);

    public void Dispose()
    {
    }

    private sealed class Logger(ConcurrentQueue<string> messages) : Microsoft.Extensions.Logging.ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(Microsoft.Extensions.Logging.LogLevel logLevel) => true;

        public void Log<TState>(Microsoft.Extensions.Logging.LogLevel logLevel, Microsoft.Extensions.Logging.EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            messages.Enqueue(logLevel + " " + formatter(state, exception));
    }
}
