using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using SessionTrail.Server.Store;

namespace SessionTrail.Server.Recordings;

/// <summary>Registers the recording services of the server: the byte store (filesystem, or S3 with <see cref="ServerOptions.RecordingsS3"/>), catalog, inspector, signing key, retention sweep.</summary>
public static class RecordingServices
{
    public static IServiceCollection AddRecordings(this IServiceCollection services, ServerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        services.AddSingleton(RecordingStoreFactory.Create(options));
        services.AddSingleton(sp => new RecordingCatalog(sp.GetRequiredService<SqliteStore>()));
        services.AddSingleton<RecordingInspector>();
        services.AddSingleton(RecordingSigner.LoadOrCreate(options.DataDir)); // at start: a bad key file stops the server before it listens
        services.AddSingleton<RecordingRetention>();
        services.AddSingleton<IHostedService, RecordingRetentionService>();
        return services;
    }
}

/// <summary>Builds the <see cref="IRecordingStore"/> the options ask for.</summary>
public static class RecordingStoreFactory
{
    /// <summary>DIR/recordings on the filesystem, unless <see cref="ServerOptions.RecordingsS3"/> names a bucket.</summary>
    /// <param name="options">The server's settings.</param>
    /// <param name="credentials">Explicit S3 credentials (tests); null for the AWS SDK's standard chain.</param>
    public static IRecordingStore Create(ServerOptions options, Amazon.Runtime.AWSCredentials? credentials = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.RecordingsS3 is not { } target)
        {
            return new FileSystemRecordingStore(Path.Combine(options.DataDir, "recordings"));
        }

        var slash = target.IndexOf('/', StringComparison.Ordinal);
        var (bucket, prefix) = slash < 0 ? (target, "") : (target[..slash], target[(slash + 1)..]);
        var client = Export.S3Clients.Create(options.RecordingsS3Endpoint, options.RecordingsS3Region, credentials);
        return new S3RecordingStore(client, bucket, prefix);
    }
}
