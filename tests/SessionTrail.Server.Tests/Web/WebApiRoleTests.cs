using System.Net;
using SessionTrail.Server.Auth;

namespace SessionTrail.Server.Tests.Web;

public sealed class WebApiRoleTests(UiServerFixture fixture) : IClassFixture<UiServerFixture>
{
    public static TheoryData<string> Urls() =>
    [
        "/api/v1/sessions", "/api/v1/sessions/as2-0000-a", "/api/v1/dashboard", "/api/v1/dashboard/perDay.csv",
        "/api/v1/logs/histogram", "/api/v1/logs/fields", "/api/v1/facets",
    ];

    [Theory]
    [MemberData(nameof(Urls))]
    public async Task AViewerSignedInWithTheCookieReadsItAndAnAgentTokenIsRefused(string url)
    {
        using var viewer = await fixture.Recording.Server.SignInAsync("vera", Role.Viewer);
        using var agent = fixture.Recording.Server.TokenClient(Role.Agent, "agent-" + url.GetHashCode(StringComparison.Ordinal));

        var asViewer = await viewer.Client.GetAsync(url);
        var asAgent = await agent.GetAsync(url);
        var anonymous = await fixture.Recording.Server.Anonymous.GetAsync(url);

        Assert.Equal(HttpStatusCode.OK, asViewer.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, asAgent.StatusCode);
        Assert.Contains("viewer", await asAgent.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
    }
}
