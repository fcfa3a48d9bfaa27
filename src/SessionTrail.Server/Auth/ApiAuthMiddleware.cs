using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Logging;

namespace SessionTrail.Server.Auth;

/// <summary>
/// Authentication and role gate of every <c>/api/v1</c> request (runs after routing, so it sees the endpoint's
/// <see cref="ApiAccess"/>). The caller is <c>Authorization: Bearer &lt;token&gt;</c> when that header is
/// present, else the <see cref="AuthApi.CookieName"/> cookie of a live web session. With the cookie, an unsafe
/// method (anything but GET, HEAD, OPTIONS, TRACE) must carry <see cref="AuthApi.CsrfHeader"/> equal to the
/// session's CSRF token. No caller → 401 (except on an endpoint that allows <see cref="ApiAccess.SignedOutToo"/>);
/// CSRF missing or wrong, or a role below the endpoint's → 403.
/// The <see cref="Caller"/> is put in <see cref="HttpContext.Items"/>.
/// </summary>
internal sealed class ApiAuthMiddleware(RequestDelegate next, TokenStore tokens, WebSessionStore sessions, ILogger<ApiAuthMiddleware> logger)
{
    /// <summary>The request path prefix this gate guards.</summary>
    public const string ApiPrefix = "/api/v1";

    public async Task InvokeAsync(HttpContext http)
    {
        if (!http.Request.Path.StartsWithSegments(ApiPrefix, StringComparison.OrdinalIgnoreCase))
        {
            await next(http);
            return;
        }

        var endpoint = http.GetEndpoint();
        var access = endpoint?.Metadata.GetMetadata<ApiAccess>();
        if (access?.Anonymous == true)
        {
            await next(http);
            return;
        }

        var (caller, problem) = Authenticate(http);
        if (caller is null && access?.SignedOutToo == true && http.Request.Headers.Authorization.Count == 0)
        {
            await next(http); // signed out: no caller, no 401 (the cookie of an ended session was cleared above)
            return;
        }

        if (caller is null)
        {
            ServerLog.Unauthorized(logger, http.Request.Path, problem);
            http.Response.Headers.WWWAuthenticate = "Bearer";
            await Deny(http, StatusCodes.Status401Unauthorized, problem);
            return;
        }

        if (problem.Length > 0)
        {
            ServerLog.Forbidden(logger, http.Request.Path, caller.Name, problem);
            await Deny(http, StatusCodes.Status403Forbidden, problem);
            return;
        }

        http.Items[typeof(Caller)] = caller;
        var need = endpoint is null ? null : access is null ? Role.Admin : access.Role;
        if (need is not null && !Role.Allows(caller.Role, need))
        {
            var pattern = (endpoint as RouteEndpoint)?.RoutePattern.RawText ?? http.Request.Path.Value ?? "";
            var what = $"{http.Request.Method} {(pattern.StartsWith('/') ? pattern : "/" + pattern)}";
            var message = $"role '{caller.Role}' may not {what}; needs '{need}'";
            ServerLog.Forbidden(logger, http.Request.Path, caller.Name, message);
            await Deny(http, StatusCodes.Status403Forbidden, message);
            return;
        }

        await next(http);
    }

    /// <summary>The caller, or null and why not; a caller with a non-empty problem is refused with 403 (CSRF).</summary>
    private (Caller? Caller, string Problem) Authenticate(HttpContext http)
    {
        var header = http.Request.Headers.Authorization.ToString();
        if (header.Length > 0)
        {
            if (!header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
            {
                return (null, "Authorization header is not a Bearer token");
            }

            return tokens.Identify(header["Bearer ".Length..].Trim()) is { } who ? (who, "") : (null, "invalid token");
        }

        if (!http.Request.Cookies.TryGetValue(AuthApi.CookieName, out var cookie))
        {
            return (null, "not signed in: send 'Authorization: Bearer <token>' or sign in at POST /api/v1/auth/login");
        }

        if (sessions.Find(cookie) is not { } session)
        {
            AuthApi.ClearCookie(http);
            return (null, "the sign-in session has expired or ended; sign in again");
        }

        http.Items[typeof(WebSession)] = session;
        var caller = new Caller(session.User, session.Role, null, session.AccountId);
        if (!IsSafe(http.Request.Method) && !Secrets.FixedTimeEquals(http.Request.Headers[AuthApi.CsrfHeader].ToString(), session.Csrf))
        {
            return (caller, $"missing or wrong {AuthApi.CsrfHeader}");
        }

        return (caller, "");
    }

    private static bool IsSafe(string method) =>
        HttpMethods.IsGet(method) || HttpMethods.IsHead(method) || HttpMethods.IsOptions(method) || HttpMethods.IsTrace(method);

    private static Task Deny(HttpContext http, int status, string message)
    {
        http.Response.StatusCode = status;
        http.Response.Headers.CacheControl = "no-store";
        return http.Response.WriteAsJsonAsync(new ErrorResponse(message));
    }
}
