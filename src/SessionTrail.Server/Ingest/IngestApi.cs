using System.Diagnostics;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Logging;
using SessionTrail.Core.Formats;
using SessionTrail.Core.Records;
using SessionTrail.Server.Auth;
using SessionTrail.Server.Http;
using SessionTrail.Server.Store;

namespace SessionTrail.Server.Ingest;

/// <summary>
/// <c>POST /api/v1/ingest</c>: an NDJSON body (optionally <c>Content-Encoding</c> gzip, deflate or br) stored
/// whole or not at all. 200 <c>{"accepted":N,"duplicates":M}</c>; 400 <c>{"error","line","field"}</c> for the
/// first bad line — a time outside the <see cref="RecordTimeWindow"/> of the server's clock among them
/// (nothing stored); 400 <c>{"error"}</c> for a body cut short or corrupt in its encoding; 413 over
/// <see cref="ServerOptions.MaxBodyBytes"/> as sent or after decompression; 415 for another Content-Encoding
/// (see <see cref="RequestBody"/>); 507 when the disk is full (see <see cref="DiskFullException"/>).
/// </summary>
public static class IngestApi
{
    public sealed record IngestResponse(int Accepted, int Duplicates);

    public sealed record IngestError(string Error, int Line, string? Field);

    public static RouteGroupBuilder MapIngest(this RouteGroupBuilder api)
    {
        api.MapPost("/ingest", HandleAsync).RequireRole(Role.Agent);
        return api;
    }

    private static async Task<IResult> HandleAsync(
        HttpContext http, IRecordStore store, ServerOptions options, TimeProvider clock, ILoggerFactory loggers, CancellationToken ct)
    {
        var logger = loggers.CreateLogger(typeof(IngestApi));
        PooledBytes body;
        try
        {
            body = await RequestBody.ReadAsync(http.Request, options.MaxBodyBytes, ct);
        }
        catch (BodyRejectedException e)
        {
            if (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
            {
                ServerLog.IngestTooLarge(logger, options.MaxBodyBytes);
            }
            else
            {
                ServerLog.IngestRejected(logger, e.Message);
            }

            return TypedResults.Json(new ErrorResponse(e.Message), statusCode: e.StatusCode);
        }

        using (body)
        {
            List<TrailRecord> records;
            try
            {
                records = NdjsonReader.Parse(body.Span, options.MaxLineBytes, RecordTimeWindow.Of(clock));
            }
            catch (NdjsonFormatException e)
            {
                ServerLog.IngestRejected(logger, e.Message);
                return TypedResults.BadRequest(new IngestError(e.Message, e.Line, e.Field));
            }

            var watch = Stopwatch.StartNew();
            var result = store.Ingest(records);
            ServerLog.Ingested(logger, result.Accepted, result.Duplicates, watch.ElapsedMilliseconds);
            return TypedResults.Ok(new IngestResponse(result.Accepted, result.Duplicates));
        }
    }
}
