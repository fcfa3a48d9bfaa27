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
        services.AddSingleton(_ => RecordingSigner.LoadOrCreate(options.DataDir));
        services.AddSingleton<RecordingRetention>();
        services.AddSingleton<IHostedService, RecordingRetentionService>();
        return services;
    }
}

/// <summary>Builds the <see cref="IRecordingStore"/> the options ask for.</summary>
public static class RecordingStoreFactory
{
    /// <summary>DIR/recordings on the filesystem, unless <see cref="ServerOptions.RecordingsS3"/> names a bucket.</summary>
    public static IRecordingStore Create(ServerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return new FileSystemRecordingStore(Path.Combine(options.DataDir, "recordings"));
    }
}
