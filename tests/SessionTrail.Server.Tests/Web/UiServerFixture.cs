using SessionTrail.Server.Tests.Recordings;

namespace SessionTrail.Server.Tests.Web;

/// <summary>One real server (Kestrel on 127.0.0.1) seeded with <see cref="UiSeed"/> through the ingest API, shared by a test class.</summary>
public sealed class UiServerFixture : IAsyncLifetime
{
    public UiSeed Seed { get; } = UiSeed.Generate();

    public RecordingServer Recording { get; private set; } = null!;

    public HttpClient Client => Recording.Client;

    public async Task InitializeAsync()
    {
        Recording = await RecordingServer.StartAsync();
        await Seed.IngestAsync(Client);
        await Seed.RecordAsync(Recording);
    }

    public async Task DisposeAsync() => await Recording.DisposeAsync();
}
