using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Routing;
using SessionTrail.Server.Auth;
using Microsoft.Extensions.Logging;

namespace SessionTrail.Server.Recordings;

/// <summary>
/// Resumable upload of recording segments (semantics borrowed from tus 1.0 / the IETF resumable-upload draft):
/// <list type="bullet">
/// <item><c>GET /sessions/{session}/recordings/{index}/upload</c> → 200 <c>{"offset","complete","sha256"}</c>.</item>
/// <item><c>PATCH …/upload</c> with <c>Upload-Offset: N</c>, <c>Content-Type: application/offset+octet-stream</c>
/// and at most 16 MiB of body → 204 with <c>Upload-Offset: N+len</c>; the body is streamed to the store (the
/// bytes that arrived before a dropped connection are kept). Wrong offset → 409 with the held
/// <c>Upload-Offset</c>; already complete → 409 with <c>Upload-Complete: ?1</c>.</item>
/// <item><c>POST …/complete</c> <c>{"bytes","sha256"}</c> → 200 once the store verified size and SHA-256;
/// mismatch → 422 (the partial upload is discarded, the client starts again from 0); incomplete → 409 with
/// <c>Upload-Offset</c>. Completing twice with the same hash answers 200 again.</item>
/// </list>
/// Bad session, index, offset or body → 400 naming what is wrong.
/// </summary>
public static partial class UploadApi
{
    /// <summary>Largest PATCH body.</summary>
    public const long MaxChunkBytes = 16 * 1024 * 1024;

    private const int MaxCompleteBodyBytes = 4096;

    /// <summary>What GET …/upload and a successful complete answer.</summary>
    public sealed record UploadState(long Offset, bool Complete, string? Sha256);

    /// <summary>The body of POST …/complete.</summary>
    public sealed record CompleteRequest(long? Bytes, string? Sha256);

    public static RouteGroupBuilder MapRecordingUploads(this RouteGroupBuilder api)
    {
        ArgumentNullException.ThrowIfNull(api);
        api.MapGet("/sessions/{session}/recordings/{index}/upload", GetAsync).RequireRole(Role.Agent);
        api.MapMethods("/sessions/{session}/recordings/{index}/upload", [HttpMethods.Patch], PatchAsync).RequireRole(Role.Agent);
        api.MapPost("/sessions/{session}/recordings/{index}/complete", CompleteAsync).RequireRole(Role.Agent);
        return api;
    }

    private static async Task<IResult> GetAsync(HttpContext http, string session, string index, IRecordingStore store, CancellationToken ct)
    {
        if (Address(http, session, index) is not { } at)
        {
            return BadAddress(http, session, index);
        }

        var info = await store.GetInfoAsync(at.Session, at.Index, ct);
        http.Response.Headers.CacheControl = "no-store";
        http.Response.Headers[UploadHeaders.OffsetHeader] = (info?.Length ?? 0).ToString(System.Globalization.CultureInfo.InvariantCulture);
        return TypedResults.Ok(new UploadState(info?.Length ?? 0, info?.Complete ?? false, info?.Sha256));
    }

    private static async Task<IResult> PatchAsync(HttpContext http, string session, string index, IRecordingStore store, ILoggerFactory loggers, CancellationToken ct)
    {
        if (Address(http, session, index) is not { } at)
        {
            return BadAddress(http, session, index);
        }

        var logger = loggers.CreateLogger(typeof(UploadApi));
        var contentType = http.Request.ContentType?.Split(';')[0].Trim();
        if (!string.Equals(contentType, UploadHeaders.ChunkContentType, StringComparison.OrdinalIgnoreCase))
        {
            return Error(StatusCodes.Status415UnsupportedMediaType, $"a chunk must be sent as Content-Type {UploadHeaders.ChunkContentType}, got '{http.Request.ContentType}'");
        }

        if (UploadHeaders.ParseOffset(http.Request.Headers[UploadHeaders.OffsetHeader], out var offsetError) is not { } offset)
        {
            return Error(StatusCodes.Status400BadRequest, offsetError!);
        }

        if (http.Request.ContentLength > MaxChunkBytes)
        {
            ChunkTooLarge(logger, at.Session, at.Index, http.Request.ContentLength.Value);
            return Error(StatusCodes.Status413PayloadTooLarge, $"a chunk holds at most {MaxChunkBytes} bytes, this one {http.Request.ContentLength}");
        }

        if (http.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
        {
            limit.MaxRequestBodySize = MaxChunkBytes; // a chunked body longer than that fails with 413 (the prefix stays, as for a dropped connection)
        }

        long length;
        try
        {
            length = await store.AppendAsync(at.Session, at.Index, offset, http.Request.Body, ct);
        }
        catch (UploadOffsetException e)
        {
            OffsetConflict(logger, at.Session, at.Index, offset, e.Held, e.Complete);
            http.Response.Headers[UploadHeaders.OffsetHeader] = e.Held.ToString(System.Globalization.CultureInfo.InvariantCulture);
            if (e.Complete)
            {
                http.Response.Headers[UploadHeaders.CompleteHeader] = "?1";
            }

            return Error(StatusCodes.Status409Conflict, e.Complete
                ? $"segment {at.Index} of session '{at.Session}' is already complete ({e.Held} bytes)"
                : $"the chunk starts at offset {offset} but the server holds {e.Held} bytes of segment {at.Index}; send from {e.Held}");
        }

        Appended(logger, at.Session, at.Index, offset, length - offset);
        http.Response.Headers[UploadHeaders.OffsetHeader] = length.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return TypedResults.NoContent();
    }

    private static async Task<IResult> CompleteAsync(HttpContext http, string session, string index, IRecordingStore store, ILoggerFactory loggers, CancellationToken ct)
    {
        if (Address(http, session, index) is not { } at)
        {
            return BadAddress(http, session, index);
        }

        var logger = loggers.CreateLogger(typeof(UploadApi));
        if (http.Request.ContentLength > MaxCompleteBodyBytes)
        {
            return Error(StatusCodes.Status413PayloadTooLarge, $"the completion body holds at most {MaxCompleteBodyBytes} bytes");
        }

        CompleteRequest? request;
        try
        {
            using var buffer = new MemoryStream();
            var chunk = new byte[1024];
            int read;
            while ((read = await http.Request.Body.ReadAsync(chunk, ct)) > 0)
            {
                buffer.Write(chunk, 0, read);
                if (buffer.Length > MaxCompleteBodyBytes)
                {
                    return Error(StatusCodes.Status413PayloadTooLarge, $"the completion body holds at most {MaxCompleteBodyBytes} bytes");
                }
            }

            request = JsonSerializer.Deserialize(buffer.ToArray(), UploadJsonContext.Default.CompleteRequest);
        }
        catch (JsonException e)
        {
            return Error(StatusCodes.Status400BadRequest, "the completion " + JsonBodyProblem.Describe(e, "a JSON object {\"bytes\":N,\"sha256\":\"hex\"}"));
        }

        if (request?.Bytes is not { } bytes || bytes < 0)
        {
            return Error(StatusCodes.Status400BadRequest, "the completion body needs \"bytes\": the segment's size, a non-negative integer");
        }

        if (request.Sha256 is not { Length: 64 } sha || !sha.All(char.IsAsciiHexDigit))
        {
            return Error(StatusCodes.Status400BadRequest, "the completion body needs \"sha256\": 64 hexadecimal digits");
        }

        try
        {
            var info = await store.CompleteAsync(at.Session, at.Index, bytes, sha.ToLowerInvariant(), ct);
            Completed(logger, at.Session, at.Index, info.Length, info.Sha256 ?? "");
            return TypedResults.Ok(new UploadState(info.Length, true, info.Sha256));
        }
        catch (UploadOffsetException e)
        {
            http.Response.Headers[UploadHeaders.OffsetHeader] = e.Held.ToString(System.Globalization.CultureInfo.InvariantCulture);
            return Error(StatusCodes.Status409Conflict, $"segment {at.Index}: {e.Held} of {bytes} bytes uploaded so far; send the rest from offset {e.Held}");
        }
        catch (UploadVerificationException e)
        {
            VerificationFailed(logger, at.Session, at.Index, e.Message);
            return Error(StatusCodes.Status422UnprocessableEntity, e.Message);
        }
    }

    private static (string Session, int Index)? Address(HttpContext http, string session, string index)
    {
        var s = UploadHeaders.ParseSession(http, session, out _);
        var i = UploadHeaders.ParseIndex(index, out _);
        return s is not null && i is not null ? (s, i.Value) : null;
    }

    private static Microsoft.AspNetCore.Http.HttpResults.JsonHttpResult<ErrorResponse> BadAddress(HttpContext http, string session, string index)
    {
        _ = UploadHeaders.ParseSession(http, session, out var sessionError);
        _ = UploadHeaders.ParseIndex(index, out var indexError);
        return Error(StatusCodes.Status400BadRequest, sessionError ?? indexError ?? "bad segment address");
    }

    private static Microsoft.AspNetCore.Http.HttpResults.JsonHttpResult<ErrorResponse> Error(int status, string message) =>
        TypedResults.Json(new ErrorResponse(message), UploadJsonContext.Default.ErrorResponse, statusCode: status);

    [LoggerMessage(EventId = 300, Level = LogLevel.Debug, Message = "Recording {Session}/{Index}: {Bytes} bytes appended at offset {Offset}")]
    private static partial void Appended(ILogger logger, string session, int index, long offset, long bytes);

    [LoggerMessage(EventId = 301, Level = LogLevel.Information, Message = "Recording {Session}/{Index}: complete, {Bytes} bytes, SHA-256 {Sha256}")]
    private static partial void Completed(ILogger logger, string session, int index, long bytes, string sha256);

    [LoggerMessage(EventId = 302, Level = LogLevel.Warning, Message = "Recording {Session}/{Index}: completion refused: {Problem}")]
    private static partial void VerificationFailed(ILogger logger, string session, int index, string problem);

    [LoggerMessage(EventId = 303, Level = LogLevel.Debug, Message = "Recording {Session}/{Index}: chunk at offset {Offset} refused, the server holds {Held} bytes (complete: {Complete})")]
    private static partial void OffsetConflict(ILogger logger, string session, int index, long offset, long held, bool complete);

    [LoggerMessage(EventId = 304, Level = LogLevel.Warning, Message = "Recording {Session}/{Index}: chunk of {Bytes} bytes refused (over 16 MiB)")]
    private static partial void ChunkTooLarge(ILogger logger, string session, int index, long bytes);
}

[System.Text.Json.Serialization.JsonSourceGenerationOptions(PropertyNamingPolicy = System.Text.Json.Serialization.JsonKnownNamingPolicy.CamelCase)]
[System.Text.Json.Serialization.JsonSerializable(typeof(UploadApi.UploadState))]
[System.Text.Json.Serialization.JsonSerializable(typeof(UploadApi.CompleteRequest))]
[System.Text.Json.Serialization.JsonSerializable(typeof(ErrorResponse))]
internal sealed partial class UploadJsonContext : System.Text.Json.Serialization.JsonSerializerContext;
