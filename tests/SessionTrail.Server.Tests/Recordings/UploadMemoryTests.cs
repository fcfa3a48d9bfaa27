using System.Net;
using SessionTrail.Server.Recordings;

namespace SessionTrail.Server.Tests.Recordings;

/// <summary>
/// What an upload allocates, measured with the process-wide allocation counter. Any test running beside it would
/// count too (a fresh CI run saw 7.6 MB with other classes running in parallel), so it runs alone.
/// </summary>
[Collection(AloneCollection.Name)]
public sealed class UploadMemoryTests
{
    [Fact]
    public async Task A16MiBChunkIsStreamedToDiskNotBufferedInMemory()
    {
        await using var server = await RunningServer.StartAsync();
        var chunk = UploadApiTests.MakeBytes((int)UploadApi.MaxChunkBytes, 3);
        await UploadApiTests.PatchAsync(server.Client, UploadApiTests.Url("s-warm", 0), 0, UploadApiTests.MakeBytes(1000, 7)); // JIT and pools warmed

        var before = GC.GetTotalAllocatedBytes(precise: true);
        var response = await UploadApiTests.PatchAsync(server.Client, UploadApiTests.Url("s-mem", 0), 0, chunk);
        var allocated = GC.GetTotalAllocatedBytes(precise: true) - before;

        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        Assert.Equal(chunk.Length, UploadApiTests.OffsetHeader(response));
        Assert.True(allocated < 4 * 1024 * 1024, $"a 16 MiB chunk allocated {allocated} bytes (client and server together)");
    }
}

/// <summary>Tests that measure the whole process: xUnit runs this collection after the parallel ones, alone.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class AloneCollection
{
    public const string Name = "alone (measures the whole process)";
}
