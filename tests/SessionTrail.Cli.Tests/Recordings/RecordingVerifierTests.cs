using System.Diagnostics;
using System.Security.Cryptography;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using SessionTrail.Cli.Recordings;
using SessionTrail.Core.Records;
using SessionTrail.Server;
using SessionTrail.Server.Auth;
using SessionTrail.Server.Recordings;
using SessionTrail.Server.Store;
using SessionTrail.TestKit;

namespace SessionTrail.Cli.Tests.Recordings;

/// <summary>`recordings verify|export` against a real in-process server holding segments put through its store.</summary>
public sealed class RecordingVerifierTests : IAsyncLifetime, IDisposable
{
    private readonly string outDir = Directory.CreateTempSubdirectory("st-rec-out-").FullName;
    private RunningServer? server;
    private RecordingsClient? client;

    private static readonly DateTimeOffset T0 = new(2026, 11, 1, 8, 0, 0, TimeSpan.Zero);

    private WebApplication App => server!.App;

    private string Dir => server!.DataDir;

    public async Task InitializeAsync()
    {
        server = await RunningServer.StartAsync();
        var token = App.Services.GetRequiredService<TokenStore>().Create("auditor-1");
        client = new RecordingsClient(ServerApp.Addresses(App)[0], token);
    }

    public async Task DisposeAsync()
    {
        client?.Dispose();
        if (server is not null)
        {
            await server.DisposeAsync();
        }

        Directory.Delete(outDir, recursive: true);
    }

    public void Dispose() => client?.Dispose();

    private RecordingsClient Client => client!;

    private IRecordingStore Bytes => App.Services.GetRequiredService<IRecordingStore>();

    private static byte[] Random(int length, int seed)
    {
        var bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    private static string Sha(byte[] bytes) => Convert.ToHexStringLower(SHA256.HashData(bytes));

    private static RecordingSegmentRecord Record(string session, int index, byte[] bytes, string? previous, int width = 320) => new()
    {
        Id = $"rec:{session}:{index}",
        Time = T0.AddMinutes(index + 1),
        Host = "h1",
        Session = session,
        Index = index,
        Start = T0.AddMinutes(index),
        End = T0.AddMinutes(index + 1),
        Width = width,
        Height = 240,
        Fps = 5,
        Codec = "h264",
        Bytes = bytes.Length,
        Sha256 = Sha(bytes),
        PreviousSha256 = previous,
        File = $"{index:D6}.mp4",
    };

    private async Task PutBytesAsync(string session, int index, byte[] bytes)
    {
        await Bytes.AppendAsync(session, index, 0, new MemoryStream(bytes), CancellationToken.None);
        await Bytes.CompleteAsync(session, index, bytes.Length, Sha(bytes), CancellationToken.None);
    }

    private void Ingest(params TrailRecord[] records) => App.Services.GetRequiredService<SqliteStore>().Ingest(records);

    private async Task PutChainAsync(string session, params byte[][] contents)
    {
        string? previous = null;
        for (var i = 0; i < contents.Length; i++)
        {
            await PutBytesAsync(session, i, contents[i]);
            Ingest(Record(session, i, contents[i], previous));
            previous = Sha(contents[i]);
        }
    }

    private string SegmentPath(string session, int index) =>
        Path.Combine(Dir, "recordings", FileSystemRecordingStore.SessionDirectoryName(session), $"{index:D6}.mp4");

    private Task<VerifyResult> VerifyAsync(string session, string? key = null, string? into = null) =>
        new RecordingVerifier(Client).RunAsync(session, key, into, CancellationToken.None);

    [Fact]
    public async Task AnIntactRecordingVerifiesAndExportsAFolderThatSha256sumAndOpensslAccept()
    {
        await PutChainAsync("s/1", Random(5000, 1), Random(3000, 2), Random(100, 3));

        var verified = await VerifyAsync("s/1");
        Assert.Empty(verified.Problems);
        Assert.Equal(3, verified.Segments);

        var exported = await VerifyAsync("s/1", into: outDir);
        Assert.Empty(exported.Problems);
        Assert.Equal(
            new[] { "000000.mp4", "000001.mp4", "000002.mp4", RecordingVerifier.ManifestFile, RecordingVerifier.SignatureFile, RecordingVerifier.PublicKeyFile, RecordingVerifier.ListingFile }.Order(StringComparer.Ordinal),
            Directory.GetFiles(outDir).Select(f => Path.GetFileName(f)).Order(StringComparer.Ordinal));
        Assert.Contains("000001.mp4: OK", await RunAsync("sha256sum", outDir, "-c", RecordingVerifier.ManifestFile), StringComparison.Ordinal);
        File.WriteAllBytes(Path.Combine(outDir, "sig.der"), Convert.FromBase64String(File.ReadAllText(Path.Combine(outDir, RecordingVerifier.SignatureFile))));
        Assert.Equal("Verified OK", (await RunAsync("openssl", outDir, "dgst", "-sha256", "-verify", RecordingVerifier.PublicKeyFile, "-signature", "sig.der", RecordingVerifier.ManifestFile)).Trim());
        Assert.Empty((await RecordingVerifier.VerifyExportAsync(outDir, null, CancellationToken.None)).Problems);

        // Every download went through the audited endpoint, with who.
        var audit = App.Services.GetRequiredService<RecordingCatalog>().QueryAudit(new AuditQuery("s/1", null, null, null, null, null, 100));
        Assert.Equal(3, audit.Count(a => a.Action == AuditActions.Download));
        Assert.Equal(3, audit.Count(a => a.Action == AuditActions.Export));
        Assert.All(audit, a => Assert.Equal("auditor-1", a.Who));
    }

    [Fact]
    public async Task TheVerifyCommandExitsZeroWhenVerifiedAndOneNamingEachProblem()
    {
        await PutChainAsync("s1", Random(500, 1), Random(500, 2));
        var url = ServerApp.Addresses(App)[0];
        var token = App.Services.GetRequiredService<TokenStore>().Create("cli");
        var key = Path.Combine(outDir, "pinned.pem");
        File.WriteAllText(key, App.Services.GetRequiredService<RecordingSigner>().PublicKeyPem);

        var (ok, okOutput) = await RunCliAsync("recordings", "verify", "s1", "--public-key", key, "--server", url, "--token", token);
        Assert.True(ok == 0, okOutput);
        Assert.StartsWith("verified: 2 segments, chain intact, manifest signature valid (key ", okOutput, StringComparison.Ordinal);
        Assert.Contains(", pinned)", okOutput, StringComparison.Ordinal);

        var path = SegmentPath("s1", 0);
        var bytes = File.ReadAllBytes(path);
        bytes[^1] ^= 1;
        File.WriteAllBytes(path, bytes);
        var (bad, badOutput) = await RunCliAsync("recordings", "verify", "s1", "--server", url, "--token", token);
        Assert.Equal(1, bad);
        Assert.Contains("segment 0: altered: stored bytes (500 bytes, sha256 " + Sha(bytes), badOutput, StringComparison.Ordinal);
        Assert.Contains("NOT verified: 3 problem(s) in 2 segments", badOutput, StringComparison.Ordinal);

        var (unknown, unknownOutput) = await RunCliAsync("recordings", "verify", "nobody", "--server", url, "--token", token);
        Assert.Equal((1, "sessiontrail recordings verify: the server has no recording of session 'nobody'"), (unknown, unknownOutput.Trim()));
        var (noServer, noServerOutput) = await RunCliAsync("recordings", "hold", "s1");
        Assert.Equal(1, noServer);
        Assert.Contains("--server URL is required", noServerOutput, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AMissingSegmentIsNamed()
    {
        var a = Random(100, 1);
        var c = Random(100, 3);
        await PutChainAsync("s1", a);
        await PutBytesAsync("s1", 2, c);
        Ingest(Record("s1", 2, c, Sha(Random(100, 2))));

        var result = await VerifyAsync("s1");

        Assert.Contains("segment 1: missing: no record and no bytes for index 1, but later segments exist or the agent reported more", result.Problems);
    }

    [Fact]
    public async Task AlteredBytesAreNamedByTheServerAndByTheDownload()
    {
        var b = Random(300, 2);
        await PutChainAsync("s1", Random(300, 1), b);
        var path = SegmentPath("s1", 1);
        var changed = File.ReadAllBytes(path);
        changed[10] ^= 0x40;
        File.WriteAllBytes(path, changed);

        var result = await VerifyAsync("s1");

        Assert.Contains(result.Problems, p => p.StartsWith("segment 1: altered: stored bytes", StringComparison.Ordinal));
        Assert.Contains($"segment 1: downloaded bytes (300 bytes) have sha256 {Sha(changed)}, the record says {Sha(b)}", result.Problems);
        Assert.Contains($"segment 1: downloaded sha256 {Sha(changed)} is not the signed manifest's {Sha(b)}", result.Problems);
    }

    [Fact]
    public async Task ReorderedSegmentsAreNamed()
    {
        await PutChainAsync("s1", Random(200, 1), Random(200, 2), Random(200, 3));
        var one = SegmentPath("s1", 1);
        var two = SegmentPath("s1", 2);
        var bytesOne = File.ReadAllBytes(one);
        File.Copy(two, one, overwrite: true);
        File.WriteAllBytes(two, bytesOne);

        var result = await VerifyAsync("s1");

        Assert.Contains(result.Problems, p => p.StartsWith("segment 1: altered:", StringComparison.Ordinal) && p.EndsWith("they are segment 2's bytes (reordered)", StringComparison.Ordinal));
        Assert.Contains(result.Problems, p => p.StartsWith("segment 2: altered:", StringComparison.Ordinal) && p.EndsWith("they are segment 1's bytes (reordered)", StringComparison.Ordinal));
    }

    [Fact]
    public async Task ABrokenChainIsNamed()
    {
        var a = Random(100, 1);
        var b = Random(100, 2);
        await PutChainAsync("s1", a);
        await PutBytesAsync("s1", 1, b);
        Ingest(Record("s1", 1, b, Sha(Random(100, 9))));

        var result = await VerifyAsync("s1");

        Assert.Contains(result.Problems, p => p.StartsWith("segment 1: chain-broken:", StringComparison.Ordinal));
        Assert.Contains($"segment 1: chain broken: prevSha256 {Sha(Random(100, 9))} is not segment 0's sha256 {Sha(a)}", result.Problems);
    }

    [Fact]
    public async Task AnExportWhoseFileChangedAfterSigningFailsOfflineVerification()
    {
        await PutChainAsync("s1", Random(400, 1), Random(400, 2));
        Assert.Empty((await VerifyAsync("s1", into: outDir)).Problems);
        var file = Path.Combine(outDir, "000001.mp4");
        var bytes = File.ReadAllBytes(file);
        bytes[0] ^= 1;
        File.WriteAllBytes(file, bytes);

        var result = await RecordingVerifier.VerifyExportAsync(outDir, null, CancellationToken.None);

        Assert.Equal([$"000001.mp4: sha256 {Sha(bytes)} is not the signed manifest's {Sha(Random(400, 2))}"], result.Problems);

        // Editing the manifest to match breaks its signature.
        var manifest = Path.Combine(outDir, RecordingVerifier.ManifestFile);
        File.WriteAllText(manifest, File.ReadAllText(manifest).Replace(Sha(Random(400, 2)), Sha(bytes), StringComparison.Ordinal));
        var forged = await RecordingVerifier.VerifyExportAsync(outDir, null, CancellationToken.None);
        Assert.Equal([$"{RecordingVerifier.ManifestFile}: the signature is not valid for the public key {forged.KeyFingerprint}"], forged.Problems);
    }

    [Fact]
    public async Task APinnedKeyOtherThanTheServersFailsTheSignature()
    {
        await PutChainAsync("s1", Random(100, 1));
        using var other = ECDsa.Create(ECCurve.NamedCurves.nistP256);

        var result = await VerifyAsync("s1", other.ExportSubjectPublicKeyInfoPem());

        Assert.Equal([$"manifest: the signature is not valid for the public key {RecordingVerifier.Fingerprint(other.ExportSubjectPublicKeyInfoPem())} (pinned)"], result.Problems);
        var pinnedRight = await VerifyAsync("s1", App.Services.GetRequiredService<RecordingSigner>().PublicKeyPem);
        Assert.Empty(pinnedRight.Problems);
    }

    [Fact]
    public async Task AnUnknownSessionIsAClearError()
    {
        var error = await Assert.ThrowsAsync<ArgumentException>(() => VerifyAsync("nobody"));
        Assert.Equal("the server has no recording of session 'nobody'", error.Message);
    }

    [Fact]
    public async Task RealSegmentsOfOneGeometryJoinIntoOneMp4AndMixedOnesAreRefusedWithTheReason()
    {
        var first = await Mp4Async("testsrc", 320, 240, 2);
        var second = await Mp4Async("smptebars", 320, 240, 3);
        await PutChainAsync("s1", first, second);
        var result = await VerifyAsync("s1", into: outDir);
        Assert.Empty(result.Problems);
        Assert.Null(RecordingVerifier.WhyNotSingle(result.Listing));

        var (code, output) = await RunCliAsync("recordings", "export", "s1", "--out", outDir, "--single", "--server", ServerApp.Addresses(App)[0], "--token",
            App.Services.GetRequiredService<TokenStore>().Create("cli"));
        Assert.True(code == 0, output);
        var probe = await RunAsync("ffprobe", outDir, "-v", "error", "-show_entries", "format=duration:stream=width,height", "-of", "csv=p=0", "recording.mp4");
        Assert.Contains("320,240", probe, StringComparison.Ordinal);
        Assert.InRange(double.Parse(probe.Split('\n', StringSplitOptions.RemoveEmptyEntries).Last(), System.Globalization.CultureInfo.InvariantCulture), 4.5, 5.5);

        var wide = await Mp4Async("testsrc", 640, 240, 1);
        await PutBytesAsync("s1", 2, wide);
        Ingest(Record("s1", 2, wide, Sha(second), width: 640));
        var mixed = await VerifyAsync("s1");
        Assert.Equal("the segments have 2 geometries/codecs (320x240 h264, 640x240 h264); stream copy needs one — keep the segments, or re-encode", RecordingVerifier.WhyNotSingle(mixed.Listing));
    }

    [Fact]
    public async Task AnEmptySegmentVerifiesIsNamedAsEmptyAndIsLeftOutOfTheJoinedMp4()
    {
        var first = await Mp4Async("testsrc", 320, 240, 2);
        var third = await Mp4Async("smptebars", 320, 240, 2);
        await PutChainAsync("s-e", first, [], third); // segment 1: closed by a crash before ffmpeg wrote a byte
        var url = ServerApp.Addresses(App)[0];
        var token = App.Services.GetRequiredService<TokenStore>().Create("cli");

        var verified = await VerifyAsync("s-e");
        var (code, output) = await RunCliAsync("recordings", "export", "s-e", "--out", outDir, "--single", "--server", url, "--token", token);
        var offline = await RecordingVerifier.VerifyExportAsync(outDir, null, CancellationToken.None);
        var listing = new StringWriter();
        Commands.RecordingsCommand.Render(verified.Listing, json: false, listing);

        Assert.Empty(verified.Problems);
        Assert.Equal(["segment 1: " + SegmentNotes.Empty], verified.Notes);
        Assert.True(code == 0, output);
        Assert.Contains("note: segment 1: empty: 0 bytes, no video", output, StringComparison.Ordinal);
        Assert.Contains("exported to " + outDir + ": 3 segments, chain intact", output, StringComparison.Ordinal);
        Assert.Equal(0, new FileInfo(Path.Combine(outDir, "000001.mp4")).Length);
        Assert.Contains("000001.mp4: OK", await RunAsync("sha256sum", outDir, "-c", RecordingVerifier.ManifestFile), StringComparison.Ordinal);
        Assert.Empty(offline.Problems);
        Assert.Equal(["000001.mp4: " + SegmentNotes.Empty], offline.Notes);
        Assert.Contains("empty: 0 bytes, no video", listing.ToString(), StringComparison.Ordinal);
        Assert.Contains("chain: intact", listing.ToString(), StringComparison.Ordinal);
        var probe = await RunAsync("ffprobe", outDir, "-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0", "recording.mp4");
        Assert.InRange(double.Parse(probe.Trim(), System.Globalization.CultureInfo.InvariantCulture), 3.5, 4.5); // the two segments with video
    }

    [Fact]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public async Task AnFfmpegThatCannotBeStartedLeavesTheExportAndSaysWhyInOneLine()
    {
        var first = await Mp4Async("testsrc", 320, 240, 1);
        await PutChainAsync("s-x", first);
        var bin = Path.Combine(outDir, "..", "fake-bin-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(bin);
        var fake = Path.Combine(bin, "ffmpeg");
        await File.WriteAllTextAsync(fake, "not a program");
        File.SetUnixFileMode(fake, UnixFileMode.UserRead | UnixFileMode.UserWrite); // on PATH, but not executable
        var token = App.Services.GetRequiredService<TokenStore>().Create("cli");

        var (code, output) = await RunCliAsync(new Dictionary<string, string> { ["PATH"] = bin + Path.PathSeparator + Environment.GetEnvironmentVariable("PATH") },
            "recordings", "export", "s-x", "--out", outDir, "--single", "--server", ServerApp.Addresses(App)[0], "--token", token);

        Assert.Equal(1, code);
        Assert.Contains($"--single: not joined: {fake} could not be started", output, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", output, StringComparison.Ordinal); // no stack trace
        Assert.Equal(first.Length, new FileInfo(Path.Combine(outDir, "000000.mp4")).Length);
        Assert.False(File.Exists(Path.Combine(outDir, "concat.txt")));
    }

    [Fact]
    public async Task TheListingTableNamesStatesAndProblems()
    {
        await PutChainAsync("s1", Random(100, 1));
        await PutBytesAsync("s1", 2, Random(50, 3));
        var listing = (await Client.ListAsync("s1", CancellationToken.None))!.Value;
        using var output = new StringWriter();

        Commands.RecordingsCommand.Render(listing, json: false, output);

        var text = output.ToString();
        Assert.Contains("missing", text, StringComparison.Ordinal);
        Assert.Contains("awaiting-record", text, StringComparison.Ordinal);
        Assert.Contains("chain: BROKEN", text, StringComparison.Ordinal);
        Assert.Contains("segment 1: missing: no record and no bytes for index 1", text, StringComparison.Ordinal);

        var local = await Commands.RecordingsCommand.LocalListingAsync(Dir, "s1", CancellationToken.None);
        Assert.Equal(
            string.Join(",", listing.GetProperty("segments").EnumerateArray().Select(s => s.GetProperty("state").GetString())),
            string.Join(",", local.GetProperty("segments").EnumerateArray().Select(s => s.GetProperty("state").GetString())));
    }

    private async Task<byte[]> Mp4Async(string source, int width, int height, int seconds)
    {
        var path = Path.Combine(Dir, $"{source}-{width}-{seconds}.mp4");
        await RunAsync("ffmpeg", Dir, "-v", "error", "-y", "-f", "lavfi", "-i", $"{source}=size={width}x{height}:rate=5", "-t", seconds.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "-c:v", "libx264", "-pix_fmt", "yuv420p", "-movflags", "+frag_keyframe+empty_moov+default_base_moof", path);
        return File.ReadAllBytes(path);
    }

    private static async Task<string> RunAsync(string file, string workingDirectory, params string[] args)
    {
        using var process = Process.Start(new ProcessStartInfo(file, args) { WorkingDirectory = workingDirectory, RedirectStandardOutput = true, RedirectStandardError = true })!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        Assert.True(process.ExitCode == 0, $"{file} exited {process.ExitCode}: {error}");
        return await output;
    }

    /// <summary>Runs the real `sessiontrail` executable built next to the tests.</summary>
    internal static Task<(int Code, string Output)> RunCliAsync(params string[] args) => RunCliAsync(new Dictionary<string, string>(), args);

    internal static async Task<(int Code, string Output)> RunCliAsync(Dictionary<string, string> environment, params string[] args)
    {
        var exe = Path.Combine(AppContext.BaseDirectory, "sessiontrail");
        var start = File.Exists(exe) ? new ProcessStartInfo(exe, args) : new ProcessStartInfo("dotnet", [Path.Combine(AppContext.BaseDirectory, "sessiontrail.dll"), .. args]);
        foreach (var (name, value) in environment)
        {
            start.Environment[name] = value;
        }

        start.RedirectStandardOutput = true;
        start.RedirectStandardError = true;
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return (process.ExitCode, await output + error);
    }
}
