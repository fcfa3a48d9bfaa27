using System.Text;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging.Abstractions;
using SessionTrail.Agent.Config;
using SessionTrail.Agent.Queue;
using SessionTrail.Agent.Tests.Fakes;
using SessionTrail.Agent.Tests.Sources;

namespace SessionTrail.Agent.Tests.Config;

public sealed class LogConfigLoaderTests : IDisposable
{
    private static readonly string Here = Path.Combine(AppContext.BaseDirectory, "Config");
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private static LogShippingPlan Load(string json, string? serverUrl = "http://127.0.0.1:5080") =>
        LogConfigLoader.LoadBytes(Encoding.UTF8.GetBytes(json), "agent.json", TestPlugins.Registry(), serverUrl, _ => null);

    private static string[] Texts(LogShippingPlan plan) => [.. plan.Problems.Select(p => p.ToString())];

    [Fact]
    public void TheSeedsConfigWithStraightQuotesLoadsAsWritten()
    {
        var plan = LogConfigLoader.LoadFile(Path.Combine(Here, "seed-appsettings.json"), TestPlugins.Registry(), "http://127.0.0.1:5080", _ => null);

        Assert.Equal([("ApplicationLog", "WindowsEventLogSource", "Sources:0"), ("SystemLog", "WindowsEventLogSource", "Sources:1")], plan.Sources.Select(s => (s.Id, s.SourceType, s.Config.Path)));
        Assert.Equal("Application", plan.Sources[0].Config.Required("LogName"));
        var sink = Assert.Single(plan.Sinks);
        Assert.Equal(("myKinesisFirehoseSink", "KinesisFirehose", "Sinks:0", QueueFullPolicy.Block), (sink.Id, sink.SinkType, sink.Config.Path, sink.QueueFullPolicy));
        Assert.Equal("Example-Stream", sink.Config.Required("StreamName"));
        Assert.Equal(
            ["AppStream_Stack_Name", "AppStream_User_Access_Mode", "AppStream_Session_Reservation_DateTime", "AppStream_UserName", "AppStream_Session_ID",
             "APPSTREAM_SESSION_CONTEXT", "AppStream_Image_Arn", "AppStream_Instance_Type", "AppStream_Resource_Type", "AppStream_Resource_Name"],
            sink.Decoration!.Keys);
        Assert.Equal(
            [("ApplicationLogToKinesisFirehose", "ApplicationLog", "myKinesisFirehoseSink"), ("ApplicationLogToKinesisFirehose", "SystemLog", "myKinesisFirehoseSink")],
            plan.Pipes.Select(p => (p.Id, p.SourceRef, p.SinkRef)));
        Assert.All(plan.Pipes, p => Assert.Null(p.Filter));

        // Exactly two warnings, no error: the ignored SelfUpdate and the pipe Id the seed uses twice.
        Assert.False(plan.HasErrors);
        Assert.Equal(
            [
                "warning: Config 'SelfUpdate' is ignored: SessionTrail does not update itself (deploy a new version instead).",
                "warning: Config 'Pipes:1:Id' 'ApplicationLogToKinesisFirehose' is also the Id of Pipes:0; both pipes are used (pipe Ids should be unique).",
            ],
            Texts(plan));
    }

    [SessionTrail.TestKit.LinuxFact] // on Windows the test factory builds nothing either, but says something else
    public void OnLinuxBuildingTheSeedsSourcesSaysTheyRunOnlyOnWindowsAndTheSinkBuilds()
    {
        var plan = LogConfigLoader.LoadFile(Path.Combine(Here, "seed-appsettings.json"), TestPlugins.Registry(), "http://127.0.0.1:5080", _ => null);
        var problems = new List<ConfigProblem>();
        var built = LogShipping.Build(plan, TestPlugins.Registry(), new LogShippingContext(_dir.Path, "h1", null, null, NullLoggerFactory.Instance, TimeProvider.System), problems);

        Assert.Null(built);
        Assert.Equal(
            [
                "error: Config 'Sources:0:SourceType' 'WindowsEventLogSource' runs only on Windows.",
                "error: Config 'Sources:1:SourceType' 'WindowsEventLogSource' runs only on Windows.",
            ],
            problems.Select(p => p.ToString()));
    }

    [Fact]
    public void TheSeedsConfigAsTheBlogPrintsItSaysToReplaceTheTypographicQuotes()
    {
        var plan = LogConfigLoader.LoadFile(Path.Combine(Here, "seed-appsettings-typographic.json"), TestPlugins.Registry(), null);
        var problem = Assert.Single(plan.Problems);
        Assert.True(problem.IsError);
        Assert.EndsWith("seed-appsettings-typographic.json:2:5: '“' is a typographic quote (as copied from a web page or a word processor); JSON needs straight quotes: replace every “ ” ‘ ’ with \"", problem.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void TypographicQuotesInsideAStringAreText()
    {
        var plan = Load("""{ "Sources": [ { "Id": "s", "SourceType": "Counter", "Prefix": "“quoted”" } ], "Sinks": [ { "Id": "k", "SinkType": "KinesisFirehose" } ], "Pipes": [ { "Id": "p", "SourceRef": "s", "SinkRef": "k" } ] }""");
        Assert.Empty(plan.Problems);
        Assert.Equal("“quoted”", plan.Sources[0].Config.Required("Prefix"));
    }

    [Theory]
    [InlineData("{ \"Sources\": [ { \"Id\": \"s\" } \n ,, ] }", "agent.json:2:3: not valid JSON: ")]
    [InlineData("{ \"Sources\": [ ", "agent.json:1:16: not valid JSON: ")]
    public void BadJsonNamesLineAndColumn(string json, string start)
    {
        var problem = Assert.Single(Load(json).Problems);
        Assert.StartsWith(start, problem.Message, StringComparison.Ordinal);
    }

    private const string Source = """{ "Id": "s", "SourceType": "Counter" }""";
    private const string Sink = """{ "Id": "k", "SinkType": "KinesisFirehose" }""";
    private const string Pipe = """{ "Id": "p", "SourceRef": "s", "SinkRef": "k" }""";

    [Theory]
    [InlineData("""[ { "Id": "s", "SourceType": "Kafka" } ]""", "[" + Sink + "]", "[]", "Sources:0:SourceType", "'Kafka' is not a known source type (known: Counter, WindowsEventLogSource)")]
    [InlineData("""[ { "SourceType": "Counter" } ]""", "[" + Sink + "]", "[]", "Sources:0:Id", "is required")]
    [InlineData("""[ { "Id": "s" } ]""", "[" + Sink + "]", "[]", "Sources:0:SourceType", "is required")]
    [InlineData("[" + Source + ", " + Source + "]", "[" + Sink + "]", "[" + Pipe + "]", "Sources:1:Id", "'s' is already the Id of Sources:0; source Ids must be unique")]
    [InlineData("[" + Source + "]", """[ { "Id": "k", "SinkType": "Splunk" } ]""", "[" + Pipe + "]", "Sinks:0:SinkType", "'Splunk' is not a known sink type (known: KinesisFirehose, SessionTrail)")]
    [InlineData("[" + Source + "]", """[ { "SinkType": "KinesisFirehose" } ]""", "[]", "Sinks:0:Id", "is required")]
    [InlineData("[" + Source + "]", "[" + Sink + ", " + Sink + "]", "[" + Pipe + "]", "Sinks:1:Id", "'k' is already the Id of Sinks:0; sink Ids must be unique")]
    [InlineData("[" + Source + "]", """[ { "Id": "a/b", "SinkType": "KinesisFirehose" } ]""", "[]", "Sinks:0:Id", "must be letters, digits")]
    [InlineData("[" + Source + "]", """[ { "Id": "server", "SinkType": "KinesisFirehose" } ]""", "[]", "Sinks:0:Id", "is already the queue name of the agent's server sink")]
    [InlineData("[" + Source + "]", """[ { "Type": "S3", "Bucket": "b", "Region": "r" }, { "Id": "s3", "SinkType": "KinesisFirehose" } ]""", "[]", "Sinks:1:Id", "data-lake sink")]
    [InlineData("[" + Source + "]", """[ { "Id": "k", "SinkType": "KinesisFirehose", "Type": "S3" } ]""", "[]", "Sinks:0", "has both \"SinkType\"")]
    [InlineData("[" + Source + "]", """[ { "Id": "k", "SinkType": "KinesisFirehose", "ObjectDecoration": "a=1;{appstreamVariables};oops" } ]""", "[" + Pipe + "]", "Sinks:0:ObjectDecoration", "segment 3 'oops' is not key=value")]
    [InlineData("[" + Source + "]", """[ { "Id": "k", "SinkType": "KinesisFirehose", "ObjectDecoration": "a={session:colour}" } ]""", "[" + Pipe + "]", "Sinks:0:ObjectDecoration", "{session:colour} is not a session field")]
    [InlineData("[" + Source + "]", """[ { "Id": "k", "SinkType": "KinesisFirehose", "QueueFullPolicy": "Wait" } ]""", "[" + Pipe + "]", "Sinks:0:QueueFullPolicy", "must be one of DropOldest, RejectNew, Block, not 'Wait'")]
    [InlineData("[" + Source + "]", """[ { "Id": "k", "SinkType": "KinesisFirehose", "QueueMaxBytes": "1000" } ]""", "[" + Pipe + "]", "Sinks:0:QueueMaxBytes", "must be between 65536")]
    [InlineData("[" + Source + "]", """[ { "Id": "k", "SinkType": "SessionTrail", "Url": "ftp://x" } ]""", "[" + Pipe + "]", "Sinks:0:Url", "'ftp://x' is not an http(s) URL")]
    [InlineData("[" + Source + "]", "[" + Sink + "]", """[ { "Id": "p", "SourceRef": "nope", "SinkRef": "k" } ]""", "Pipes:0:SourceRef", "'nope' names no source (known: s)")]
    [InlineData("[" + Source + "]", "[" + Sink + "]", """[ { "Id": "p", "SourceRef": "s", "SinkRef": "nope" } ]""", "Pipes:0:SinkRef", "'nope' names no log sink")]
    [InlineData("[" + Source + "]", "[" + Sink + "]", """[ { "SourceRef": "s", "SinkRef": "k" } ]""", "Pipes:0:Id", "is required")]
    [InlineData("[" + Source + "]", "[" + Sink + "]", """[ { "Id": "p", "SinkRef": "k" } ]""", "Pipes:0:SourceRef", "is required")]
    [InlineData("[" + Source + "]", "[" + Sink + "]", """[ { "Id": "p", "SourceRef": "s", "SinkRef": "k", "Type": "EMFPipe" } ]""", "Pipes:0:Type", "'EMFPipe' is not a known pipe type (known: RegexFilterPipe")]
    [InlineData("[" + Source + "]", "[" + Sink + "]", """[ { "Id": "p", "SourceRef": "s", "SinkRef": "k", "Type": "RegexFilterPipe" } ]""", "Pipes:0:FilterPattern", "is required")]
    [InlineData("[" + Source + "]", "[" + Sink + "]", """[ { "Id": "p", "SourceRef": "s", "SinkRef": "k", "Type": "RegexFilterPipe", "FilterPattern": "(error" } ]""", "Pipes:0:FilterPattern", "is not a valid regular expression")]
    [InlineData("[" + Source + "]", "[" + Sink + "]", """[ { "Id": "p", "SourceRef": "s", "SinkRef": "k", "Type": "RegexFilterPipe", "FilterPattern": "x", "Negate": "sometimes" } ]""", "Pipes:0:Negate", "must be true or false")]
    [InlineData("\"all\"", "[" + Sink + "]", "[]", "Sources", "must be a list")]
    public void EveryErrorNamesItsKeyPath(string sources, string sinks, string pipes, string path, string problem)
    {
        var plan = Load($$"""{ "Sources": {{sources}}, "Sinks": {{sinks}}, "Pipes": {{pipes}} }""");
        var error = Assert.Single(plan.Errors);
        Assert.Equal(path, error.Path);
        Assert.StartsWith($"Config '{path}' ", error.Message, StringComparison.Ordinal);
        Assert.Contains(problem, error.Message, StringComparison.Ordinal);
        Assert.Throws<SessionTrail.Agent.Config.LogConfigException>(plan.ThrowIfInvalid);
    }

    [Fact]
    public void ASessionTrailSinkWithoutUrlNeedsTheAgentsServer()
    {
        var plan = Load("""{ "Sinks": [ { "Id": "st", "SinkType": "SessionTrail" } ] }""", serverUrl: "");
        Assert.Equal("Sinks:0:Url", Assert.Single(plan.Errors).Path);
    }

    [Fact]
    public void ASessionTrailSinkWithoutUrlAndTokenIsTheAgentsServerSinkAndWithAUrlItsOwn()
    {
        var plan = Load("""
            { "Sources": [ { "Id": "s", "SourceType": "Counter" } ],
              "Sinks": [ { "Id": "st", "SinkType": "sessiontrail" }, { "Id": "other", "SinkType": "SessionTrail", "Url": "http://10.0.0.1:5080", "Colour": "red" } ],
              "Pipes": [ { "Id": "a", "SourceRef": "s", "SinkRef": "st" }, { "Id": "b", "SourceRef": "S", "SinkRef": "OTHER" } ] }
            """);
        Assert.False(plan.HasErrors);
        Assert.True(plan.Sinks[0].IsAgentServer);
        Assert.Equal("SessionTrail", plan.Sinks[0].SinkType);
        Assert.False(plan.Sinks[1].IsAgentServer);
        Assert.Equal(new SessionTrailSinkType("http://10.0.0.1:5080", null), plan.Sinks[1].SessionTrail);
        Assert.Equal(["warning: Config 'Sinks:1:Colour' is not a key of a SessionTrail sink and is ignored."], Texts(plan));
        Assert.Equal(("s", "other"), (plan.Pipes[1].SourceRef, plan.Pipes[1].SinkRef));
    }

    [Fact]
    public void WarningsNameTheirPathAndDoNotStopTheConfig()
    {
        var plan = Load("""
            { "Credentials": [], "Telemetrics": { "off": true }, "Plugins": [],
              "Sources": [ { "Id": "s", "SourceType": "Counter" }, { "Id": "idle", "SourceType": "Counter" } ],
              "Sinks": [ { "Id": "k", "SinkType": "KinesisFirehose", "ObjectDecorationEx": "x={upper(y)}" }, { "Id": "unused", "SinkType": "KinesisFirehose" } ],
              "Pipes": [ { "Id": "p", "SourceRef": "s", "SinkRef": "k", "FilterPattern": "x", "Colour": 1 } ] }
            """);
        Assert.False(plan.HasErrors);
        Assert.Equal(
            [
                "Credentials", "Plugins", "Telemetrics", "Sinks:0:ObjectDecorationEx", "Pipes:0:Colour", "Pipes:0:FilterPattern", "Sources:1", "Sinks:1",
            ],
            plan.Problems.Select(p => p.Path));
        Assert.Contains("is named by no pipe's SourceRef: it is not started", plan.Problems[6].Message, StringComparison.Ordinal);
    }

    [Fact]
    public void APipeToABrokenSinkReportsOnlyTheSinksError()
    {
        var plan = Load("""{ "Sources": [ { "Id": "s", "SourceType": "Counter" } ], "Sinks": [ { "Id": "k", "SinkType": "Kafka" } ], "Pipes": [ { "Id": "p", "SourceRef": "s", "SinkRef": "k" } ] }""");
        Assert.Equal(["Sinks:0:SinkType"], plan.Errors.Select(e => e.Path));
    }

    [Fact]
    public void DataLakeSinksAndLogSinksShareTheSinksList()
    {
        var json = """
            { "Agent": { "ServerUrl": "" },
              "Sinks": [ { "Type": "S3", "Bucket": "lake", "Region": "eu-west-1" }, { "Id": "k", "SinkType": "KinesisFirehose", "QueueMaxBytes": 1048576, "QueueFullPolicy": "dropoldest" } ],
              "Sources": [ { "Id": "s", "SourceType": "Counter" } ], "Pipes": [ { "Id": "p", "SourceRef": "s", "SinkRef": "k" } ] }
            """;
        var s3 = SinkConfiguration.LoadS3(new ConfigurationBuilder().AddJsonStream(new MemoryStream(Encoding.UTF8.GetBytes(json))).Build());
        Assert.Equal("lake", Assert.Single(s3).Bucket);
        var plan = Load(json, serverUrl: "");
        Assert.Empty(plan.Problems);
        var sink = Assert.Single(plan.Sinks);
        Assert.Equal(("Sinks:1", 1048576L, QueueFullPolicy.DropOldest), (sink.Config.Path, sink.QueueMaxBytes, sink.QueueFullPolicy));
    }

    [Fact]
    public void NonBreakingSpacesPastedFromAWebPageAreSpacesOutsideStrings()
    {
        var json = "{\n\u00A0\u00A0\"Sources\": [ { \"Id\": \"s\u00A0x\", \"SourceType\": \"Counter\" } ] }";
        var normalized = ConfigJson.Normalize(Encoding.UTF8.GetBytes(json), out var line);
        Assert.Equal(2, line);
        var plan = LogConfigLoader.LoadBytes(Encoding.UTF8.GetBytes(json), "a.json", TestPlugins.Registry(), null);
        Assert.Equal("s\u00A0x", Assert.Single(plan.Sources).Id);
        Assert.Null(LogConfigLoader.CheckJson(normalized, "a.json"));
    }

    [Fact]
    public void AMissingKeyInsideAFactoryIsAnErrorNamingItsPath()
    {
        var plan = Load("""{ "Sources": [ { "Id": "s", "SourceType": "WindowsEventLogSource" } ], "Sinks": [ { "Id": "k", "SinkType": "KinesisFirehose" } ], "Pipes": [ { "Id": "p", "SourceRef": "s", "SinkRef": "k" } ] }""");
        Assert.Empty(plan.Problems);
        var problems = new List<ConfigProblem>();
        Assert.Null(LogShipping.Build(plan, TestPlugins.Registry(), new LogShippingContext(_dir.Path, "h1", null, null, NullLoggerFactory.Instance, TimeProvider.System), problems));
        Assert.Equal("Config 'Sources:0:LogName' is required.", Assert.Single(problems).Message);
    }

    [Fact]
    public void TheAppStreamExampleSendsBothEventLogsToTheAgentsServerDecorated()
    {
        var plan = LogConfigLoader.LoadFile(Repository.PathOf("deploy", "appstream", "appsettings.json"), TestPlugins.Registry(), "http://127.0.0.1:5080", _ => null);
        Assert.Empty(plan.Problems);
        var sink = Assert.Single(plan.Sinks);
        Assert.True(sink.IsAgentServer);
        Assert.Equal(8, sink.Decoration!.Keys.Count);
        Assert.Equal(["ApplicationLog", "SystemLog"], plan.Pipes.Select(p => p.SourceRef));
    }
}
