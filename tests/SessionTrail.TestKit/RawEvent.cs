using System.Globalization;
using System.Text.RegularExpressions;

namespace SessionTrail.TestKit;

/// <summary>One event found by a plain regex scan of the raw text: the test's independent reading.</summary>
public sealed partial record RawEvent(int EventId, int Version, long RecordId, string Computer, DateTimeOffset Time, Dictionary<string, string> Data)
{
    public static List<RawEvent> Scan(string file) => ScanText(File.ReadAllText(file));

    /// <summary>The events of an XML text.</summary>
    public static List<RawEvent> ScanText(string xml)
    {
        var list = new List<RawEvent>();
        foreach (Match m in EventPattern().Matches(xml))
        {
            var text = m.Value;
            var data = DataPattern().Matches(text).ToDictionary(d => d.Groups[1].Value, d => Unescape(d.Groups[2].Value));
            foreach (Match empty in EmptyDataPattern().Matches(text))
            {
                data[empty.Groups[1].Value] = "";
            }

            var time = Tag(text, "TimeCreated SystemTime=['\"]([^'\"]+)");
            var fraction = Regex.Match(time, @"\.(\d+)").Groups[1].Value;
            var seconds = DateTimeOffset.ParseExact(time[..10] + "T" + time[11..19] + "Z", "yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal);
            var ticks = fraction.Length == 0 ? 0 : long.Parse(fraction.PadRight(7, '0')[..7], CultureInfo.InvariantCulture);
            list.Add(new RawEvent(
                int.Parse(Tag(text, "<EventID>(\\d+)<"), CultureInfo.InvariantCulture),
                int.Parse(Tag(text, "<Version>(\\d+)<"), CultureInfo.InvariantCulture),
                long.Parse(Tag(text, "<EventRecordID>(\\d+)<"), CultureInfo.InvariantCulture),
                Tag(text, "<Computer>([^<]+)<"),
                seconds.AddTicks(ticks),
                data));
        }

        return list;
    }

    private static string Tag(string text, string pattern) => Regex.Match(text, pattern).Groups[1].Value;

    private static string Unescape(string s) => s.Replace("&lt;", "<", StringComparison.Ordinal).Replace("&gt;", ">", StringComparison.Ordinal)
        .Replace("&quot;", "\"", StringComparison.Ordinal).Replace("&apos;", "'", StringComparison.Ordinal).Replace("&amp;", "&", StringComparison.Ordinal);

    [GeneratedRegex(@"<Event[\s>].*?</Event>", RegexOptions.Singleline)]
    private static partial Regex EventPattern();

    [GeneratedRegex("""<Data Name=['"]([^'"]+)['"]>([^<]*)</Data>""")]
    private static partial Regex DataPattern();

    [GeneratedRegex("""<Data Name=['"]([^'"]+)['"]\s*/>""")]
    private static partial Regex EmptyDataPattern();
}
