using System.Globalization;
using System.Text;
using System.Text.Json;

namespace SessionTrail.Cli.Output;

/// <summary>Output formats of `sessiontrail report`.</summary>
public enum ReportFormat
{
    /// <summary>Aligned columns with human durations, for people.</summary>
    Table,

    /// <summary>RFC 4180 CSV with a header line, for spreadsheets.</summary>
    Csv,

    /// <summary>The JSON array exactly as the API returns it, for scripts.</summary>
    Json,
}

/// <summary>
/// Renders a report (a JSON array of flat objects, as the API returns it) in one of the
/// <see cref="ReportFormat"/>s. The column order is the order of the fields in the objects, or
/// <c>columns</c> when the report is empty.
/// </summary>
public static class ReportRenderer
{
    private static readonly JsonSerializerOptions IndentedJson = new() { WriteIndented = true };

    public static void Render(JsonElement rows, IReadOnlyList<string> columns, ReportFormat format, TextWriter output)
    {
        ArgumentNullException.ThrowIfNull(output);
        if (rows.ValueKind != JsonValueKind.Array)
        {
            throw new ArgumentException("A report is a JSON array.", nameof(rows));
        }

        var names = rows.GetArrayLength() > 0
            ? rows[0].EnumerateObject().Select(p => p.Name).ToList()
            : columns.ToList();
        switch (format)
        {
            case ReportFormat.Json:
                output.WriteLine(JsonSerializer.Serialize(rows, IndentedJson));
                break;
            case ReportFormat.Csv:
                output.WriteLine(string.Join(',', names.Select(CsvField)));
                foreach (var row in rows.EnumerateArray())
                {
                    output.WriteLine(string.Join(',', names.Select(n => CsvField(Raw(row, n)))));
                }

                break;
            default:
                RenderTable(rows, names, output);
                break;
        }
    }

    private static void RenderTable(JsonElement rows, List<string> names, TextWriter output)
    {
        var cells = new List<string[]> { names.ToArray() };
        foreach (var row in rows.EnumerateArray())
        {
            cells.Add(names.Select(n => Human(n, row.TryGetProperty(n, out var v) ? v : default)).ToArray());
        }

        var widths = new int[names.Count];
        var numeric = new bool[names.Count];
        for (var c = 0; c < names.Count; c++)
        {
            widths[c] = cells.Max(r => r[c].Length);
            numeric[c] = rows.GetArrayLength() > 0 && rows.EnumerateArray().All(r =>
                !r.TryGetProperty(names[c], out var v) || v.ValueKind is JsonValueKind.Number or JsonValueKind.Null);
        }

        for (var r = 0; r < cells.Count; r++)
        {
            var line = new StringBuilder();
            for (var c = 0; c < names.Count; c++)
            {
                var text = cells[r][c];
                var last = c == names.Count - 1;
                line.Append(numeric[c] && r > 0 ? text.PadLeft(widths[c]) : last ? text : text.PadRight(widths[c]));
                if (!last)
                {
                    line.Append("  ");
                }
            }

            output.WriteLine(line.ToString().TrimEnd());
        }

        if (cells.Count == 1)
        {
            output.WriteLine("(no rows)");
        }
    }

    /// <summary>A cell for people: seconds become durations, ISO times lose their milliseconds.</summary>
    internal static string Human(string column, JsonElement value)
    {
        switch (value.ValueKind)
        {
            case JsonValueKind.Undefined or JsonValueKind.Null:
                return "-";
            case JsonValueKind.Number when column.Equals("seconds", StringComparison.OrdinalIgnoreCase):
                return Duration(value.GetDouble());
            case JsonValueKind.String:
                var s = value.GetString() ?? "";
                if (s.Length >= 20 && DateTimeOffset.TryParse(s, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var t) && s[10] == 'T')
                {
                    return t.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture);
                }

                return s;
            default:
                return value.GetRawText();
        }
    }

    /// <summary>"42s", "3m 05s", "2h 07m", "3d 04h".</summary>
    internal static string Duration(double seconds)
    {
        var s = (long)Math.Round(seconds);
        if (s < 60)
        {
            return string.Create(CultureInfo.InvariantCulture, $"{s}s");
        }

        if (s < 3600)
        {
            return string.Create(CultureInfo.InvariantCulture, $"{s / 60}m {s % 60:00}s");
        }

        if (s < 86400)
        {
            return string.Create(CultureInfo.InvariantCulture, $"{s / 3600}h {s % 3600 / 60:00}m");
        }

        return string.Create(CultureInfo.InvariantCulture, $"{s / 86400}d {s % 86400 / 3600:00}h");
    }

    private static string Raw(JsonElement row, string name)
    {
        if (!row.TryGetProperty(name, out var v))
        {
            return "";
        }

        return v.ValueKind switch
        {
            JsonValueKind.String => v.GetString() ?? "",
            JsonValueKind.Null => "",
            _ => v.GetRawText(),
        };
    }

    private static string CsvField(string value) =>
        value.AsSpan().IndexOfAny(",\"\r\n") >= 0 ? "\"" + value.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"" : value;
}
