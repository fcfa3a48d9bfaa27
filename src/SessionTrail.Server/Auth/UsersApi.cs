using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using SessionTrail.Core.Formats;

namespace SessionTrail.Server.Auth;

/// <summary>
/// Account management for administrators (all under /api/v1, role admin):
/// <c>GET /users</c> → <c>[{"user","role","created","disabled"}]</c>; <c>POST /users {"user","role","password"}</c> → 201;
/// <c>PUT /users/{name} {"role"?,"password"?,"disabled"?}</c> → 200; <c>DELETE /users/{name}</c> → 204.
/// Bad input → 400, unknown user → 404, existing user or the last enabled admin → 409, each with <c>{"error"}</c>.
/// A changed password, role or disabled flag, and removal, end the user's sign-in sessions.
/// </summary>
public static class UsersApi
{
    /// <summary>One account as the API shows it.</summary>
    public sealed record UserView(string User, string Role, string Created, bool Disabled);

    /// <summary>The body of POST /users.</summary>
    public sealed record NewUser(string? User, string? Role, string? Password);

    /// <summary>The body of PUT /users/{name}: each member optional.</summary>
    public sealed record UserChange(string? Role, string? Password, bool? Disabled);

    public static RouteGroupBuilder MapUsers(this RouteGroupBuilder api)
    {
        ArgumentNullException.ThrowIfNull(api);
        var users = api.MapGroup("/users").RequireRole(Role.Admin);
        users.MapGet("/", (AccountStore accounts) => TypedResults.Ok(accounts.List().Select(View).ToList()));
        users.MapPost("/", (NewUser body, AccountStore accounts) => Guard(() =>
        {
            var account = accounts.Add(body.User ?? "", body.Role ?? "", body.Password ?? "");
            return TypedResults.Created($"/api/v1/users/{Uri.EscapeDataString(account.Name)}", View(account));
        }));
        users.MapPut("/{name}", (string name, UserChange body, AccountStore accounts) => Guard(() =>
        {
            if (body.Role is null && body.Password is null && body.Disabled is null)
            {
                throw new AccountException(400, "nothing to change: send role, password and/or disabled");
            }

            if (accounts.Find(name) is null)
            {
                throw new AccountException(404, $"no user '{name}'");
            }

            if (body.Password is not null)
            {
                AccountStore.CheckPassword(body.Password);
            }

            var account = body.Role is null ? accounts.Find(name)! : accounts.SetRole(name, body.Role);
            if (body.Disabled is { } disabled)
            {
                account = accounts.SetDisabled(name, disabled);
            }

            if (body.Password is not null)
            {
                account = accounts.SetPassword(name, body.Password);
            }

            return TypedResults.Ok(View(account));
        }));
        users.MapDelete("/{name}", (string name, AccountStore accounts) => Guard(() =>
        {
            accounts.Remove(name);
            return TypedResults.NoContent();
        }));
        return api;
    }

    private static UserView View(Account a) => new(a.Name, a.Role, NdjsonWriter.FormatTime(a.Created), a.Disabled);

    private static IResult Guard(Func<IResult> action)
    {
        try
        {
            return action();
        }
        catch (AccountException ex)
        {
            return TypedResults.Json(new ErrorResponse(ex.Message), statusCode: ex.Status);
        }
    }
}
