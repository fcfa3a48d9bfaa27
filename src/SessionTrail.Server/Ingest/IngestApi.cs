using System.Buffers;
using System.Diagnostics;
using System.IO.Compression;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Routing;
using SessionTrail.Server.Auth;
using Microsoft.Extensions.Logging;
using SessionTrail.Core.Formats;
using SessionTrail.Server.Store;

namespace SessionTrail.Server.Ingest;

/// <summary>
/// <c>POST /api/v1/ingest</c>: an NDJSON body (optionally <c>Content-Encoding: gzip</c>) stored whole or
/// not at all. 200 <c>{"accepted":N,"duplicates":M}</c>; 400 <c>{"error","line","field"}</c> for the first
/// bad line (nothing stored); 413 over <see cref="ServerOptions.MaxBodyBytes"/> (after decompression);
/// 415 for a Content-Encoding other than gzip/identity.
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
        HttpContext http, IRecordStore store, ServerOptions options, ILoggerFactory loggers, CancellationToken ct)
    {
        var logger = loggers.CreateLogger(typeof(IngestApi));
        if (http.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
        {
            limit.MaxRequestBodySize = null; // we enforce MaxBodyBytes ourselves, after decompression.
        }

        var encoding = http.Request.Headers.ContentEncoding.ToString().Trim();
        Stream body;
        if (encoding.Length == 0 || encoding.Equals("identity", StringComparison.OrdinalIgnoreCase))
        {
            body = http.Request.Body;
        }
        else if (encoding.Equals("gzip", StringComparison.OrdinalIgnoreCase))
        {
            body = new GZipStream(http.Request.Body, CompressionMode.Decompress, leaveOpen: true);
        }
        else
        {
            return TypedResults.Json(
                new ErrorResponse($"unsupported Content-Encoding '{encoding}' (use gzip or none)"),
                statusCode: StatusCodes.Status415UnsupportedMediaType);
        }

        if (http.Request.ContentLength > options.MaxBodyBytes)
        {
            ServerLog.IngestTooLarge(logger, options.MaxBodyBytes);
            return TooLarge(options);
        }

        var buffer = ArrayPool<byte>.Shared.Rent(64 * 1024);
        try
        {
            var length = 0;
            await using (body)
            {
                while (true)
                {
                    if (length == buffer.Length)
                    {
                        var bigger = ArrayPool<byte>.Shared.Rent((int)Math.Min((long)buffer.Length * 2, options.MaxBodyBytes + 1));
                        buffer.AsSpan(0, length).CopyTo(bigger);
                        ArrayPool<byte>.Shared.Return(buffer);
                        buffer = bigger;
                    }

                    int read;
                    try
                    {
                        read = await body.ReadAsync(buffer.AsMemory(length), ct);
                    }
                    catch (InvalidDataException)
                    {
                        return TypedResults.BadRequest(new ErrorResponse("the body is not valid gzip"));
                    }

                    if (read == 0)
                    {
                        break;
                    }

                    length += read;
                    if (length > options.MaxBodyBytes)
                    {
                        ServerLog.IngestTooLarge(logger, options.MaxBodyBytes);
                        return TooLarge(options);
                    }
                }
            }

            List<Core.Records.TrailRecord> records;
            try
            {
                records = NdjsonReader.Parse(buffer.AsSpan(0, length), options.MaxLineBytes);
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
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private static Microsoft.AspNetCore.Http.HttpResults.JsonHttpResult<ErrorResponse> TooLarge(ServerOptions options) => TypedResults.Json(
        new ErrorResponse($"body larger than {options.MaxBodyBytes} bytes (after decompression); send smaller batches"),
        statusCode: StatusCodes.Status413PayloadTooLarge);
}
