using Microsoft.Extensions.Logging;

namespace SessionTrail.Server;

/// <summary>The server's log messages; event ids are stable (operators filter on them).</summary>
internal static partial class ServerLog
{
    [LoggerMessage(EventId = 1, Level = LogLevel.Information, Message = "Store open at {DatabasePath}")]
    public static partial void StoreOpened(ILogger logger, string databasePath);

    [LoggerMessage(EventId = 2, Level = LogLevel.Information, Message = "SessionTrail server listening on {Urls}")]
    public static partial void Listening(ILogger logger, string urls);

    [LoggerMessage(EventId = 10, Level = LogLevel.Debug, Message = "Ingested {Accepted} records ({Duplicates} duplicates) in {ElapsedMs} ms")]
    public static partial void Ingested(ILogger logger, int accepted, int duplicates, long elapsedMs);

    [LoggerMessage(EventId = 11, Level = LogLevel.Warning, Message = "Ingest batch rejected: {Problem}")]
    public static partial void IngestRejected(ILogger logger, string problem);

    [LoggerMessage(EventId = 12, Level = LogLevel.Warning, Message = "Ingest body larger than {MaxBodyBytes} bytes rejected")]
    public static partial void IngestTooLarge(ILogger logger, long maxBodyBytes);

    [LoggerMessage(EventId = 13, Level = LogLevel.Error, Message = "Disk full at {Where}: {Method} {Path} answered 507; free space there, writes resume by themselves")]
    public static partial void DiskFull(ILogger logger, string where, string method, string path);

    [LoggerMessage(EventId = 20, Level = LogLevel.Warning, Message = "Unauthorized request to {Path}: {Reason}")]
    public static partial void Unauthorized(ILogger logger, string path, string reason);

    [LoggerMessage(EventId = 21, Level = LogLevel.Warning, Message = "Forbidden request to {Path} by {Who}: {Reason}")]
    public static partial void Forbidden(ILogger logger, string path, string who, string reason);

    [LoggerMessage(EventId = 22, Level = LogLevel.Information, Message = "Signed in: {User} ({Role}) from {Remote}")]
    public static partial void SignedIn(ILogger logger, string user, string role, string remote);

    [LoggerMessage(EventId = 23, Level = LogLevel.Warning, Message = "Failed sign-in as {User} from {Remote}")]
    public static partial void SignInFailed(ILogger logger, string user, string remote);

    [LoggerMessage(EventId = 24, Level = LogLevel.Warning, Message = "Sign-in as {User} from {Remote} throttled")]
    public static partial void SignInThrottled(ILogger logger, string user, string remote);

    [LoggerMessage(EventId = 90, Level = LogLevel.Error, Message = "Unhandled error on {Method} {Path}")]
    public static partial void Unhandled(ILogger logger, Exception exception, string method, string path);
}
