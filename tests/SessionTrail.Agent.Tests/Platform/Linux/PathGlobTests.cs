using SessionTrail.Agent.Platform.Linux;

namespace SessionTrail.Agent.Tests.Platform.Linux;

public sealed class PathGlobTests
{
    [Theory]
    [InlineData("/usr/bin/*", "/usr/bin/ls", true)]
    [InlineData("/usr/bin/*", "/usr/bin/x/ls", false)]
    [InlineData("/usr/**", "/usr/bin/x/ls", true)]
    [InlineData("/usr/**/ls", "/usr/ls", true)]
    [InlineData("/usr/**/ls", "/usr/a/b/ls", true)]
    [InlineData("/usr/**/ls", "/usr/a/b/lsx", false)]
    [InlineData("/opt/app?/run", "/opt/app1/run", true)]
    [InlineData("/opt/app?/run", "/opt/app12/run", false)]
    [InlineData("/opt/app?/run", "/opt/app//run", false)]
    [InlineData("**/python3*", "/usr/bin/python3.11", true)]
    [InlineData("/usr/bin/ls", "/usr/bin/ls", true)]
    [InlineData("/usr/bin/ls", "/usr/bin/lsblk", false)]
    [InlineData("/usr/bin/LS", "/usr/bin/ls", false)]
    [InlineData("/a.b/c+d(1)", "/a.b/c+d(1)", true)]
    [InlineData("/a.b/*", "/axb/c", false)]
    public void MatchesWholePathWithStarDoubleStarAndQuestionMark(string pattern, string path, bool expected) =>
        Assert.Equal(expected, new PathGlob(pattern).IsMatch(path));
}
