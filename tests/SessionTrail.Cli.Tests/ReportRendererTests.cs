using System.Text.Json;
using SessionTrail.Cli.Commands;
using SessionTrail.Cli.Output;

namespace SessionTrail.Cli.Tests;

public sealed class ReportRendererTests
{
    private static readonly JsonElement TopApps = JsonDocument.Parse("""
        [
          {"app":"/usr/bin/vim","runs":3,"users":2,"seconds":7802.4},
          {"app":"/opt/My App, Inc/app","runs":12,"users":1,"seconds":42}
        ]
        """).RootElement;

    private static string Render(JsonElement rows, ReportFormat format, params string[] columns)
    {
        using var w = new StringWriter();
        ReportRenderer.Render(rows, columns, format, w);
        return w.ToString().ReplaceLineEndings("\n");
    }

    [Fact]
    public void TableAlignsColumnsRightAlignsNumbersAndShowsDurationsForPeople()
    {
        var lines = Render(TopApps, ReportFormat.Table).TrimEnd().Split('\n');
        Assert.Equal(3, lines.Length);
        Assert.StartsWith("app ", lines[0], StringComparison.Ordinal);
        Assert.EndsWith("seconds", lines[0], StringComparison.Ordinal);
        Assert.EndsWith("2h 10m", lines[1], StringComparison.Ordinal);
        Assert.EndsWith("    42s", lines[2], StringComparison.Ordinal);
        var runsEnd = lines[0].IndexOf("runs", StringComparison.Ordinal) + "runs".Length;
        Assert.Equal("   3", lines[1][(runsEnd - 4)..runsEnd]);
        Assert.Equal("  12", lines[2][(runsEnd - 4)..runsEnd]);
    }

    [Fact]
    public void CsvQuotesFieldsWithCommasAndKeepsRawNumbers()
    {
        var csv = Render(TopApps, ReportFormat.Csv);
        Assert.Equal("app,runs,users,seconds\n/usr/bin/vim,3,2,7802.4\n\"/opt/My App, Inc/app\",12,1,42\n", csv);
    }

    [Fact]
    public void JsonIsTheApiArrayUnchanged()
    {
        var json = Render(TopApps, ReportFormat.Json);
        using var parsed = JsonDocument.Parse(json);
        Assert.Equal(JsonSerializer.Serialize(TopApps), JsonSerializer.Serialize(parsed.RootElement));
    }

    [Fact]
    public void AnEmptyReportStillHasItsHeader()
    {
        var empty = JsonDocument.Parse("[]").RootElement;
        Assert.Equal("app,launches,users\n", Render(empty, ReportFormat.Csv, "app", "launches", "users"));
        Assert.Contains("(no rows)", Render(empty, ReportFormat.Table, "app", "launches", "users"), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0, "0s")]
    [InlineData(59.6, "1m 00s")]
    [InlineData(3599, "59m 59s")]
    [InlineData(3600, "1h 00m")]
    [InlineData(90061, "1d 01h")]
    public void DurationsAreShortAndExact(double seconds, string expected) => Assert.Equal(expected, ReportRenderer.Duration(seconds));

    [Fact]
    public void TimesLoseMillisecondsAndNullsShowAsDash()
    {
        var row = JsonDocument.Parse("""{"start":"2026-11-22T08:11:03.120Z","end":null}""").RootElement;
        Assert.Equal("2026-11-22 08:11:03", ReportRenderer.Human("start", row.GetProperty("start")));
        Assert.Equal("-", ReportRenderer.Human("end", row.GetProperty("end")));
    }
}

public sealed class OptionParsingTests
{
    [Fact]
    public void ADateMeansMidnightUtc() =>
        Assert.Equal(new DateTimeOffset(2026, 11, 1, 0, 0, 0, TimeSpan.Zero), ReportCommand.ParseTime("--from", "2026-11-01"));

    [Fact]
    public void AnOffsetIsConvertedToUtc() =>
        Assert.Equal(new DateTimeOffset(2026, 11, 1, 7, 0, 0, TimeSpan.Zero), ReportCommand.ParseTime("--to", "2026-11-01T09:00:00+02:00"));

    [Fact]
    public void ABadDateNamesTheOption()
    {
        var ex = Assert.Throws<FormatException>(() => ReportCommand.ParseTime("--from", "last tuesday"));
        Assert.Contains("--from", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("http://0.0.0.0:5080", "http://127.0.0.1:5080")]
    [InlineData("http://[::]:6000", "http://127.0.0.1:6000")]
    [InlineData("http://127.0.0.1:5099", "http://127.0.0.1:5099")]
    [InlineData("http://localhost:5080", "http://127.0.0.1:5080")]
    public void TheLocalAgentTalksToLoopback(string listening, string expected) =>
        Assert.Equal(expected, UpCommand.LocalUrl([listening]));
}
