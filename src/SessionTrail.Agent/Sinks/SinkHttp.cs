using System.Globalization;
using System.Net;
using System.Net.Http.Headers;

namespace SessionTrail.Agent.Sinks;

/// <summary>How a sink reads an HTTP refusal (a status code that is not a success).</summary>
public enum HttpRefusal
{
    /// <summary>Any other status (408, 429, 5xx, ...): retried later, after the server's Retry-After when it sends one.</summary>
    Retry,

    /// <summary>413: the batch is split in halves.</summary>
    TooLarge,

    /// <summary>401, 403: credentials refused; records are kept and retried.</summary>
    Credentials,

    /// <summary>400: the request is refused as such.</summary>
    BadRequest,
}

/// <summary>One HTTP call of a sink: the response to read, or (the server could not be reached, the request timed out) the retryable result.</summary>
public readonly record struct HttpCall(HttpResponseMessage? Response, SinkResult? Failure);

/// <summary>
/// The HTTP plumbing of the HTTP sinks (SessionTrail server, OpenSearch, Firehose) and of the recording
/// upload: send, classify the status, the server's Retry-After, the body.
/// </summary>
public static class SinkHttp
{
    /// <summary>
    /// Sends <paramref name="request"/>. A connection error is <c>Retryable(<paramref name="unreachable"/> + message)</c>,
    /// a timeout (not <paramref name="cancellationToken"/>) is <c>Retryable(<paramref name="timedOut"/>)</c>; the caller disposes the response.
    /// </summary>
    public static async Task<HttpCall> SendAsync(HttpClient http, HttpRequestMessage request, string unreachable, string timedOut, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(http);
        try
        {
            return new HttpCall(await http.SendAsync(request, cancellationToken), null);
        }
        catch (HttpRequestException ex)
        {
            return new HttpCall(null, SinkResult.Retryable(unreachable + ex.Message));
        }
        catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return new HttpCall(null, SinkResult.Retryable(timedOut));
        }
    }

    /// <summary>What a refusal means for the batch (see <see cref="HttpRefusal"/>).</summary>
    public static HttpRefusal Classify(HttpStatusCode status) => status switch
    {
        HttpStatusCode.RequestEntityTooLarge => HttpRefusal.TooLarge,
        HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden => HttpRefusal.Credentials,
        HttpStatusCode.BadRequest => HttpRefusal.BadRequest,
        _ => HttpRefusal.Retry,
    };

    /// <summary>The server's Retry-After (seconds or a date; a date in the past is zero), if any.</summary>
    public static TimeSpan? RetryAfter(HttpResponseMessage response, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(response);
        ArgumentNullException.ThrowIfNull(time);
        var header = response.Headers.RetryAfter;
        if (header?.Delta is { } delta)
        {
            return delta;
        }

        if (header?.Date is { } date)
        {
            var wait = date - time.GetUtcNow();
            return wait > TimeSpan.Zero ? wait : TimeSpan.Zero;
        }

        return null;
    }

    /// <summary>The body as text; "" when it cannot be read (the connection broke).</summary>
    public static async Task<string> ReadBodyAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(response);
        try
        {
            return await response.Content.ReadAsStringAsync(cancellationToken);
        }
        catch (Exception ex) when (ex is HttpRequestException or IOException)
        {
            return "";
        }
    }

    /// <summary>The start of the body (at most 500 characters), for messages.</summary>
    public static async Task<string> BodyStartAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        var text = await ReadBodyAsync(response, cancellationToken);
        return text.Length > 500 ? text[..500] + "…" : text;
    }

    /// <summary>"Basic BASE64(user:password)".</summary>
    public static AuthenticationHeaderValue Basic(string user, string password) =>
        new("Basic", Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes(user + ":" + password)));

    /// <summary>A status code for messages: "429 Too Many Requests".</summary>
    public static string Describe(HttpResponseMessage response)
    {
        ArgumentNullException.ThrowIfNull(response);
        return ((int)response.StatusCode).ToString(CultureInfo.InvariantCulture) + " " + response.ReasonPhrase;
    }
}
