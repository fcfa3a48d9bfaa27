using System.Diagnostics;
using SessionTrail.Agent.Pipes;
using SessionTrail.Agent.Tests.Fakes;
using SessionTrail.Agent.Tests.Sources;
using SessionTrail.Core.Records;

namespace SessionTrail.Agent.Tests.Pipes;

public sealed class RegexFilterPipeTests
{
    private static LogRecord Event(string message = "The print spooler failed to load a plug-in module", string level = "Error") => new()
    {
        Time = Records.T0,
        Host = "WS-01",
        Source = "ApplicationLog",
        Channel = "Application",
        Provider = "Microsoft-Windows-PrintSpooler",
        EventId = 808,
        Level = level,
        Message = message,
        Fields = new Dictionary<string, string> { ["PrinterName"] = "HP-4", ["Colour"] = "" },
        Decoration = new Dictionary<string, string> { ["Stack"] = "office" },
    };

    private static LogRecord Line(string message) => new() { Time = Records.T0, Host = "h", Source = "files", Message = message };

    [Fact]
    public void AnEventIsMatchedInKinesisTapsPlainTextRendering()
    {
        Assert.Equal("[Application] [Error] [808] [Microsoft-Windows-PrintSpooler] [WS-01] [The print spooler failed to load a plug-in module]", LogRecordText.Render(Event()));
        Assert.True(new RegexFilterPipe(@"^\[Application\] \[(Error|Warning)\] \[808\]").Passes(Event()));
        Assert.False(new RegexFilterPipe(@"^\[Application\] \[(Error|Warning)\]").Passes(Event(level: "Information")));
        Assert.Equal("plain line", LogRecordText.Render(Line("plain line")));
    }

    [Fact]
    public void AsARecordPipeItDropsTheLogRecordsThatDoNotPassAndLetsEveryOtherRecordThrough()
    {
        var pipe = new RegexFilterPipe("spooler");
        var passing = Line("spooler started");
        var process = Records.Start(42);
        Assert.Same(passing, pipe.Process(passing));
        Assert.Null(pipe.Process(Line("heartbeat")));
        Assert.Same(process, pipe.Process(process));
    }

    [Fact]
    public void NegateIgnoreCaseMultilineAndRightToLeftAreApplied()
    {
        Assert.False(new RegexFilterPipe("spooler").Passes(Line("SPOOLER started")));
        Assert.True(new RegexFilterPipe("spooler", ignoreCase: true).Passes(Line("SPOOLER started")));
        var negate = new RegexFilterPipe("heartbeat", negate: true);
        Assert.False(negate.Passes(Line("heartbeat 1")));
        Assert.True(negate.Passes(Line("disk full")));
        Assert.Equal((1L, 1L), (negate.Passed, negate.Blocked));
        Assert.False(new RegexFilterPipe("^second$").Passes(Line("first\nsecond")));
        Assert.True(new RegexFilterPipe("^second$", multiline: true).Passes(Line("first\nsecond")));
        Assert.True(new RegexFilterPipe(@"\d+$", rightToLeft: true).Passes(Line("count 42")));
    }

    [Theory]
    [InlineData("Level", "^Error$", true)]
    [InlineData("level", "^error$", false)]
    [InlineData("Provider", "PrintSpooler$", true)]
    [InlineData("EventId", "^808$", true)]
    [InlineData("Channel", "^Application$", true)]
    [InlineData("Message", "^The print", true)]
    [InlineData("PrinterName", "^HP-4$", true)]
    [InlineData("printername", "^HP-4$", true)]
    [InlineData("Stack", "^office$", true)]
    [InlineData("Missing", "^$", true)]
    [InlineData("Missing", ".", false)]
    [InlineData("Message", "^\\[Application\\]", false)]
    public void FieldMatchesOneFieldByName(string field, string pattern, bool passes) =>
        Assert.Equal(passes, new RegexFilterPipe(pattern, field: field).Passes(Event()));

    [Fact]
    public void ACatastrophicPatternTimesOutAsNoMatchAndIsCounted()
    {
        var text = new string('a', 40) + "!";
        var filter = new RegexFilterPipe(@"^(a|aa)+$", matchTimeout: TimeSpan.FromMilliseconds(50));
        var watch = Stopwatch.StartNew();
        Assert.False(filter.Passes(Line(text)));
        Assert.False(filter.Passes(Line(text)));
        watch.Stop();
        Assert.Equal(2, filter.Timeouts);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(5), $"took {watch.Elapsed}");

        var negated = new RegexFilterPipe(@"^(a|aa)+$", negate: true, matchTimeout: TimeSpan.FromMilliseconds(50));
        Assert.True(negated.Passes(Line(text)));
        Assert.Equal(1, negated.Timeouts);

        // The same pattern on a short input matches normally.
        Assert.True(filter.Passes(Line("aaaa")));
        Assert.Equal(2, filter.Timeouts);
    }
}
