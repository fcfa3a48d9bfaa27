using Microsoft.Extensions.Logging;

namespace SessionTrail.Agent.Platform.Linux;

/// <summary>Log messages of the Linux process source. Event ids 2100-2199 are reserved for it.</summary>
internal static partial class LinuxProcessSourceLog
{
    [LoggerMessage(EventId = 2100, Level = LogLevel.Information, Message = "Process capture started in {Mode} mode: {Detail}")]
    public static partial void Started(ILogger logger, CaptureMode mode, string detail);

    [LoggerMessage(EventId = 2101, Level = LogLevel.Warning, Message = "Kernel process events unavailable ({Reason}); polling /proc every {Interval}. Processes shorter than the interval WILL BE MISSED.")]
    public static partial void FallingBackToPolling(ILogger logger, string reason, TimeSpan interval);

    [LoggerMessage(EventId = 2102, Level = LogLevel.Warning, Message = "fanotify unavailable ({Reason}); executable paths come from /proc only, so processes that exit within microseconds will be missed.")]
    public static partial void NoFanotify(ILogger logger, string reason);

    [LoggerMessage(EventId = 2103, Level = LogLevel.Error, Message = "The kernel DROPPED process events (ENOBUFS on the netlink socket, {Count} times so far); some starts or exits are lost. Raise Processes:ReceiveBufferBytes or reduce load.")]
    public static partial void Enobufs(ILogger logger, long count);

    [LoggerMessage(EventId = 2104, Level = LogLevel.Error, Message = "The fanotify queue overflowed ({Count} times so far); some executable paths are lost.")]
    public static partial void FanotifyOverflow(ILogger logger, long count);

    [LoggerMessage(EventId = 2105, Level = LogLevel.Debug, Message = "fanotify mark on {MountPoint} ({FsType}) failed: errno {Errno}")]
    public static partial void MarkFailed(ILogger logger, string mountPoint, string fsType, int errno);

    [LoggerMessage(EventId = 2106, Level = LogLevel.Error, Message = "Reading kernel events from {Socket} failed with errno {Errno}; the source stops and will be restarted.")]
    public static partial void ReaderFailed(ILogger logger, string socket, int errno);

    [LoggerMessage(EventId = 2107, Level = LogLevel.Information, Message = "Process capture stopped: {Starts} starts, {Exits} exits, {Filtered} filtered, {MissedPath} without path, {Enobufs} ENOBUFS.")]
    public static partial void Stopped(ILogger logger, long starts, long exits, long filtered, long missedPath, long enobufs);
}
