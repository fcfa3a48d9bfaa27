using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;
using SessionTrail.Core.Windows;

namespace SessionTrail.Core.Tests.Windows;

/// <summary>
/// Deterministic random mutations of the real captures (truncate, flip bytes, delete or duplicate tags,
/// huge attribute and text values): the reader and the mapping give results or documented errors,
/// never an exception, and every input is done within a time bound.
/// </summary>
public sealed partial class WindowsEventXmlFuzzTests
{
    // A hang bound, not a speed test: inputs with a huge value are 1-2 MB and took up to 2.1 s (5.5 s once) at
    // load 16-30 on 2 cores; a hang or a quadratic blow-up takes far longer.
    private static readonly TimeSpan PerInput = TimeSpan.FromSeconds(30);

    [Fact]
    public void MutatedRealCapturesNeverThrowOrHang()
    {
        var seeds = WindowsSamples.XmlFiles().Select(f => Head(File.ReadAllText(f), 60)).ToList();
        var random = new Random(20261130);
        int events = 0, errors = 0, fatal = 0;
        for (var i = 0; i < 700; i++)
        {
            var source = seeds[i % seeds.Count];
            var mutated = Mutate(source, random, 1 + random.Next(4));
            var watch = Stopwatch.StartNew();
            foreach (var result in ReadBoth(mutated, i))
            {
                if (result.Event is { } e)
                {
                    events++;
                    var mapped = SecurityProcessEvents.Map(e);
                    Assert.True(mapped.Record is not null ^ mapped.Error is not null ^ mapped.Skipped is not null);
                    WindowsEventLogRecordsFuzz.MapsAndRoundTrips(e);
                }
                else
                {
                    errors++;
                    fatal += result.Error!.Fatal ? 1 : 0;
                    Assert.True(result.Error.Line >= 1 && result.Error.Column >= 1, result.Error.ToString());
                    Assert.False(string.IsNullOrWhiteSpace(result.Error.Reason));
                }
            }

            Assert.True(watch.Elapsed < PerInput, $"input {i} took {watch.Elapsed}");
        }

        Assert.True(events > 0 && errors > fatal && fatal > 0, $"events {events}, errors {errors}, fatal {fatal}");
    }

    [Fact]
    public void RandomBytesNeverThrow()
    {
        var random = new Random(11);
        var alphabet = Encoding.UTF8.GetBytes("<>/='\" EventSystemDataName&;#x0123456789!-[]?\n\u00e9");
        for (var i = 0; i < 3000; i++)
        {
            var bytes = new byte[random.Next(0, 400)];
            for (var j = 0; j < bytes.Length; j++)
            {
                bytes[j] = random.Next(4) == 0 ? (byte)random.Next(256) : alphabet[random.Next(alphabet.Length)];
            }

            foreach (var result in WindowsEventXmlReader.Read(new MemoryStream(bytes), "r.xml"))
            {
                Assert.True(result.Event is not null ^ result.Error is not null);
            }
        }
    }

    private static List<WindowsEventReadResult> ReadBoth(string text, int i)
    {
        var viaText = WindowsEventXmlReader.Read(new StringReader(text), $"fuzz{i}.xml").ToList();
        var viaBytes = WindowsEventXmlReader.Read(new MemoryStream(Encoding.UTF8.GetBytes(text)), $"fuzz{i}.xml").ToList();
        Assert.Equal(viaText.Count(r => r.Event is not null), viaBytes.Count(r => r.Event is not null));
        return viaText;
    }

    /// <summary>The text up to the end of the n-th event (keeps the run short, the shapes intact).</summary>
    private static string Head(string text, int events)
    {
        var end = 0;
        for (var n = 0; n < events; n++)
        {
            var next = text.IndexOf("</Event>", end, StringComparison.Ordinal);
            if (next < 0)
            {
                break;
            }

            end = next + "</Event>".Length;
        }

        return text[..end];
    }

    private static string Mutate(string source, Random random, int mutations)
    {
        var s = source;
        for (var m = 0; m < mutations && s.Length > 0; m++)
        {
            var at = random.Next(s.Length);
            switch (random.Next(7))
            {
                case 0: // truncate
                    s = s[..at];
                    break;
                case 1: // flip a character
                    s = s[..at] + (char)random.Next(1, 0x250) + s[(at + 1)..];
                    break;
                case 2: // delete a tag
                case 3: // duplicate a tag
                    var tags = Tag().Matches(s);
                    if (tags.Count > 0)
                    {
                        var tag = tags[random.Next(tags.Count)];
                        s = s[..tag.Index] + (random.Next(2) == 0 ? "" : tag.Value + tag.Value) + s[(tag.Index + tag.Length)..];
                    }

                    break;
                case 4: // a huge attribute value
                    var attributes = Attribute().Matches(s);
                    if (attributes.Count > 0)
                    {
                        var a = attributes[random.Next(attributes.Count)];
                        s = s[..(a.Index + a.Length)] + new string('A', random.Next(1, 1_000_000)) + s[(a.Index + a.Length)..];
                    }

                    break;
                case 5: // a huge text value
                    var end = s.IndexOf("</Data>", at, StringComparison.Ordinal);
                    if (end > 0)
                    {
                        s = s[..end] + new string('9', random.Next(1, 500_000)) + s[end..];
                    }

                    break;
                default: // swap the quote style of a stretch, or insert markup characters
                    s = s[..at] + "<>&'\"]]>"[random.Next(8)] + s[at..];
                    break;
            }
        }

        return s;
    }

    [GeneratedRegex("<[^>]{1,200}>")]
    private static partial Regex Tag();

    [GeneratedRegex("""\w+=['"]""")]
    private static partial Regex Attribute();
}
