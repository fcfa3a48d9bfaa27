using System.Globalization;

namespace SessionTrail.Core.Windows;

/// <summary>
/// The naming rules both event readers (XML and .evtx) follow for what they put in
/// <see cref="WindowsEvent.Data"/>, and the lenient parsing of the optional <c>System</c> numbers, so that
/// an event read from either gives the same <see cref="WindowsEvent"/>.
/// </summary>
internal static class WindowsEventFields
{
    /// <summary>The key of the <paramref name="index"/>-th (0-based) <c>Data</c> without a <c>Name</c>: <c>Data0</c>, <c>Data1</c>, ...</summary>
    public static string UnnamedData(int index) => "Data" + index.ToString(CultureInfo.InvariantCulture);

    /// <summary>
    /// Adds one <c>UserData</c> leaf under <paramref name="name"/> (its element path below the wrapper,
    /// joined by '.'); a name already taken gets <c>_1</c>, <c>_2</c>, ... so repeated elements keep every value.
    /// </summary>
    public static void AddUserData(Dictionary<string, string> data, string name, string value)
    {
        if (data.TryAdd(name, value))
        {
            return;
        }

        for (var i = 1; ; i++)
        {
            if (data.TryAdd(name + "_" + i.ToString(CultureInfo.InvariantCulture), value))
            {
                return;
            }
        }
    }

    /// <summary>A whole number in decimal or 0x hex, or null (these optional fields never make an event unreadable).</summary>
    public static long? Number(string? text)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return null;
        }

        var t = text.AsSpan().Trim();
        if (t.StartsWith("0x", StringComparison.OrdinalIgnoreCase))
        {
            return long.TryParse(t[2..], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var hex) ? hex : null;
        }

        return long.TryParse(t, NumberStyles.None, CultureInfo.InvariantCulture, out var value) ? value : null;
    }

    /// <summary>A small System number (Level, Task, Opcode), or null when absent or out of range.</summary>
    public static int? SmallNumber(string? text) => Number(text) is { } n and >= 0 and <= int.MaxValue ? (int)n : null;

    /// <summary>The trimmed text, or null when absent or blank.</summary>
    public static string? Text(string? text) => string.IsNullOrWhiteSpace(text) ? null : text.Trim();
}
