using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Amazon.Runtime;
using Microsoft.Extensions.DependencyInjection;
using SessionTrail.Server.Recordings;

namespace SessionTrail.Server.Tests.Recordings;

/// <summary>What every <see cref="IRecordingStore"/> must do; run against the filesystem store and the S3 store (on a real s3rver).</summary>
public abstract class RecordingStoreContract : IAsyncLifetime
{
    private static readonly CancellationToken None = CancellationToken.None;

    protected IRecordingStore Store { get; private set; } = null!;

    protected abstract Task<IRecordingStore> CreateAsync();

    public async Task InitializeAsync() => Store = await CreateAsync();

    public virtual Task DisposeAsync()
    {
        (Store as IDisposable)?.Dispose();
        return Task.CompletedTask;
    }

    private async Task<byte[]> ReadAsync(string session, int index, long from, int count)
    {
        await using var stream = (await Store.OpenReadAsync(session, index, None))!;
        stream.Seek(from, SeekOrigin.Begin);
        var buffer = new byte[count];
        var total = 0;
        int read;
        while (total < count && (read = await stream.ReadAsync(buffer.AsMemory(total), None)) > 0)
        {
            total += read;
        }

        return buffer[..total];
    }

    [Fact]
    public async Task AppendsAtTheHeldOffsetCompleteAndReadBackAcrossChunks()
    {
        var bytes = Seg.Bytes(250_000, 1);
        Assert.Null(await Store.GetInfoAsync("s/1", 0, None));
        Assert.Null(await Store.OpenReadAsync("s/1", 0, None));

        Assert.Equal(100_000, await Store.AppendAsync("s/1", 0, 0, new MemoryStream(bytes, 0, 100_000), None));
        var wrong = await Assert.ThrowsAsync<UploadOffsetException>(() => Store.AppendAsync("s/1", 0, 50, new MemoryStream(bytes), None));
        Assert.Equal((100_000L, false), (wrong.Held, wrong.Complete));
        Assert.Equal(170_000, await Store.AppendAsync("s/1", 0, 100_000, new MemoryStream(bytes, 100_000, 70_000), None));

        var partial = (await Store.GetInfoAsync("s/1", 0, None))!;
        Assert.Equal((170_000L, false, (string?)null), (partial.Length, partial.Complete, partial.Sha256));
        Assert.Equal(bytes[99_990..100_010], await ReadAsync("s/1", 0, 99_990, 20)); // across the chunk boundary

        await Store.AppendAsync("s/1", 0, 170_000, new MemoryStream(bytes, 170_000, 80_000), None);
        var done = await Store.CompleteAsync("s/1", 0, bytes.Length, Seg.Sha(bytes), None);
        Assert.Equal((250_000L, true, Seg.Sha(bytes)), (done.Length, done.Complete, done.Sha256));
        Assert.Equal(Seg.Sha(bytes), await Store.ComputeSha256Async("s/1", 0, None));
        Assert.Equal(bytes, await ReadAsync("s/1", 0, 0, 300_000));
        Assert.Equal(bytes[^100..], await ReadAsync("s/1", 0, bytes.Length - 100, 100));

        var again = await Store.CompleteAsync("s/1", 0, bytes.Length, Seg.Sha(bytes), None); // idempotent
        Assert.True(again.Complete);
        var closed = await Assert.ThrowsAsync<UploadOffsetException>(() => Store.AppendAsync("s/1", 0, 250_000, new MemoryStream(new byte[1]), None));
        Assert.True(closed.Complete);
        await Assert.ThrowsAsync<UploadVerificationException>(() => Store.CompleteAsync("s/1", 0, bytes.Length, new string('0', 64), None));
    }

    [Fact]
    public async Task AWrongHashOrTooManyBytesDiscardTheUpload()
    {
        var bytes = Seg.Bytes(1000, 2);
        await Store.AppendAsync("s1", 3, 0, new MemoryStream(bytes), None);

        var error = await Assert.ThrowsAsync<UploadVerificationException>(() => Store.CompleteAsync("s1", 3, 1000, new string('a', 64), None));
        Assert.Contains("the upload was discarded", error.Message, StringComparison.Ordinal);
        Assert.Null(await Store.GetInfoAsync("s1", 3, None));

        await Store.AppendAsync("s1", 3, 0, new MemoryStream(bytes), None);
        await Assert.ThrowsAsync<UploadVerificationException>(() => Store.CompleteAsync("s1", 3, 999, Seg.Sha(bytes[..999]), None));
        Assert.Null(await Store.GetInfoAsync("s1", 3, None));
    }

    [Fact]
    public async Task AnEmptySegmentCompletesWithoutAnAppendAndReadsAsNothing()
    {
        var empty = Seg.Sha([]);

        var wrong = await Assert.ThrowsAsync<UploadVerificationException>(() => Store.CompleteAsync("s1", 4, 0, new string('a', 64), None));
        var done = await Store.CompleteAsync("s1", 4, 0, empty, None);
        var again = await Store.CompleteAsync("s1", 4, 0, empty, None);
        var info = (await Store.GetInfoAsync("s1", 4, None))!;
        await using var read = await Store.OpenReadAsync("s1", 4, None);

        Assert.Contains(empty, wrong.Message, StringComparison.Ordinal);
        Assert.Equal((0L, true, empty), (done.Length, done.Complete, done.Sha256));
        Assert.Equal((0L, true, empty), (again.Length, again.Complete, again.Sha256));
        Assert.Equal((0L, true, empty), (info.Length, info.Complete, info.Sha256));
        Assert.Equal(0, read!.Length);
        Assert.Equal(-1, read.ReadByte());
        Assert.Equal(empty, await Store.ComputeSha256Async("s1", 4, None));
        Assert.Equal([4], await Store.ListAsync("s1", None));
        var closed = await Assert.ThrowsAsync<UploadOffsetException>(() => Store.AppendAsync("s1", 4, 0, new MemoryStream(new byte[1]), None));
        Assert.True(closed.Complete);

        // An empty chunk first (what a client may PATCH for an empty file) changes nothing.
        Assert.Equal(0, await Store.AppendAsync("s1", 5, 0, new MemoryStream(), None));
        Assert.True((await Store.CompleteAsync("s1", 5, 0, empty, None)).Complete);
    }

    [Fact]
    public async Task RandomSeeksReadTheRightBytes()
    {
        var bytes = Seg.Bytes(50_000, 3);
        for (var offset = 0; offset < bytes.Length; offset += 7_000)
        {
            var length = Math.Min(7_000, bytes.Length - offset);
            await Store.AppendAsync("s1", 0, offset, new MemoryStream(bytes, offset, length), None);
        }

        var random = new Random(4);
        for (var i = 0; i < 30; i++)
        {
            var from = random.Next(bytes.Length);
            var count = random.Next(1, 20_000);
            Assert.Equal(bytes[from..Math.Min(bytes.Length, from + count)], await ReadAsync("s1", 0, from, count));
        }
    }

    [Fact]
    public async Task ListsIndexesAndDeletesASession()
    {
        foreach (var index in new[] { 2, 0, 11 })
        {
            await Store.AppendAsync("s1", index, 0, new MemoryStream(Seg.Bytes(100, index)), None);
        }

        await Store.CompleteAsync("s1", 2, 100, Seg.Sha(Seg.Bytes(100, 2)), None);
        await Store.AppendAsync("other", 0, 0, new MemoryStream(Seg.Bytes(10, 0)), None);

        Assert.Equal([0, 2, 11], await Store.ListAsync("s1", None));
        Assert.True(await Store.DeleteSessionAsync("s1", None) >= 300);
        Assert.Empty(await Store.ListAsync("s1", None));
        Assert.Null(await Store.GetInfoAsync("s1", 2, None));
        Assert.Equal([0], await Store.ListAsync("other", None));
    }
}

public sealed class FileSystemRecordingStoreContractTests : RecordingStoreContract, IDisposable
{
    private readonly TempDataDir dir = new();

    protected override Task<IRecordingStore> CreateAsync() => Task.FromResult<IRecordingStore>(new FileSystemRecordingStore(Path.Combine(dir.Path, "recordings")));

    public void Dispose() => dir.Dispose();
}

public sealed class S3RecordingStoreContractTests : RecordingStoreContract
{
    private S3rverServer? s3;

    protected override async Task<IRecordingStore> CreateAsync()
    {
        s3 = await S3rverServer.StartAsync("recordings");
        return RecordingStoreFactory.Create(
            new ServerOptions { DataDir = "/unused", RecordingsS3 = "recordings/prod/", RecordingsS3Endpoint = s3.Url },
            new BasicAWSCredentials(S3rverServer.AccessKey, S3rverServer.SecretKey));
    }

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        if (s3 is not null)
        {
            await s3.DisposeAsync();
        }
    }

    [Fact]
    public async Task ChunksAreObjectsInTheDocumentedLayout()
    {
        var bytes = Seg.Bytes(300, 5);
        await Store.AppendAsync("as2/ses", 1, 0, new MemoryStream(bytes, 0, 100), CancellationToken.None);
        await Store.AppendAsync("as2/ses", 1, 100, new MemoryStream(bytes, 100, 200), CancellationToken.None);
        await Store.CompleteAsync("as2/ses", 1, 300, Seg.Sha(bytes), CancellationToken.None);

        Assert.Equal(
            ["prod/as2%2Fses/000001.mp4.parts/000000000000000", "prod/as2%2Fses/000001.mp4.parts/000000000000100", "prod/as2%2Fses/000001.mp4.sha256"],
            await s3!.KeysAsync("recordings"));
        Assert.Equal(bytes[100..], await s3.GetAsync("recordings", "prod/as2%2Fses/000001.mp4.parts/000000000000100"));
    }
}

/// <summary>The whole read API over the S3 store: listing, Range, retention deleting the objects.</summary>
public sealed class S3RecordingsApiTests
{
    [Fact]
    public async Task ListingRangesAndRetentionWorkOverS3()
    {
        await using var s3 = await S3rverServer.StartAsync("rec");
        await using var s = await RecordingServer.StartOnS3Async(s3, "rec");
        var video = Seg.Bytes(20_000, 9);
        await s.PutChainAsync("s1", video, Seg.Bytes(500, 1));

        Assert.Equal("complete,complete", RecordingServer.States(await s.ListAsync("s1")));
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/v1/sessions/s1/recordings/0");
        request.Headers.TryAddWithoutValidation("Range", "bytes=9995-10004");
        using var response = await s.Client.SendAsync(request);
        Assert.Equal(HttpStatusCode.PartialContent, response.StatusCode);
        Assert.Equal(video[9995..10005], await response.Content.ReadAsByteArrayAsync()); // crosses the two chunks PutAsync made
        using var suffix = new HttpRequestMessage(HttpMethod.Get, "/api/v1/sessions/s1/recordings/0");
        suffix.Headers.TryAddWithoutValidation("Range", "bytes=-100");
        Assert.Equal(video[^100..], await (await s.Client.SendAsync(suffix)).Content.ReadAsByteArrayAsync());

        var manifest = await s.Client.GetStringAsync("/api/v1/sessions/s1/recordings/manifest");
        Assert.Contains("# chain: intact", manifest, StringComparison.Ordinal);
        var audit = (await s.Client.GetFromJsonAsync<JsonElement>("/api/v1/audit/access?session=s1"))!;
        Assert.Equal(3, audit.GetArrayLength());

        var catalog = s.Server.App.Services.GetRequiredService<RecordingCatalog>();
        var retention = new RecordingRetention(
            catalog,
            s.Bytes,
            s.Server.App.Services.GetRequiredService<RecordingInspector>(),
            new ServerOptions { DataDir = s.Server.DataDir, RecordingRetentionDays = 1 },
            new FixedClock(R.At(3 * 24 * 60)),
            Microsoft.Extensions.Logging.Abstractions.NullLogger<RecordingRetention>.Instance);
        Assert.Equal(["s1"], await retention.SweepAsync(CancellationToken.None));
        Assert.Empty(await s3.KeysAsync("rec"));
    }
}
