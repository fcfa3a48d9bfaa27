using System.Globalization;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Logging;
using SessionTrail.Agent.Config;
using SessionTrail.Agent.Ids;
using SessionTrail.Agent.Sinks;
using SessionTrail.Agent.Sources;

namespace SessionTrail.Agent.Sources.Files;

/// <summary>
/// Builds a <see cref="DirectorySource"/> from a KinesisTap "DirectorySource" entry. Every key is
/// checked here: a missing or bad one is a <see cref="LogConfigException"/> naming its path, an unknown
/// one a warning.
/// </summary>
public sealed class DirectorySourceFactory : ILogSourceFactory
{
    private static readonly string[] KnownKeys =
    [
        "Id", "SourceType", "Directory", "FileNameFilter", "IncludeSubdirectories", "RecordParser", "TimestampFormat", "TimestampField",
        "Pattern", "ExtractionPattern", "TimeZoneKind", "SkipLines", "Encoding", "InitialPosition", "InitialPositionTimestamp",
        "BookmarkOnBufferFlush", "Interval", "Delimiter", "Headers", "HeaderPattern", "CommentPattern", "MultiLineStartPattern", "MaxRecordBytes",
    ];

    /// <summary>The log category of DirectorySource's messages (unchanged since the agent's first layout).</summary>
    public const string LogCategory = "SessionTrail.Agent.Logs.Files.DirectorySource";

    public string SourceType => "DirectorySource";

    public IRecordSource Create(ConfigNode config, LogSourceContext context)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(context);
        // The category operators filter on and the diagnostics source ships; it predates the move to Sources/Files.
        var logger = context.Logs.CreateLogger(LogCategory);
        foreach (var key in config.Keys)
        {
            if (!KnownKeys.Contains(key, StringComparer.OrdinalIgnoreCase))
            {
                DirectorySourceLog.UnknownKey(logger, config.KeyPath(key));
            }
        }

        return new DirectorySource(context.Id, ReadOptions(config, context.Time), context.Host, context.Bookmarks, context.Time, logger);
    }

    /// <summary>The options of one entry (public for tests and the benchmark).</summary>
    public static DirectorySourceOptions ReadOptions(ConfigNode config, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(config);
        var directory = config.Required("Directory");
        var zone = config.OneOf("TimeZoneKind", "UTC", "UTC", "Local") == "UTC" ? TimestampZone.Utc : TimestampZone.Local;
        var timestamps = new TimestampReader(config.Optional("TimestampFormat"), zone);
        if (timestamps.Format is { } format)
        {
            try
            {
                _ = DateTimeOffset.UnixEpoch.ToString(format, CultureInfo.InvariantCulture);
            }
            catch (FormatException)
            {
                throw new LogConfigException(config.KeyPath("TimestampFormat"), $"is not a valid .NET date format: '{format}'");
            }
        }

        var multiLine = OptionalRegex(config, "MultiLineStartPattern");
        var parserName = config.Required("RecordParser");
        FileRecordParser parser = parserName.ToUpperInvariant() switch
        {
            "SINGLELINE" => new SingleLineParser(multiLine is null ? null : line => SafeMatch.IsMatch(multiLine, line)),
            "REGEX" => new RegexParser(
                OptionalRegex(config, "Pattern") ?? throw new LogConfigException(config.KeyPath("Pattern"), "is required with RecordParser Regex"),
                OptionalRegex(config, "ExtractionPattern"),
                config.Optional("TimestampField"),
                timestamps),
            "TIMESTAMP" => timestamps.Format is null
                ? throw new LogConfigException(config.KeyPath("TimestampFormat"), "is required with RecordParser Timestamp")
                : new TimestampParser(timestamps),
            "SYSLOG" => new SysLogParser(zone, time),
            "SINGLELINEJSON" => new JsonLineParser(config.Optional("TimestampField"), timestamps),
            "DELIMITED" => Delimited(config, timestamps),
            _ => throw new LogConfigException(config.KeyPath("RecordParser"), $"must be one of SingleLine, Regex, Timestamp, SysLog, SingleLineJson, Delimited, not '{parserName}'"),
        };
        if (multiLine is not null && parser is not SingleLineParser)
        {
            throw new LogConfigException(config.KeyPath("MultiLineStartPattern"), "is only supported with RecordParser SingleLine (Regex and Timestamp have their own record start)");
        }

        string filter = config.Optional("FileNameFilter", "*.*");
        FileNamePattern pattern;
        try
        {
            pattern = new FileNamePattern(filter);
        }
        catch (ArgumentException)
        {
            throw new LogConfigException(config.KeyPath("FileNameFilter"), $"has no pattern: '{filter}'");
        }

        var initial = config.OneOf("InitialPosition", "Bookmark", "Bookmark", "EOS", "BOS", "0", "Timestamp") switch
        {
            "EOS" => InitialFilePosition.EndOfStream,
            "BOS" or "0" => InitialFilePosition.BeginningOfStream,
            "Timestamp" => InitialFilePosition.Timestamp,
            _ => InitialFilePosition.Bookmark,
        };
        var initialTimestamp = DateTimeOffset.MinValue;
        if (initial == InitialFilePosition.Timestamp)
        {
            var text = config.Required("InitialPositionTimestamp");
            if (!DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out initialTimestamp))
            {
                throw new LogConfigException(config.KeyPath("InitialPositionTimestamp"), $"must be a date and time such as 2026-11-30 08:00:00, not '{text}'");
            }
        }

        _ = config.Bool("BookmarkOnBufferFlush", false); // validated; bookmarks always move only after the records are durable
        return new DirectorySourceOptions
        {
            Directory = directory,
            FileNameFilter = pattern,
            IncludeSubdirectories = config.Bool("IncludeSubdirectories", false),
            Parser = parser,
            SkipLines = config.Int("SkipLines", 0, 0),
            Encoding = config.OneOf("Encoding", "detect", "detect", "utf-8", "utf8", "utf-16", "utf-16le", "unicode", "utf-16be", "bigEndianUnicode").ToUpperInvariant() switch
            {
                "UTF-8" or "UTF8" => FileTextEncodingKind.Utf8,
                "UTF-16" or "UTF-16LE" or "UNICODE" => FileTextEncodingKind.Utf16LittleEndian,
                "UTF-16BE" or "BIGENDIANUNICODE" => FileTextEncodingKind.Utf16BigEndian,
                _ => FileTextEncodingKind.Detect,
            },
            InitialPosition = initial,
            InitialPositionTimestamp = initialTimestamp,
            Interval = config.Milliseconds("Interval", TimeSpan.FromSeconds(1), TimeSpan.FromMilliseconds(10)),
            MaxRecordBytes = config.Int("MaxRecordBytes", 1 << 20, 1024, 64 << 20),
        };
    }

    private static DelimitedParser Delimited(ConfigNode config, TimestampReader timestamps)
    {
        var delimiter = config.Optional("Delimiter", ",");
        delimiter = delimiter switch
        {
            "\\t" => "\t",
            _ => delimiter,
        };
        IReadOnlyList<string>? headers = null;
        if (config.Has("Headers"))
        {
            var list = config.List("Headers");
            headers = list.Count == 1 ? [.. list[0].Split(list[0].Contains(delimiter, StringComparison.Ordinal) ? delimiter : ",", StringSplitOptions.TrimEntries)] : list;
            if (headers.Count == 0 || headers.Any(string.IsNullOrEmpty))
            {
                throw new LogConfigException(config.KeyPath("Headers"), "must name every column");
            }
        }

        return new DelimitedParser(
            delimiter,
            headers,
            OptionalRegex(config, "HeaderPattern") ?? new Regex(@"^#Fields:\s*", RegexOptions.CultureInvariant, SafeMatch.Timeout),
            OptionalRegex(config, "CommentPattern"),
            config.Optional("TimestampField"),
            timestamps);
    }

    private static Regex? OptionalRegex(ConfigNode config, string key)
    {
        var text = config.Optional(key);
        if (text is null)
        {
            return null;
        }

        try
        {
            return new Regex(text, RegexOptions.CultureInvariant | RegexOptions.Compiled, SafeMatch.Timeout);
        }
        catch (ArgumentException ex)
        {
            throw new LogConfigException(config.KeyPath(key), $"is not a valid regular expression: {ex.Message}");
        }
    }
}
