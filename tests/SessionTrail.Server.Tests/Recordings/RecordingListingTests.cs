using System.Net;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using SessionTrail.Core.Records;
using SessionTrail.Server.Recordings;

namespace SessionTrail.Server.Tests.Recordings;

/// <summary>GET /sessions/{session}/recordings: states, chain verification, manifest and its signature.</summary>
public sealed class RecordingListingTests
{
    private static readonly byte[][] Three = [Seg.Bytes(3000, 1), Seg.Bytes(2000, 2), Seg.Bytes(1000, 3)];

    private static string Problems(JsonElement listing) =>
        string.Join(" | ", listing.GetProperty("chain").GetProperty("problems").EnumerateArray().Select(p => p.GetString()));

    private static string Problem(JsonElement listing, int index) => listing.GetProperty("segments")[index].GetProperty("problem").GetString() ?? "";

    [Fact]
    public async Task AnIntactChainIsCompleteWithEveryFieldAndASignedManifest()
    {
        await using var s = await RecordingServer.StartAsync();
        var hashes = await s.PutChainAsync("as2/ses 1", Three);
        s.Ingest(Seg.Event("as2/ses 1", "ev1", RecordingEventTypes.Started, 0, "320x240"));

        var listing = await s.ListAsync("as2/ses 1");

        Assert.Equal("complete,complete,complete", RecordingServer.States(listing));
        Assert.True(listing.GetProperty("chain").GetProperty("ok").GetBoolean());
        Assert.Equal("as2/ses 1", listing.GetProperty("session").GetString());
        Assert.False(listing.GetProperty("hold").GetBoolean());
        var second = listing.GetProperty("segments")[1];
        Assert.Equal((1, 2000L, 2000L, hashes[1], hashes[0]), (second.GetProperty("index").GetInt32(), second.GetProperty("bytes").GetInt64(),
            second.GetProperty("uploadedBytes").GetInt64(), second.GetProperty("sha256").GetString(), second.GetProperty("prevSha256").GetString()));
        Assert.Equal((R.Iso(5), R.Iso(10), 320, 240, 5, "h264", "max-length"), (second.GetProperty("start").GetString(), second.GetProperty("end").GetString(),
            second.GetProperty("width").GetInt32(), second.GetProperty("height").GetInt32(), second.GetProperty("fps").GetInt32(), second.GetProperty("codec").GetString(),
            second.GetProperty("endReason").GetString()));
        Assert.Equal("/api/v1/sessions/as2%2Fses%201/recordings/1", second.GetProperty("url").GetString());
        Assert.Equal("started", listing.GetProperty("events")[0].GetProperty("type").GetString());

        var manifestUrl = listing.GetProperty("manifestUrl").GetString()!;
        var manifest = await s.Client.GetStringAsync(manifestUrl);
        var signature = await s.Client.GetStringAsync(manifestUrl + ".sig");
        var publicKey = await s.Client.GetStringAsync("/api/v1/recordings/public-key");
        Assert.Equal(
            [(hashes[0], "000000.mp4"), (hashes[1], "000001.mp4"), (hashes[2], "000002.mp4")],
            RecordingManifest.Entries(manifest));
        Assert.Contains("# chain: intact\n", manifest, StringComparison.Ordinal);
        Assert.Contains("# session: \"as2/ses 1\"\n", manifest, StringComparison.Ordinal);
        Assert.True(RecordingSigner.Verify(Encoding.UTF8.GetBytes(manifest), signature, publicKey));
        Assert.False(RecordingSigner.Verify(Encoding.UTF8.GetBytes(manifest.Replace("000002", "000003", StringComparison.Ordinal)), signature, publicKey));
    }

    [Fact]
    public async Task AMissingSegmentIsNamed()
    {
        await using var s = await RecordingServer.StartAsync();
        var hashes = await s.PutChainAsync("s1", Three[0]);
        await s.PutAsync("s1", 2, Three[2]);
        s.Ingest(Seg.Record("s1", 2, Three[2], Seg.Sha(Three[1])));

        var listing = await s.ListAsync("s1");

        Assert.Equal("complete,missing,complete", RecordingServer.States(listing));
        Assert.False(listing.GetProperty("chain").GetProperty("ok").GetBoolean());
        Assert.Equal("segment 1: missing: no record and no bytes for index 1, but later segments exist or the agent reported more", Problems(listing));
        Assert.Contains("# chain: broken (1 problems)", await s.Client.GetStringAsync(listing.GetProperty("manifestUrl").GetString()), StringComparison.Ordinal);
        _ = hashes;
    }

    [Fact]
    public async Task AMissingLastSegmentShowsWhenTheStoppedEventCountsIt()
    {
        await using var s = await RecordingServer.StartAsync();
        await s.PutChainAsync("s1", Three[0], Three[1]);
        Assert.True((await s.ListAsync("s1")).GetProperty("chain").GetProperty("ok").GetBoolean(), "two segments, nothing says there are more");

        // The agent's stopped event says the recording has 3 segments: the last one never arrived.
        s.Ingest(new SessionTrail.Core.Records.RecordingEventRecord
        {
            Id = "stop-1", Time = DateTimeOffset.UtcNow, Host = "h1", Session = "s1", Type = "stopped", Message = "recording stopped (session-end)", Segments = 3,
        });
        var listing = await s.ListAsync("s1");

        Assert.Equal("complete,complete,missing", RecordingServer.States(listing));
        Assert.False(listing.GetProperty("chain").GetProperty("ok").GetBoolean());
        Assert.Equal("segment 2: missing: no record and no bytes for index 2, but later segments exist or the agent reported more", Problems(listing));
        Assert.Equal(3, listing.GetProperty("events").EnumerateArray().Single(e => e.GetProperty("type").GetString() == "stopped").GetProperty("segments").GetInt32());
    }

    [Fact]
    public async Task ReorderedBytesAreAlteredAndSayWhoseBytesTheyAre()
    {
        await using var s = await RecordingServer.StartAsync();
        await s.PutChainAsync("s1", Three);
        var one = s.SegmentPath("s1", 1);
        var two = s.SegmentPath("s1", 2);
        File.Move(one, one + ".x");
        File.Move(two, one);
        File.Move(one + ".x", two);

        var listing = await s.ListAsync("s1");

        Assert.Equal("complete,altered,altered", RecordingServer.States(listing));
        Assert.EndsWith("— they are segment 2's bytes (reordered)", Problem(listing, 1), StringComparison.Ordinal);
        Assert.EndsWith("— they are segment 1's bytes (reordered)", Problem(listing, 2), StringComparison.Ordinal);
    }

    [Fact]
    public async Task BytesAlteredAtRestAreDetectedAndTheHashIsCachedUntilTheyChange()
    {
        await using var s = await RecordingServer.StartAsync();
        var hashes = await s.PutChainAsync("s1", Three);
        var inspector = s.Server.App.Services.GetRequiredService<RecordingInspector>();

        Assert.Equal("complete,complete,complete", RecordingServer.States(await s.ListAsync("s1")));
        var computed = inspector.HashesComputed;
        Assert.Equal("complete,complete,complete", RecordingServer.States(await s.ListAsync("s1")));
        Assert.Equal(computed, inspector.HashesComputed); // nothing changed: no bytes read again

        var path = s.SegmentPath("s1", 1);
        var bytes = File.ReadAllBytes(path);
        bytes[1000] ^= 0xFF;
        File.WriteAllBytes(path, bytes); // same length, new mtime
        File.SetLastWriteTimeUtc(path, DateTime.UtcNow.AddSeconds(5));

        var listing = await s.ListAsync("s1");

        Assert.Equal("complete,altered,complete", RecordingServer.States(listing));
        Assert.Equal(computed + 1, inspector.HashesComputed);
        Assert.Equal($"stored bytes (2000 bytes, sha256 {Seg.Sha(bytes)}) are not the record's (2000 bytes, sha256 {hashes[1]})", Problem(listing, 1));
        Assert.Contains("segment 1: altered:", Problems(listing), StringComparison.Ordinal);
    }

    [Fact]
    public async Task RehashRecomputesEvenWhenLengthAndMtimeAreKept()
    {
        await using var s = await RecordingServer.StartAsync();
        await s.PutChainAsync("s1", Three);
        Assert.Equal("complete,complete,complete", RecordingServer.States(await s.ListAsync("s1")));
        var path = s.SegmentPath("s1", 0);
        var mtime = File.GetLastWriteTimeUtc(path);
        var bytes = File.ReadAllBytes(path);
        bytes[0] ^= 1;
        File.WriteAllBytes(path, bytes);
        File.SetLastWriteTimeUtc(path, mtime);

        Assert.Equal("complete,complete,complete", RecordingServer.States(await s.ListAsync("s1")));
        Assert.Equal("altered,complete,complete", RecordingServer.States(await s.ListAsync("s1", "?rehash=true")));
    }

    [Fact]
    public async Task ABrokenChainLinkIsNamed()
    {
        await using var s = await RecordingServer.StartAsync();
        await s.PutChainAsync("s1", Three[0], Three[1]);
        await s.PutAsync("s1", 2, Three[2]);
        var wrong = new string('0', 64);
        s.Ingest(Seg.Record("s1", 2, Three[2], wrong));

        var listing = await s.ListAsync("s1");

        Assert.Equal("complete,complete,chain-broken", RecordingServer.States(listing));
        Assert.Equal($"prevSha256 {wrong} is not segment 1's sha256 {Seg.Sha(Three[1])}", Problem(listing, 2));
        Assert.False(listing.GetProperty("chain").GetProperty("ok").GetBoolean());
    }

    [Fact]
    public async Task AConflictingSecondRecordIsShownAndTheFirstStays()
    {
        await using var s = await RecordingServer.StartAsync();
        var hashes = await s.PutChainAsync("s1", Three[0], Three[1]);
        var forged = Seg.Record("s1", 1, Seg.Bytes(2000, 99), hashes[0], id: "rec:s1:1:forged");
        s.Ingest(forged);

        var listing = await s.ListAsync("s1");

        var segment = listing.GetProperty("segments")[1];
        Assert.Equal(hashes[1], segment.GetProperty("sha256").GetString());
        Assert.Equal("complete", segment.GetProperty("state").GetString());
        Assert.Equal(forged.Sha256, segment.GetProperty("conflicts")[0].GetProperty("sha256").GetString());
        Assert.Equal($"conflicting records: record rec:s1:1:forged claims sha256 {forged.Sha256}", Problem(listing, 1));
        Assert.False(listing.GetProperty("chain").GetProperty("ok").GetBoolean());
    }

    [Fact]
    public async Task UploadingAwaitingBytesAndAwaitingRecordAreTold()
    {
        await using var s = await RecordingServer.StartAsync();
        await s.PutChainAsync("s1", Three[0]);
        s.Ingest(Seg.Record("s1", 1, Three[1], Seg.Sha(Three[0]))); // record, no bytes
        await s.PutAsync("s1", 2, Three[2]); // bytes, no record
        await s.Bytes.AppendAsync("s1", 3, 0, new MemoryStream(new byte[100]), CancellationToken.None); // live

        var listing = await s.ListAsync("s1");

        Assert.Equal("complete,awaiting-bytes,awaiting-record,uploading", RecordingServer.States(listing));
        Assert.Equal(100, listing.GetProperty("segments")[3].GetProperty("uploadedBytes").GetInt64());
        Assert.True(listing.GetProperty("chain").GetProperty("ok").GetBoolean());
        var manifest = await s.Client.GetStringAsync(listing.GetProperty("manifestUrl").GetString());
        Assert.Single(RecordingManifest.Entries(manifest));
    }

    [Fact]
    public async Task AnUnknownSessionIs404AndABadOneIs400()
    {
        await using var s = await RecordingServer.StartAsync();

        Assert.Equal(HttpStatusCode.NotFound, (await s.Client.GetAsync("/api/v1/sessions/nope/recordings")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await s.Client.GetAsync("/api/v1/sessions/nope/recordings/manifest")).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await s.Client.GetAsync("/api/v1/sessions/a%01b/recordings")).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await s.Client.GetAsync("/api/v1/sessions/s/recordings/-1")).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await s.Client.GetAsync("/api/v1/sessions/s/recordings/1000000")).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await s.Client.GetAsync("/api/v1/sessions/s/recordings/0?purpose=steal")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await s.Server.Anonymous.GetAsync("/api/v1/recordings/public-key")).StatusCode);
    }

    [Fact]
    public void TheSigningKeyIsCreatedPrivateOnceAndKeptAcrossRestarts()
    {
        using var dir = new TempDataDir();
        string first;
        using (var signer = RecordingSigner.LoadOrCreate(dir.Path))
        {
            first = signer.PublicKeyPem;
            Assert.StartsWith("-----BEGIN PUBLIC KEY-----", first, StringComparison.Ordinal);
            if (!OperatingSystem.IsWindows())
            {
                Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(signer.KeyPath));
                Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(Path.GetDirectoryName(signer.KeyPath)!));
            }
        }

        using (var again = RecordingSigner.LoadOrCreate(dir.Path))
        {
            Assert.Equal(first, again.PublicKeyPem);
            var data = Encoding.UTF8.GetBytes("x");
            Assert.True(RecordingSigner.Verify(data, again.Sign(data), first));
        }

        File.WriteAllText(Path.Combine(dir.Path, "server-keys", RecordingSigner.KeyFileName), "not a key");
        var error = Assert.Throws<InvalidOperationException>(() => RecordingSigner.LoadOrCreate(dir.Path));
        Assert.Contains("recording-signing.pem: not a PEM EC private key", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TheSignatureVerifiesWithOpenssl()
    {
        using var dir = new TempDataDir();
        using var signer = RecordingSigner.LoadOrCreate(dir.Path);
        var data = Encoding.UTF8.GetBytes("abc  000000.mp4\n");
        File.WriteAllBytes(Path.Combine(dir.Path, "m"), data);
        File.WriteAllBytes(Path.Combine(dir.Path, "sig"), Convert.FromBase64String(signer.Sign(data)));
        File.WriteAllText(Path.Combine(dir.Path, "pub.pem"), signer.PublicKeyPem);

        using var openssl = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("openssl", ["dgst", "-sha256", "-verify", "pub.pem", "-signature", "sig", "m"])
        {
            WorkingDirectory = dir.Path,
            RedirectStandardOutput = true,
        })!;
        var output = await openssl.StandardOutput.ReadToEndAsync();
        await openssl.WaitForExitAsync();

        Assert.Equal("Verified OK", output.Trim());
    }
}
