using Microsoft.Extensions.Logging;

namespace SessionTrail.Agent.Recording.Upload;

/// <summary>
/// The spool's disk cap (<see cref="RecordingOptions.SpoolMaxBytes"/>). When the spool holds more, the videos of
/// the oldest <em>uploaded</em> segments are deleted (their sidecars and markers stay: the chain can still be
/// checked) until it is down to 90% of the cap. A segment without its .uploaded marker is never deleted: when
/// only such bytes are left over the cap the spool is "full" — <see cref="CanRecord"/> turns false (the
/// recorder pauses), the status says "spool full" and the log says why — until uploads and deletions bring
/// it to 90% of the cap again.
/// </summary>
public sealed partial class SpoolBudget : ISpoolBudget
{
    private readonly string _root;
    private readonly long _max;
    private readonly ILogger _logger;
    private volatile bool _full;

    public SpoolBudget(string root, long maxBytes, ILogger logger)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxBytes);
        _root = root;
        _max = maxBytes;
        _logger = logger;
    }

    public bool CanRecord => !_full;

    public bool Full => _full;

    public long MaxBytes => _max;

    /// <summary>Bytes in the spool after the last <see cref="Enforce"/>.</summary>
    public long Bytes { get; private set; }

    /// <summary>Videos deleted so far.</summary>
    public long Deleted { get; private set; }

    /// <summary>90% of the cap: what a deletion run goes down to, and where "full" ends.</summary>
    public long LowWatermark => _max / 10 * 9;

    /// <summary>Deletes uploaded videos (oldest session first, lowest index first) when over the cap; returns a problem when still over.</summary>
    public string? Enforce()
    {
        var total = SpoolScan.TotalBytes(_root);
        if (total > _max || _full)
        {
            foreach (var (_, segments) in SpoolScan.Sessions(_root))
            {
                foreach (var segment in segments)
                {
                    if (total <= LowWatermark)
                    {
                        break;
                    }

                    var length = segment.VideoLength();
                    if (length < 0 || !segment.Uploaded)
                    {
                        continue;
                    }

                    try
                    {
                        File.Delete(segment.VideoPath);
                        total -= length;
                        Deleted++;
                        LogDeleted(_logger, segment.Key, length);
                    }
                    catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                    {
                        LogDeleteFailed(_logger, segment.VideoPath, e.Message);
                    }
                }
            }
        }

        Bytes = total;
        var wasFull = _full;
        _full = total > _max || (_full && total > LowWatermark);
        if (_full && !wasFull)
        {
            LogFull(_logger, total, _max);
        }
        else if (!_full && wasFull)
        {
            LogNotFull(_logger, total, _max);
        }

        return _full
            ? $"spool full: {total} bytes in {_root}, cap {_max}, and nothing uploaded left to delete; recording pauses until uploads free space"
            : null;
    }

    [LoggerMessage(EventId = 701, Level = LogLevel.Information, Message = "Recording spool: deleted the uploaded video {Segment} ({Bytes} bytes) for the spool cap")]
    private static partial void LogDeleted(ILogger logger, string segment, long bytes);

    [LoggerMessage(EventId = 702, Level = LogLevel.Warning, Message = "Recording spool: could not delete {Path}: {Problem}")]
    private static partial void LogDeleteFailed(ILogger logger, string path, string problem);

    [LoggerMessage(EventId = 703, Level = LogLevel.Error, Message = "Recording spool full: {Bytes} bytes over the cap of {Max} and every video left is not uploaded yet (never deleted); recording pauses until uploads bring it under 90% of the cap")]
    private static partial void LogFull(ILogger logger, long bytes, long max);

    [LoggerMessage(EventId = 704, Level = LogLevel.Information, Message = "Recording spool no longer full: {Bytes} bytes of {Max}; recording may continue")]
    private static partial void LogNotFull(ILogger logger, long bytes, long max);
}
