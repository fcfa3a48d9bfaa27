using System.Globalization;
using System.Text;
using SessionTrail.Server.Reports;

namespace SessionTrail.Server.Web.Api;

/// <summary>
/// A report table as RFC 4180 CSV: a header row of the column names, CRLF line ends, a field quoted (its
/// quotes doubled) when it holds a comma, a quote, CR or LF; numbers in invariant culture; null as empty.
/// </summary>
public static class CsvTable
{
    public static string Write(ReportTable table)
    {
        ArgumentNullException.ThrowIfNull(table);
        var csv = new StringBuilder();
        Line(csv, table.Columns);
        foreach (var row in table.Rows)
        {
            Line(csv, table.Columns.Select((_, i) => Text(row.GetValue(i))));
        }

        return csv.ToString();
    }

    private static void Line(StringBuilder csv, IEnumerable<string> fields)
    {
        csv.AppendJoin(',', fields.Select(Field)).Append("\r\n");
    }

    private static string Text(object? value) => value switch
    {
        null => "",
        double d => d.ToString("R", CultureInfo.InvariantCulture),
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? "",
    };

    private static string Field(string text) =>
        text.AsSpan().IndexOfAny(",\"\r\n") < 0 ? text : "\"" + text.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";
}
