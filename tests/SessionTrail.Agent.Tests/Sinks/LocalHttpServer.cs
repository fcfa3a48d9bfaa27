using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using SessionTrail.Agent.Tests.Sources;

namespace SessionTrail.Agent.Tests.Sinks;

/// <summary>
/// A real Kestrel server on 127.0.0.1 for the fake OpenSearch and Firehose endpoints. It can be stopped
/// (connections are then refused: an outage) and started again on the same port.
/// </summary>
public sealed class LocalHttpServer : IAsyncDisposable
{
    private readonly Func<HttpContext, Task> _handler;
    private WebApplication? _app;

    private LocalHttpServer(Func<HttpContext, Task> handler, int port)
    {
        _handler = handler;
        Port = port;
    }

    public int Port { get; }

    public Uri Url => new($"http://127.0.0.1:{Port}/");

    public static async Task<LocalHttpServer> StartAsync(Func<HttpContext, Task> handler)
    {
        var server = new LocalHttpServer(handler, FreePort());
        await server.StartAgainAsync();
        return server;
    }

    public async Task StartAgainAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls(Url.AbsoluteUri.TrimEnd('/'));
        builder.WebHost.ConfigureKestrel(o => o.Limits.MaxRequestBodySize = 64 << 20);
        builder.Logging.ClearProviders();
        var app = builder.Build();
        app.Run(context => _handler(context));
        await app.StartAsync();
        _app = app;
    }

    /// <summary>Stops listening: the next requests get "connection refused".</summary>
    public async Task StopAsync()
    {
        if (_app is { } app)
        {
            _app = null;
            await app.StopAsync();
            await app.DisposeAsync();
        }
    }

    public async ValueTask DisposeAsync() => await StopAsync();

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
