using System.Net;
using System.Net.Http.Headers;
using System.Text;
using SessionTrail.Server.Auth;
using SessionTrail.Server.Tests.Http;

namespace SessionTrail.Server.Tests.Auth;

/// <summary>The sign-in body parser against damaged, odd and huge bodies: 400/401/413/415/429, never a throw or a 500.</summary>
public sealed class LoginFuzzTests
{
    private static readonly string[] Samples =
    [
        """{"user":"alice","password":"correct horse battery"}""",
        """{ "password" : "p\u00e4ss w\"rd \\ 12", "user" : "bob@example.org", "remember": [1, {"x": null}] }""",
        """{"user":"\u00fcser","password":""}""",
    ];

    private static readonly byte[] Interesting = "{}[]\":,\\ \t\n0-eE.nultrf\u00ff"u8.ToArray().Concat(new byte[] { 0, 0xC3, 0xE2, 0x80 }).ToArray();

    [Fact]
    public void TheParserNeverThrowsAndAlwaysSaysWhatIsWrong()
    {
        var random = new Random(20261130);
        var parsed = 0;
        for (var i = 0; i < 20_000; i++)
        {
            var sample = Encoding.UTF8.GetBytes(Samples[i % Samples.Length]);
            var body = ByteMutator.Mutate(sample, random, random.Next(1, 6), Interesting);
            var login = AuthApi.ParseLogin(body, out var problem);
            if (login is null)
            {
                Assert.False(string.IsNullOrWhiteSpace(problem), Encoding.UTF8.GetString(body));
            }
            else
            {
                parsed++;
                Assert.False(string.IsNullOrEmpty(login.User));
                Assert.NotNull(login.Password);
            }
        }

        Assert.InRange(parsed, 100, 19_000); // the loop reaches both outcomes
    }

    [Theory]
    [InlineData("", "body: expected a JSON object")]
    [InlineData("null", "body: expected a JSON object")]
    [InlineData("[\"alice\",\"pw\"]", "body: expected a JSON object")]
    [InlineData("{\"user\":\"alice\"}", "password: required")]
    [InlineData("{\"password\":\"x\"}", "user: required")]
    [InlineData("{\"user\":\"\",\"password\":\"x\"}", "user: required")]
    [InlineData("{\"user\":42,\"password\":\"x\"}", "user: expected a string, got Number")]
    [InlineData("{\"user\":\"a\",\"password\":null}", "password: expected a string, got Null")]
    [InlineData("{\"user\":\"a\",\"password\":\"x\"} {}", "body: ")]
    [InlineData("{\"user\":\"a\",\"password\":\"x\"", "body: ")]
    [InlineData("{\"user\":\"a\\ud800\",\"password\":\"x\"}", "body: not valid JSON")]
    public void BadBodiesAreNamed(string body, string expected)
    {
        Assert.Null(AuthApi.ParseLogin(Encoding.UTF8.GetBytes(body), out var problem));
        Assert.StartsWith(expected, problem, StringComparison.Ordinal);
    }

    [Fact]
    public void DeepNestingIsRefusedNotRecursedInto()
    {
        var deep = "{\"x\":" + new string('[', 10_000) + new string(']', 10_000) + ",\"user\":\"a\",\"password\":\"b\"}";
        Assert.Null(AuthApi.ParseLogin(Encoding.UTF8.GetBytes(deep), out var problem));
        Assert.StartsWith("body: not valid JSON", problem, StringComparison.Ordinal);
    }

    [Fact]
    public async Task MutatedHugeAndMistypedBodiesGetAClearAnswerOverHttp()
    {
        await using var server = await RunningServer.StartAsync();
        var random = new Random(7);
        var statuses = new Dictionary<int, int>();
        async Task Send(HttpContent content, params HttpStatusCode[] expected)
        {
            using var response = await server.Anonymous.PostAsync("/api/v1/auth/login", content);
            var text = await response.Content.ReadAsStringAsync();
            Assert.True(expected.Contains(response.StatusCode), $"{(int)response.StatusCode}: {text}");
            Assert.Contains("\"error\":", text, StringComparison.Ordinal);
            statuses[(int)response.StatusCode] = statuses.GetValueOrDefault((int)response.StatusCode) + 1;
        }

        for (var i = 0; i < 150; i++)
        {
            var body = ByteMutator.Mutate(Encoding.UTF8.GetBytes(Samples[i % Samples.Length]), random, random.Next(1, 6), Interesting);
            var content = new ByteArrayContent(body);
            content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
            await Send(content, HttpStatusCode.BadRequest, HttpStatusCode.Unauthorized, HttpStatusCode.TooManyRequests);
        }

        var huge = new string('a', 5_000_000);
        await Send(new StringContent($"{{\"user\":\"alice\",\"password\":\"{huge}\"}}", Encoding.UTF8, "application/json"), HttpStatusCode.RequestEntityTooLarge);
        var chunked = new StreamContent(new MemoryStream(Encoding.UTF8.GetBytes($"{{\"user\":\"{huge}\",\"password\":\"x\"}}")));
        chunked.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        using (var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/auth/login") { Content = chunked })
        {
            request.Headers.TransferEncodingChunked = true;
            using var response = await server.Anonymous.SendAsync(request);
            Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        }

        await Send(new StringContent("user=alice&password=x", Encoding.UTF8, "application/x-www-form-urlencoded"), HttpStatusCode.UnsupportedMediaType);
        await Send(new StringContent("{\"user\":\"a\",\"password\":\"b\"}", Encoding.UTF8, "text/plain"), HttpStatusCode.UnsupportedMediaType);
        await Send(new ByteArrayContent([]), HttpStatusCode.UnsupportedMediaType);

        Assert.True(statuses.GetValueOrDefault(400) > 20, string.Join(", ", statuses));
        Assert.True(statuses.GetValueOrDefault(401) + statuses.GetValueOrDefault(429) > 5, string.Join(", ", statuses));
    }
}
