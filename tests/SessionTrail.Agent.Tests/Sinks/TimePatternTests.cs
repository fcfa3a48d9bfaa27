using SessionTrail.Agent.Config;
using SessionTrail.Agent.Ids;
using SessionTrail.Agent.Sinks;
using SessionTrail.Agent.Sources;
using SessionTrail.Agent.Tests.Sources;

namespace SessionTrail.Agent.Tests.Sinks;

public sealed class TimePatternTests
{
    private static readonly DateTimeOffset Time = new(2026, 3, 4, 23, 30, 0, TimeSpan.FromHours(-2)); // 2026-03-05 01:30 UTC

    [Theory]
    [InlineData("sessiontrail-logs-{yyyy.MM.dd}", "sessiontrail-logs-2026.03.05")]
    [InlineData("logs/{yyyy}/{MM}/{dd}/{HH}", "logs/2026/03/05/01")]
    [InlineData("logs/{timestamp:yyyy-MM-dd}/x", "logs/2026-03-05/x")]
    [InlineData("{hostname}/{d}", "web-1/5")]
    [InlineData("literal {{braces}}", "literal {braces}")]
    [InlineData("no tokens", "no tokens")]
    public void TokensAreFilledFromTheUtcTime(string pattern, string expected) =>
        Assert.Equal(expected, TimePattern.Parse(pattern, "Sinks:0:Index").Format(Time, "web-1"));

    [Theory]
    [InlineData("a{")]
    [InlineData("a}b")]
    [InlineData("a{}")]
    [InlineData("a{timestamp:}")]
    public void ABadPatternNamesTheKey(string pattern)
    {
        var ex = Assert.Throws<LogConfigException>(() => TimePattern.Parse(pattern, "Sinks:2:FilePath"));
        Assert.Equal("Sinks:2:FilePath", ex.Path);
    }
}
