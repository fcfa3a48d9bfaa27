using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using SessionTrail.EndToEnd.Tests.Infrastructure;

namespace SessionTrail.EndToEnd.Tests;

/// <summary>`sessiontrail user …` and `token create --role` on the real executable, against a running `sessiontrail server`.</summary>
public sealed class UserCommandEndToEndTests : IAsyncLifetime, IAsyncDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);
    private readonly Trail trail = new();

    private string Data => trail.ServerData;

    public Task InitializeAsync() => Task.CompletedTask;

    // IAsyncLifetime: xunit 2 never calls IAsyncDisposable on a test class, so this class's servers outlived the
    // test run (a fresh CI run left two `sessiontrail server` processes behind).
    public Task DisposeAsync() => trail.DisposeAsync().AsTask();

    ValueTask IAsyncDisposable.DisposeAsync() => trail.DisposeAsync();

    private Task<(int ExitCode, string Stdout, string Stderr)> User(string? input, params string[] args) =>
        TrailProcess.RunWithInputAsync(Timeout, null, input, ["user", .. args, "--data", Data]);

    private async Task<(HttpStatusCode Status, JsonElement Body, CookieContainer Cookies)> LoginAsync(string user, string password)
    {
        var cookies = new CookieContainer();
        using var http = new HttpClient(new HttpClientHandler { CookieContainer = cookies });
        var response = await http.PostAsync(new Uri($"{trail.Url}/api/v1/auth/login"),
            new StringContent(JsonSerializer.Serialize(new { user, password }), Encoding.UTF8, "application/json"));
        return (response.StatusCode, JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone(), cookies);
    }

    /// <summary>Whether the cookie's sign-in session is alive: GET /auth/me answers 200 either way and says which.</summary>
    private async Task<bool> SignedInAsync(CookieContainer cookies)
    {
        using var http = new HttpClient(new HttpClientHandler { CookieContainer = cookies });
        var response = await http.GetAsync(new Uri($"{trail.Url}/api/v1/auth/me"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("signedIn").GetBoolean();
    }

    [Fact]
    public async Task UsersAreManagedFromTheCliWhileTheServerRuns()
    {
        await trail.StartServerAsync();
        Assert.Contains($"no users yet; add the first admin to sign in: sessiontrail user add NAME --role admin --data {Data}", trail.Server!.Output, StringComparison.Ordinal);

        var empty = await User(null, "list");
        Assert.Equal(0, empty.ExitCode);
        Assert.Contains("No users in", empty.Stderr, StringComparison.Ordinal);

        var add = await User("correct horse battery\n", "add", "alice", "--role", "auditor", "--password-stdin");
        Assert.True(add.ExitCode == 0, add.Stderr);
        Assert.Contains("Added user 'alice' (auditor)", add.Stdout, StringComparison.Ordinal);

        // Clear one-line errors, exit code 1, no stack trace.
        foreach (var (input, args, expected) in new (string?, string[], string)[]
        {
            ("another password\n", ["add", "ALICE", "--role", "viewer", "--password-stdin"], "sessiontrail user add: user 'alice' already exists"),
            ("another password\n", ["add", "bob", "--role", "agent", "--password-stdin"], "sessiontrail user add: unknown role 'agent'; expected one of: viewer, auditor, admin ('agent' is for API tokens only)"),
            ("short\n", ["add", "bob", "--role", "viewer", "--password-stdin"], "sessiontrail user add: password too short: at least 12 characters, got 5"),
            ("", ["add", "bob", "--role", "viewer", "--password-stdin"], "sessiontrail user add: --password-stdin: standard input is empty"),
            ("another password\n", ["add", "bob", "--role", "viewer"], "sessiontrail user add: no terminal to type the password on: pipe it in with --password-stdin"),
            ("another password\n", ["add", "b b", "--role", "viewer", "--password-stdin"], "sessiontrail user add: bad user name 'b b'"),
            (null, ["role", "nobody", "admin"], "sessiontrail user role: no user 'nobody'"),
            (null, ["role", "alice", "root"], "sessiontrail user role: unknown role 'root'"),
            ("another password\n", ["passwd", "nobody", "--password-stdin"], "sessiontrail user passwd: no user 'nobody'"),
        })
        {
            var result = await User(input, args);
            Assert.True(result.ExitCode == 1, $"{string.Join(' ', args)}: exit {result.ExitCode}\n{result.Stdout}{result.Stderr}");
            Assert.StartsWith(expected, result.Stderr, StringComparison.Ordinal);
            Assert.DoesNotContain("   at ", result.Stderr, StringComparison.Ordinal);
        }

        var login = await LoginAsync("alice", "correct horse battery");
        Assert.Equal(HttpStatusCode.OK, login.Status);
        Assert.Equal("auditor", login.Body.GetProperty("role").GetString());

        // A role change signs alice out at once (the server reads accounts from the database on every request).
        var role = await User(null, "role", "alice", "viewer");
        Assert.True(role.ExitCode == 0, role.Stderr);
        Assert.False(await SignedInAsync(login.Cookies));
        Assert.Equal("viewer", (await LoginAsync("alice", "correct horse battery")).Body.GetProperty("role").GetString());

        var passwd = await User("a different passphrase\n", "passwd", "alice", "--password-stdin");
        Assert.True(passwd.ExitCode == 0, passwd.Stderr);
        Assert.Equal(HttpStatusCode.Unauthorized, (await LoginAsync("alice", "correct horse battery")).Status);
        var relogin = await LoginAsync("alice", "a different passphrase");
        Assert.Equal(HttpStatusCode.OK, relogin.Status);

        Assert.Equal(0, (await User("the admin password\n", "add", "root", "--role", "admin", "--password-stdin")).ExitCode);
        var list = await User(null, "list");
        Assert.Equal(0, list.ExitCode);
        var lines = list.Stdout.TrimEnd().Split('\n');
        Assert.StartsWith("USER ", lines[0], StringComparison.Ordinal);
        Assert.Matches(@"^alice\s+viewer\s+\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\s+no$", lines[1]);
        Assert.Matches(@"^root\s+admin\s+", lines[2]);

        var lastAdmin = await User(null, "remove", "root");
        Assert.Equal(1, lastAdmin.ExitCode);
        Assert.Contains("last enabled admin", lastAdmin.Stderr, StringComparison.Ordinal);

        Assert.Equal(0, (await User(null, "disable", "alice")).ExitCode);
        Assert.False(await SignedInAsync(relogin.Cookies));
        Assert.Equal(HttpStatusCode.Unauthorized, (await LoginAsync("alice", "a different passphrase")).Status);
        Assert.Equal(0, (await User(null, "enable", "alice")).ExitCode);
        Assert.Equal(HttpStatusCode.OK, (await LoginAsync("alice", "a different passphrase")).Status);

        var remove = await User(null, "remove", "alice");
        Assert.True(remove.ExitCode == 0, remove.Stderr);
        Assert.Equal(HttpStatusCode.Unauthorized, (await LoginAsync("alice", "a different passphrase")).Status);
        var again = await User(null, "remove", "alice");
        Assert.Equal(1, again.ExitCode);
        Assert.StartsWith("sessiontrail user remove: no user 'alice'", again.Stderr, StringComparison.Ordinal);

        var stored = await File.ReadAllBytesAsync(Path.Combine(Data, "sessiontrail.db"));
        Assert.Equal(-1, stored.AsSpan().IndexOf("the admin password"u8));
    }

    [Fact]
    public async Task TokenCreateTakesARole()
    {
        await trail.StartServerAsync();
        var (code, stdout, stderr) = await TrailProcess.RunAsync(Timeout, "token", "create", "--data", Data, "--role", "agent", "--name", "host-7");
        Assert.True(code == 0, stderr);
        Assert.Contains("Created agent token 'host-7'", stderr, StringComparison.Ordinal);
        var token = stdout.TrimEnd().Split('\n')[^1].Trim();

        using var http = new HttpClient();
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        var ingest = await http.PostAsync(new Uri($"{trail.Url}/api/v1/ingest"), new StringContent(
            """{"kind":"session","id":"e1","type":"start","time":"2026-11-30T10:00:00.000Z","host":"h1","session":"s1","user":"alice"}""" + "\n",
            Encoding.UTF8, "application/x-ndjson"));
        var report = await http.GetAsync(new Uri($"{trail.Url}/api/v1/reports/sessions"));
        Assert.True(ingest.StatusCode == HttpStatusCode.OK, await ingest.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.Forbidden, report.StatusCode);

        var list = await TrailProcess.RunAsync(Timeout, "token", "list", "--data", Data);
        Assert.True(list.ExitCode == 0, list.Stderr);
        var row = Assert.Single(list.Stdout.Split('\n'), l => l.EndsWith("  host-7", StringComparison.Ordinal));
        Assert.Matches(@"^\s*\d+\s+agent\s+\d{4}-", row);
        Assert.DoesNotContain(token, list.Stdout, StringComparison.Ordinal);
        var revoke = await TrailProcess.RunAsync(Timeout, "token", "revoke", row.Trim().Split(' ')[0], "--data", Data);
        Assert.True(revoke.ExitCode == 0, revoke.Stderr);
        Assert.Equal(HttpStatusCode.Unauthorized, (await http.GetAsync(new Uri($"{trail.Url}/api/v1/reports/sessions"))).StatusCode);
        var unknown = await TrailProcess.RunAsync(Timeout, "token", "revoke", "99999", "--data", Data);
        Assert.Equal(1, unknown.ExitCode);
        Assert.StartsWith("sessiontrail token revoke: no token with id 99999", unknown.Stderr, StringComparison.Ordinal);

        var bad = await TrailProcess.RunAsync(Timeout, "token", "create", "--data", Data, "--role", "boss");
        Assert.Equal(1, bad.ExitCode);
        Assert.StartsWith("sessiontrail token create: unknown role 'boss'; expected one of: viewer, auditor, admin, agent", bad.Stderr, StringComparison.Ordinal);
    }
}
