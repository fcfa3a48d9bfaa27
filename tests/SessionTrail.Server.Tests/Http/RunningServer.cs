using System.Net.Http.Headers;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using SessionTrail.Server.Auth;

namespace SessionTrail.Server.Tests.Http;

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

    public static async Task<RunningServer> StartAsync(Action<ServerOptions>? configure = null)
    {
        var dir = new TempDataDir();
        var options = new ServerOptions { DataDir = dir.Path, Urls = "http://127.0.0.1:0" };
        configure?.Invoke(options);
        var app = ServerApp.Build(options, ["--Logging:LogLevel:Default=Warning"]);
        await app.StartAsync();
        var token = app.Services.GetRequiredService<TokenStore>().Create("test");
        return new RunningServer(app, token, dir);
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        Anonymous.Dispose();
        await App.StopAsync();
        await App.DisposeAsync();
        dir.Dispose();
    }
}
