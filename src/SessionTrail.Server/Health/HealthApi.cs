using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace SessionTrail.Server.Health;

public static class HealthApi
{
    /// <summary><c>GET /healthz</c>: 200 <c>{"status":"ok"}</c>. The store is opened before the app starts listening, so an answer means ready.</summary>
    public static IEndpointRouteBuilder MapHealth(this IEndpointRouteBuilder routes)
    {
        routes.MapGet("/healthz", () => TypedResults.Ok(new HealthResponse("ok")));
        return routes;
    }

    public sealed record HealthResponse(string Status);
}
