using System.Text;
using SessionTrail.Agent.Sinks;
using SessionTrail.Agent.Tests.Sources;

namespace SessionTrail.Agent.Tests.Sinks;

/// <summary>
/// <see cref="SigV4"/> against AWS's published Signature Version 4 test suite ("aws-sig-v4-test-suite",
/// formerly in the AWS General Reference; copies in e.g. bazelbuild/bazel third_party/aws-sig-v4-test-suite
/// and awslabs/aws-crt-python's tests). Every case signs with the suite's key pair, region us-east-1,
/// service "service", x-amz-date 20150830T123600Z. The expected values are the suite's .authz / .creq / .sts files.
/// </summary>
public sealed class SigV4Tests
{
    private const string AccessKey = "AKIDEXAMPLE";
    private const string SecretKey = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
    private const string AmzDate = "20150830T123600Z";
    private const string Prefix = "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, ";

    private const string StsToken =
        "AQoDYXdzEPT//////////wEXAMPLEtc764bNrC9SAPBSM22wDOk4x4HIZ8j4FZTwdQWLWsKWHGBuFqwAeMicRXmxfpSPfIeoIYRqTflfKD8YUuwthAx7mSEI/qkPpKPi/kMcGdQrmGdeehM4IC1NtBmUpp2wUE8phUZampKsburEDy0KPkyQDYwT7WZ0wq5VSXDvp75YU9HFvlRd8Tx6q6fE8YQcHNVXAkiY9q6d+xo0rKwT38xVqr7ZD0u0iPPkUL64lIZbqBAz+scqKmlzm8FDrypNC9Yjc8fPOLn9FX9KSYvKTr4rvx3iSIlTJabIQwj2ICCR/oLxBA==";

    private static string Sign(string method, string url, string body, params (string Name, string Value)[] extra)
    {
        var headers = new List<KeyValuePair<string, string>> { new("Host", "example.amazonaws.com"), new("X-Amz-Date", AmzDate) };
        headers.AddRange(extra.Select(h => new KeyValuePair<string, string>(h.Name, h.Value)));
        return SigV4.Authorization(method, new Uri(url), headers, Encoding.UTF8.GetBytes(body), AccessKey, SecretKey, "us-east-1", "service", AmzDate);
    }

    [Theory]
    [InlineData("get-vanilla", "GET", "https://example.amazonaws.com/", "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31")]
    [InlineData("post-vanilla", "POST", "https://example.amazonaws.com/", "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b")]
    [InlineData("get-vanilla-query-order-key-case", "GET", "https://example.amazonaws.com/?Param2=value2&Param1=value1", "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500")]
    [InlineData("get-vanilla-query-order-key", "GET", "https://example.amazonaws.com/?Param1=value2&Param1=Value1", "eedbc4e291e521cf13422ffca22be7d2eb8146eecf653089df300a15b2382bd1")]
    public void VanillaRequestsMatchTheSuite(string name, string method, string url, string signature)
    {
        Assert.True(name.Length > 0);
        Assert.Equal(Prefix + "SignedHeaders=host;x-amz-date, Signature=" + signature, Sign(method, url, ""));
    }

    [Fact]
    public void PostHeaderKeySortMatchesTheSuite() => Assert.Equal(
        Prefix + "SignedHeaders=host;my-header1;x-amz-date, Signature=c5410059b04c1ee005303aed430f6e6645f61f4dc9e1461ec8f8916fdf18852c",
        Sign("POST", "https://example.amazonaws.com/", "", ("My-Header1", "value1")));

    [Fact]
    public void PostStsHeaderBeforeMatchesTheSuite() => Assert.Equal(
        Prefix + "SignedHeaders=host;x-amz-date;x-amz-security-token, Signature=85d96828115b5dc0cfc3bd16ad9e210dd772bbebba041836c64533a82be05ead",
        Sign("POST", "https://example.amazonaws.com/", "", ("X-Amz-Security-Token", StsToken)));

    [Fact]
    public void PostWithABodyMatchesTheSuitesCanonicalRequestStringToSignAndAuthorization()
    {
        // post-x-www-form-urlencoded: .creq, .sts and .authz.
        var headers = new List<KeyValuePair<string, string>>
        {
            new("Content-Type", "application/x-www-form-urlencoded"), new("Host", "example.amazonaws.com"), new("X-Amz-Date", AmzDate),
        };
        var body = Encoding.UTF8.GetBytes("Param1=value1");
        var canonical = SigV4.CanonicalRequest("POST", new Uri("https://example.amazonaws.com/"), headers, body, out var signed);

        Assert.Equal(
            "POST\n/\n\ncontent-type:application/x-www-form-urlencoded\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\n"
            + "content-type;host;x-amz-date\n9095672bbd1f56dfc5b65f3e153adc8731a4a654192329106275f4c7b24d0b6e",
            canonical);
        Assert.Equal("content-type;host;x-amz-date", signed);
        Assert.Equal(
            "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n42a5e5bb34198acb3e84da4f085bb7927f2bc277ca766e6d19c73c2154021281",
            SigV4.StringToSign(AmzDate, SigV4.Scope(AmzDate, "us-east-1", "service"), canonical));
        Assert.Equal(
            Prefix + "SignedHeaders=content-type;host;x-amz-date, Signature=ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a",
            SigV4.Authorization("POST", new Uri("https://example.amazonaws.com/"), headers, body, AccessKey, SecretKey, "us-east-1", "service", AmzDate));
    }

    [Fact]
    public void AChangedBodyOrSecretChangesTheSignature()
    {
        var good = Sign("POST", "https://example.amazonaws.com/", "a");
        Assert.NotEqual(good, Sign("POST", "https://example.amazonaws.com/", "b"));
        Assert.NotEqual(good, SigV4.Authorization(
            "POST", new Uri("https://example.amazonaws.com/"), [new("Host", "example.amazonaws.com"), new("X-Amz-Date", AmzDate)], "a"u8, AccessKey, "other", "us-east-1", "service", AmzDate));
    }
}
