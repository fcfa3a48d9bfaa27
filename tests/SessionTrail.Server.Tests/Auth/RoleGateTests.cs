using System.Net;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;
using SessionTrail.Server.Auth;
using SessionTrail.Server.Tests.Http;
using SessionTrail.Server.Tests.Recordings;

namespace SessionTrail.Server.Tests.Auth;

/// <summary>Every endpoint class against every role, by token and by cookie (the table in the docs/security.md "Users and roles").</summary>
public sealed class RoleGateTests
{
    private static readonly byte[] Video = Seg.Bytes(5_000, 3);

    /// <summary>Who may call what, written out from the contract (not computed from <see cref="Role.Allows"/>).</summary>
    private static readonly Dictionary<string, string[]> Allowed = new()
    {
        ["agent"] = ["agent", "admin"],
        ["viewer"] = ["viewer", "auditor", "admin"],
        ["auditor"] = ["auditor", "admin"],
        ["admin"] = ["admin"],
        ["any"] = ["agent", "viewer", "auditor", "admin"],
    };

    private static readonly (string Method, string Path, string Class)[] Endpoints =
    [
        ("POST", "/api/v1/ingest", "agent"),
        ("GET", "/api/v1/sessions/s1/recordings/7/upload", "agent"),
        ("PATCH", "/api/v1/sessions/s9/recordings/0/upload", "agent"),
        ("POST", "/api/v1/sessions/s9/recordings/0/complete", "agent"),
        ("GET", "/api/v1/reports/runs", "viewer"),
        ("GET", "/api/v1/reports/top-apps", "viewer"),
        ("GET", "/api/v1/logs", "viewer"),
        ("GET", "/api/v1/sessions/s1/recordings", "viewer"),
        ("GET", "/api/v1/recordings/public-key", "viewer"),
        ("GET", "/api/v1/sessions/s1/recordings/0", "auditor"),
        ("GET", "/api/v1/sessions/s1/recordings/manifest", "auditor"),
        ("GET", "/api/v1/sessions/s1/recordings/manifest.sig", "auditor"),
        ("PUT", "/api/v1/sessions/s1/recordings/hold", "admin"),
        ("DELETE", "/api/v1/sessions/s1/recordings/hold", "admin"),
        ("GET", "/api/v1/audit/access", "admin"),
        ("GET", "/api/v1/users", "admin"),
        ("GET", "/api/v1/tokens", "admin"),
        ("GET", "/api/v1/auth/me", "any"),
    ];

    private static HttpRequestMessage Request(string method, string path)
    {
        var request = new HttpRequestMessage(new HttpMethod(method), path);
        if (method == "POST" && path.EndsWith("/ingest", StringComparison.Ordinal))
        {
            request.Content = new StringContent("", Encoding.UTF8, "application/x-ndjson");
        }
        else if (method == "PATCH")
        {
            request.Content = new ByteArrayContent([1, 2, 3]);
            request.Content.Headers.ContentType = new("application/offset+octet-stream");
            request.Headers.Add("Upload-Offset", "0");
        }
        else if (method == "POST")
        {
            request.Content = new StringContent("""{"bytes":3,"sha256":"0000000000000000000000000000000000000000000000000000000000000000"}""", Encoding.UTF8, "application/json");
        }

        return request;
    }

    [Fact]
    public async Task EachRoleByTokenAndByCookieAgainstEachEndpointClass()
    {
        await using var s = await RecordingServer.StartAsync();
        await s.PutChainAsync("s1", Video);
        var callers = new List<(string Role, string How, Func<HttpRequestMessage, Task<HttpResponseMessage>> Send)>();
        var disposables = new List<IDisposable>();
        foreach (var role in new[] { "agent", "viewer", "auditor", "admin" })
        {
            var token = s.Server.TokenClient(role, "token-" + role);
            disposables.Add(token);
            callers.Add((role, "token", token.SendAsync));
            if (role != "agent")
            {
                var user = await s.Server.SignInAsync("user-" + role, role);
                disposables.Add(user);
                callers.Add((role, "cookie", r =>
                {
                    r.Headers.Add("X-CSRF-Token", user.Csrf);
                    return user.Client.SendAsync(r);
                }));
            }
        }

        var wrong = new List<string>();
        foreach (var (method, path, cls) in Endpoints)
        {
            foreach (var (role, how, send) in callers)
            {
                using var request = Request(method, path);
                using var response = await send(request);
                var body = await response.Content.ReadAsStringAsync();
                var allowed = Allowed[cls].Contains(role);
                var ok = allowed
                    ? response.StatusCode is not (HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden) && (int)response.StatusCode < 500
                    : response.StatusCode == HttpStatusCode.Forbidden && body.Contains($"role '{role}' may not {method} ", StringComparison.Ordinal) && body.Contains($"needs '{cls}'", StringComparison.Ordinal);
                if (!ok)
                {
                    wrong.Add($"{role} by {how}: {method} {path} → {(int)response.StatusCode} {body}");
                }
            }
        }

        Assert.True(wrong.Count == 0, string.Join("\n", wrong));
        foreach (var d in disposables)
        {
            d.Dispose();
        }
    }

    [Fact]
    public async Task AViewerIsRefusedRecordingBytesAndAnAuditorGetsThem()
    {
        await using var s = await RecordingServer.StartAsync();
        await s.PutChainAsync("s1", Video);
        using var viewer = await s.Server.SignInAsync("vera", Role.Viewer);
        using var auditor = await s.Server.SignInAsync("aude", Role.Auditor);

        var refused = await viewer.Client.GetAsync("/api/v1/sessions/s1/recordings/0");
        var listing = await viewer.Client.GetAsync("/api/v1/sessions/s1/recordings");
        var bytes = await auditor.Client.GetAsync("/api/v1/sessions/s1/recordings/0");

        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        Assert.Equal(
            "role 'viewer' may not GET /api/v1/sessions/{session}/recordings/{index}; needs 'auditor'",
            JsonDocument.Parse(await refused.Content.ReadAsStringAsync()).RootElement.GetProperty("error").GetString());
        Assert.Equal(HttpStatusCode.OK, listing.StatusCode);
        Assert.Equal(HttpStatusCode.OK, bytes.StatusCode);
        Assert.Equal(Video, await bytes.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task AnAgentTokenCanIngestButNotReadReports()
    {
        await using var server = await RunningServer.StartAsync();
        using var agent = server.TokenClient(Role.Agent, "host-1");

        var ingest = await agent.PostAsync("/api/v1/ingest", new StringContent(
            Encoding.UTF8.GetString(Core.Formats.NdjsonWriter.ToLine(R.SessionStart("s", "s1", 0))), Encoding.UTF8, "application/x-ndjson"));
        var report = await agent.GetAsync("/api/v1/reports/runs");

        Assert.Equal(HttpStatusCode.OK, ingest.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, report.StatusCode);
        Assert.Contains("role 'agent' may not GET /api/v1/reports/{name}; needs 'viewer'", await report.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task TheAccessAuditNamesTheSignedInUser()
    {
        await using var s = await RecordingServer.StartAsync();
        await s.PutChainAsync("s1", Video);
        using var auditor = await s.Server.SignInAsync("aude", Role.Auditor);
        using var admin = await s.Server.SignInAsync("root", Role.Admin);

        Assert.Equal(HttpStatusCode.OK, (await auditor.Client.GetAsync("/api/v1/sessions/s1/recordings/0?purpose=play")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await admin.SendAsync(HttpMethod.Put, "/api/v1/sessions/s1/recordings/hold")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await s.Client.GetAsync("/api/v1/sessions/s1/recordings/manifest")).StatusCode);
        var audit = JsonDocument.Parse(await admin.Client.GetStringAsync("/api/v1/audit/access")).RootElement.EnumerateArray()
            .Select(e => (Who: e.GetProperty("who").GetString(), Action: e.GetProperty("action").GetString(), Token: e.GetProperty("tokenId").ValueKind))
            .ToList();

        Assert.Contains(("aude", "play", JsonValueKind.Null), audit);
        Assert.Contains(("root", "hold", JsonValueKind.Null), audit);
        Assert.Contains(("test", "manifest", JsonValueKind.Number), audit);
        var hold = JsonDocument.Parse(await (await admin.SendAsync(HttpMethod.Put, "/api/v1/sessions/s1/recordings/hold")).Content.ReadAsStringAsync()).RootElement;
        Assert.Equal("root", hold.GetProperty("by").GetString());
    }

    [Fact]
    public async Task EveryApiEndpointDeclaresWhoMayCallIt()
    {
        await using var server = await RunningServer.StartAsync();
        var endpoints = ((IEndpointRouteBuilder)server.App).DataSources.SelectMany(d => d.Endpoints).OfType<RouteEndpoint>()
            .Where(e => e.RoutePattern.RawText?.StartsWith("/api/v1", StringComparison.Ordinal) == true)
            .ToList();

        Assert.True(endpoints.Count >= 18, $"only {endpoints.Count} endpoints found");
        var undeclared = endpoints.Where(e => e.Metadata.GetMetadata<ApiAccess>() is null).Select(e => e.DisplayName).ToList();
        Assert.True(undeclared.Count == 0, "without RequireRole: " + string.Join(", ", undeclared));
        var anonymous = endpoints.Where(e => e.Metadata.GetMetadata<ApiAccess>()!.Anonymous).Select(e => e.RoutePattern.RawText).ToList();
        Assert.Equal(["/api/v1/auth/login"], anonymous);
        var signedOut = endpoints.Where(e => e.Metadata.GetMetadata<ApiAccess>()!.SignedOutToo).Select(e => e.RoutePattern.RawText).ToList();
        Assert.Equal(["/api/v1/auth/me"], signedOut);
    }

    [Fact]
    public async Task OnlyMeAnswersASignedOutCallerEveryOtherEndpointSays401()
    {
        await using var s = await RecordingServer.StartAsync();
        string cookie;
        using (var ended = await s.Server.SignInAsync("gone", Role.Admin))
        {
            cookie = ended.Cookies.GetCookies(ended.Client.BaseAddress!)[AuthApi.CookieName]!.Value;
            Assert.Equal(HttpStatusCode.NoContent, (await ended.SendAsync(HttpMethod.Post, "/api/v1/auth/logout")).StatusCode);
        }

        var wrong = new List<string>();
        foreach (var (method, path, _) in Endpoints)
        {
            foreach (var how in new[] { "nothing", "an ended session's cookie" })
            {
                using var request = Request(method, path);
                if (how != "nothing")
                {
                    request.Headers.Add("Cookie", $"{AuthApi.CookieName}={cookie}");
                }

                using var response = await s.Server.Anonymous.SendAsync(request);
                var body = await response.Content.ReadAsStringAsync();
                var ok = path == "/api/v1/auth/me"
                    ? response.StatusCode == HttpStatusCode.OK && body.Contains("\"signedIn\":false", StringComparison.Ordinal)
                    : response.StatusCode == HttpStatusCode.Unauthorized;
                if (!ok)
                {
                    wrong.Add($"{method} {path} with {how} → {(int)response.StatusCode} {body}");
                }
            }
        }

        Assert.True(wrong.Count == 0, string.Join("\n", wrong));
    }

    [Fact]
    public async Task UnknownApiPathsNeedACallerFirst()
    {
        await using var server = await RunningServer.StartAsync();
        using var viewer = server.TokenClient(Role.Viewer);

        Assert.Equal(HttpStatusCode.Unauthorized, (await server.Anonymous.GetAsync("/api/v1/no-such-thing")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await viewer.GetAsync("/api/v1/no-such-thing")).StatusCode);
    }

    [Fact]
    public async Task AnEndpointWithoutRequireRoleNeedsAdmin()
    {
        using var dir = new TempDataDir();
        await using var app = ServerApp.Build(new ServerOptions { DataDir = dir.Path, Urls = "http://127.0.0.1:0" }, ["--Logging:LogLevel:Default=Warning"]);
        app.MapGet("/api/v1/forgotten", () => "secret");
        await app.StartAsync();
        var tokens = (TokenStore)app.Services.GetService(typeof(TokenStore))!;
        using var client = new HttpClient { BaseAddress = new Uri(ServerApp.Addresses(app)[0]) };

        async Task<HttpStatusCode> As(string role)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "/api/v1/forgotten");
            request.Headers.Authorization = new("Bearer", tokens.Create(role, role));
            return (await client.SendAsync(request)).StatusCode;
        }

        Assert.Equal(HttpStatusCode.Forbidden, await As(Role.Auditor));
        Assert.Equal(HttpStatusCode.OK, await As(Role.Admin));
        await app.StopAsync();
    }
}
