using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using SessionTrail.Server.Auth;
using SessionTrail.Server.Store;
using SessionTrail.Server.Tests.Http;

namespace SessionTrail.Server.Tests.Auth;

/// <summary>Token roles, the admin tokens API, the migration of old tokens, and the cookie over HTTPS.</summary>
public sealed class TokensTests
{
    [Fact]
    public void TokensMadeBeforeRolesExistedAreAdminAfterTheMigration()
    {
        using var dir = new TempDataDir();
        var hash = System.Security.Cryptography.SHA256.HashData("st_old-token"u8);
        using (var v3 = new SqliteConnection($"Data Source={Core.DataDirectory.DatabasePath(dir.Path)}"))
        {
            v3.Open();
            SqliteStore.Execute(v3, Schema.MigrationSql(1) + Schema.MigrationSql(2) + Schema.MigrationSql(3) + "PRAGMA user_version = 3;");
            using var insert = v3.CreateCommand();
            insert.CommandText = "INSERT INTO tokens(name, hash, created) VALUES('old agent', $hash, 0)";
            insert.Parameters.AddWithValue("$hash", hash);
            insert.ExecuteNonQuery();
        }

        using var store = SqliteStore.Open(dir.Path);
        var tokens = new TokenStore(store);
        Assert.Equal(new Caller("old agent", Role.Admin, 1), tokens.Identify("st_old-token"));
        Assert.Equal(Role.Agent, tokens.Identify(tokens.Create("new agent", Role.Agent))!.Role);
        Assert.Throws<ArgumentException>(() => tokens.Create("x", "root"));
        Assert.Empty(new AccountStore(store, TimeProvider.System).List());
    }

    [Fact]
    public async Task AnAdminCreatesListsAndRevokesTokensThroughTheApi()
    {
        await using var server = await RunningServer.StartAsync();

        var created = await server.Client.PostAsJsonAsync("/api/v1/tokens", new { name = "host-9" });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var body = await created.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("agent", body.GetProperty("role").GetString());
        var token = body.GetProperty("token").GetString()!;
        var id = body.GetProperty("id").GetInt64();

        using var agent = new HttpClient { BaseAddress = server.Client.BaseAddress };
        agent.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        Assert.Equal(HttpStatusCode.OK, (await agent.PostAsync("/api/v1/ingest", new StringContent("", Encoding.UTF8, "application/x-ndjson"))).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await agent.GetAsync("/api/v1/tokens")).StatusCode);

        var list = await server.Client.GetFromJsonAsync<JsonElement>("/api/v1/tokens");
        Assert.Equal("test:admin,host-9:agent", string.Join(",", list.EnumerateArray().Select(t => $"{t.GetProperty("name").GetString()}:{t.GetProperty("role").GetString()}")));
        Assert.DoesNotContain(token, list.GetRawText(), StringComparison.Ordinal);

        Assert.Equal(HttpStatusCode.BadRequest, (await server.Client.PostAsJsonAsync("/api/v1/tokens", new { name = "x", role = "boss" })).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await server.Client.PostAsJsonAsync("/api/v1/tokens", new { role = "viewer" })).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await server.Client.DeleteAsync($"/api/v1/tokens/{id}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await server.Client.DeleteAsync($"/api/v1/tokens/{id}")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await agent.PostAsync("/api/v1/ingest", new StringContent("", Encoding.UTF8, "application/x-ndjson"))).StatusCode);

        using var viewer = await server.SignInAsync("vera", Role.Viewer);
        Assert.Equal(HttpStatusCode.Forbidden, (await viewer.Client.GetAsync("/api/v1/tokens")).StatusCode);
    }

    [Fact]
    public void TheCookieIsSecureOverHttpsAndAlwaysHttpOnlyAndStrict()
    {
        var https = new DefaultHttpContext();
        https.Request.Scheme = "https";
        var http = new DefaultHttpContext();
        http.Request.Scheme = "http";

        var secure = AuthApi.Options(https);
        var plain = AuthApi.Options(http);

        Assert.True(secure.Secure);
        Assert.False(plain.Secure);
        Assert.All(new[] { secure, plain }, o =>
        {
            Assert.True(o.HttpOnly);
            Assert.Equal(SameSiteMode.Strict, o.SameSite);
            Assert.Equal("/", o.Path);
            Assert.Null(o.Expires);
        });
        Assert.Equal("st_session=v; path=/; secure; samesite=strict; httponly", secure.CreateCookieHeader("st_session", "v").ToString());
    }
}
