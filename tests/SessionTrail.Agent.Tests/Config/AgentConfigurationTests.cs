using SessionTrail.Agent.Config;
using SessionTrail.Agent.Queue;
using SessionTrail.Agent.Tests.Fakes;

namespace SessionTrail.Agent.Tests.Config;

public sealed class AgentConfigurationTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private string Config(string json)
    {
        var path = Path.Combine(_dir.Path, "agent.json");
        File.WriteAllText(path, json);
        return path;
    }

    [Fact]
    public void TheFileIsReadAndOverridesWin()
    {
        var path = Config("""
            { "Agent": { "ServerUrl": "http://collector:5080", "Token": "file-token", "QueueMaxBytes": 1048576,
                         "QueueFullPolicy": "Block", "FlushDeadline": "00:00:03", "BatchMaxRecords": 100 } }
            """);

        var options = AgentConfiguration.Load(path, new Dictionary<string, string?> { ["Token"] = "cli-token", ["DataDir"] = _dir.Path, ["ServerUrl"] = null });

        Assert.Equal("http://collector:5080", options.ServerUrl);
        Assert.Equal("cli-token", options.Token);
        Assert.Equal(_dir.Path, options.DataDir);
        Assert.Equal(1048576, options.QueueMaxBytes);
        Assert.Equal(QueueFullPolicy.Block, options.QueueFullPolicy);
        Assert.Equal(TimeSpan.FromSeconds(3), options.FlushDeadline);
        Assert.Equal(100, options.BatchMaxRecords);
        Assert.Equal(4L << 20, options.BatchMaxBytes); // default kept
    }

    [Fact]
    public void WithoutAFileOverridesAloneWork()
    {
        var options = AgentConfiguration.Load(null, new Dictionary<string, string?> { ["Token"] = "t" });
        Assert.Equal("http://127.0.0.1:5080", options.ServerUrl);
        Assert.Equal(TimeSpan.FromMilliseconds(200), options.FsyncInterval);
    }

    [Fact]
    public void AMissingTokenIsAnErrorNamingTheSetting()
    {
        var ex = Assert.Throws<AgentOptionsException>(() => AgentConfiguration.Load(null));
        Assert.Equal("Token", ex.Setting);
    }

    [Theory]
    [InlineData("BatchMaxRecords", "0")]
    [InlineData("QueueMaxBytes", "10")]
    [InlineData("ServerUrl", "ftp://x")]
    [InlineData("RetryMaxDelay", "00:00:00.001")]
    public void ABadValueIsAnErrorNamingTheSetting(string setting, string value)
    {
        var ex = Assert.Throws<AgentOptionsException>(() => AgentConfiguration.Load(null, new Dictionary<string, string?> { ["Token"] = "t", [setting] = value }));
        Assert.Equal(setting, ex.Setting);
        Assert.Contains(setting, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AValueOfTheWrongTypeOrAnUnknownKeyIsAClearError()
    {
        Assert.Throws<InvalidDataException>(() => AgentConfiguration.Load(null, new Dictionary<string, string?> { ["Token"] = "t", ["BatchMaxRecords"] = "many" }));
        Assert.Throws<InvalidDataException>(() => AgentConfiguration.Load(Config("""{ "Agent": { "Token": "t", "Tokn": "typo" } }""")));
    }

    [Fact]
    public void ASessionTrailSinkWithItsOwnUrlAndTokenIsTheAgentsServerWhenNoneIsGiven()
    {
        var path = Config("""
            { "Sinks": [ { "Type": "S3", "Bucket": "b", "Region": "us-east-1" },
                         { "Id": "sessiontrail", "SinkType": "SessionTrail", "Url": "http://collector:5080/", "Token": "st_sink" },
                         { "Id": "mirror", "SinkType": "sessiontrail", "Url": "http://COLLECTOR:5080", "Token": "st_sink" } ] }
            """);

        var options = AgentConfiguration.Load(path, new Dictionary<string, string?> { ["ServerUrl"] = null, ["Token"] = null });

        Assert.Equal(("http://collector:5080/", "st_sink"), Server(options));
    }

    [Fact]
    public void ASinkTokenWithoutUrlIsForTheAgentsServerUrlAndAGivenServerUrlMustBeTheSinksServer()
    {
        var tokenOnly = Config("""{ "Agent": { "ServerUrl": "http://a:5080" }, "Sinks": [ { "Id": "st", "SinkType": "SessionTrail", "Token": "st_a" } ] }""");
        Assert.Equal(("http://a:5080", "st_a"), Server(AgentConfiguration.Load(tokenOnly)));

        var two = Config("""
            { "Sinks": [ { "Id": "a", "SinkType": "SessionTrail", "Url": "http://a:5080", "Token": "st_a" },
                         { "Id": "b", "SinkType": "SessionTrail", "Url": "http://b:5080", "Token": "st_b" } ] }
            """);
        Assert.Equal(("http://b:5080", "st_b"), Server(AgentConfiguration.Load(two, new Dictionary<string, string?> { ["ServerUrl"] = "http://b:5080/" })));

        // Given explicitly, the agent's own token wins; an agent without a server needs none.
        Assert.Equal(("http://a:5080", "st_cli"), Server(AgentConfiguration.Load(two, new Dictionary<string, string?> { ["ServerUrl"] = "http://a:5080", ["Token"] = "st_cli" })));
        var off = Config("""{ "Agent": { "ServerUrl": "" }, "Sinks": [ { "Id": "a", "SinkType": "SessionTrail", "Url": "http://a:5080", "Token": "st_a" } ] }""");
        Assert.Equal(("", null), Server(AgentConfiguration.Load(off)));
    }

    [Fact]
    public void SinksNamingTwoServersAreAnErrorNamingBoth()
    {
        var path = Config("""
            { "Sinks": [ { "Id": "a", "SinkType": "SessionTrail", "Url": "http://a:5080", "Token": "st_a" },
                         { "Id": "b", "SinkType": "SessionTrail", "Url": "http://b:5080", "Token": "st_b" } ] }
            """);

        var ex = Assert.Throws<AgentOptionsException>(() => AgentConfiguration.Load(path));

        Assert.Equal("Token", ex.Setting);
        Assert.Equal(
            "Agent setting 'Token' is required when ServerUrl is set: the SessionTrail sinks of agent.json name 2 servers (Sinks:0 http://a:5080, Sinks:1 http://b:5080), " +
            "so which one gets the process and session records is not clear; set \"Agent\": { \"ServerUrl\": \"...\", \"Token\": \"...\" } in agent.json, or give --server URL --token TOKEN.",
            ex.Message);

        // A given server that none of them names has no token.
        var none = Assert.Throws<AgentOptionsException>(() => AgentConfiguration.Load(path, new Dictionary<string, string?> { ["ServerUrl"] = "http://c:5080" }));
        Assert.StartsWith("Agent setting 'Token' is required when ServerUrl is set (http://c:5080), and agent.json names no token for it", none.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AConfigNamingNoServerTokenSaysWhatToAdd()
    {
        var path = Config("""{ "Sinks": [ { "Id": "sessiontrail", "SinkType": "SessionTrail" } ] }""");

        var ex = Assert.Throws<AgentOptionsException>(() => AgentConfiguration.Load(path));

        Assert.Equal(
            "Agent setting 'Token' is required when ServerUrl is set (http://127.0.0.1:5080), and agent.json names no token for it: give --server URL --token TOKEN, " +
            "or add \"Agent\": { \"ServerUrl\": \"...\", \"Token\": \"...\" } or a \"Url\" and \"Token\" on its \"SinkType\": \"SessionTrail\" sink to agent.json; " +
            "to deliver only to the configured Sinks set \"Agent\": { \"ServerUrl\": \"\" }.",
            ex.Message);
    }

    private static (string? Url, string? Token) Server(AgentOptions options) => (options.ServerUrl, options.Token);

    [Fact]
    public void AMissingConfigFileIsAnError() =>
        Assert.Throws<FileNotFoundException>(() => AgentConfiguration.Load(Path.Combine(_dir.Path, "nope.json")));
}
