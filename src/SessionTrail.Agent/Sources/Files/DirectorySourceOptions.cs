using SessionTrail.Agent.Config;
using SessionTrail.Agent.Ids;
using SessionTrail.Agent.Sinks;
using SessionTrail.Agent.Sources;

namespace SessionTrail.Agent.Sources.Files;

/// <summary>Where files seen for the first time start (KinesisTap "InitialPosition").</summary>
public enum InitialFilePosition
{
    /// <summary>"Bookmark" (default): continue from the bookmark; on the very first start (no bookmark file) like <see cref="EndOfStream"/>.</summary>
    Bookmark,

    /// <summary>"EOS": on the first start, files that exist are read from their end (only new lines).</summary>
    EndOfStream,

    /// <summary>"BOS" or "0": on the first start, files that exist are read from the beginning.</summary>
    BeginningOfStream,

    /// <summary>"Timestamp": on the first start, files last written at or after InitialPositionTimestamp are read from the beginning, older ones from their end.</summary>
    Timestamp,
}

/// <summary>
/// The settings of one DirectorySource (see docs/log-shipping.md "Log files (DirectorySource)"). Built by
/// <see cref="DirectorySourceFactory"/> from KinesisTap's keys; every default is stated here.
/// </summary>
public sealed class DirectorySourceOptions
{
    /// <summary>"Directory" (required): the folder to watch.</summary>
    public required string Directory { get; init; }

    /// <summary>"FileNameFilter": wildcard patterns separated by '|'. Default "*.*" (every file).</summary>
    public FileNamePattern FileNameFilter { get; init; } = new("*.*");

    /// <summary>"IncludeSubdirectories": also files in folders below. Default false.</summary>
    public bool IncludeSubdirectories { get; init; }

    /// <summary>"RecordParser" (required) and its options.</summary>
    public required FileRecordParser Parser { get; init; }

    /// <summary>"SkipLines": lines skipped at the start of every file (read from its beginning). Default 0.</summary>
    public int SkipLines { get; init; }

    /// <summary>"Encoding": default detect from the byte-order mark, UTF-8 without one.</summary>
    public FileTextEncodingKind Encoding { get; init; } = FileTextEncodingKind.Detect;

    /// <summary>"InitialPosition": default Bookmark.</summary>
    public InitialFilePosition InitialPosition { get; init; } = InitialFilePosition.Bookmark;

    /// <summary>"InitialPositionTimestamp": with InitialPosition Timestamp.</summary>
    public DateTimeOffset InitialPositionTimestamp { get; init; }

    /// <summary>"Interval": how often the folder is scanned and files are polled (a file system watcher wakes the source sooner). Default 1 s.</summary>
    public TimeSpan Interval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>"MaxRecordBytes": a longer line or multi-line record is split into records of at most this many bytes, each with "_split". Default 1 MiB.</summary>
    public int MaxRecordBytes { get; init; } = 1 << 20;

    /// <summary>How long the last record of a multi-line group (which may still get lines) is held when the file does not grow. 1.5 s.</summary>
    public TimeSpan MultiLineFlush { get; init; } = TimeSpan.FromSeconds(1.5);

    /// <summary>How long a file that was renamed away or deleted is still read after it stopped growing, before it is forgotten. 2 s.</summary>
    public TimeSpan RotatedFileLinger { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>Minimum time between two bookmark saves while records flow. 1 s.</summary>
    public TimeSpan BookmarkInterval { get; init; } = TimeSpan.FromSeconds(1);
}
