using System.Net;
using System.Net.Http.Headers;
using SessionTrail.Server.Web;
using SessionTrail.TestKit;

namespace SessionTrail.Ui.Tests;

/// <summary>The static-file endpoint over a real server: types, ETag/304, security headers, page fallback, never for /api.</summary>
public sealed class StaticFileTests : IAsyncLifetime
{
    private RunningServer server = null!;

    /// <summary>A client without credentials, as a browser before sign-in.</summary>
    private HttpClient Client => server.Anonymous;

    public async Task InitializeAsync() => server = await RunningServer.StartAsync();

    public async Task DisposeAsync() => await server.DisposeAsync();

    [Theory]
    [InlineData("/", "text/html")]
    [InlineData("/index.html", "text/html")]
    [InlineData("/app.css", "text/css")]
    [InlineData("/js/app.js", "text/javascript")]
    [InlineData("/js/pages/session.js", "text/javascript")]
    [InlineData("/favicon.svg", "image/svg+xml")]
    public async Task Files_are_served_with_their_type_and_the_security_headers(string path, string type)
    {
        var response = await Client.GetAsync(path);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(type, response.Content.Headers.ContentType!.MediaType);
        Assert.Equal("nosniff", response.Headers.GetValues("X-Content-Type-Options").Single());
        var csp = response.Headers.GetValues("Content-Security-Policy").Single();
        Assert.Contains("frame-ancestors 'none'", csp, StringComparison.Ordinal);
        Assert.Contains("script-src 'self'", csp, StringComparison.Ordinal);
        Assert.DoesNotContain("unsafe-inline", csp, StringComparison.Ordinal);
        Assert.DoesNotContain("unsafe-eval", csp, StringComparison.Ordinal);
        Assert.Equal("DENY", response.Headers.GetValues("X-Frame-Options").Single());
        var body = await response.Content.ReadAsByteArrayAsync();
        Assert.Equal(WebUi.All[path == "/" ? "/index.html" : path].Bytes, body);
    }

    [Theory]
    [InlineData("/api/v1/sessions")] // 401 from the auth middleware, before any endpoint runs
    [InlineData("/api/v1/dashboard")]
    public async Task Refusals_of_the_auth_middleware_carry_the_security_headers_too(string path)
    {
        var response = await Client.GetAsync(path);
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("nosniff", response.Headers.GetValues("X-Content-Type-Options").Single());
        Assert.Equal("DENY", response.Headers.GetValues("X-Frame-Options").Single());
    }

    [Fact]
    public async Task A_known_ETag_answers_304_without_a_body_and_another_200()
    {
        var first = await Client.GetAsync("/js/app.js");
        var etag = first.Headers.ETag!;
        Assert.True(etag.Tag.Length > 10 && !etag.IsWeak);
        using var again = new HttpRequestMessage(HttpMethod.Get, "/js/app.js");
        again.Headers.IfNoneMatch.Add(etag);
        var cached = await Client.SendAsync(again);
        Assert.Equal(HttpStatusCode.NotModified, cached.StatusCode);
        Assert.Empty(await cached.Content.ReadAsByteArrayAsync());
        Assert.Equal(etag, cached.Headers.ETag);

        using var other = new HttpRequestMessage(HttpMethod.Get, "/js/app.js");
        other.Headers.IfNoneMatch.Add(new EntityTagHeaderValue("\"something-else\""));
        Assert.Equal(HttpStatusCode.OK, (await Client.SendAsync(other)).StatusCode);
        Assert.NotEqual(etag, (await Client.GetAsync("/app.css")).Headers.ETag);
    }

    [Theory]
    [InlineData("/sessions")]
    [InlineData("/sessions/as%20rec%2F0001")]
    [InlineData("/logs")]
    [InlineData("/signin")]
    [InlineData("/users")]
    public async Task Page_routes_get_the_page(string path)
    {
        var response = await Client.GetAsync(path);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/html", response.Content.Headers.ContentType!.MediaType);
        Assert.Contains("<script type=\"module\" src=\"/js/app.js\"></script>", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("/js/missing.js")]
    [InlineData("/nothing.css")]
    public async Task A_missing_file_is_404_not_the_page(string path)
    {
        var response = await Client.GetAsync(path);
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.DoesNotContain("<html", await response.Content.ReadAsStringAsync(), StringComparison.OrdinalIgnoreCase);
    }

    [Theory]
    [InlineData("/api/v1/no-such-thing")]
    [InlineData("/api/v1/sessions/x/recordings/0/nope")]
    [InlineData("/api")]
    public async Task Api_paths_never_fall_back_to_the_page(string path)
    {
        var response = await Client.GetAsync(path);
        Assert.True(response.StatusCode is HttpStatusCode.NotFound or HttpStatusCode.Unauthorized, $"{path}: {(int)response.StatusCode}");
        Assert.Equal("application/json", response.Content.Headers.ContentType!.MediaType);
        Assert.DoesNotContain("<html", await response.Content.ReadAsStringAsync(), StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task Existing_endpoints_still_answer()
    {
        Assert.Equal(HttpStatusCode.OK, (await Client.GetAsync("/healthz")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await Client.GetAsync("/api/v1/reports/top-apps")).StatusCode);
    }

    [Fact]
    public void Every_script_and_style_is_a_file_no_inline_code()
    {
        var index = System.Text.Encoding.UTF8.GetString(WebUi.All["/index.html"].Bytes);
        Assert.DoesNotContain("style=", index, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotMatch("<script(?![^>]*src=)", index);
        foreach (var (path, file) in WebUi.All.Where(f => f.Key.EndsWith(".js", StringComparison.Ordinal)))
        {
            var text = System.Text.Encoding.UTF8.GetString(file.Bytes);
            Assert.False(text.Contains("innerHTML", StringComparison.Ordinal), $"{path} uses innerHTML");
            Assert.False(text.Contains("eval(", StringComparison.Ordinal), $"{path} uses eval");
            Assert.False(text.Contains("setAttribute('style'", StringComparison.Ordinal), $"{path} sets a style attribute (the CSP forbids it)");
            Assert.False(text.Contains("http://", StringComparison.Ordinal) && !text.Contains("http://www.w3.org/2000/svg", StringComparison.Ordinal), $"{path} names another origin");
        }
    }
}
