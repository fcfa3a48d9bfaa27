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
/// Also the API tokens (<see cref="MapTokens"/>).
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
        users.MapPost("/", (NewUser? body, AccountStore accounts) => Guard(() =>
        {
            body = Present(body, "{\"user\",\"role\",\"password\"}");
            Require(body.User, "user", "the account name");
            Require(body.Role, "role", "viewer, auditor or admin");
            Require(body.Password, "password", $"at least {AccountStore.MinPasswordLength} characters");
            var account = accounts.Add(body.User!, body.Role!, body.Password!);
            return TypedResults.Created($"/api/v1/users/{Uri.EscapeDataString(account.Name)}", View(account));
        }));
        users.MapPut("/{name}", (string name, UserChange? body, AccountStore accounts) => Guard(() =>
        {
            body = Present(body, "{\"role\"?,\"password\"?,\"disabled\"?}");
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

    /// <summary>One API token as the API shows it (never the token itself).</summary>
    public sealed record TokenView(long Id, string Name, string Role, string Created);

    /// <summary>The body of POST /tokens.</summary>
    public sealed record NewToken(string? Name, string? Role);

    /// <summary>What POST /tokens answers: the token, shown this once.</summary>
    public sealed record CreatedToken(long Id, string Name, string Role, string Token);

    /// <summary>
    /// <c>GET /tokens</c> → <c>[{"id","name","role","created"}]</c>; <c>POST /tokens {"name","role"?}</c> → 201 with the
    /// token (shown once; role default agent); <c>DELETE /tokens/{id}</c> → 204 (revoked), 404 unknown. Admin only.
    /// </summary>
    public static RouteGroupBuilder MapTokens(this RouteGroupBuilder api)
    {
        ArgumentNullException.ThrowIfNull(api);
        var tokens = api.MapGroup("/tokens").RequireRole(Role.Admin);
        tokens.MapGet("/", (TokenStore store) => TypedResults.Ok(store.List().Select(t => new TokenView(t.Id, t.Name, t.Role, NdjsonWriter.FormatTime(t.Created))).ToList()));
        tokens.MapPost("/", (NewToken? body, TokenStore store) => Guard(() =>
        {
            body = Present(body, "{\"name\",\"role\"?}");
            var name = body.Name?.Trim() ?? "";
            if (name.Length is 0 or > 200)
            {
                throw new AccountException(400, "name: required, at most 200 characters");
            }

            string role;
            try
            {
                role = Role.Parse(body.Role ?? Role.Agent);
            }
            catch (ArgumentException ex)
            {
                throw new AccountException(400, ex.Message);
            }

            var (id, token) = store.Issue(name, role);
            return TypedResults.Json(new CreatedToken(id, name, role, token), statusCode: StatusCodes.Status201Created);
        }));
        tokens.MapDelete("/{id}", (string id, TokenStore store) =>
            long.TryParse(id, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var n) && store.Revoke(n)
                ? Results.NoContent()
                : TypedResults.Json(new ErrorResponse($"no token with id '{id}'"), statusCode: StatusCodes.Status404NotFound));
        return api;
    }

    /// <summary>The body, or a 400 when it was empty or JSON null (the route handler binds both to null).</summary>
    private static T Present<T>(T? body, string shape)
        where T : class =>
        body ?? throw new AccountException(400, $"body: expected a JSON object {shape}, got an empty body or null");

    private static void Require(string? value, string field, string what)
    {
        if (value is null)
        {
            throw new AccountException(400, $"{field}: required ({what})");
        }
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
