using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace SessionTrail.Server.Auth;

/// <summary>
/// Who called an /api/v1 endpoint: a signed-in user (<paramref name="AccountId"/> set, <paramref name="TokenId"/> null) or
/// an API token. Set on the request by <see cref="ApiAuthMiddleware"/>; the access audit's <c>who</c> is <paramref name="Name"/>,
/// and the ids (never reused, see Schema migration 7) tell apart a token or user of the same name made later.
/// </summary>
public sealed record Caller(string Name, string Role, long? TokenId, long? AccountId = null)
{
    /// <summary>The caller of <paramref name="http"/>'s request, when one was authenticated.</summary>
    public static Caller? Of(HttpContext http) =>
        http?.Items.TryGetValue(typeof(Caller), out var who) == true ? who as Caller : null;
}

/// <summary>
/// Endpoint metadata: who may call an /api/v1 endpoint. An endpoint without it needs <see cref="Role.Admin"/>
/// (fail closed), so a forgotten <c>.RequireRole(...)</c> never opens an endpoint.
/// </summary>
public sealed class ApiAccess
{
    private ApiAccess(string? role, bool anonymous, bool signedOutToo = false)
    {
        Role = role;
        Anonymous = anonymous;
        SignedOutToo = signedOutToo;
    }

    /// <summary>The minimum role, or null for any authenticated caller (or anyone, with <see cref="Anonymous"/>).</summary>
    public string? Role { get; }

    /// <summary>True when no authentication is needed at all (sign-in).</summary>
    public bool Anonymous { get; }

    /// <summary>
    /// True when a request that names no caller — no Authorization header, and no cookie or the cookie of an ended
    /// session — passes without a <see cref="Caller"/> instead of getting 401 (<c>GET /auth/me</c>: signed out is an
    /// answer, not an error). Credentials that are there are still checked: a wrong bearer token is 401.
    /// </summary>
    public bool SignedOutToo { get; }

    internal static ApiAccess For(string role) => new(role, anonymous: false);

    internal static ApiAccess AnyCaller { get; } = new(null, anonymous: false);

    internal static ApiAccess AnyCallerOrSignedOut { get; } = new(null, anonymous: false, signedOutToo: true);

    internal static ApiAccess Everyone { get; } = new(null, anonymous: true);
}

/// <summary><c>.RequireRole(Role.Viewer)</c> and friends for minimal-API route handlers and groups.</summary>
public static class ApiAccessExtensions
{
    /// <summary>Only callers whose role <see cref="Role.Allows"/> <paramref name="role"/> (else 401 / 403).</summary>
    public static TBuilder RequireRole<TBuilder>(this TBuilder builder, string role)
        where TBuilder : IEndpointConventionBuilder
    {
        ArgumentNullException.ThrowIfNull(builder);
        if (!Role.All.Contains(role))
        {
            throw new ArgumentException($"unknown role '{role}'", nameof(role));
        }

        return builder.WithMetadata(ApiAccess.For(role));
    }

    /// <summary>Any authenticated caller, whatever its role (e.g. <c>GET /auth/me</c>).</summary>
    public static TBuilder RequireAnyCaller<TBuilder>(this TBuilder builder)
        where TBuilder : IEndpointConventionBuilder => builder.WithMetadata(ApiAccess.AnyCaller);

    /// <summary>Any authenticated caller, or nobody signed in (see <see cref="ApiAccess.SignedOutToo"/>; <c>GET /auth/me</c> only).</summary>
    public static TBuilder AllowSignedOutCaller<TBuilder>(this TBuilder builder)
        where TBuilder : IEndpointConventionBuilder => builder.WithMetadata(ApiAccess.AnyCallerOrSignedOut);

    /// <summary>No authentication (sign-in only).</summary>
    public static TBuilder AllowAnonymousCaller<TBuilder>(this TBuilder builder)
        where TBuilder : IEndpointConventionBuilder => builder.WithMetadata(ApiAccess.Everyone);
}
