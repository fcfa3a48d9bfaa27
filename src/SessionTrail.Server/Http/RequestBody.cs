using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace SessionTrail.Server.Http;

/// <summary>
/// Reads a whole request body and undoes its <c>Content-Encoding</c> (<see cref="ContentDecoder"/>): the one
/// way an endpoint that takes an encoded body reads it. The cap holds on both sides: at most
/// <c>maxBytes</c> are read as sent — with or without Content-Length, chunked too — and at most
/// <c>maxBytes</c> are decoded. Everything is read before anything is used, so a body is used whole or
/// not at all.
/// </summary>
public static class RequestBody
{
    /// <summary>
    /// The decoded body (the caller disposes it). Throws <see cref="BodyRejectedException"/>: 415 for a coding
    /// other than <see cref="ContentDecoder.Supported"/>, 413 over <paramref name="maxBytes"/> (as sent or
    /// decoded), 400 for a body cut short or corrupt.
    /// </summary>
    public static async Task<PooledBytes> ReadAsync(HttpRequest request, long maxBytes, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(request);
        var coding = ContentDecoder.Parse(request.Headers.ContentEncoding.ToString());
        if (request.ContentLength > maxBytes)
        {
            throw ContentDecoder.TooLarge(maxBytes);
        }

        if (request.HttpContext.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
        {
            // Kestrel's own limit at the same cap (its default is 30 MB): after an early 413 it stops draining
            // the rest of an oversized body and closes the connection instead of reading it all.
            limit.MaxRequestBodySize = maxBytes;
        }

        var sent = new PooledBytes(Math.Min(maxBytes, Array.MaxLength - 1) + 1, (int)Math.Min(request.ContentLength ?? 64 * 1024, 1 << 20) + 1);
        try
        {
            while (true)
            {
                var room = sent.GetMemory(64 * 1024);
                if (room.IsEmpty)
                {
                    throw ContentDecoder.TooLarge(maxBytes);
                }

                int read;
                try
                {
                    read = await request.Body.ReadAsync(room, ct);
                }
                catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
                {
                    throw ContentDecoder.TooLarge(maxBytes);
                }

                if (read == 0)
                {
                    break;
                }

                sent.Advance(read);
            }
        }
        catch
        {
            sent.Dispose();
            throw;
        }

        if (coding == ContentCoding.Identity)
        {
            return sent;
        }

        using (sent)
        {
            return ContentDecoder.Decode(coding, sent.Memory, maxBytes);
        }
    }
}
