using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;

namespace SessionTrail.Server.Tests.Http;

/// <summary>
/// Every endpoint that reads a JSON body answers a bad one with 400 <c>{"error":"..."}</c> naming what is wrong:
/// malformed JSON (with its position), a wrong type (with the field), a missing field, an empty body, not an object.
/// </summary>
public sealed class JsonBodyErrorTests
{
    /// <summary>Every JSON-body endpoint of /api/v1 (method, path).</summary>
    public static readonly (string Method, string Path)[] Endpoints =
    [
        ("POST", "/api/v1/auth/login"),
        ("POST", "/api/v1/users"),
        ("PUT", "/api/v1/users/alice"),
        ("POST", "/api/v1/tokens"),
        ("POST", "/api/v1/sessions/s1/recordings/0/complete"),
    ];

    /// <summary>(endpoint, case, body, content type, what the error must contain, each case-insensitively).</summary>
    public static TheoryData<string, string, string, string, string[]> Cases()
    {
        var data = new TheoryData<string, string, string, string, string[]>();
        foreach (var (method, path) in Endpoints)
        {
            var endpoint = method + " " + path;
            data.Add(endpoint, "malformed JSON", "{\"a\": tru", "application/json", ["JSON", "line 1"]);
            data.Add(endpoint, "cut short", "{\"a\":", "application/json", ["JSON", "line 1"]);
            data.Add(endpoint, "empty body", "", "application/json", ["empty"]);
            data.Add(endpoint, "not an object", "[1,2]", "application/json", ["object"]);
        }

        data.Add("POST /api/v1/auth/login", "wrong type", """{"user": 5, "password": "x"}""", "application/json", ["user", "string"]);
        data.Add("POST /api/v1/users", "wrong type", """{"user": 5, "role": "viewer", "password": "correct horse battery"}""", "application/json", ["user", "string", "line 1"]);
        data.Add("PUT /api/v1/users/alice", "wrong type", """{"disabled": "yes"}""", "application/json", ["disabled", "true or false"]);
        data.Add("POST /api/v1/tokens", "wrong type", """{"name": ["x"]}""", "application/json", ["name", "string"]);
        data.Add("POST /api/v1/sessions/s1/recordings/0/complete", "wrong type", """{"bytes": "ten", "sha256": "00"}""", "application/json", ["bytes"]);

        data.Add("POST /api/v1/auth/login", "missing field", """{"user": "alice"}""", "application/json", ["password", "required"]);
        data.Add("POST /api/v1/users", "missing field", """{"user": "bob", "password": "correct horse battery"}""", "application/json", ["role", "required"]);
        data.Add("POST /api/v1/users", "missing user", """{}""", "application/json", ["user", "required"]);
        data.Add("PUT /api/v1/users/alice", "missing field", """{}""", "application/json", ["role", "password", "disabled"]);
        data.Add("POST /api/v1/tokens", "missing field", """{"role": "agent"}""", "application/json", ["name", "required"]);
        data.Add("POST /api/v1/sessions/s1/recordings/0/complete", "missing field", """{"sha256": "00"}""", "application/json", ["bytes"]);

        data.Add("POST /api/v1/users", "JSON null", "null", "application/json", ["object"]);
        data.Add("POST /api/v1/users", "not JSON at all", "user=bob", "application/x-www-form-urlencoded", ["application/json"]);
        data.Add("POST /api/v1/tokens", "not JSON at all", "name=bob", "text/plain", ["application/json"]);
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task ABadJsonBodyIsA400NamingWhatIsWrong(string endpoint, string problem, string body, string contentType, string[] mentions)
    {
        await using var server = await RunningServer.StartAsync();
        Assert.Equal(HttpStatusCode.Created, (await server.Client.PostAsJsonAsync("/api/v1/users", new { user = "alice", role = "viewer", password = "correct horse battery" })).StatusCode);
        var (method, path) = (endpoint.Split(' ')[0], endpoint.Split(' ')[1]);
        using var request = new HttpRequestMessage(new HttpMethod(method), path)
        {
            Content = new ByteArrayContent(Encoding.UTF8.GetBytes(body)),
        };
        request.Content.Headers.ContentType = System.Net.Http.Headers.MediaTypeHeaderValue.Parse(contentType);
        var response = await (path.EndsWith("/login", StringComparison.Ordinal) ? server.Anonymous : server.Client).SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();

        Assert.True(response.StatusCode is HttpStatusCode.BadRequest or HttpStatusCode.UnsupportedMediaType, $"{endpoint} with {problem}: {(int)response.StatusCode} {text}");
        Assert.True(problem == "not JSON at all" || response.StatusCode == HttpStatusCode.BadRequest, $"{endpoint} with {problem}: {(int)response.StatusCode} {text}");
        Assert.True((response.Content.Headers.ContentType?.ToString() ?? "").StartsWith("application/json", StringComparison.Ordinal), $"{endpoint} with {problem}: {(int)response.StatusCode} '{text}' as {response.Content.Headers.ContentType}");
        var error = JsonDocument.Parse(text).RootElement.GetProperty("error").GetString();
        Assert.False(string.IsNullOrWhiteSpace(error));
        foreach (var word in mentions)
        {
            Assert.True(error.Contains(word, StringComparison.OrdinalIgnoreCase), $"{endpoint} with {problem}: the error '{error}' does not mention '{word}'");
        }

        // No C# names leak into the message.
        Assert.DoesNotContain("System.", error, StringComparison.Ordinal);
        Assert.DoesNotContain("parameter \"", error, StringComparison.Ordinal);
    }
}
