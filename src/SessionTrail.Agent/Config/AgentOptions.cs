using SessionTrail.Agent.Queue;
using SessionTrail.Agent.Recording;
using SessionTrail.Core;

namespace SessionTrail.Agent.Config;

/// <summary>Agent settings. Bound from the "Agent" section of a JSON file plus overrides (see <see cref="AgentConfiguration"/>).</summary>
public sealed class AgentOptions
{
    /// <summary>Data directory; agent state lives in DIR/agent. Default <see cref="DataDirectory.Default"/>.</summary>
    public string DataDir { get; set; } = DataDirectory.Default();

    /// <summary>SessionTrail server base URL; null or empty = no server sink. Default "http://127.0.0.1:5080".</summary>
    public string? ServerUrl { get; set; } = "http://127.0.0.1:5080";

    /// <summary>Bearer token for the server. No default; required when <see cref="ServerUrl"/> is set.</summary>
    public string? Token { get; set; }

    /// <summary>Size cap of each sink's queue. Default 1 GiB.</summary>
    public long QueueMaxBytes { get; set; } = 1L << 30;

    /// <summary>What a full queue does. Default DropOldest.</summary>
    public QueueFullPolicy QueueFullPolicy { get; set; } = QueueFullPolicy.DropOldest;

    /// <summary>Queue fsync policy. Default Interval (group fsync every <see cref="FsyncInterval"/>).</summary>
    public FsyncPolicy FsyncPolicy { get; set; } = FsyncPolicy.Interval;

    /// <summary>Group fsync interval. Default 200 ms.</summary>
    public TimeSpan FsyncInterval { get; set; } = TimeSpan.FromMilliseconds(200);

    /// <summary>Most records per batch sent to a sink. Default 5,000.</summary>
    public int BatchMaxRecords { get; set; } = 5_000;

    /// <summary>Most payload bytes (uncompressed) per batch. Default 4 MiB.</summary>
    public long BatchMaxBytes { get; set; } = 4L << 20;

    /// <summary>On a soft stop, how long sinks may keep sending what is queued. Default 10 s.</summary>
    public TimeSpan FlushDeadline { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>First retry delay after a failed delivery (doubles each time). Default 1 s.</summary>
    public TimeSpan RetryInitialDelay { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Longest retry delay. Default 60 s. Deliveries are retried forever (records are never dropped for a transient error).</summary>
    public TimeSpan RetryMaxDelay { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>How often ended Linux login sessions are looked for. Default 30 s.</summary>
    public TimeSpan SessionProbeInterval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Safety-net poll of DIR/agent/session.json besides the file watcher. Default 5 s.</summary>
    public TimeSpan SessionFilePollInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Delay before a failed source is started again. Default 5 s.</summary>
    public TimeSpan SourceRestartDelay { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>How often DIR/agent/status.json is rewritten. Default 2 s.</summary>
    public TimeSpan StatusInterval { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>Records buffered in memory between sources and the pump. Default 10,000.</summary>
    public int ChannelCapacity { get; set; } = 10_000;

    /// <summary>Host name put on records. Default <see cref="Environment.MachineName"/>.</summary>
    public string Host { get; set; } = Environment.MachineName;

    /// <summary>Screen recording (section "Agent:Recording"; `--record` sets Enabled). Off by default.</summary>
    public RecordingOptions Recording { get; set; } = new();

    /// <summary>Throws <see cref="AgentOptionsException"/> naming the first bad setting.</summary>
    public void Validate()
    {
        static void Require(bool ok, string setting, string problem)
        {
            if (!ok)
            {
                throw new AgentOptionsException(setting, problem);
            }
        }

        Require(!string.IsNullOrWhiteSpace(DataDir), nameof(DataDir), "is required");
        if (!string.IsNullOrWhiteSpace(ServerUrl))
        {
            Require(Uri.TryCreate(ServerUrl, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps), nameof(ServerUrl), $"'{ServerUrl}' is not an http(s) URL");
            Require(!string.IsNullOrWhiteSpace(Token), nameof(Token), "is required when ServerUrl is set (create one with `sessiontrail token create`)");
        }

        Require(QueueMaxBytes >= 64 * 1024, nameof(QueueMaxBytes), "must be at least 65536 bytes");
        Require(Enum.IsDefined(QueueFullPolicy), nameof(QueueFullPolicy), "must be DropOldest, RejectNew or Block");
        Require(Enum.IsDefined(FsyncPolicy), nameof(FsyncPolicy), "must be Interval, Always or Never");
        Require(FsyncInterval > TimeSpan.Zero, nameof(FsyncInterval), "must be positive");
        Require(BatchMaxRecords >= 1, nameof(BatchMaxRecords), "must be at least 1");
        Require(BatchMaxBytes >= 1024, nameof(BatchMaxBytes), "must be at least 1024");
        Require(FlushDeadline >= TimeSpan.Zero, nameof(FlushDeadline), "must not be negative");
        Require(RetryInitialDelay > TimeSpan.Zero, nameof(RetryInitialDelay), "must be positive");
        Require(RetryMaxDelay >= RetryInitialDelay, nameof(RetryMaxDelay), "must be at least RetryInitialDelay");
        Require(SessionProbeInterval > TimeSpan.Zero, nameof(SessionProbeInterval), "must be positive");
        Require(SessionFilePollInterval > TimeSpan.Zero, nameof(SessionFilePollInterval), "must be positive");
        Require(SourceRestartDelay >= TimeSpan.Zero, nameof(SourceRestartDelay), "must not be negative");
        Require(StatusInterval > TimeSpan.Zero, nameof(StatusInterval), "must be positive");
        Require(ChannelCapacity >= 1, nameof(ChannelCapacity), "must be at least 1");
        Require(!string.IsNullOrWhiteSpace(Host), nameof(Host), "is required");
        if (Recording.Enabled && Recording.Problem() is { } recording)
        {
            throw new AgentOptionsException(nameof(Recording) + ":" + recording.Setting, recording.Problem);
        }
    }
}

/// <summary>A bad agent setting; <see cref="Setting"/> names it.</summary>
public sealed class AgentOptionsException(string setting, string problem)
    : Exception($"Agent setting '{setting}' {problem}.")
{
    public string Setting { get; } = setting;
}
