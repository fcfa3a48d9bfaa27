using System.Net;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using SessionTrail.Server.Auth;
using SessionTrail.Server.Tests.Http;

namespace SessionTrail.Server.Tests.Auth;

public sealed class SignInTests
{
    private const string Password = "correct horse battery";

    private static async Task<JsonElement> Json(HttpResponseMessage response) =>
        JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;

    private static void AddUser(RunningServer server, string name, string role, string password = Password) =>
        server.App.Services.GetRequiredService<AccountStore>().Add(name, role, password);

    private static string SetCookie(HttpResponseMessage response) =>
        Assert.Single(response.Headers.GetValues("Set-Cookie"), c => c.StartsWith(AuthApi.CookieName + "=", StringComparison.Ordinal));

    [Fact]
    public async Task ARightPasswordSignsInWithAnHttpOnlyStrictCookieAndACsrfToken()
    {
        await using var server = await RunningServer.StartAsync();
        AddUser(server, "alice", Role.Auditor);

        var response = await server.Anonymous.PostAsync("/api/v1/auth/login", RunningServer.LoginBody("alice", Password));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await Json(response);
        Assert.Equal("alice", body.GetProperty("user").GetString());
        Assert.Equal("auditor", body.GetProperty("role").GetString());
        Assert.True(body.GetProperty("csrf").GetString()!.Length >= 32);
        var cookie = SetCookie(response);
        var attributes = cookie.Split(';', StringSplitOptions.TrimEntries).Skip(1).Select(a => a.ToUpperInvariant()).ToList();
        Assert.Contains("HTTPONLY", attributes);
        Assert.Contains("SAMESITE=STRICT", attributes);
        Assert.Contains("PATH=/", attributes);
        Assert.DoesNotContain("SECURE", attributes); // plain HTTP here; Secure is set for HTTPS requests
        var value = cookie.Split(';')[0][(AuthApi.CookieName.Length + 1)..];
        Assert.True(value.Length >= 43, value); // 256 random bits, base64url
        Assert.Contains("no-store", response.Headers.CacheControl?.ToString() ?? "", StringComparison.Ordinal);
    }

    [Fact]
    public async Task AWrongPasswordAndAnUnknownUserGetTheSame401()
    {
        await using var server = await RunningServer.StartAsync();
        AddUser(server, "alice", Role.Viewer);

        var wrong = await server.Anonymous.PostAsync("/api/v1/auth/login", RunningServer.LoginBody("alice", "not the password"));
        var unknown = await server.Anonymous.PostAsync("/api/v1/auth/login", RunningServer.LoginBody("mallory", Password));

        Assert.Equal(HttpStatusCode.Unauthorized, wrong.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, unknown.StatusCode);
        Assert.Equal("wrong user name or password", (await Json(wrong)).GetProperty("error").GetString());
        Assert.Equal("wrong user name or password", (await Json(unknown)).GetProperty("error").GetString());
        Assert.False(wrong.Headers.Contains("Set-Cookie"));
        Assert.False(unknown.Headers.Contains("Set-Cookie"));
    }

    [Fact]
    public async Task AnUnknownUserTakesAboutAsLongAsAWrongPassword()
    {
        await using var server = await RunningServer.StartAsync();
        AddUser(server, "alice", Role.Viewer);

        async Task<double> Median(string user)
        {
            var times = new List<double>();
            for (var i = 0; i < 3; i++)
            {
                var watch = System.Diagnostics.Stopwatch.StartNew();
                using var response = await server.Anonymous.PostAsync("/api/v1/auth/login", RunningServer.LoginBody(user, "not the password " + i));
                times.Add(watch.Elapsed.TotalMilliseconds);
                Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
            }

            return times.Order().ElementAt(1);
        }

        var known = await Median("alice");
        var unknown = await Median("nobody-here");

        // Both verify one PBKDF2 hash (210,000 rounds, tens of ms); without the dummy hash an unknown user answers in ~1 ms.
        Assert.True(unknown > known / 3, $"unknown user {unknown:F1} ms, wrong password {known:F1} ms");
    }

    [Fact]
    public async Task RepeatedFailuresForAUserAreThrottledWithRetryAfterEvenWithTheRightPassword()
    {
        var clock = new FixedClock(DateTimeOffset.UtcNow);
        await using var server = await RunningServer.StartAsync(services: s => s.AddSingleton<TimeProvider>(clock));
        AddUser(server, "alice", Role.Viewer);

        for (var i = 0; i < LoginThrottle.UserLimit; i++)
        {
            var failed = await server.Anonymous.PostAsync("/api/v1/auth/login", RunningServer.LoginBody("alice", "guess " + i));
            Assert.Equal(HttpStatusCode.Unauthorized, failed.StatusCode);
        }

        var throttled = await server.Anonymous.PostAsync("/api/v1/auth/login", RunningServer.LoginBody("ALICE", Password));
        Assert.Equal((HttpStatusCode)429, throttled.StatusCode);
        var retry = throttled.Headers.RetryAfter?.Delta;
        Assert.NotNull(retry);
        Assert.InRange(retry.Value.TotalSeconds, 1, 30);
        Assert.Contains("too many failed sign-ins", (await Json(throttled)).GetProperty("error").GetString(), StringComparison.Ordinal);

        clock.Advance(TimeSpan.FromSeconds(31));
        var again = await server.Anonymous.PostAsync("/api/v1/auth/login", RunningServer.LoginBody("alice", Password));
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
    }

    [Fact]
    public async Task ThrottlingGrowsWithFurtherFailures()
    {
        var clock = new FixedClock(DateTimeOffset.UtcNow);
        var throttle = new LoginThrottle(clock);
        for (var i = 0; i < LoginThrottle.UserLimit; i++)
        {
            Assert.Null(throttle.RetryAfter("bob", "10.0.0.1"));
            throttle.Failed("bob", "10.0.0.1");
        }

        Assert.Equal(TimeSpan.FromSeconds(30), throttle.RetryAfter("bob", "10.0.0.2"));
        clock.Advance(TimeSpan.FromSeconds(30));
        throttle.Failed("bob", "10.0.0.1");
        Assert.Equal(TimeSpan.FromSeconds(60), throttle.RetryAfter("bob", "10.0.0.3"));
        Assert.Null(throttle.RetryAfter("carol", "10.0.0.3"));

        // One address trying many names is throttled too.
        for (var i = 0; i < LoginThrottle.AddressLimit; i++)
        {
            throttle.Failed("user" + i, "10.9.9.9");
        }

        Assert.NotNull(throttle.RetryAfter("someone-else", "10.9.9.9"));
        Assert.Null(throttle.RetryAfter("someone-else", "10.9.9.8"));
    }

    [Fact]
    public async Task MeAnswersForTheCookieAndForATokenSaysSignedOutToNobodyAnd401ToAWrongToken()
    {
        await using var server = await RunningServer.StartAsync();
        using var alice = await server.SignInAsync("alice", Role.Viewer);

        var me = await Json(await alice.Client.GetAsync("/api/v1/auth/me"));
        Assert.True(me.GetProperty("signedIn").GetBoolean());
        Assert.Equal("alice", me.GetProperty("user").GetString());
        Assert.Equal("viewer", me.GetProperty("role").GetString());
        Assert.Equal(alice.Csrf, me.GetProperty("csrf").GetString());

        var token = await Json(await server.Client.GetAsync("/api/v1/auth/me"));
        Assert.Equal("test", token.GetProperty("user").GetString());
        Assert.Equal("admin", token.GetProperty("role").GetString());
        Assert.Equal(JsonValueKind.Null, token.GetProperty("csrf").ValueKind);

        Assert.True(token.GetProperty("signedIn").GetBoolean());

        // Signed out is an answer, not an error (the web UI asks on every page load).
        var nobody = await server.Anonymous.GetAsync("/api/v1/auth/me");
        Assert.Equal(HttpStatusCode.OK, nobody.StatusCode);
        Assert.Equal("""{"signedIn":false,"user":null,"role":null,"csrf":null}""", await nobody.Content.ReadAsStringAsync());
        Assert.Equal("no-store", nobody.Headers.CacheControl?.ToString());

        // Credentials that are there are checked: a wrong token is refused.
        using var wrong = new HttpRequestMessage(HttpMethod.Get, "/api/v1/auth/me");
        wrong.Headers.Authorization = new("Bearer", "st_not-a-token");
        var refused = await server.Anonymous.SendAsync(wrong);
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        Assert.Equal("invalid token", (await Json(refused)).GetProperty("error").GetString());
    }

    [Fact]
    public async Task LogoutNeedsTheCsrfHeaderThenEndsTheSessionOnTheServer()
    {
        await using var server = await RunningServer.StartAsync();
        using var alice = await server.SignInAsync("alice", Role.Viewer);
        var cookie = alice.Cookies.GetCookies(alice.Client.BaseAddress!)[AuthApi.CookieName]!.Value;

        var noCsrf = await alice.SendAsync(HttpMethod.Post, "/api/v1/auth/logout", csrf: "");
        Assert.Equal(HttpStatusCode.Forbidden, noCsrf.StatusCode);
        Assert.Equal("missing or wrong X-CSRF-Token", (await Json(noCsrf)).GetProperty("error").GetString());
        Assert.True(await RunningServer.SignedInAsync(alice.Client));

        var logout = await alice.SendAsync(HttpMethod.Post, "/api/v1/auth/logout");
        Assert.Equal(HttpStatusCode.NoContent, logout.StatusCode);
        Assert.Contains(logout.Headers.GetValues("Set-Cookie"), c => c.StartsWith(AuthApi.CookieName + "=;", StringComparison.Ordinal) && c.Contains("expires=Thu, 01 Jan 1970", StringComparison.OrdinalIgnoreCase));
        Assert.Equal(0, server.App.Services.GetRequiredService<WebSessionStore>().Count());

        // The old cookie value, replayed by hand, is dead: signed out for /auth/me, 401 elsewhere.
        using var replay = new HttpRequestMessage(HttpMethod.Get, "/api/v1/auth/me");
        replay.Headers.Add("Cookie", $"{AuthApi.CookieName}={cookie}");
        Assert.False((await Json(await server.Anonymous.SendAsync(replay))).GetProperty("signedIn").GetBoolean());
        using var replayElsewhere = new HttpRequestMessage(HttpMethod.Get, "/api/v1/reports/sessions");
        replayElsewhere.Headers.Add("Cookie", $"{AuthApi.CookieName}={cookie}");
        Assert.Equal(HttpStatusCode.Unauthorized, (await server.Anonymous.SendAsync(replayElsewhere)).StatusCode);
    }

    [Fact]
    public async Task CookieCallersNeedTheRightCsrfTokenOnUnsafeMethodsOnly()
    {
        await using var server = await RunningServer.StartAsync();
        using var admin = await server.SignInAsync("root", Role.Admin);
        using var other = await server.SignInAsync("root", Role.Admin);
        HttpContent NewUser(string name) => new StringContent(JsonSerializer.Serialize(new { user = name, role = "viewer", password = Password }), Encoding.UTF8, "application/json");

        Assert.Equal(HttpStatusCode.OK, (await admin.Client.GetAsync("/api/v1/users")).StatusCode); // GET: no header needed
        var missing = await admin.SendAsync(HttpMethod.Post, "/api/v1/users", NewUser("bob"), csrf: "");
        var wrong = await admin.SendAsync(HttpMethod.Post, "/api/v1/users", NewUser("bob"), csrf: "x" + admin.Csrf);
        var ofAnotherSession = await admin.SendAsync(HttpMethod.Post, "/api/v1/users", NewUser("bob"), csrf: other.Csrf);
        var right = await admin.SendAsync(HttpMethod.Post, "/api/v1/users", NewUser("bob"));

        Assert.Equal(HttpStatusCode.Forbidden, missing.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, wrong.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, ofAnotherSession.StatusCode);
        Assert.Equal(HttpStatusCode.Created, right.StatusCode);
        Assert.Equal(["bob", "root"], server.App.Services.GetRequiredService<AccountStore>().List().Select(a => a.Name));

        // A bearer token needs no CSRF header (browsers do not send it by themselves).
        Assert.Equal(HttpStatusCode.Created, (await server.Client.PostAsync("/api/v1/users", NewUser("carol"))).StatusCode);
    }

    [Fact]
    public async Task ASessionEndsAfterEightIdleHoursAndAfterTwentyFourHoursInAnyCase()
    {
        var clock = new FixedClock(DateTimeOffset.UtcNow);
        await using var server = await RunningServer.StartAsync(services: s => s.AddSingleton<TimeProvider>(clock));
        using var idle = await server.SignInAsync("alice", Role.Viewer);
        using var busy = await server.SignInAsync("alice", Role.Viewer);

        // busy is used every 7 h 59 min; idle is not.
        for (var i = 0; i < 3; i++)
        {
            clock.Advance(TimeSpan.FromHours(8) - TimeSpan.FromMinutes(1));
            Assert.True(await RunningServer.SignedInAsync(busy.Client));
            if (i == 0)
            {
                Assert.True(await RunningServer.SignedInAsync(idle.Client));
            }
        }

        // 23 h 57 min after sign-in: idle was last used 15 h 58 min ago, busy is still within both limits.
        Assert.False(await RunningServer.SignedInAsync(idle.Client));
        clock.Advance(TimeSpan.FromMinutes(3));
        var expired = await busy.Client.GetAsync("/api/v1/reports/sessions");
        Assert.Equal(HttpStatusCode.Unauthorized, expired.StatusCode);
        Assert.Contains("expired", (await Json(expired)).GetProperty("error").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ChangingARolePasswordOrRemovingTheUserEndsItsSessions()
    {
        await using var server = await RunningServer.StartAsync();
        var accounts = server.App.Services.GetRequiredService<AccountStore>();
        using var byRole = await server.SignInAsync("alice", Role.Auditor);
        accounts.SetRole("alice", Role.Viewer);
        Assert.False(await RunningServer.SignedInAsync(byRole.Client));

        using var byPassword = await server.SignInAsync("alice", Role.Viewer);
        accounts.SetPassword("alice", "a brand new password");
        Assert.False(await RunningServer.SignedInAsync(byPassword.Client));

        using var byRemoval = await server.SignInAsync("alice", Role.Viewer, "a brand new password");
        using var admin = await server.SignInAsync("root", Role.Admin);
        Assert.Equal(HttpStatusCode.NoContent, (await admin.SendAsync(HttpMethod.Delete, "/api/v1/users/alice")).StatusCode);
        Assert.False(await RunningServer.SignedInAsync(byRemoval.Client));
        Assert.True(await RunningServer.SignedInAsync(admin.Client));
    }

    [Fact]
    public async Task PasswordsAreStoredAsSaltedIdentityV3HashesNeverPlain()
    {
        await using var server = await RunningServer.StartAsync();
        var accounts = server.App.Services.GetRequiredService<AccountStore>();
        accounts.Add("alice", Role.Viewer, Password);
        accounts.Add("bob", Role.Viewer, Password);

        var alice = accounts.StoredHash("alice")!;
        var bob = accounts.StoredHash("bob")!;
        var bytes = Convert.FromBase64String(alice);
        Assert.Equal(0x01, bytes[0]); // Identity V3 format marker
        Assert.Equal(2u, ReadBigEndian(bytes, 1)); // PRF: HMAC-SHA512
        Assert.Equal((uint)AccountStore.Iterations, ReadBigEndian(bytes, 5));
        Assert.Equal(16u, ReadBigEndian(bytes, 9)); // salt bytes
        Assert.NotEqual(alice, bob); // salted
        Assert.DoesNotContain(Password, alice, StringComparison.Ordinal);
        foreach (var path in Directory.GetFiles(server.DataDir, "sessiontrail.db*"))
        {
            var file = await File.ReadAllBytesAsync(path);
            Assert.Equal(-1, file.AsSpan().IndexOf(Encoding.UTF8.GetBytes(Password)));
        }

        Assert.NotNull(accounts.Verify("ALICE", Password));
        Assert.Null(accounts.Verify("alice", Password + "x"));
    }

    private static uint ReadBigEndian(byte[] b, int at) => (uint)(b[at] << 24 | b[at + 1] << 16 | b[at + 2] << 8 | b[at + 3]);
}
