using Microsoft.Extensions.Logging;
using SessionTrail.Agent.Config;
using SessionTrail.Agent.Ids;
using SessionTrail.Agent.Sinks;
using SessionTrail.Agent.Sources;

namespace SessionTrail.Agent.Sources.Files;

/// <summary>Log messages of the file log source. Event ids 4400-4499 are reserved for it.</summary>
internal static partial class DirectorySourceLog
{
    [LoggerMessage(EventId = 4400, Level = LogLevel.Information, Message = "File source {Source} started on {Directory} ({Parser}); {Files} file(s) in its bookmark")]
    public static partial void Started(ILogger logger, string source, string directory, string parser, int files);

    [LoggerMessage(EventId = 4401, Level = LogLevel.Warning, Message = "Config '{Path}' is not a DirectorySource setting SessionTrail knows; it is ignored.")]
    public static partial void UnknownKey(ILogger logger, string path);

    [LoggerMessage(EventId = 4402, Level = LogLevel.Information, Message = "Tailing {Path} ({Identity}) from byte {Offset}: {Reason}")]
    public static partial void FileOpened(ILogger logger, string path, string identity, long offset, string reason);

    [LoggerMessage(EventId = 4403, Level = LogLevel.Information, Message = "Rotation: {OldPath} was renamed to {NewPath} ({Identity}); still read under its identity")]
    public static partial void FileRenamed(ILogger logger, string oldPath, string newPath, string identity);

    [LoggerMessage(EventId = 4404, Level = LogLevel.Warning, Message = "{Path} was truncated (size {Size} < read position {Offset}); reading it again from the start")]
    public static partial void FileTruncated(ILogger logger, string path, long size, long offset);

    [LoggerMessage(EventId = 4405, Level = LogLevel.Warning, Message = "{Path} ({Identity}) has other first bytes than before (replaced or truncated and rewritten); reading it from the start")]
    public static partial void FileReplaced(ILogger logger, string path, string identity);

    [LoggerMessage(EventId = 4406, Level = LogLevel.Information, Message = "{Path} ({Identity}) left the folder (rotated away or deleted); reading it to its end")]
    public static partial void FileGone(ILogger logger, string path, string identity);

    [LoggerMessage(EventId = 4407, Level = LogLevel.Information, Message = "{Path} ({Identity}) read to its end at byte {Offset} and forgotten")]
    public static partial void FileForgotten(ILogger logger, string path, string identity, long offset);

    [LoggerMessage(EventId = 4408, Level = LogLevel.Error, Message = "Bookmark of file source {Source} is unreadable ({Error}); it was moved to {MovedTo} and files are read from their beginning (records already sent keep their ids and are stored once)")]
    public static partial void BookmarkCorrupt(ILogger logger, string source, string error, string movedTo);

    [LoggerMessage(EventId = 4409, Level = LogLevel.Error, Message = "Saving the bookmark of file source {Source} failed; it is retried")]
    public static partial void BookmarkSaveFailed(ILogger logger, string source, Exception exception);

    [LoggerMessage(EventId = 4410, Level = LogLevel.Warning, Message = "Folder {Directory} of file source {Source} does not exist (yet); checking every {Interval}")]
    public static partial void DirectoryMissing(ILogger logger, string directory, string source, TimeSpan interval);

    [LoggerMessage(EventId = 4411, Level = LogLevel.Information, Message = "No file system watcher on {Directory} ({Reason}); polling every {Interval}")]
    public static partial void WatcherUnavailable(ILogger logger, string directory, string reason, TimeSpan interval);

    [LoggerMessage(EventId = 4412, Level = LogLevel.Warning, Message = "{Path}: a line at byte {Offset} is longer than MaxRecordBytes ({Max}); it is sent in pieces marked _split (logged once per file)")]
    public static partial void RecordSplit(ILogger logger, string path, long offset, int max);

    [LoggerMessage(EventId = 4413, Level = LogLevel.Warning, Message = "Cannot read {Path}: {Reason}")]
    public static partial void ReadFailed(ILogger logger, string path, string reason);

    [LoggerMessage(EventId = 4414, Level = LogLevel.Information, Message = "File source {Source} stopped: {Records} records, {Bytes} bytes, {Files} file(s) tracked")]
    public static partial void Stopped(ILogger logger, string source, long records, long bytes, int files);

    [LoggerMessage(EventId = 4415, Level = LogLevel.Warning, Message = "File source {Source}: the last bookmark could not be saved at stop ({Reason}); up to a second of records may be read again (same ids)")]
    public static partial void FinalBookmarkNotSaved(ILogger logger, string source, string reason);
}
