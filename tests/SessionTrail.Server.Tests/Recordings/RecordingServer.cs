using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using SessionTrail.Core.Records;
using SessionTrail.Server.Recordings;
using SessionTrail.Server.Store;
using SessionTrail.Server.Tests.Http;

namespace SessionTrail.Server.Tests.Recordings;

/// <summary>A real server plus helpers to put segment bytes (through its <see cref="IRecordingStore"/>) and records (through its store).</summary>
public sealed class RecordingServer : IAsyncDisposable
{
    private static readonly Lock CredentialsLock = new();
    private static int credentialUsers;
    private static (string? Key, string? Secret) savedCredentials;
    private bool usesCredentials;

    private RecordingServer(RunningServer server) => Server = server;

    public RunningServer Server { get; }

    public HttpClient Client => Server.Client;

    public IRecordingStore Bytes => Server.App.Services.GetRequiredService<IRecordingStore>();

    public static async Task<RecordingServer> StartAsync(Action<ServerOptions>? configure = null) => new(await RunningServer.StartAsync(configure));

    /// <summary>
    /// A server keeping recording bytes in <paramref name="s3"/> at <paramref name="location"/> (BUCKET[/PREFIX]), with credentials
    /// from the environment as in production: the AWS_* variables are set while any such server runs (they are process-wide and
    /// these tests may run in parallel) and put back as they were when the last one is disposed.
    /// </summary>
    public static async Task<RecordingServer> StartOnS3Async(S3rverServer s3, string location)
    {
        ArgumentNullException.ThrowIfNull(s3);
        UseS3rverCredentials();
        RecordingServer server;
        try
        {
            server = await StartAsync(o =>
            {
                o.RecordingsS3 = location;
                o.RecordingsS3Endpoint = s3.Url;
            });
        }
        catch
        {
            ReleaseS3rverCredentials();
            throw;
        }

        server.usesCredentials = true;
        if (server.Bytes is not S3RecordingStore)
        {
            await server.DisposeAsync();
            Assert.Fail($"the server keeps recordings in {server.Bytes.GetType().Name}, not S3");
        }

        return server;
    }

    private static void UseS3rverCredentials()
    {
        lock (CredentialsLock)
        {
            if (credentialUsers++ == 0)
            {
                savedCredentials = (Environment.GetEnvironmentVariable("AWS_ACCESS_KEY_ID"), Environment.GetEnvironmentVariable("AWS_SECRET_ACCESS_KEY"));
                Environment.SetEnvironmentVariable("AWS_ACCESS_KEY_ID", S3rverServer.AccessKey);
                Environment.SetEnvironmentVariable("AWS_SECRET_ACCESS_KEY", S3rverServer.SecretKey);
            }
        }
    }

    private static void ReleaseS3rverCredentials()
    {
        lock (CredentialsLock)
        {
            if (--credentialUsers == 0)
            {
                Environment.SetEnvironmentVariable("AWS_ACCESS_KEY_ID", savedCredentials.Key);
                Environment.SetEnvironmentVariable("AWS_SECRET_ACCESS_KEY", savedCredentials.Secret);
            }
        }
    }

    public void Ingest(params TrailRecord[] records) => Server.App.Services.GetRequiredService<SqliteStore>().Ingest(records);

    /// <summary>Uploads <paramref name="bytes"/> in two appends and completes the object.</summary>
    public async Task PutAsync(string session, int index, byte[] bytes)
    {
        var half = bytes.Length / 2;
        await Bytes.AppendAsync(session, index, 0, new MemoryStream(bytes, 0, half), CancellationToken.None);
        await Bytes.AppendAsync(session, index, half, new MemoryStream(bytes, half, bytes.Length - half), CancellationToken.None);
        await Bytes.CompleteAsync(session, index, bytes.Length, Seg.Sha(bytes), CancellationToken.None);
    }

    /// <summary>Puts a chain of <paramref name="contents"/> (bytes and records) for <paramref name="session"/>; returns the hashes.</summary>
    public async Task<List<string>> PutChainAsync(string session, params byte[][] contents)
    {
        var hashes = new List<string>();
        for (var i = 0; i < contents.Length; i++)
        {
            await PutAsync(session, i, contents[i]);
            Ingest(Seg.Record(session, i, contents[i], i == 0 ? null : hashes[i - 1]));
            hashes.Add(Seg.Sha(contents[i]));
        }

        return hashes;
    }

    public string SegmentPath(string session, int index) =>
        Path.Combine(Server.DataDir, "recordings", FileSystemRecordingStore.SessionDirectoryName(session), $"{index:D6}.mp4");

    public async Task<JsonElement> ListAsync(string session, string query = "")
    {
        var response = await Client.GetAsync($"/api/v1/sessions/{Uri.EscapeDataString(session)}/recordings{query}");
        Assert.True(response.IsSuccessStatusCode, $"{(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
        return (await response.Content.ReadFromJsonAsync<JsonElement>())!;
    }

    public static string States(JsonElement listing) =>
        string.Join(",", listing.GetProperty("segments").EnumerateArray().Select(s => s.GetProperty("state").GetString()));

    public async ValueTask DisposeAsync()
    {
        await Server.DisposeAsync();
        if (usesCredentials)
        {
            usesCredentials = false;
            ReleaseS3rverCredentials();
        }
    }
}
