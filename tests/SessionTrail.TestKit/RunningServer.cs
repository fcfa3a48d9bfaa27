using System.Net.Http.Headers;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using SessionTrail.Server;
using SessionTrail.Server.Auth;
using Xunit;

namespace SessionTrail.TestKit;

/// <summary>A real Kestrel server on 127.0.0.1 (port 0) over its own temp data directory; a client with a valid token.</summary>
public sealed class RunningServer : IAsyncDisposable
{
    private readonly TempDataDir dir;

    private RunningServer(WebApplication app, string token, TempDataDir dir)
    {
        this.dir = dir;
        App = app;
        Token = token;
        Client = new HttpClient { BaseAddress = new Uri(ServerApp.Addresses(app)[0]) };
        Client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        Anonymous = new HttpClient { BaseAddress = Client.BaseAddress };
    }

    public WebApplication App { get; }

    public string Token { get; }

    public HttpClient Client { get; }

    public HttpClient Anonymous { get; }

    public string DataDir => dir.Path;

    public static async Task<RunningServer> StartAsync(Action<ServerOptions>? configure = null, Action<IServiceCollection>? services = null)
    {
        var dir = new TempDataDir();
        var options = new ServerOptions { DataDir = dir.Path, Urls = "http://127.0.0.1:0" };
        configure?.Invoke(options);
        var app = ServerApp.Build(options, ["--Logging:LogLevel:Default=Warning"], services);
        await app.StartAsync();
        var token = app.Services.GetRequiredService<TokenStore>().Create("test");
        return new RunningServer(app, token, dir);
    }

    /// <summary>A client with a new API token of <paramref name="role"/>.</summary>
    public HttpClient TokenClient(string role, string name = "test-token")
    {
        var client = new HttpClient { BaseAddress = Client.BaseAddress };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", App.Services.GetRequiredService<TokenStore>().Create(name, role));
        return client;
    }

    /// <summary>Adds account <paramref name="user"/> with <paramref name="role"/> (when new) and signs it in through the API.</summary>
    public async Task<SignedIn> SignInAsync(string user, string role, string password = "correct horse battery")
    {
        var accounts = App.Services.GetRequiredService<AccountStore>();
        if (accounts.Find(user) is null)
        {
            accounts.Add(user, role, password);
        }

        var cookies = new System.Net.CookieContainer();
#pragma warning disable CA2000 // the client owns the handler
        var client = new HttpClient(new HttpClientHandler { CookieContainer = cookies, UseCookies = true }) { BaseAddress = Client.BaseAddress };
#pragma warning restore CA2000
        var response = await client.PostAsync("/api/v1/auth/login", LoginBody(user, password));
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"login {(int)response.StatusCode}: {body}");
        var csrf = System.Text.Json.JsonDocument.Parse(body).RootElement.GetProperty("csrf").GetString()!;
        return new SignedIn(client, cookies, csrf);
    }

    /// <summary>What GET /api/v1/auth/me says of <paramref name="client"/>'s caller: signed in or not (it answers 200 either way).</summary>
    public static async Task<bool> SignedInAsync(HttpClient client)
    {
        var response = await client.GetAsync("/api/v1/auth/me");
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == System.Net.HttpStatusCode.OK, $"GET /api/v1/auth/me: {(int)response.StatusCode} {body}");
        return System.Text.Json.JsonDocument.Parse(body).RootElement.GetProperty("signedIn").GetBoolean();
    }

    /// <summary>The JSON body of POST /auth/login.</summary>
    public static StringContent LoginBody(string user, string password) =>
        new(System.Text.Json.JsonSerializer.Serialize(new { user, password }), System.Text.Encoding.UTF8, "application/json");

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        Anonymous.Dispose();
        await App.StopAsync();
        await App.DisposeAsync();
        dir.Dispose();
    }
}

/// <summary>A signed-in browser-like client (cookie jar) and its session's CSRF token.</summary>
public sealed record SignedIn(HttpClient Client, System.Net.CookieContainer Cookies, string Csrf) : IDisposable
{
    /// <summary>Sends <paramref name="method"/> <paramref name="path"/> with the CSRF header (or <paramref name="csrf"/> instead, or none when empty).</summary>
    public async Task<HttpResponseMessage> SendAsync(HttpMethod method, string path, HttpContent? content = null, string? csrf = null)
    {
        using var request = new HttpRequestMessage(method, path) { Content = content };
        var header = csrf ?? Csrf;
        if (header.Length > 0)
        {
            request.Headers.Add("X-CSRF-Token", header);
        }

        return await Client.SendAsync(request);
    }

    public void Dispose() => Client.Dispose();
}
