using System.Diagnostics;
using System.Text;
using SessionTrail.Server.Http;

namespace SessionTrail.Server.Tests.Http;

/// <summary>
/// The shared body decoder under damage: every truncation and thousands of random mutations of valid
/// gzip, zlib and brotli bodies. It returns the whole original or throws <see cref="BodyRejectedException"/>
/// (400/413) — never a prefix, never another exception, never a long stall.
/// </summary>
public sealed class ContentDecoderFuzzTests
{
    private static readonly byte[] Plain = Encoding.UTF8.GetBytes(string.Concat(Enumerable.Range(1, 300).Select(i =>
        $$"""{"id":"l{{i}}","kind":"log","time":"2026-11-01T08:00:{{i % 60:D2}}Z","host":"h1","source":"s","message":"m {{i}} {{new string('x', i % 40)}}"}""" + "\n")));

    private static readonly TimeSpan Stall = TimeSpan.FromSeconds(5);

    public static TheoryData<string> Samples => new() { "gzip", "sync-flushed gzip", "deflate", "br" };

    private static (byte[] Body, ContentCoding Coding) Sample(string name) => name switch
    {
        "gzip" => (EncodedBodyTests.Encode("gzip", Plain), ContentCoding.Gzip),
        "sync-flushed gzip" => (EncodedBodyTests.SyncFlushedGzip(Plain.Chunk(1000)), ContentCoding.Gzip),
        "deflate" => (EncodedBodyTests.Encode("deflate", Plain), ContentCoding.Deflate),
        "br" => (EncodedBodyTests.Encode("br", Plain), ContentCoding.Brotli),
        _ => throw new ArgumentOutOfRangeException(nameof(name)),
    };

    /// <summary>The decoded bytes, or null when refused with a 400 or 413; fails on anything else or a stall.</summary>
    private static byte[]? Decode(ContentCoding coding, byte[] body, long max = 1 << 20)
    {
        var watch = Stopwatch.StartNew();
        try
        {
            using var decoded = ContentDecoder.Decode(coding, body, max);
            Assert.True(decoded.Length <= max);
            return decoded.Span.ToArray();
        }
        catch (BodyRejectedException e)
        {
            Assert.True(e.StatusCode is 400 or 413, $"status {e.StatusCode}: {e.Message}");
            Assert.False(string.IsNullOrWhiteSpace(e.Message));
            return null;
        }
        finally
        {
            Assert.True(watch.Elapsed < Stall, $"decoding {body.Length} bytes took {watch.Elapsed}");
        }
    }

    [Theory]
    [MemberData(nameof(Samples))]
    public void EveryStrictPrefixOfABodyIsRefused(string name)
    {
        var (body, coding) = Sample(name);
        Assert.Equal(Plain, Decode(coding, body));

        for (var length = 0; length < body.Length; length++)
        {
            var decoded = Decode(coding, body[..length]);
            Assert.True(decoded is null, $"{name} cut to {length} of {body.Length} bytes decoded to {decoded?.Length} bytes");
        }
    }

    [Fact]
    public void ACutBetweenGzipMembersIsTheOnlyPrefixThatDecodesAndItDecodesToTheWholeMembers()
    {
        var half = Plain.Length / 2;
        var first = EncodedBodyTests.Encode("gzip", Plain[..half]);
        var body = (byte[])[.. first, .. EncodedBodyTests.Encode("gzip", Plain[half..])];
        Assert.Equal(Plain, Decode(ContentCoding.Gzip, body));

        for (var length = 0; length < body.Length; length++)
        {
            var decoded = Decode(ContentCoding.Gzip, body[..length]);
            if (length == first.Length)
            {
                Assert.Equal(Plain[..half], decoded); // a complete first member is a complete gzip body
            }
            else
            {
                Assert.True(decoded is null, $"cut to {length} of {body.Length} bytes decoded to {decoded?.Length} bytes");
            }
        }
    }

    /// <summary>
    /// Random damage (bytes changed, deleted, inserted, ranges cut or repeated). gzip and zlib carry a checksum
    /// of the decoded bytes, so what they return is the original exactly; brotli has none, so a damaged brotli
    /// body may decode to other bytes — but never with another exception or a stall.
    /// </summary>
    [Theory]
    [MemberData(nameof(Samples))]
    public void MutatedBodiesDecodeToTheOriginalOrAreRefused(string name)
    {
        var (body, coding) = Sample(name);
        var random = new Random(name.Length * 7919);
        byte[] interesting = [0x00, 0xff, 0x1f, 0x8b, 0x08, 0x78, 0x9c, 0x01, 0x03];
        var refused = 0;
        for (var i = 0; i < 3000; i++)
        {
            var mutated = ByteMutator.Mutate(body, random, random.Next(1, 4), interesting);
            var decoded = Decode(coding, mutated);
            if (decoded is null)
            {
                refused++;
            }
            else if (coding != ContentCoding.Brotli)
            {
                Assert.Equal(Plain, decoded);
            }
        }

        Assert.True(refused > 1500, $"only {refused} of 3000 damaged bodies refused");
    }

    /// <summary>Random bytes: gzip and zlib refuse them all (their checksums); brotli nearly all (a byte or two can be a valid empty stream).</summary>
    [Theory]
    [InlineData(ContentCoding.Gzip)]
    [InlineData(ContentCoding.Deflate)]
    [InlineData(ContentCoding.Brotli)]
    public void RandomBytesAreRefused(ContentCoding coding)
    {
        var random = new Random((int)coding);
        var refused = 0;
        for (var i = 0; i < 2000; i++)
        {
            var bytes = new byte[random.Next(0, 400)];
            random.NextBytes(bytes);
            if (coding == ContentCoding.Gzip && bytes.Length > 3)
            {
                bytes[0] = 0x1f; // a gzip header, so the decoder gets past it
                bytes[1] = 0x8b;
                bytes[2] = 8;
                bytes[3] = 0;
            }

            var decoded = Decode(coding, bytes);
            if (decoded is null)
            {
                refused++;
            }
            else
            {
                Assert.True(coding == ContentCoding.Brotli, $"{bytes.Length} random bytes decoded as {coding}");
            }
        }

        Assert.True(refused > 1950, $"{refused} of 2000 refused");
    }

    [Theory]
    [InlineData("gzip", ContentCoding.Gzip)]
    [InlineData("deflate", ContentCoding.Deflate)]
    [InlineData("br", ContentCoding.Brotli)]
    public void ABombIsStoppedAtTheCapWith413(string name, ContentCoding coding)
    {
        var zeros = EncodedBodyTests.Encode(name, new byte[64 << 20]);

        var error = Assert.Throws<BodyRejectedException>(() => ContentDecoder.Decode(coding, zeros, 1 << 20));

        Assert.Equal(413, error.StatusCode);
        using var exact = ContentDecoder.Decode(coding, EncodedBodyTests.Encode(name, new byte[1 << 20]), 1 << 20);
        Assert.Equal(1 << 20, exact.Length);
    }

    [Fact]
    public void IdentityIsTheBytesThemselvesUnderTheSameCap()
    {
        using var same = ContentDecoder.Decode(ContentCoding.Identity, Plain, Plain.Length);

        Assert.Equal(Plain, same.Span.ToArray());
        Assert.Equal(413, Assert.Throws<BodyRejectedException>(() => ContentDecoder.Decode(ContentCoding.Identity, Plain, Plain.Length - 1)).StatusCode);
    }

    [Theory]
    [InlineData(null, ContentCoding.Identity)]
    [InlineData("", ContentCoding.Identity)]
    [InlineData("identity", ContentCoding.Identity)]
    [InlineData("GZIP", ContentCoding.Gzip)]
    [InlineData("x-gzip", ContentCoding.Gzip)]
    [InlineData(" deflate ", ContentCoding.Deflate)]
    [InlineData("br", ContentCoding.Brotli)]
    [InlineData("identity, gzip", ContentCoding.Gzip)]
    public void TheContentEncodingHeaderNamesOneCoding(string? header, ContentCoding expected) =>
        Assert.Equal(expected, ContentDecoder.Parse(header));

    [Fact]
    public void TooManyGzipMembersAreRefused()
    {
        var member = EncodedBodyTests.Encode("gzip", "{}\n"u8.ToArray());
        var body = Enumerable.Repeat(member, ContentDecoder.MaxGzipMembers + 1).SelectMany(m => m).ToArray();

        var error = Assert.Throws<BodyRejectedException>(() => ContentDecoder.Decode(ContentCoding.Gzip, body, 1 << 20));

        Assert.Contains("more than 1000 gzip members", error.Message, StringComparison.Ordinal);
        using var allowed = ContentDecoder.Decode(ContentCoding.Gzip, body.AsMemory(0, member.Length * ContentDecoder.MaxGzipMembers), 1 << 20);
        Assert.Equal(3 * ContentDecoder.MaxGzipMembers, allowed.Length);
    }
}
