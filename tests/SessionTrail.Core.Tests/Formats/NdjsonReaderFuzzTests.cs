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
            NdjsonReader.Parse(body, maxLineBytes: 400);
            return true;
        }
        catch (NdjsonFormatException e)
        {
            Assert.True(e.Line >= 1, $"line {e.Line} in: {e.Message}");
            return false;
        }
    }
}
