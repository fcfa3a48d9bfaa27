using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using Microsoft.Extensions.Primitives;
using SessionTrail.Server.Recordings;
using SessionTrail.Server.Tests.Http;

namespace SessionTrail.Server.Tests.Recordings;

/// <summary>Deterministic random mutations of real header values and request targets: a clear answer, never a throw or a 500.</summary>
public sealed class UploadFuzzTests
{
    private static readonly string[] OffsetSamples = ["0", "1", "4194304", "16777216", " 42 ", "999999999999999"];
    private static readonly string[] TargetSamples =
    [
        "/api/v1/sessions/s-1/recordings/0/upload",
        "/api/v1/sessions/a%2Fb/recordings/12/upload?x=1",
        "http://127.0.0.1:5080/api/v1/sessions/%C3%BC%20x/recordings/3/complete",
    ];

    private static readonly char[] Interesting = ['0', '9', '-', '+', ' ', '\t', ',', '%', '/', '?', 'e', '.', '\0', '\u00e9', 'F'];

    private static string Mutate(string sample, Random random)
    {
        var chars = sample.ToList();
        for (var m = random.Next(1, 5); m > 0; m--)
        {
            var at = chars.Count == 0 ? 0 : random.Next(chars.Count);
            switch (random.Next(4))
            {
                case 0 when chars.Count > 0:
                    chars[at] = (char)random.Next(32, 127);
                    break;
                case 1 when chars.Count > 0:
                    chars.RemoveAt(at);
                    break;
                case 2:
                    chars.Insert(at, Interesting[random.Next(Interesting.Length)]);
                    break;
                default:
                    chars.InsertRange(at, chars.Take(random.Next(1, 20)).ToList());
                    break;
            }
        }

        return new string([.. chars]);
    }

    [Fact]
    public void OffsetParsingAnswersAValueThatPrintsBackOrAnError()
    {
        var random = new Random(5);
        for (var i = 0; i < 20_000; i++)
        {
            var text = Mutate(OffsetSamples[i % OffsetSamples.Length], random);
            var value = UploadHeaders.ParseOffset(new StringValues(text), out var error);
            if (value is { } v)
            {
                Assert.Null(error);
                Assert.True(v >= 0);
                Assert.Equal(text.Trim(' ', '\t').TrimStart('0').PadLeft(1, '0'), v.ToString(CultureInfo.InvariantCulture));
            }
            else
            {
                Assert.False(string.IsNullOrEmpty(error));
                Assert.DoesNotContain("\0", error, StringComparison.Ordinal);
            }
        }
    }

    [Fact]
    public void IndexAndRawTargetParsingNeverThrow()
    {
        var random = new Random(6);
        for (var i = 0; i < 20_000; i++)
        {
            var index = UploadHeaders.ParseIndex(Mutate("000123", random), out var indexError);
            Assert.True(index is >= 0 and <= UploadHeaders.MaxIndex || indexError is not null);
            var session = UploadHeaders.SessionFromRawTarget(Mutate(TargetSamples[i % TargetSamples.Length], random));
            if (session is not null)
            {
                _ = UploadHeaders.ValidateSession(session, out _);
            }
        }
    }

    [Fact]
    public async Task MutatedRequestsGetAClientErrorOrSuccessNeverA500()
    {
        await using var server = await RunningServer.StartAsync();
        var random = new Random(7);
        var body = new byte[64];
        var statuses = new Dictionary<HttpStatusCode, int>();
        for (var i = 0; i < 300; i++)
        {
            var target = Mutate(TargetSamples[i % 2], random).Replace("\0", "", StringComparison.Ordinal); // Kestrel itself refuses %00 (400, no body)
            if (!Uri.TryCreate(server.Client.BaseAddress, target, out var uri) || uri.Authority != server.Client.BaseAddress!.Authority || uri.Scheme != "http")
            {
                continue;
            }

            using var request = new HttpRequestMessage(i % 3 == 0 ? HttpMethod.Get : HttpMethod.Patch, uri);
            request.Headers.TryAddWithoutValidation("Upload-Offset", new string([.. Mutate(OffsetSamples[i % OffsetSamples.Length], random).Where(c => c is '\t' or (>= ' ' and <= '~'))])); // what HttpClient can send
            request.Content = new ByteArrayContent(body);
            request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/offset+octet-stream");
            using var response = await server.Client.SendAsync(request);
            statuses[response.StatusCode] = statuses.GetValueOrDefault(response.StatusCode) + 1;
            Assert.True((int)response.StatusCode < 500, $"{request.Method} {target} → {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
            if ((int)response.StatusCode is 400)
            {
                var text = await response.Content.ReadAsStringAsync();
                Assert.True(text.Contains("\"error\"", StringComparison.Ordinal), $"{request.Method} {uri.AbsoluteUri} Upload-Offset '{request.Headers.GetValues("Upload-Offset").Single()}' → 400 '{text}'");
            }
        }

        Assert.True(statuses.ContainsKey(HttpStatusCode.BadRequest), string.Join(", ", statuses.Select(s => $"{s.Key}={s.Value}")));
        Assert.True(statuses.Keys.Any(s => s is HttpStatusCode.NoContent or HttpStatusCode.OK or HttpStatusCode.Conflict), string.Join(", ", statuses.Select(s => $"{s.Key}={s.Value}")));
    }
}
