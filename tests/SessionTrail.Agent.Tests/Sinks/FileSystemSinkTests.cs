using System.Text.Json;
using SessionTrail.Agent.Config;
using SessionTrail.Agent.Ids;
using SessionTrail.Agent.Sinks;
using SessionTrail.Agent.Sinks.FileSystem;
using SessionTrail.Agent.Sources;
using SessionTrail.Agent.Tests.Fakes;
using SessionTrail.Agent.Tests.Sources;
using static SessionTrail.Agent.Tests.Sinks.SinkTestKit;

namespace SessionTrail.Agent.Tests.Sinks;

public sealed class FileSystemSinkTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private FileSystemSink Sink(string filePath, string extra = "") =>
        (FileSystemSink)new FileSystemSinkFactory().Create(Node($"{{\"Id\":\"files\",\"FilePath\":\"{filePath}\"{extra}}}"), Context(_dir.Path, "files"));

    private static List<string> IdsIn(string path) =>
        [.. File.ReadAllLines(path).Select(l => JsonDocument.Parse(l).RootElement.GetProperty("SessionTrailId").GetString()!)];

    [Fact]
    public async Task RecordsAreAppendedToDailyFilesAsJsonLines()
    {
        var pattern = Path.Combine(_dir.Path, "out", "app-{yyyy-MM-dd}.log");
        var sink = Sink(pattern);

        // T0 is 2026-11-22 08:00 UTC; record 57600 is 2026-11-23 00:00.
        Assert.Equal(SinkOutcome.Success, (await sink.SendAsync(Lines(57_598, 4), CancellationToken.None)).Outcome);
        Assert.Equal(SinkOutcome.Success, (await sink.SendAsync(Lines(57_602, 2), CancellationToken.None)).Outcome);

        Assert.Equal([Log(57_598).Id, Log(57_599).Id], IdsIn(Path.Combine(_dir.Path, "out", "app-2026-11-22.log")));
        Assert.Equal(Enumerable.Range(57_600, 4).Select(n => Log(n).Id), IdsIn(Path.Combine(_dir.Path, "out", "app-2026-11-23.log")));
    }

    [Fact]
    public async Task TextFormatWritesTheMessageLines()
    {
        var path = Path.Combine(_dir.Path, "plain.log");
        var sink = Sink(path, ",\"Format\":\"\"");
        await sink.SendAsync(Lines(1, 3), CancellationToken.None);
        Assert.Equal(["line 1", "line 2", "line 3"], File.ReadAllLines(path));
    }

    [Fact]
    public async Task ABatchResentAfterAStopBeforeItsAcknowledgementIsInTheFileOnce()
    {
        var path = Path.Combine(_dir.Path, "app.log");
        await Sink(path).SendAsync(Lines(1, 3), CancellationToken.None);          // acknowledged
        await Sink(path).SendAsync(Lines(4, 3), CancellationToken.None);          // appended, then the agent stopped before the ack
        var sink = Sink(path);                                                     // a new agent process
        Assert.Equal(SinkOutcome.Success, (await sink.SendAsync(Lines(4, 5), CancellationToken.None)).Outcome); // the same batch start, grown

        Assert.Equal(Enumerable.Range(1, 8).Select(n => Log(n).Id), IdsIn(path));
    }

    [Fact]
    public async Task ATornAppendIsCutBackBeforeTheBatchIsWrittenAgain()
    {
        var path = Path.Combine(_dir.Path, "app.log");
        await Sink(path).SendAsync(Lines(1, 2), CancellationToken.None);
        await Sink(path).SendAsync(Lines(3, 3), CancellationToken.None);
        using (var file = new FileStream(path, FileMode.Open))
        {
            file.SetLength(file.Length - 40); // the machine crashed in the middle of the append
        }

        await Sink(path).SendAsync(Lines(3, 3), CancellationToken.None);

        Assert.Equal(Enumerable.Range(1, 5).Select(n => Log(n).Id), IdsIn(path));
    }

    [Fact]
    public async Task SuccessiveBatchesAreAllKeptAndTheJournalIsWritten()
    {
        var path = Path.Combine(_dir.Path, "app.log");
        var sink = Sink(path);
        await sink.SendAsync(Lines(1, 3), CancellationToken.None);
        await sink.SendAsync(Lines(4, 2), CancellationToken.None);
        await sink.SendAsync(Lines(6, 1), CancellationToken.None);

        Assert.Equal(Enumerable.Range(1, 6).Select(n => Log(n).Id), IdsIn(path));
        Assert.True(File.Exists(sink.JournalPath));
    }

    [Fact]
    public async Task ThroughTheSenderABadLineIsDeadLetteredAndTheRestWritten()
    {
        var path = Path.Combine(_dir.Path, "app.log");
        var sink = Sink(path);
        using var harness = new SenderHarness(sink, _dir.Path);
        await harness.EnqueueAsync([Line(Log(1)), "not json\n"u8.ToArray(), Line(Log(2))]);
        await harness.DrainAsync();

        Assert.Equal([Log(1).Id, Log(2).Id], IdsIn(path));
        Assert.Contains("not a SessionTrail record", Assert.Single(ReadDeadLetters(sink.DeadLetter.Path)).Reason, StringComparison.Ordinal);
    }

    [Fact]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public async Task FileModeGivesTheFilesItCreatesThatModeWhateverTheUmask()
    {
        // The default (owner only) comes from the CLI's umask 077: DataPrivacyEndToEndTests checks it on a real agent.
        var open = Sink(Path.Combine(_dir.Path, "shared", "day", "app.log"), ",\"FileMode\":\"0640\"");

        await open.SendAsync(Lines(1, 2), CancellationToken.None);

        Assert.Equal((UnixFileMode)0b110_100_000, File.GetUnixFileMode(Path.Combine(_dir.Path, "shared", "day", "app.log")));
        Assert.Equal((UnixFileMode)0b111_101_000, File.GetUnixFileMode(Path.Combine(_dir.Path, "shared", "day"))); // x where r is
    }

    [Fact]
    public async Task AnUnwritableFileIsRetryableNotLost()
    {
        var blocker = Path.Combine(_dir.Path, "blocker");
        await File.WriteAllTextAsync(blocker, "a file where a folder should be");
        var sink = Sink(Path.Combine(blocker, "app.log"));
        var result = await sink.SendAsync(Lines(1, 1), CancellationToken.None);
        Assert.Equal(SinkOutcome.Retryable, result.Outcome);
        Assert.Contains("cannot write", result.Reason, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("{\"Id\":\"f\"}", "Sinks:0:FilePath", "is required")]
    [InlineData("{\"FilePath\":\"relative/app.log\"}", "Sinks:0:FilePath", "absolute path")]
    [InlineData("{\"FilePath\":\"/tmp/app-{yyyy.log\"}", "Sinks:0:FilePath", "without its '}'")]
    [InlineData("{\"FilePath\":\"/tmp/app.log\",\"Format\":\"xml\"}", "Sinks:0:Format", "must be json")]
    [InlineData("{\"FilePath\":\"/tmp/app.log\",\"FileMode\":\"640x\"}", "Sinks:0:FileMode", "octal file mode")]
    [InlineData("{\"FilePath\":\"/tmp/app.log\",\"FileMode\":\"4755\"}", "Sinks:0:FileMode", "permission bits only")]
    [InlineData("{\"FilePath\":\"/tmp/app.log\",\"FileMode\":\"0440\"}", "Sinks:0:FileMode", "let the owner write")]
    public void BadSettingsNameTheKey(string json, string path, string problem)
    {
        var ex = Assert.Throws<LogConfigException>(() => new FileSystemSinkFactory().Create(Node(json), Context(_dir.Path)));
        Assert.Equal(path, ex.Path);
        Assert.Contains(problem, ex.Message, StringComparison.Ordinal);
    }
}
