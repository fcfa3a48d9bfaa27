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
    public void AMissingConfigFileIsAnError() =>
        Assert.Throws<FileNotFoundException>(() => AgentConfiguration.Load(Path.Combine(_dir.Path, "nope.json")));
}
