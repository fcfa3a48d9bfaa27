using Microsoft.Extensions.Configuration;
using SessionTrail.Agent.Config;
using SessionTrail.Agent.Sinks.S3;

namespace SessionTrail.Agent.Tests.Config;

public sealed class SinkConfigurationTests
{
    private static IReadOnlyList<S3SinkOptions> Load(string json) =>
        SinkConfiguration.LoadS3(new ConfigurationBuilder().AddJsonStream(new MemoryStream(System.Text.Encoding.UTF8.GetBytes(json))).Build());

    [Fact]
    public void AnS3SinkIsReadWithItsDefaults()
    {
        var sink = Assert.Single(Load("""
            { "Agent": { "ServerUrl": "" },
              "Sinks": [ { "Type": "S3", "Bucket": "lake", "Region": "eu-west-1", "ServiceUrl": "http://127.0.0.1:9000", "ForcePathStyle": true } ] }
            """));
        Assert.Equal("s3", sink.Name);
        Assert.Equal("lake", sink.Bucket);
        Assert.Equal("eu-west-1", sink.Region);
        Assert.True(sink.ForcePathStyle);
        Assert.Equal(S3ObjectFormats.AthenaCsv, sink.Format);
        Assert.Equal("appstream_applications", sink.EffectivePrefix);
        Assert.Equal(TimeSpan.FromMinutes(10), sink.DayCloseDelay);
    }

    [Fact]
    public void ObjectsPerBatchAreReadWithTheirDefaults()
    {
        var sink = Assert.Single(Load("""
            { "Sinks": [ { "Type": "S3", "Bucket": "lake", "Region": "eu-west-1", "Objects": "batch", "FilePath": "logs/{yyyy}", "BufferInterval": "00:00:05" } ] }
            """));
        Assert.Equal(S3Objects.Batch, sink.Objects);
        Assert.Equal("json", sink.Format);
        Assert.Equal("logs/{yyyy}", sink.EffectiveFilePath);
        Assert.Equal((8L << 20, 100_000, TimeSpan.FromSeconds(5)), (sink.EffectiveMaxObjectBytes, sink.EffectiveBufferSize, sink.EffectiveBufferInterval));
        Assert.Equal(S3Objects.Session, Assert.Single(Load("""{ "Sinks": [ { "Type": "S3", "Bucket": "b", "Region": "r", "Objects": "Session" } ] }""")).Objects);
    }

    [Fact]
    public void AnUnknownObjectsValueIsNamed()
    {
        var ex = Assert.Throws<InvalidDataException>(() => Load("""{ "Sinks": [ { "Type": "S3", "Bucket": "b", "Region": "r", "Objects": "hourly" } ] }"""));
        Assert.Contains("Sinks:0", ex.Message, StringComparison.Ordinal);
        Assert.Contains("Objects", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void NoSinksSectionMeansNoSinks() => Assert.Empty(Load("""{ "Agent": { "Token": "t" } }"""));

    [Fact]
    public void JsonlHasItsOwnDefaultPrefix() =>
        Assert.Equal("sessiontrail_sessions", Load("""{ "Sinks": [ { "Type": "s3", "Bucket": "b", "Region": "r", "Format": "jsonl" } ] }""")[0].EffectivePrefix);

    [Theory]
    [InlineData("""{ "Type": "S3", "Region": "us-east-1" }""", "Sinks:0:Bucket", "is required")]
    [InlineData("""{ "Type": "S3", "Bucket": "b" }""", "Sinks:0:Region", "is required")]
    [InlineData("""{ "Bucket": "b", "Region": "r" }""", "Sinks:0:Type", "is required")]
    [InlineData("""{ "Type": "Kafka", "Bucket": "b", "Region": "r" }""", "Sinks:0:Type", "'Kafka' is not a known sink type")]
    [InlineData("""{ "Type": "S3", "Bucket": "b", "Region": "r", "Format": "parquet" }""", "Sinks:0:Format", "'parquet' is not a format")]
    [InlineData("""{ "Type": "S3", "Bucket": "b", "Region": "r", "ServiceUrl": "s3.local" }""", "Sinks:0:ServiceUrl", "is not an http(s) URL")]
    [InlineData("""{ "Type": "S3", "Bucket": "b", "Region": "r", "Name": "a/b" }""", "Sinks:0:Name", "must be letters")]
    [InlineData("""{ "Type": "S3", "Bucket": "b", "Region": "r", "Profile": "p", "UseInstanceRole": true }""", "Sinks:0:Profile", "exclude each other")]
    [InlineData("""{ "Type": "S3", "Bucket": "b", "Region": "r", "Prefix": "x", "UnattributedPrefix": "/x/" }""", "Sinks:0:UnattributedPrefix", "must differ")]
    [InlineData("""{ "Type": "S3", "Bucket": "b", "Region": "r", "BufferSize": 10 }""", "Sinks:0:BufferSize", "applies only to objects per batch")]
    [InlineData("""{ "Type": "S3", "Bucket": "b", "Region": "r", "Objects": "batch", "Prefix": "x" }""", "Sinks:0:Prefix", "applies only to objects per session")]
    [InlineData("""{ "Type": "S3", "Bucket": "b", "Region": "r", "Objects": "batch", "Format": "athena-csv" }""", "Sinks:0:Format", "is not a format of objects per batch")]
    [InlineData("""{ "Type": "S3", "Bucket": "b", "Region": "r", "Objects": "batch", "FilePath": "x/{yyyy" }""", "Sinks:0:FilePath", "without its '}'")]
    [InlineData("""{ "Type": "S3", "Bucket": "b", "Region": "r", "Objects": "batch", "MaxObjectBytes": 10 }""", "Sinks:0:MaxObjectBytes", "must be between 1024")]
    public void ABadSinkIsAnErrorNamingTheKey(string sink, string setting, string problem)
    {
        var ex = Assert.Throws<AgentOptionsException>(() => Load("{ \"Sinks\": [ " + sink + " ] }"));
        Assert.Equal(setting, ex.Setting);
        Assert.Contains(problem, ex.Message, StringComparison.Ordinal);
        Assert.StartsWith($"Agent setting '{setting}' ", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void TheSecondSinkIsNamedByItsIndex()
    {
        var ex = Assert.Throws<AgentOptionsException>(() => Load("""{ "Sinks": [ { "Type": "S3", "Bucket": "b", "Region": "r" }, { "Type": "S3", "Name": "two", "Region": "r" } ] }"""));
        Assert.Equal("Sinks:1:Bucket", ex.Setting);
    }

    [Fact]
    public void AnUnknownKeyIsNamed()
    {
        var ex = Assert.Throws<InvalidDataException>(() => Load("""{ "Sinks": [ { "Type": "S3", "Buckett": "b", "Region": "r" } ] }"""));
        Assert.Contains("Sinks:0", ex.Message, StringComparison.Ordinal);
        Assert.Contains("Buckett", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AnObjectInsteadOfAListIsExplained()
    {
        var ex = Assert.Throws<AgentOptionsException>(() => Load("""{ "Sinks": { "S3": { "Type": "S3", "Bucket": "b", "Region": "r" } } }"""));
        Assert.Equal("Sinks", ex.Setting);
        Assert.Contains("must be a list", ex.Message, StringComparison.Ordinal);
    }
}
