using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using SessionTrail.Server.Auth;
using SessionTrail.Server.Tests.Http;

namespace SessionTrail.Server.Tests.Auth;

/// <summary>GET/POST/PUT/DELETE /api/v1/users (admin).</summary>
public sealed class UsersApiTests
{
    private const string Password = "correct horse battery";

    private static async Task<string> Error(HttpResponseMessage response) =>
        JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("error").GetString()!;

    [Fact]
    public async Task AnAdminAddsChangesListsAndRemovesUsers()
    {
        await using var server = await RunningServer.StartAsync();
        var api = server.Client;

        var created = await api.PostAsJsonAsync("/api/v1/users", new { user = "Alice", role = "viewer", password = Password });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        Assert.Equal("/api/v1/users/Alice", created.Headers.Location?.ToString());
        var view = await created.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("Alice", view.GetProperty("user").GetString());
        Assert.Equal("viewer", view.GetProperty("role").GetString());
        Assert.False(view.GetProperty("disabled").GetBoolean());
        Assert.EndsWith("Z", view.GetProperty("created").GetString(), StringComparison.Ordinal);
        Assert.False(view.TryGetProperty("hash", out _));

        var duplicate = await api.PostAsJsonAsync("/api/v1/users", new { user = "alice", role = "admin", password = Password });
        Assert.Equal(HttpStatusCode.Conflict, duplicate.StatusCode);
        Assert.Equal("user 'Alice' already exists", await Error(duplicate));

        var agent = await api.PostAsJsonAsync("/api/v1/users", new { user = "bot", role = "agent", password = Password });
        Assert.Equal(HttpStatusCode.BadRequest, agent.StatusCode);
        Assert.Contains("unknown role 'agent'", await Error(agent), StringComparison.Ordinal);
        var shortPassword = await api.PostAsJsonAsync("/api/v1/users", new { user = "bob", role = "viewer", password = "short" });
        Assert.Equal("password too short: at least 12 characters, got 5", await Error(shortPassword));
        var badName = await api.PostAsJsonAsync("/api/v1/users", new { user = "a b", role = "viewer", password = Password });
        Assert.Equal(HttpStatusCode.BadRequest, badName.StatusCode);

        var promoted = await api.PutAsJsonAsync("/api/v1/users/alice", new { role = "auditor", password = "another good password" });
        Assert.Equal(HttpStatusCode.OK, promoted.StatusCode);
        Assert.Equal("auditor", (await promoted.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("role").GetString());
        using (var alice = await server.SignInAsync("alice", Role.Auditor, "another good password"))
        {
            Assert.Equal(HttpStatusCode.Forbidden, (await alice.Client.GetAsync("/api/v1/users")).StatusCode);
        }

        Assert.Equal(HttpStatusCode.OK, (await api.PutAsJsonAsync("/api/v1/users/alice", new { disabled = true })).StatusCode);
        var refused = await server.Anonymous.PostAsync("/api/v1/auth/login", RunningServer.LoginBody("alice", "another good password"));
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);

        Assert.Equal(HttpStatusCode.NotFound, (await api.PutAsJsonAsync("/api/v1/users/nobody", new { role = "viewer" })).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await api.PutAsJsonAsync("/api/v1/users/alice", new { })).StatusCode);
        var list = await api.GetFromJsonAsync<JsonElement>("/api/v1/users");
        Assert.Equal("Alice:auditor:True", string.Join(",", list.EnumerateArray().Select(u => $"{u.GetProperty("user").GetString()}:{u.GetProperty("role").GetString()}:{u.GetProperty("disabled").GetBoolean()}")));

        Assert.Equal(HttpStatusCode.NoContent, (await api.DeleteAsync("/api/v1/users/ALICE")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await api.DeleteAsync("/api/v1/users/alice")).StatusCode);
    }

    [Fact]
    public async Task TheLastEnabledAdminCannotBeRemovedDemotedOrDisabled()
    {
        await using var server = await RunningServer.StartAsync();
        using var root = await server.SignInAsync("root", Role.Admin);

        var demote = await root.SendAsync(HttpMethod.Put, "/api/v1/users/root", JsonContent.Create(new { role = "viewer" }));
        var disable = await root.SendAsync(HttpMethod.Put, "/api/v1/users/root", JsonContent.Create(new { disabled = true }));
        var remove = await root.SendAsync(HttpMethod.Delete, "/api/v1/users/root");

        Assert.Equal(HttpStatusCode.Conflict, demote.StatusCode);
        Assert.Equal("cannot demote 'root': it is the last enabled admin account (add another admin first)", await Error(demote));
        Assert.Equal(HttpStatusCode.Conflict, disable.StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, remove.StatusCode);
        Assert.True(await RunningServer.SignedInAsync(root.Client));

        Assert.Equal(HttpStatusCode.Created, (await root.SendAsync(HttpMethod.Post, "/api/v1/users", JsonContent.Create(new { user = "root2", role = "admin", password = Password }))).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await root.SendAsync(HttpMethod.Delete, "/api/v1/users/root")).StatusCode);
        Assert.False(await RunningServer.SignedInAsync(root.Client));
    }

    [Fact]
    public async Task BadJsonToTheUsersApiIsA400()
    {
        await using var server = await RunningServer.StartAsync();
        var response = await server.Client.PostAsync("/api/v1/users", new StringContent("{\"user\":", System.Text.Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }
}
