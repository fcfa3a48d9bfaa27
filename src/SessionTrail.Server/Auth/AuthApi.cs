using System.Globalization;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Logging;
using Microsoft.Net.Http.Headers;

namespace SessionTrail.Server.Auth;

/// <summary>
/// Browser sign-in (all under /api/v1):
/// <list type="bullet">
/// <item><c>POST /auth/login</c> <c>{"user","password"}</c> (JSON, at most <see cref="MaxLoginBodyBytes"/>) → 200
/// <c>{"signedIn":true,"user","role","csrf"}</c> and the <see cref="CookieName"/> cookie (<c>HttpOnly; SameSite=Strict; Path=/</c>, plus
/// <c>Secure</c> over HTTPS); wrong user or password → 401 <c>{"error":"wrong user name or password"}</c>; throttled
/// (<see cref="LoginThrottle"/>) → 429 with <c>Retry-After</c>; bad body → 400/413/415.</item>
/// <item><c>GET /auth/me</c> → <c>{"signedIn":true,"user","role","csrf"}</c> for the cookie (csrf null for a token);
/// signed out (no credentials, or the cookie of an ended session, which is cleared) → 200 <c>{"signedIn":false}</c>
/// with the other members null, so a page that asks produces no failed request; a wrong bearer token → 401.</item>
/// <item><c>POST /auth/logout</c> (CSRF header with the cookie) → 204, session deleted, cookie cleared.</item>
/// </list>
/// </summary>
public static class AuthApi
{
    /// <summary>The session cookie.</summary>
    public const string CookieName = "st_session";

    /// <summary>The header that must carry the session's CSRF token on unsafe methods.</summary>
    public const string CsrfHeader = "X-CSRF-Token";

    /// <summary>Largest sign-in body.</summary>
    public const int MaxLoginBodyBytes = 4096;

    /// <summary>The 401 text, the same for an unknown user and a wrong password.</summary>
    public const string WrongCredentials = "wrong user name or password";

    private static readonly SemaphoreSlim Hashing = new(Math.Max(2, Environment.ProcessorCount));

    /// <summary>What login and me answer; <paramref name="User"/> and <paramref name="Role"/> are null when signed out.</summary>
    public sealed record Me(bool SignedIn, string? User, string? Role, string? Csrf)
    {
        public static Me SignedOut { get; } = new(false, null, null, null);
    }

    /// <summary>A sign-in request, as parsed by <see cref="ParseLogin"/>.</summary>
    public sealed record LoginRequest(string User, string Password);

    public static RouteGroupBuilder MapAuth(this RouteGroupBuilder api)
    {
        ArgumentNullException.ThrowIfNull(api);
        api.MapPost("/auth/login", LoginAsync).AllowAnonymousCaller();
        api.MapGet("/auth/me", Current).AllowSignedOutCaller();
        api.MapPost("/auth/logout", Logout).RequireAnyCaller();
        return api;
    }

    /// <summary>
    /// Parses a sign-in body: a JSON object with string members <c>user</c> and <c>password</c> (others ignored).
    /// Returns null and a message naming what is wrong otherwise. Never throws.
    /// </summary>
    public static LoginRequest? ParseLogin(ReadOnlySpan<byte> body, out string problem)
    {
        const string Expected = "a JSON object {\"user\":\"...\",\"password\":\"...\"}";
        problem = "";
        string? user = null;
        string? password = null;
        if (body.Trim(" \t\r\n"u8).IsEmpty)
        {
            problem = "body: expected " + Expected + ", got an empty body";
            return null;
        }

        try
        {
            var reader = new Utf8JsonReader(body, new JsonReaderOptions { MaxDepth = 8 });
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                problem = "body: expected " + Expected;
                return null;
            }

            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var name = reader.GetString();
                if (!reader.Read())
                {
                    break;
                }

                if (name is "user" or "password")
                {
                    if (reader.TokenType != JsonTokenType.String)
                    {
                        problem = $"{name}: expected a string, got {reader.TokenType}";
                        return null;
                    }

                    if (name == "user")
                    {
                        user = reader.GetString();
                    }
                    else
                    {
                        password = reader.GetString();
                    }
                }
                else
                {
                    reader.Skip();
                }
            }

            if (reader.TokenType != JsonTokenType.EndObject || reader.Read())
            {
                problem = "body: expected " + Expected;
                return null;
            }
        }
        catch (JsonException ex)
        {
            problem = JsonBodyProblem.Describe(ex, Expected);
            return null;
        }
        catch (InvalidOperationException ex)
        {
            problem = $"body: not valid JSON ({ex.Message})";
            return null;
        }

        if (string.IsNullOrEmpty(user))
        {
            problem = "user: required";
            return null;
        }

        if (password is null)
        {
            problem = "password: required";
            return null;
        }

        return new LoginRequest(user, password);
    }

    /// <summary>Deletes the session cookie in the browser.</summary>
    internal static void ClearCookie(HttpContext http) => http.Response.Cookies.Delete(CookieName, Options(http));

    internal static CookieOptions Options(HttpContext http) => new()
    {
        HttpOnly = true,
        SameSite = Microsoft.AspNetCore.Http.SameSiteMode.Strict,
        Secure = http.Request.IsHttps,
        Path = "/",
        IsEssential = true,
    };

    private static async Task<IResult> LoginAsync(HttpContext http, AccountStore accounts, WebSessionStore sessions, LoginThrottle throttle, ILoggerFactory loggers, CancellationToken ct)
    {
        http.Response.Headers.CacheControl = "no-store";
        if (!MediaTypeHeaderValue.TryParse(http.Request.ContentType, out var type) || !type.MediaType.Equals("application/json", StringComparison.OrdinalIgnoreCase))
        {
            return Error(StatusCodes.Status415UnsupportedMediaType, "Content-Type must be application/json");
        }

        if (http.Request.ContentLength > MaxLoginBodyBytes)
        {
            return TooLarge();
        }

        var buffer = new byte[MaxLoginBodyBytes + 1];
        var length = 0;
        int read;
        while (length < buffer.Length && (read = await http.Request.Body.ReadAsync(buffer.AsMemory(length), ct)) > 0)
        {
            length += read;
        }

        if (length > MaxLoginBodyBytes)
        {
            return TooLarge();
        }

        if (ParseLogin(buffer.AsSpan(0, length), out var problem) is not { } login)
        {
            return Error(StatusCodes.Status400BadRequest, problem);
        }

        var logger = loggers.CreateLogger(typeof(AuthApi));
        var remote = http.Connection.RemoteIpAddress?.ToString();
        if (throttle.RetryAfter(login.User, remote) is { } wait)
        {
            var seconds = (int)Math.Ceiling(wait.TotalSeconds);
            http.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
            ServerLog.SignInThrottled(logger, Short(login.User), remote ?? "?");
            return Error(StatusCodes.Status429TooManyRequests, $"too many failed sign-ins; try again in {seconds} s");
        }

        Account? account;
        await Hashing.WaitAsync(ct);
        try
        {
            account = accounts.Verify(login.User, login.Password);
        }
        finally
        {
            Hashing.Release();
        }

        if (account is null)
        {
            throttle.Failed(login.User, remote);
            ServerLog.SignInFailed(logger, Short(login.User), remote ?? "?");
            return Error(StatusCodes.Status401Unauthorized, WrongCredentials);
        }

        throttle.Succeeded(login.User);
        var (id, csrf) = sessions.Create(account, remote);
        http.Response.Cookies.Append(CookieName, id, Options(http));
        ServerLog.SignedIn(logger, account.Name, account.Role, remote ?? "?");
        return TypedResults.Ok(new Me(true, account.Name, account.Role, csrf));
    }

    private static Microsoft.AspNetCore.Http.HttpResults.Ok<Me> Current(HttpContext http)
    {
        http.Response.Headers.CacheControl = "no-store";
        if (Caller.Of(http) is not { } caller)
        {
            return TypedResults.Ok(Me.SignedOut);
        }

        var session = http.Items.TryGetValue(typeof(WebSession), out var s) ? s as WebSession : null;
        return TypedResults.Ok(new Me(true, caller.Name, caller.Role, session?.Csrf));
    }

    private static Microsoft.AspNetCore.Http.HttpResults.NoContent Logout(HttpContext http, WebSessionStore sessions)
    {
        if (http.Items.TryGetValue(typeof(WebSession), out var s) && s is WebSession session)
        {
            sessions.Delete(session.Hash);
        }

        ClearCookie(http);
        return TypedResults.NoContent();
    }

    private static string Short(string user) => user.Length <= AccountStore.MaxNameLength ? user : user[..AccountStore.MaxNameLength] + "…";

    private static Microsoft.AspNetCore.Http.HttpResults.JsonHttpResult<ErrorResponse> TooLarge() => Error(StatusCodes.Status413PayloadTooLarge, $"body larger than {MaxLoginBodyBytes} bytes");

    private static Microsoft.AspNetCore.Http.HttpResults.JsonHttpResult<ErrorResponse> Error(int status, string message) =>
        TypedResults.Json(new ErrorResponse(message), statusCode: status);
}
