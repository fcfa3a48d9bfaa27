using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace SessionTrail.Server.Auth;

/// <summary>
/// Lets a request through only with <c>Authorization: Bearer &lt;token&gt;</c> naming a token of the
/// <see cref="TokenStore"/>; otherwise 401 with a JSON error and <c>WWW-Authenticate: Bearer</c>.
/// </summary>
internal sealed class BearerTokenFilter(TokenStore tokens, ILogger<BearerTokenFilter> logger) : IEndpointFilter
{
    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        string header = http.Request.Headers.Authorization.ToString();
        string? reason = null;
        if (string.IsNullOrEmpty(header))
        {
            reason = "missing Authorization header (expected 'Bearer <token>')";
        }
        else if (!header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            reason = "Authorization header is not a Bearer token";
        }
        else if (tokens.Identify(header["Bearer ".Length..].Trim()) is { } who)
        {
            http.Items[typeof(TokenIdentity)] = who;
        }
        else
        {
            reason = "invalid token";
        }

        if (reason is null)
        {
            return await next(context);
        }

        ServerLog.Unauthorized(logger, http.Request.Path, reason);
        http.Response.Headers.WWWAuthenticate = "Bearer";
        return TypedResults.Json(new ErrorResponse(reason), statusCode: StatusCodes.Status401Unauthorized);
    }
}
