using System.Text.Json;
using SessionTrail.EndToEnd.Tests.Infrastructure;

namespace SessionTrail.EndToEnd.Tests;

/// <summary>Log records imported as NDJSON, then `sessiontrail logs search` on the data directory and through a running server.</summary>
public sealed class LogsEndToEndTests : IAsyncLifetime, IAsyncDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(3);

    private readonly Trail trail = new();

    // IAsyncLifetime, not IAsyncDisposable: xunit 2 never calls IAsyncDisposable on a test class, so the
    // servers a test started would outlive the run.
    public Task InitializeAsync() => Task.CompletedTask;

    public Task DisposeAsync() => trail.DisposeAsync().AsTask();

    ValueTask IAsyncDisposable.DisposeAsync() => trail.DisposeAsync();

    private string WriteNdjson()
    {
        var lines = new List<string>
        {
            """{"id":"e:0","kind":"session","time":"2026-11-01T08:00:00Z","host":"ws1","session":"sess-1","type":"start","user":"alice"}""",
        };
        for (var i = 1; i <= 30; i++)
        {
            var word = i % 10 == 0 ? "printer jammed" : "heartbeat";
            lines.Add($$$"""{"id":"e:{{{i}}}","kind":"log","time":"2026-11-01T08:{{{i:00}}}:00Z","host":"ws1","session":"sess-1","source":"winlog-app","channel":"Application","provider":"Spooler","eventId":{{{i}}},"level":"Warning","message":"{{{word}}} {{{i}}}","fields":{"Printer":"HP-{{{i}}}"},"decoration":{"stack":"office"}}""");
        }

        var path = Path.Combine(trail.Root, "logs.ndjson");
        File.WriteAllLines(path, lines);
        return path;
    }

    private static string[] Messages(string json) =>
        JsonDocument.Parse(json).RootElement.EnumerateArray().Select(r => r.GetProperty("message").GetString()!).ToArray();

    [Fact]
    public async Task ImportedLogsAreFoundByWordsUserAndPagesLocallyAndThroughTheServer()
    {
        var ndjson = WriteNdjson();
        var data = trail.ServerData;
        var import = await TrailProcess.RunAsync(Timeout, "import", ndjson, "--data", data);
        Assert.True(import.ExitCode == 0, import.Stdout + import.Stderr);
        Assert.Contains("stored:     31", import.Stdout, StringComparison.Ordinal);

        var table = await TrailProcess.RunAsync(Timeout, "logs", "search", "printer", "--data", data, "--user", "alice");
        Assert.True(table.ExitCode == 0, table.Stderr);
        var rows = table.Stdout.TrimEnd().Split('\n');
        Assert.Equal(4, rows.Length);
        Assert.Matches(@"^time\s+host\s+user\s+session\s+source\s+level\s+message$", rows[0].TrimEnd());
        Assert.Matches(@"^2026-11-01 08:30:00\s+ws1\s+alice\s+sess-1\s+winlog-app\s+Warning\s+printer jammed 30$", rows[1].TrimEnd());

        var page1 = await TrailProcess.RunAsync(Timeout, "logs", "search", "--data", data, "--limit", "20", "--format", "json");
        Assert.Equal(20, Messages(page1.Stdout).Length);
        Assert.Equal("heartbeat 29", Messages(page1.Stdout)[1]);
        var cursor = page1.Stderr.Trim().Split(' ')[^1];
        Assert.StartsWith("next page: --before ", page1.Stderr, StringComparison.Ordinal);

        await trail.StartServerAsync();
        var page2 = await TrailProcess.RunAsync(
            Timeout, "logs", "search", "--server", trail.Url, "--token", trail.Token!, "--limit", "20", "--format", "json", "--before", cursor);
        Assert.True(page2.ExitCode == 0, page2.Stderr);
        Assert.Equal(Enumerable.Range(1, 10).Reverse().Select(i => (i == 10 ? "printer jammed " : "heartbeat ") + i), Messages(page2.Stdout));
        Assert.Equal("", page2.Stderr.Trim());
        var first = JsonDocument.Parse(page2.Stdout).RootElement[0];
        Assert.Equal(("2026-11-01T08:10:00Z", "alice", "HP-10", "office"), (
            first.GetProperty("time").GetString(), first.GetProperty("user").GetString(),
            first.GetProperty("fields").GetProperty("Printer").GetString(), first.GetProperty("fields").GetProperty("stack").GetString()));

        var byField = await TrailProcess.RunAsync(
            Timeout, "logs", "search", "--server", trail.Url, "--token", trail.Token!, "--field", "Printer=HP-20", "--field", "stack=office", "--format", "json");
        Assert.Equal(["printer jammed 20"], Messages(byField.Stdout));

        var bad = await TrailProcess.RunAsync(Timeout, "logs", "search", "printer AND", "--server", trail.Url, "--token", trail.Token!);
        Assert.Equal(1, bad.ExitCode);
        Assert.Contains("parameter 'q'", bad.Stderr, StringComparison.Ordinal);
        var badLocal = await TrailProcess.RunAsync(Timeout, "logs", "search", "\"open", "--data", data);
        Assert.Equal((1, "sessiontrail logs search: not a valid full-text query: unterminated string"), (badLocal.ExitCode, badLocal.Stderr.Trim()));
    }
}
