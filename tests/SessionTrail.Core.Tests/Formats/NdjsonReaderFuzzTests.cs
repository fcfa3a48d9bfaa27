using System.Text;
using SessionTrail.Core.Formats;

namespace SessionTrail.Core.Tests.Formats;

/// <summary>Whatever bytes arrive, the reader either returns records or throws its documented parse error.</summary>
public sealed class NdjsonReaderFuzzTests
{
    private static readonly byte[] Valid = Encoding.UTF8.GetBytes(
        """
        {"id":"a:1","kind":"process","time":"2026-11-01T08:00:00.000Z","host":"h1","session":"s1","type":"start","pid":42,"ppid":1,"exe":"/usr/bin/vim","cmdline":"vim \"x\" \u00e9","uid":1000,"user":"alice"}
        {"id":"a:2","kind":"process","time":"2026-11-01T08:05:00.000+01:00","host":"h1","type":"exit","pid":42,"exitCode":0}
        {"id":"a:3","kind":"session","time":"2026-11-01T07:59:00Z","host":"h1","session":"s1","type":"end","user":"alice","extra":[1,{"a":null}]}
        {"id":"a:4","kind":"log","time":"2026-11-01T08:01:00Z","host":"h1","session":"s1","source":"app","channel":"Application","eventId":1000,"level":"Error","message":"boom","fields":{"a":"1","b":""},"decoration":{"user":"alice"}}
        {"id":"rec:s1:0","kind":"segment","time":"2026-11-01T08:05:00.000Z","host":"h1","session":"s1","index":0,"start":"2026-11-01T08:00:00.000Z","end":"2026-11-01T08:05:00.000Z","width":1920,"height":1080,"fps":5,"codec":"h264","bytes":123456,"sha256":"9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08","file":"000000.mp4","endReason":"max-length"}
        {"id":"rec:s1:1","kind":"segment","time":"2026-11-01T08:06:00.000Z","host":"h1","session":"s1","index":1,"start":"2026-11-01T08:05:00.000Z","end":"2026-11-01T08:06:00.000Z","width":1280,"height":800,"fps":5,"codec":"h264","bytes":0,"sha256":"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855","prevSha256":"9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08","file":"000001.mp4"}
        {"id":"a:5","kind":"recording","time":"2026-11-01T08:05:01.000Z","host":"h1","session":"s1","type":"gap","message":"ffmpeg exited","gapStart":"2026-11-01T08:05:00.000Z","gapEnd":"2026-11-01T08:05:01.500Z","width":1280,"height":800}

        """);

    private static readonly byte[] Interesting = Encoding.UTF8.GetBytes("{}[]\":,\\\n\r 0123456789-+.eEtrufalsn\u00ffZT");

    [Fact]
    public void MutatedValidBodiesNeverThrowAnythingButAParseError()
    {
        var random = new Random(20261122);
        var parsed = 0;
        for (var i = 0; i < 30_000; i++)
        {
            var body = ByteMutator.Mutate(Valid, random, 1 + random.Next(6), Interesting);
            if (TryParse(body))
            {
                parsed++;
            }
        }

        Assert.InRange(parsed, 1, 29_999); // both outcomes were exercised
    }

    [Fact]
    public void RandomBytesNeverThrowAnythingButAParseError()
    {
        var random = new Random(7);
        for (var i = 0; i < 20_000; i++)
        {
            var body = new byte[random.Next(0, 300)];
            for (var j = 0; j < body.Length; j++)
            {
                body[j] = random.Next(3) == 0 ? (byte)random.Next(256) : Interesting[random.Next(Interesting.Length)];
            }

            TryParse(body);
        }
    }

    private static bool TryParse(byte[] body)
    {
        try
        {
            NdjsonReader.Parse(body, maxLineBytes: 600);
            return true;
        }
        catch (NdjsonFormatException e)
        {
            Assert.True(e.Line >= 1, $"line {e.Line} in: {e.Message}");
            return false;
        }
    }
}
