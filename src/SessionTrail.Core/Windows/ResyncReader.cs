using System.Text;
using System.Text.RegularExpressions;

namespace SessionTrail.Core.Windows;

/// <summary>
/// The text under <see cref="WindowsEventXmlReader"/>'s XmlReader. It keeps what it handed out since the
/// start of the current event (<see cref="Forget"/>), so that after broken XML a new XmlReader can start
/// at the next <c>&lt;Event</c> tag after the place the old one gave up (<see cref="Restart"/>).
/// <see cref="LineBase"/> is the number of lines before the current XmlReader's line 1.
/// </summary>
internal sealed partial class ResyncReader(TextReader source) : TextReader
{
    private readonly StringBuilder kept = new();
    private int keptFirstLine = 1;     // relative line (of the current XmlReader) of kept[0]
    private int keptFirstColumn = 1;   // its column
    private string replay = "";
    private int replayAt;

    public enum Outcome
    {
        Restarted,
        NoMoreEvents,
        OnlyWrapperEnd,
    }

    public int LineBase { get; private set; }

    public override int Read(char[] buffer, int index, int count) => Read(buffer.AsSpan(index, count));

    public override int Read(Span<char> buffer)
    {
        int n;
        if (replayAt < replay.Length)
        {
            n = Math.Min(buffer.Length, replay.Length - replayAt);
            replay.AsSpan(replayAt, n).CopyTo(buffer);
            replayAt += n;
        }
        else
        {
            n = source.Read(buffer);
        }

        kept.Append(buffer[..n]);
        return n;
    }

    public override int Read()
    {
        Span<char> one = stackalloc char[1];
        return Read(one) == 1 ? one[0] : -1;
    }

    public override int Peek() => replayAt < replay.Length ? replay[replayAt] : source.Peek();

    /// <summary>Drops the kept text before (line, column) of the current XmlReader: nothing before it is needed again.</summary>
    public void Forget(int line, int column)
    {
        var index = IndexOf(line, Math.Max(1, column - 1)); // the '<' is one before the element name
        if (index > 0)
        {
            Advance(kept.ToString(0, index));
            kept.Remove(0, index);
        }
    }

    /// <summary>
    /// After the XmlReader gave up at (line, column): finds the next <c>&lt;Event</c> tag after that place
    /// (reading on as far as needed) and makes the text from there the next thing read.
    /// </summary>
    public Outcome Restart(int line, int column)
    {
        var from = IndexOf(line, column);
        var rest = new StringBuilder();
        rest.Append(kept.ToString(from, kept.Length - from));
        rest.Append(replay.AsSpan(replayAt));
        Advance(kept.ToString(0, from));
        var buffer = new char[64 * 1024];
        var searched = 1; // never the character the parser stopped on
        while (true)
        {
            var match = EventTag().Match(rest.ToString(), Math.Min(searched, rest.Length));
            if (match.Success)
            {
                Advance(rest.ToString(0, match.Index));
                LineBase += keptFirstLine - 1;
                keptFirstLine = 1;
                keptFirstColumn = 1;
                kept.Clear();
                replay = rest.ToString(match.Index, rest.Length - match.Index);
                replayAt = 0;
                return Outcome.Restarted;
            }

            searched = Math.Max(1, rest.Length - 8);
            var n = source.Read(buffer);
            if (n == 0)
            {
                return WrapperEnd().IsMatch(rest.ToString()) ? Outcome.OnlyWrapperEnd : Outcome.NoMoreEvents;
            }

            rest.Append(buffer, 0, n);
        }
    }

    /// <summary>Index in <see cref="kept"/> of a relative (line, column), clamped to the kept text.</summary>
    private int IndexOf(int line, int column)
    {
        var index = 0;
        for (var l = keptFirstLine; l < line; l++)
        {
            var next = IndexOfNewline(index);
            if (next < 0)
            {
                return kept.Length;
            }

            index = next + 1;
        }

        var offset = line == keptFirstLine ? column - keptFirstColumn : column - 1;
        return Math.Clamp(index + Math.Max(0, offset), 0, kept.Length);
    }

    private int IndexOfNewline(int from)
    {
        for (var i = from; i < kept.Length; i++)
        {
            if (kept[i] == '\n')
            {
                return i;
            }
        }

        return -1;
    }

    /// <summary>Moves the position of kept[0] past <paramref name="dropped"/>.</summary>
    private void Advance(string dropped)
    {
        var newline = dropped.LastIndexOf('\n');
        if (newline < 0)
        {
            keptFirstColumn += dropped.Length;
            return;
        }

        keptFirstLine += dropped.AsSpan().Count('\n');
        keptFirstColumn = dropped.Length - newline;
    }

    [GeneratedRegex(@"<Event[\s>/]")]
    private static partial Regex EventTag();

    [GeneratedRegex(@"^\s*(</)?Events\s*>\s*$")]
    private static partial Regex WrapperEnd();
}
