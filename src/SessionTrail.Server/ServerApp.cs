using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using SessionTrail.Server.Auth;
using SessionTrail.Server.Health;
using SessionTrail.Server.Ingest;
using SessionTrail.Server.Recordings;
using SessionTrail.Server.Reports;
using SessionTrail.Server.Store;

namespace SessionTrail.Server;

/// <summary>The SessionTrail collector: ingest API, reports API, health, over one <see cref="SqliteStore"/>.</summary>
public static class ServerApp
{
    /// <summary>
    /// Validates <paramref name="options"/>, opens (creating/migrating) the store and builds the app.
    /// Throws <see cref="ArgumentException"/> for a bad setting and the store's exception when the
    /// database cannot be opened — before anything listens. The app owns and disposes the store.
    /// </summary>
    public static WebApplication Build(ServerOptions options, string[]? args = null) => Build(options, args, null);

    /// <summary><see cref="Build(ServerOptions, string[])"/>, then <paramref name="services"/> may replace registrations (tests: the clock).</summary>
    internal static WebApplication Build(ServerOptions options, string[]? args, Action<IServiceCollection>? services)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        // The content root is the program's folder, not the working directory: a service user started from a folder it may
        // not enter (sudo -u from /root, a test runner's folder) would otherwise stop at start with that folder's name.
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = args ?? [], ContentRootPath = AppContext.BaseDirectory });
        builder.WebHost.UseUrls(options.Urls);

        // The caller owns Ctrl+C / SIGTERM (the CLI stops the agent first, then the server), so the
        // host must not stop itself on a signal.
        builder.Services.AddSingleton<IHostLifetime, CallerOwnedLifetime>();
        builder.Logging.ClearProviders();
        builder.Logging.AddFilter("Microsoft", LogLevel.Warning);
        builder.Logging.AddSimpleConsole(ConsoleFormat);
        builder.Logging.AddConsole(o => o.LogToStandardErrorThreshold = LogLevel.Trace);
        SqliteStore store;
        // Opening may back-fill the run aggregates of a large store first (minutes): say how far it is.
        using (var startLog = LoggerFactory.Create(b => b.AddSimpleConsole(ConsoleFormat)))
        {
            var logger = startLog.CreateLogger("SessionTrail.Server.Store");
            store = SqliteStore.Open(options.DataDir, progress => ServerLog.StoreProgress(logger, progress));
        }

        builder.Services.AddSingleton(_ => store);
        builder.Services.AddSingleton<IRecordStore>(sp => sp.GetRequiredService<SqliteStore>());
        builder.Services.AddSingleton(options);

        // A body or parameter the route handler cannot bind throws BadHttpRequestException, so that
        // WriteErrorAsync answers it with {"error"} naming what is wrong (by default it is a bare 400).
        builder.Services.Configure<Microsoft.AspNetCore.Routing.RouteHandlerOptions>(o => o.ThrowOnBadRequest = true);
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<TokenStore>();
        builder.Services.AddSingleton(sp => new AccountStore(sp.GetRequiredService<SqliteStore>(), sp.GetRequiredService<TimeProvider>()));
        builder.Services.AddSingleton(sp => new WebSessionStore(sp.GetRequiredService<SqliteStore>(), sp.GetRequiredService<TimeProvider>()));
        builder.Services.AddSingleton(sp => new LoginThrottle(sp.GetRequiredService<TimeProvider>()));
        builder.Services.AddSingleton(sp => new ReportService(sp.GetRequiredService<SqliteStore>(), sp.GetRequiredService<TimeProvider>(), options.ReportMaxRows));
        builder.Services.AddSingleton(sp => new Logs.LogSearch(sp.GetRequiredService<SqliteStore>()));
        builder.Services.AddSingleton<Logs.LogRetention>();
        if (options.LogRetentionDays > 0)
        {
            builder.Services.AddSingleton<IHostedService, Logs.LogRetentionService>();
        }
        Recordings.RecordingServices.AddRecordings(builder.Services, options);
        services?.Invoke(builder.Services);

        var app = builder.Build();
        ServerLog.StoreOpened(app.Logger, store.DatabasePath);
        app.UseExceptionHandler(new ExceptionHandlerOptions
        {
            ExceptionHandler = WriteErrorAsync,
            SuppressDiagnosticsCallback = _ => true,
        });
        app.UseStatusCodePages(new StatusCodePagesOptions { HandleAsync = WriteEmptyApiErrorAsync });
        Web.WebUi.UseSecurityHeaders(app);
        app.UseRouting();
        app.UseMiddleware<CanonicalTargetMiddleware>(); // before the auth gate: an aliased path never reaches an endpoint
        app.UseMiddleware<ApiAuthMiddleware>();
        app.MapHealth();
        var api = app.MapGroup(ApiAuthMiddleware.ApiPrefix);
        api.MapAuth();
        api.MapUsers();
        api.MapTokens();
        api.MapIngest();
        api.MapReports();
        Logs.LogsApi.MapLogs(api);
        api.MapRecordingUploads();
        Recordings.RecordingsApi.MapRecordings(api);
        Web.Api.WebApi.MapWebApi(api);
        Web.WebUi.MapWebUi(app);
        app.Lifetime.ApplicationStarted.Register(() =>
        {
            var addresses = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses;
            ServerLog.Listening(app.Logger, addresses is null ? options.Urls : string.Join(", ", addresses));
        });
        return app;
    }

    /// <summary>Builds, starts and runs the server until <paramref name="ct"/> is cancelled (or the host stops), then stops it.</summary>
    public static async Task RunAsync(ServerOptions options, CancellationToken ct)
    {
        await using var app = Build(options);
        await app.StartAsync(ct);
        await app.WaitForShutdownAsync(ct);
    }

    /// <summary>The addresses Kestrel actually listens on (useful with port 0).</summary>
    public static IReadOnlyList<string> Addresses(WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        return app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses.ToArray() ?? [];
    }

    /// <summary>One line per message, UTC timestamps, no colours.</summary>
    private static void ConsoleFormat(Microsoft.Extensions.Logging.Console.SimpleConsoleFormatterOptions o)
    {
        o.SingleLine = true;
        o.UseUtcTimestamp = true;
        o.TimestampFormat = "yyyy-MM-dd'T'HH:mm:ss.fff'Z' ";
        o.ColorBehavior = Microsoft.Extensions.Logging.Console.LoggerColorBehavior.Disabled;
    }

    private static async Task WriteErrorAsync(HttpContext http)
    {
        var error = http.Features.Get<IExceptionHandlerFeature>()?.Error;
        if (error is BadHttpRequestException bad)
        {
            http.Response.StatusCode = bad.StatusCode;
            await http.Response.WriteAsJsonAsync(new ErrorResponse(Describe(bad, http.Request.ContentType)));
            return;
        }

        var logger = http.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(ServerApp));
        if (DiskFullException.IsDiskFull(error))
        {
            // Every write path (ingest, uploads, tokens, sign-in) lands here: one answer for a full disk.
            var options = http.RequestServices.GetRequiredService<ServerOptions>();
            var where = error is DiskFullException full ? full.Where : options.DataDir;
            ServerLog.DiskFull(logger, where, http.Request.Method, http.Request.Path);
            http.Response.StatusCode = StatusCodes.Status507InsufficientStorage;
            http.Response.Headers.RetryAfter = options.DiskFullRetryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
            await http.Response.WriteAsJsonAsync(new ErrorResponse(
                $"disk full: {where}: no space left on the server's disk; nothing of this request was kept; retry after {options.DiskFullRetryAfterSeconds} s (the server resumes by itself once space is freed)"));
            return;
        }

        if (error is not null)
        {
            ServerLog.Unhandled(logger, error, http.Request.Method, http.Request.Path);
        }

        http.Response.StatusCode = StatusCodes.Status500InternalServerError;
        await http.Response.WriteAsJsonAsync(new ErrorResponse("internal server error; see the server log"));
    }

    /// <summary>
    /// The net under every API error that has no body of its own (the router's 415 for a body that is not JSON,
    /// 405 for a method a path does not take): <c>{"error"}</c> naming the problem. Pages and HEAD are left alone.
    /// </summary>
    private static Task WriteEmptyApiErrorAsync(StatusCodeContext context)
    {
        var http = context.HttpContext;
        if (!http.Request.Path.StartsWithSegments(ApiAuthMiddleware.ApiPrefix, StringComparison.OrdinalIgnoreCase) || HttpMethods.IsHead(http.Request.Method))
        {
            return Task.CompletedTask;
        }

        var status = http.Response.StatusCode;
        var message = status switch
        {
            StatusCodes.Status415UnsupportedMediaType => $"Content-Type must be application/json, got '{http.Request.ContentType}'",
            StatusCodes.Status405MethodNotAllowed => $"{http.Request.Method} is not allowed on {http.Request.Path}",
            _ => $"{status} {ReasonPhrases.GetReasonPhrase(status)}",
        };
        return http.Response.WriteAsJsonAsync(new ErrorResponse(message));
    }

    /// <summary>What a request the route handler could not bind gets told, in the client's terms.</summary>
    private static string Describe(BadHttpRequestException bad, string? contentType) => bad switch
    {
        { InnerException: System.Text.Json.JsonException json } => JsonBodyProblem.Describe(json),
        { StatusCode: StatusCodes.Status415UnsupportedMediaType } => $"Content-Type must be application/json, got '{contentType}'",
        _ => bad.Message,
    };
}

/// <summary>A host lifetime that leaves signals to whoever started the app (it stops through <c>StopAsync</c>).</summary>
internal sealed class CallerOwnedLifetime : IHostLifetime
{
    public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
