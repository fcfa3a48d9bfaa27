using System.Net;
using SessionTrail.Server.Recordings;

namespace SessionTrail.Server.Tests.Recordings;

/// <summary>
/// A 0-byte segment (a crash can leave one) over the real upload and read API, on the filesystem store and on
/// the S3 store (a real s3rver): it completes without a chunk, is listed as empty, chains, is in the manifest
/// and downloads as 0 bytes.
/// </summary>
public sealed class EmptySegmentTests
{
    /// <summary>SHA-256 of nothing.</summary>
    private const string EmptySha = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

    [Fact]
    public async Task AnEmptySegmentCompletesIsListedAsEmptyAndVerifiesOnTheFileSystemStore()
    {
        await using var s = await RecordingServer.StartAsync();

        await EmptySegmentRoundTripAsync(s);
    }

    [Fact]
    public async Task AnEmptySegmentCompletesIsListedAsEmptyAndVerifiesOnTheS3Store()
    {
        await using var s3 = await S3rverServer.StartAsync("rec-empty");
        await using var s = await RecordingServer.StartOnS3Async(s3, "rec-empty/p");

        await EmptySegmentRoundTripAsync(s);
        Assert.Contains("p/empty-1/000000.mp4.sha256", await s3.KeysAsync("rec-empty"));
    }

    /// <summary>Segment 0 empty, segment 1 with bytes chained to it, segment 2 empty with a wrong hash.</summary>
    private static async Task EmptySegmentRoundTripAsync(RecordingServer s)
    {
        var before = await UploadApiTests.Json(await s.Client.GetAsync(UploadApiTests.Url("empty-1", 0)));
        var complete = await UploadApiTests.CompleteAsync(s.Client, UploadApiTests.Url("empty-1", 0, "complete"), 0, EmptySha);
        var completeBody = await complete.Content.ReadAsStringAsync();
        var again = await UploadApiTests.CompleteAsync(s.Client, UploadApiTests.Url("empty-1", 0, "complete"), 0, EmptySha);
        var after = await UploadApiTests.Json(await s.Client.GetAsync(UploadApiTests.Url("empty-1", 0)));
        var late = await UploadApiTests.PatchAsync(s.Client, UploadApiTests.Url("empty-1", 0), 0, new byte[] { 1 });

        Assert.Equal((0L, false), (before.GetProperty("offset").GetInt64(), before.GetProperty("complete").GetBoolean()));
        Assert.True(complete.StatusCode == HttpStatusCode.OK, $"{(int)complete.StatusCode} {completeBody}");
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        Assert.Equal((0L, true, EmptySha), (after.GetProperty("offset").GetInt64(), after.GetProperty("complete").GetBoolean(), after.GetProperty("sha256").GetString()));
        Assert.Equal(HttpStatusCode.Conflict, late.StatusCode);
        Assert.Equal("?1", late.Headers.GetValues("Upload-Complete").Single());

        // A wrong hash for an empty segment is refused like any other, and nothing is kept.
        var wrong = await UploadApiTests.CompleteAsync(s.Client, UploadApiTests.Url("empty-1", 2, "complete"), 0, new string('a', 64));
        Assert.Equal(HttpStatusCode.UnprocessableEntity, wrong.StatusCode);
        Assert.Contains(EmptySha, await wrong.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Null(await s.Bytes.GetInfoAsync("empty-1", 2, CancellationToken.None));

        var video = Seg.Bytes(3000, 4);
        await s.PutAsync("empty-1", 1, video);
        s.Ingest(Seg.Record("empty-1", 0, [], null), Seg.Record("empty-1", 1, video, EmptySha));

        var listing = await s.ListAsync("empty-1");
        var first = listing.GetProperty("segments")[0];
        Assert.Equal("complete,complete", RecordingServer.States(listing));
        Assert.Equal((0L, 0L), (first.GetProperty("bytes").GetInt64(), first.GetProperty("uploadedBytes").GetInt64()));
        Assert.Equal(SegmentNotes.Empty, first.GetProperty("note").GetString());
        Assert.Equal(System.Text.Json.JsonValueKind.Null, listing.GetProperty("segments")[1].GetProperty("note").ValueKind);
        Assert.True(listing.GetProperty("chain").GetProperty("ok").GetBoolean(), listing.GetProperty("chain").ToString());

        var manifest = await s.Client.GetStringAsync("/api/v1/sessions/empty-1/recordings/manifest");
        Assert.Contains("# chain: intact\n", manifest, StringComparison.Ordinal);
        Assert.Contains("# empty: 000000.mp4 (0 bytes, no video", manifest, StringComparison.Ordinal);
        Assert.Equal([(EmptySha, "000000.mp4"), (Seg.Sha(video), "000001.mp4")], RecordingManifest.Entries(manifest));

        using var get = await s.Client.GetAsync("/api/v1/sessions/empty-1/recordings/0");
        Assert.Equal(HttpStatusCode.OK, get.StatusCode);
        Assert.Equal(0, get.Content.Headers.ContentLength);
        Assert.Empty(await get.Content.ReadAsByteArrayAsync());
        Assert.Equal("\"" + EmptySha + "\"", get.Headers.ETag?.Tag);
    }
}
