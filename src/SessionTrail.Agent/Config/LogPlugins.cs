using Microsoft.Extensions.Logging;
using SessionTrail.Agent.Ids;
using SessionTrail.Agent.Sinks;
using SessionTrail.Agent.Sources;

namespace SessionTrail.Agent.Config;

/// <summary>What a log source gets when it is built from its config entry.</summary>
/// <param name="Id">The source's "Id" from the config; goes into <see cref="Core.Records.LogRecord.Source"/>.</param>
/// <param name="DataDir">The agent's data directory (state lives in DIR/agent).</param>
/// <param name="Host">Host name put on records.</param>
/// <param name="Bookmarks">Where the source keeps its position (save only after <see cref="IDurableRecordOutput.WhenDurableAsync"/>).</param>
public sealed record LogSourceContext(string Id, string DataDir, string Host, BookmarkStore Bookmarks, ILoggerFactory Logs, TimeProvider Time);

/// <summary>What a log sink gets when it is built from its config entry.</summary>
/// <param name="Id">The sink's "Id" from the config; also its <see cref="ISink.Name"/> (names its queue folder).</param>
/// <param name="DataDir">The agent's data directory; a sink's own files go in DIR/agent/sinks/ID.</param>
public sealed record LogSinkContext(string Id, string DataDir, string Host, ILoggerFactory Logs, TimeProvider Time)
{
    /// <summary>DIR/agent/sinks/ID: a sink's own spool or dead-letter files.</summary>
    public string SinkDirectory => Path.Combine(Core.DataDirectory.AgentDirectory(DataDir), "sinks", Id);
}

/// <summary>
/// Builds one kind of source from its config entry ("SourceType": e.g. "DirectorySource"). Reads and
/// validates every key it uses through <see cref="ConfigNode"/> (errors name the key path). A source type
/// that cannot run on this OS throws <see cref="LogConfigException"/> on "SourceType" saying so.
/// </summary>
public interface ILogSourceFactory
{
    /// <summary>The "SourceType" value it handles (compared case-insensitively).</summary>
    string SourceType { get; }

    IRecordSource Create(ConfigNode config, LogSourceContext context);
}

/// <summary>Builds one kind of sink from its config entry ("SinkType": e.g. "OpenSearch").</summary>
public interface ILogSinkFactory
{
    /// <summary>The "SinkType" value it handles (compared case-insensitively).</summary>
    string SinkType { get; }

    ISink Create(ConfigNode config, LogSinkContext context);
}
