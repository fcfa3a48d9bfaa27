using System.Globalization;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Routing;
using Microsoft.Net.Http.Headers;
using SessionTrail.Core.Formats;
using SessionTrail.Server.Auth;
using SessionTrail.Server.Reports;

namespace SessionTrail.Server.Recordings;

/// <summary>
/// Reading recordings (all under /api/v1; listing and public key: viewer, bytes and manifest: auditor, hold and audit: admin):
/// <list type="bullet">
/// <item><c>GET /sessions/{session}/recordings[?rehash=true]</c> → the listing with per-segment state and chain verification (<see cref="RecordingListing"/>); 404 when the server knows no recording of the session.</item>
/// <item><c>GET /sessions/{session}/recordings/{index}[?purpose=play|download|export]</c> → <c>video/mp4</c> with single-range support
/// (206/416, Accept-Ranges, Content-Range, ETag = "sha256" once complete, If-Range per <see cref="RangeConditions"/>); a partial
/// (uploading) object is served as far as it is held. <c>HEAD</c> answers the same status and headers without the body.
/// Every request is written to the access audit log (a HEAD as action <c>head</c>: it sends no bytes).</item>
/// <item><c>GET …/recordings/manifest</c> (SHA256SUMS text), <c>GET …/recordings/manifest.sig</c> (base64 ECDSA P-256 / SHA-256, DER),
/// <c>GET /recordings/public-key</c> (PEM).</item>
/// <item><c>PUT|DELETE /sessions/{session}/recordings/hold</c> → legal hold on/off (audited).</item>
/// <item><c>GET /audit/access?session=&amp;who=&amp;action=&amp;from=&amp;to=&amp;limit=&amp;before=</c> → audit entries, newest first; <c>X-Next-Cursor</c> pages on.</item>
/// </list>
/// </summary>
public static class RecordingsApi
{
    /// <summary>Response header of the manifest carrying its signature too (the same as manifest.sig).</summary>
    public const string SignatureHeader = "X-Manifest-Signature";

    /// <summary>Response header carrying the next audit page's cursor.</summary>
    public const string NextCursorHeader = "X-Next-Cursor";

    /// <summary>Default and largest page of <c>GET /audit/access</c>.</summary>
    public const int DefaultAuditLimit = 100;

    public static RouteGroupBuilder MapRecordings(this RouteGroupBuilder api)
    {
        ArgumentNullException.ThrowIfNull(api);
        api.MapGet("/sessions/{session}/recordings", ListAsync).RequireRole(Role.Viewer);
        api.MapGet("/sessions/{session}/recordings/manifest", ManifestAsync).RequireRole(Role.Auditor);
        api.MapGet("/sessions/{session}/recordings/manifest.sig", SignatureAsync).RequireRole(Role.Auditor);
        api.MapMethods("/sessions/{session}/recordings/{index}", [HttpMethods.Get, HttpMethods.Head], SegmentAsync).RequireRole(Role.Auditor);
        api.MapPut("/sessions/{session}/recordings/hold", (HttpContext http, string session, RecordingCatalog catalog, TimeProvider clock) => Hold(http, session, true, catalog, clock)).RequireRole(Role.Admin);
        api.MapDelete("/sessions/{session}/recordings/hold", (HttpContext http, string session, RecordingCatalog catalog, TimeProvider clock) => Hold(http, session, false, catalog, clock)).RequireRole(Role.Admin);
        api.MapGet("/recordings/public-key", (RecordingSigner signer) => TypedResults.Text(signer.PublicKeyPem, "application/x-pem-file", Encoding.ASCII)).RequireRole(Role.Viewer);
        api.MapGet("/audit/access", Audit).RequireRole(Role.Admin);
        return api;
    }

    /// <summary>The session id of the request, percent-decoded once (see <see cref="UploadHeaders.ParseSession"/>); null when invalid.</summary>
    internal static string? SessionOf(HttpContext http, string routeValue) => UploadHeaders.ParseSession(http, routeValue, out _);

    private static Microsoft.AspNetCore.Http.HttpResults.JsonHttpResult<ErrorResponse> BadSession() => Error(StatusCodes.Status400BadRequest, "the session id must be 1 to 256 characters without control characters");

    private static async Task<IResult> ListAsync(HttpContext http, string session, string? rehash, RecordingInspector inspector, CancellationToken ct)
    {
        if (SessionOf(http, session) is not { } id)
        {
            return BadSession();
        }

        if (rehash is not (null or "true" or "false"))
        {
            return Error(StatusCodes.Status400BadRequest, $"rehash: expected true or false, got '{rehash}'");
        }

        var listing = await inspector.ListAsync(id, rehash == "true", ct);
        http.Response.Headers.CacheControl = "no-store";
        return listing is null ? NoRecording(id) : TypedResults.Json(listing);
    }

    private static async Task<IResult> ManifestAsync(HttpContext http, string session, RecordingInspector inspector, RecordingSigner signer, RecordingCatalog catalog, TimeProvider clock, CancellationToken ct)
    {
        if (SessionOf(http, session) is not { } id)
        {
            return BadSession();
        }

        var listing = await inspector.ListAsync(id, false, ct);
        if (listing is null)
        {
            AuditRequest(http, catalog, clock, AuditActions.Manifest, id, null, StatusCodes.Status404NotFound);
            return NoRecording(id);
        }

        var text = RecordingManifest.Build(listing, signer.Fingerprint);
        http.Response.Headers[SignatureHeader] = signer.Sign(Encoding.UTF8.GetBytes(text));
        http.Response.Headers.CacheControl = "no-store";
        AuditRequest(http, catalog, clock, AuditActions.Manifest, id, null, StatusCodes.Status200OK);
        return TypedResults.Text(text, "text/plain", Encoding.UTF8);
    }

    private static async Task<IResult> SignatureAsync(HttpContext http, string session, RecordingInspector inspector, RecordingSigner signer, CancellationToken ct)
    {
        if (SessionOf(http, session) is not { } id)
        {
            return BadSession();
        }

        var listing = await inspector.ListAsync(id, false, ct);
        if (listing is null)
        {
            return NoRecording(id);
        }

        http.Response.Headers.CacheControl = "no-store";
        return TypedResults.Text(signer.Sign(Encoding.UTF8.GetBytes(RecordingManifest.Build(listing, signer.Fingerprint))) + "\n", "text/plain", Encoding.ASCII);
    }

    private static async Task<IResult> SegmentAsync(HttpContext http, string session, string index, string? purpose, IRecordingStore store, RecordingCatalog catalog, TimeProvider clock, CancellationToken ct)
    {
        if (SessionOf(http, session) is not { } id)
        {
            return BadSession();
        }

        if (!int.TryParse(index, NumberStyles.None, CultureInfo.InvariantCulture, out var i) || i > NdjsonReader.MaxSegmentIndex || (index.Length > 1 && index[0] == '0'))
        {
            return Error(StatusCodes.Status400BadRequest, $"the segment index must be a whole number from 0 to {NdjsonReader.MaxSegmentIndex} without leading zeros, got '{index}'");
        }

        var action = purpose switch
        {
            null or "play" => AuditActions.Play,
            "download" => AuditActions.Download,
            "export" => AuditActions.Export,
            _ => null,
        };
        if (action is null)
        {
            return Error(StatusCodes.Status400BadRequest, $"purpose: expected play, download or export, got '{purpose}'");
        }

        // A HEAD reveals size and hash but no bytes: audited, as what it is.
        action = HttpMethods.IsHead(http.Request.Method) ? AuditActions.Head : action;
        var sentRange = RangeOf(http); // audited as sent, also when it is not honoured

        var info = await store.GetInfoAsync(id, i, ct);
        var stream = info is null ? null : await store.OpenReadAsync(id, i, ct);
        if (info is null || stream is null)
        {
            AuditRequest(http, catalog, clock, action, id, i, StatusCodes.Status404NotFound, sentRange);
            return Error(StatusCodes.Status404NotFound, $"no bytes of segment {i} of session '{id}'");
        }

        // A partial object grows while we serve it: announce and send exactly what is held now.
        var bounded = new BoundedReadStream(stream, stream.Length);
        var etag = info.Complete && info.Sha256 is { } sha ? new EntityTagHeaderValue("\"" + sha + "\"") : null;
        var lastModified = info.Complete ? info.LastWrite : (DateTimeOffset?)null;
        RangeConditions.Apply(http.Request, etag, lastModified, clock.GetUtcNow());
        http.Response.Headers.CacheControl = info.Complete ? "private, max-age=3600" : "no-cache";
        var result = TypedResults.Stream(
            bounded,
            "video/mp4",
            purpose is null or "play" ? null : RecordingManifest.FileName(i),
            lastModified,
            etag,
            enableRangeProcessing: true);
        return new AuditedResult(result, http => AuditRequest(http, catalog, clock, action, id, i, http.Response.StatusCode, sentRange));
    }

    private static IResult Hold(HttpContext http, string session, bool on, RecordingCatalog catalog, TimeProvider clock)
    {
        if (SessionOf(http, session) is not { } id)
        {
            return BadSession();
        }

        var who = Caller.Of(http);
        var changed = catalog.SetHold(id, on, who?.Name ?? "unknown", clock.GetUtcNow());
        AuditRequest(http, catalog, clock, on ? AuditActions.Hold : AuditActions.Release, id, null, StatusCodes.Status200OK);
        var hold = catalog.Hold(id);
        return TypedResults.Json(new HoldState(id, hold is not null, changed, hold is null ? null : NdjsonWriter.FormatTime(hold.Time), hold?.Who));
    }

    /// <summary>The body of PUT/DELETE …/hold.</summary>
    public sealed record HoldState(string Session, bool Hold, bool Changed, string? Since, string? By);

    /// <summary>One entry of <c>GET /audit/access</c>.</summary>
    public sealed record AuditView(long Seq, string Time, string Who, long? TokenId, long? AccountId, string Action, string? Session, int? Index, string? Range, string? Remote, int? Status);

    private static IResult Audit(HttpContext http, string? session, string? who, string? action, string? from, string? to, string? limit, string? before, RecordingCatalog catalog)
    {
        if (!ReportsApi.TryParseTime(from, out var fromTime))
        {
            return Error(StatusCodes.Status400BadRequest, $"from: expected an ISO-8601 date or time, got '{from}'");
        }

        if (!ReportsApi.TryParseTime(to, out var toTime))
        {
            return Error(StatusCodes.Status400BadRequest, $"to: expected an ISO-8601 date or time, got '{to}'");
        }

        var count = DefaultAuditLimit;
        if (limit is not null && (!int.TryParse(limit, NumberStyles.None, CultureInfo.InvariantCulture, out count) || count is < 1 or > RecordingCatalog.MaxAuditLimit))
        {
            return Error(StatusCodes.Status400BadRequest, $"limit: expected a whole number from 1 to {RecordingCatalog.MaxAuditLimit}, got '{limit}'");
        }

        long? cursor = null;
        if (before is not null)
        {
            if (!long.TryParse(before, NumberStyles.None, CultureInfo.InvariantCulture, out var b))
            {
                return Error(StatusCodes.Status400BadRequest, $"before: expected a cursor from the {NextCursorHeader} header, got '{before}'");
            }

            cursor = b;
        }

        var rows = catalog.QueryAudit(new AuditQuery(session, who, action, fromTime, toTime, cursor, count + 1));
        if (rows.Count > count)
        {
            rows.RemoveAt(count);
            http.Response.Headers[NextCursorHeader] = rows[^1].Seq.ToString(CultureInfo.InvariantCulture);
        }

        return TypedResults.Json(rows.Select(r => new AuditView(
            r.Seq, NdjsonWriter.FormatTime(r.Time), r.Who, r.TokenId, r.AccountId, r.Action, r.Session, r.Index, r.Range, r.Remote, r.Status)).ToList());
    }

    private static string? RangeOf(HttpContext http)
    {
        var range = http.Request.Headers.Range.ToString();
        return range.Length == 0 ? null : range.Length > 200 ? range[..200] : range;
    }

    private static void AuditRequest(HttpContext http, RecordingCatalog catalog, TimeProvider clock, string action, string session, int? index, int status, string? range = null)
    {
        var who = Caller.Of(http);
        range ??= RangeOf(http);
        catalog.Audit(new AccessAuditEntry(
            0,
            clock.GetUtcNow(),
            who?.Name ?? "unknown",
            who?.TokenId,
            action,
            session,
            index,
            range,
            http.Connection.RemoteIpAddress?.ToString(),
            status,
            who?.AccountId));
    }

    private static Microsoft.AspNetCore.Http.HttpResults.JsonHttpResult<ErrorResponse> NoRecording(string session) => Error(StatusCodes.Status404NotFound, $"no recording of session '{session}'");

    private static Microsoft.AspNetCore.Http.HttpResults.JsonHttpResult<ErrorResponse> Error(int status, string message) => TypedResults.Json(new ErrorResponse(message), statusCode: status);

    /// <summary>
    /// Runs the inner result and writes the audit entry with the status actually answered before the first byte of the
    /// response goes out: the response body is wrapped so that its first write (which is what makes the server send the
    /// headers) audits first. When the entry cannot be written (a full disk), no header and no byte has gone out and the
    /// request fails as a whole (507) — a recording is never served unaudited. A response without a body (HEAD, 304,
    /// 416) and a request that ends before anything was written (the client went away) are audited when the result ends.
    /// </summary>
    /// <remarks>
    /// <c>Response.OnStarting</c> is not used for this: an exception there is turned into a 500 by the server itself.
    /// </remarks>
    private sealed class AuditedResult(IResult inner, Action<HttpContext> audit) : IResult
    {
        public async Task ExecuteAsync(HttpContext httpContext)
        {
            var audited = false;
            void AuditOnce()
            {
                if (!audited)
                {
                    audited = true;
                    audit(httpContext);
                }
            }

            var original = httpContext.Features.Get<IHttpResponseBodyFeature>()!;
            var wrapped = new StreamResponseBodyFeature(new AuditFirstStream(original.Stream, AuditOnce), original);
            httpContext.Features.Set<IHttpResponseBodyFeature>(wrapped);
            try
            {
                await inner.ExecuteAsync(httpContext);
                if (!httpContext.Response.HasStarted)
                {
                    AuditOnce();
                }

                await wrapped.CompleteAsync();
            }
            finally
            {
                httpContext.Features.Set(original);
                if (!httpContext.Response.HasStarted && !audited)
                {
                    // Failed or abandoned before a byte went out: still recorded, with the status as it stood.
                    AuditOnce();
                }
            }
        }
    }

    /// <summary>Calls <c>beforeFirstWrite</c> once, before anything reaches the inner stream (and so before the headers go out).</summary>
    private sealed class AuditFirstStream(Stream inner, Action beforeFirstWrite) : Stream
    {
        private bool first = true;

        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        private void Before()
        {
            if (first)
            {
                first = false;
                beforeFirstWrite();
            }
        }

        public override void Flush()
        {
            Before();
            inner.Flush();
        }

        public override Task FlushAsync(CancellationToken cancellationToken)
        {
            Before();
            return inner.FlushAsync(cancellationToken);
        }

        public override void Write(byte[] buffer, int offset, int count)
        {
            Before();
            inner.Write(buffer, offset, count);
        }

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
        {
            Before();
            return inner.WriteAsync(buffer, offset, count, cancellationToken);
        }

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            Before();
            return inner.WriteAsync(buffer, cancellationToken);
        }

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
    }
}
