using SessionTrail.Agent.Config;
using SessionTrail.Agent.Ids;
using SessionTrail.Agent.Pipes;
using SessionTrail.Agent.Sessions;
using SessionTrail.Agent.Sinks;
using SessionTrail.Agent.Sources;
using SessionTrail.Agent.Tests.Fakes;
using SessionTrail.Agent.Tests.Sources;
using SessionTrail.Core.Records;

namespace SessionTrail.Agent.Tests.Pipes;

public sealed class ObjectDecorationTests
{
    private const string Path = "Sinks:0:ObjectDecoration";

    private static readonly Dictionary<string, string> Environment = new(StringComparer.Ordinal)
    {
        ["COMPUTERNAME"] = "WS-01",
        ["Team"] = "blue",
    };

    private static readonly CurrentSession Session = new()
    {
        Id = "sess-42",
        Fields = new()
        {
            User = "alice",
            Stack = "office-stack",
            Fleet = "office-fleet",
            AccessMode = "userpool",
            ReservationTime = "2026-11-22T07:59:00Z",
            InstanceType = "stream.standard.medium",
            Region = "eu-west-1",
            ImageArn = "arn:aws:appstream:eu-west-1:123:image/office",
        },
        Started = Records.T0.AddMinutes(-1),
    };

    private static LogRecord Record(string? session = "host-1") => new()
    {
        Id = "log-1",
        Time = new DateTimeOffset(2026, 11, 22, 8, 30, 15, 250, TimeSpan.Zero),
        Host = "ws-01.example",
        Session = session,
        Source = "files",
        Channel = "/var/log/app/app.log",
        Level = "Warning",
        Message = "disk almost full",
        Fields = new Dictionary<string, string> { ["_filepath"] = "/var/log/app/app.log", ["_filename"] = "app.log", ["_position"] = "1024", ["_linenumber"] = "17", ["Printer"] = "HP-4" },
    };

    private static Dictionary<string, string>? Evaluate(string text, CurrentSession? session = null, LogRecord? record = null) =>
        ObjectDecoration.Parse(text, Path, n => Environment.GetValueOrDefault(n)).Evaluate(record ?? Record(), session);

    [Theory]
    [InlineData("k={env:Team}", "blue")]
    [InlineData("k={Team}", "blue")]
    [InlineData("k={hostname}", "ws-01.example")]
    [InlineData("k={timestamp:yyyy-MM-dd HH:mm:ss}", "2026-11-22 08:30:15")]
    [InlineData("k={uniformtimestamp}", "2026-11-22T08:30:15.250Z")]
    [InlineData("k={_timestamp}", "2026-11-22T08:30:15.250Z")]
    [InlineData("k={_record}", "disk almost full")]
    [InlineData("k={$Printer}", "HP-4")]
    [InlineData("k={$Level}", "Warning")]
    [InlineData("k={_filepath}", "/var/log/app/app.log")]
    [InlineData("k={_filename}", "app.log")]
    [InlineData("k={_position}", "1024")]
    [InlineData("k={_linenumber}", "17")]
    [InlineData("k={instance_id}", "{instance_id}")]
    [InlineData("k={ec2:/meta-data/ami-id}", "{ec2:/meta-data/ami-id}")]
    [InlineData("k={ec2tag:Name}", "{ec2tag:Name}")]
    [InlineData("k={NotSet}", "{NotSet}")]
    [InlineData("k=team {env:Team} on {hostname}!", "team blue on ws-01.example!")]
    [InlineData("k={timestamp:HH;mm}", "08;30")]
    [InlineData(" k = literal ", "literal")]
    public void EachVariableIsEvaluated(string decoration, string expected) =>
        Assert.Equal(expected, Assert.Single(Evaluate(decoration)!).Value);

    [Theory]
    [InlineData("id", "sess-42")]
    [InlineData("user", "alice")]
    [InlineData("stack", "office-stack")]
    [InlineData("fleet", "office-fleet")]
    [InlineData("accessMode", "userpool")]
    [InlineData("reservationTime", "2026-11-22T07:59:00Z")]
    [InlineData("instanceType", "stream.standard.medium")]
    [InlineData("region", "eu-west-1")]
    [InlineData("imageArn", "arn:aws:appstream:eu-west-1:123:image/office")]
    [InlineData("started", "2026-11-22T07:59:00.000Z")]
    [InlineData("STACK", "office-stack")]
    public void SessionFieldsComeFromTheLiveSession(string field, string expected) =>
        Assert.Equal(expected, Evaluate($"k={{session:{field}}}", Session)!["k"]);

    [Fact]
    public void WithoutALiveSessionTheSessionIdIsTheRecordsAndOtherFieldsAreLeftOut()
    {
        Assert.Equal(new Dictionary<string, string> { ["id"] = "host-1" }, Evaluate("id={session:id};user={session:user}"));
        Assert.Null(Evaluate("user={session:user};ctx={env:APPSTREAM_SESSION_CONTEXT}", record: Record(session: null)));
    }

    [Fact]
    public void TheSeedsDecorationExpandsAppStreamVariablesFromTheLiveSession()
    {
        const string seed = "{appstreamVariables};APPSTREAM_SESSION_CONTEXT={env:APPSTREAM_SESSION_CONTEXT};AppStream_Image_Arn={env:AppStream_Image_Arn};AppStream_Instance_Type={env:AppStream_Instance_Type};AppStream_Resource_Type={env:AppStream_Resource_Type};AppStream_Resource_Name={env:AppStream_Resource_Name}";
        var result = Evaluate(seed, Session);
        Assert.Equal(
            new Dictionary<string, string>
            {
                ["AppStream_Stack_Name"] = "office-stack",
                ["AppStream_User_Access_Mode"] = "userpool",
                ["AppStream_Session_Reservation_DateTime"] = "2026-11-22T07:59:00Z",
                ["AppStream_UserName"] = "alice",
                ["AppStream_Session_ID"] = "sess-42",
                ["AppStream_Image_Arn"] = "arn:aws:appstream:eu-west-1:123:image/office",
                ["AppStream_Instance_Type"] = "stream.standard.medium",
                ["AppStream_Resource_Name"] = "office-fleet",
            },
            result);

        // Without a session only what the agent's environment has remains (here nothing), so nothing is added.
        Assert.Null(Evaluate(seed, record: Record(session: null)));
    }

    [Fact]
    public void TheAgentsOwnEnvironmentWinsOverTheSession()
    {
        var decoration = ObjectDecoration.Parse("u={env:AppStream_UserName};s={AppStream_Stack_Name}", Path, n => n == "AppStream_UserName" ? "from-env" : null);
        Assert.Equal(new Dictionary<string, string> { ["u"] = "from-env", ["s"] = "office-stack" }, decoration.Evaluate(Record(), Session));
    }

    [Fact]
    public void EmptyValuesAreLeftOut() =>
        Assert.Equal(["a"], Evaluate("a=1;b={env:Nothing};c=;d={$Missing}")!.Keys);

    [Theory]
    [InlineData("a=1;oops", "segment 2 'oops' is not key=value")]
    [InlineData("{appstreamVariables};{hostname}", "segment 2 '{hostname}' is not key=value")]
    [InlineData("=1", "segment 1 '=1' has no key before '='")]
    [InlineData("a=1;A=2", "gives the attribute 'A' twice")]
    [InlineData("{appstreamVariables};AppStream_UserName=x", "gives the attribute 'AppStream_UserName' twice")]
    [InlineData("a={env:X", "has a '{' without its '}'")]
    [InlineData("a={session:colour}", "{session:colour} is not a session field")]
    [InlineData("a={timestamp:%}", "is not a .NET date format")]
    public void ABadDecorationIsAConfigErrorNamingThePath(string text, string problem)
    {
        var ex = Assert.Throws<LogConfigException>(() => ObjectDecoration.Parse(text, Path));
        Assert.Equal(Path, ex.Path);
        Assert.Contains(problem, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void TrailingSemicolonsAndAppStreamVariablesInAnyCaseAreAccepted() =>
        Assert.Equal(6, ObjectDecoration.Parse("{AppStreamVariables};x=1;;", Path).Keys.Count);
}
