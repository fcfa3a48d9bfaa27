using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using SessionTrail.Agent.Config;
using SessionTrail.Agent.Ids;
using SessionTrail.Agent.Sinks;
using SessionTrail.Agent.Sources;
using SessionTrail.Agent.Sources.Journald;
using SessionTrail.Agent.Tests.Fakes;
using SessionTrail.Agent.Tests.Sources;
using SessionTrail.Core.Records;

namespace SessionTrail.Agent.Tests.Sources.Journald;

/// <summary>
/// The journald source on real journal files (written by systemd-journal-remote, read by the real journalctl
/// --follow): every entry with binary, repeated and multi-line fields, entries appended while following, a
/// restart from the saved cursor with nothing lost or repeated, journalctl exiting and being restarted,
/// filters, and journalctl missing.
/// </summary>
public sealed class JournaldSourceTests : IDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);
    private readonly TempDir _dir = new();
    private readonly RealJournal _journal;

    public JournaldSourceTests() => _journal = new RealJournal(Path.Combine(_dir.Path, "journal"));

    public void Dispose() => _dir.Dispose();

    private JournaldOptions Options(JournalInitialPosition initial = JournalInitialPosition.Beginning) =>
        new() { Directory = _journal.Directory, InitialPosition = initial, BookmarkEveryEntries = 3, RestartDelay = TimeSpan.FromMilliseconds(100) };

    [Fact]
    public async Task EveryEntryIsReadWithItsFieldsThenAppendedOnesWhileFollowing()
    {
        _journal.Append(
            RealJournal.Simple("plain entry", "app", "6", "app.service"),
            new RealJournal.Entry(("MESSAGE", Encoding.UTF8.GetBytes("first line\nsecond line")), ("PRIORITY", "3"), ("SYSLOG_IDENTIFIER", "multi"),
                ("BLOB", new byte[] { 0, 1, 0xff, 0x80 }), ("TAG", "a"), ("TAG", "b"), ("UTF8BIN", Encoding.UTF8.GetBytes("grüße\tok")), ("_HOSTNAME", "jhost")),
            new RealJournal.Entry(("MESSAGE", new byte[] { (byte)'b', (byte)'a', (byte)'d', 0xff, (byte)'!' }), ("PRIORITY", "0"), ("_COMM", "kworker")));
        var context = LogSourceTestKit.Context(_dir.Path, "journal");
        var source = new JournaldSource(Options(), context);
        var output = new DurableOutput();
        using var cts = new CancellationTokenSource(Timeout);
        var run = source.RunAsync(output, cts.Token);
        await WaitForAsync(() => output.Records.Count >= 3, run);

        var r = output.Logs;
        var f0 = r[0].Fields!;
        var f1 = r[1].Fields!;
        var cursors = _journal.Cursors();
        Assert.Equal(3, cursors.Count);
        Assert.Equal(cursors.Select(c => LogIds.For("host1", "journal", c)), r.Select(x => x.Id));
        Assert.Equal(("plain entry", "app.service", "app", "info", "jhost", RealJournal.TimeOf(0)), (r[0].Message, r[0].Channel, r[0].Provider, r[0].Level, r[0].Host, r[0].Time));
        Assert.Equal(("app.service", "6", "app"), (f0["_SYSTEMD_UNIT"], f0["PRIORITY"], f0["SYSLOG_IDENTIFIER"]));
        Assert.DoesNotContain(f0, f => f.Key.StartsWith("__", StringComparison.Ordinal) || f.Key == "MESSAGE");
        Assert.Equal(RealJournal.BootId, f0["_BOOT_ID"]);

        Assert.Equal(("first line\nsecond line", "multi", "multi", "err"), (r[1].Message, r[1].Channel, r[1].Provider, r[1].Level));
        Assert.Equal("base64:" + Convert.ToBase64String(new byte[] { 0, 1, 0xff, 0x80 }), f1["BLOB"]);
        Assert.Equal(("a", "b", "grüße\tok"), (f1["TAG"], f1["TAG_1"], f1["UTF8BIN"]));

        Assert.Equal(("bad\uFFFD!", "kworker", "kworker", "emerg", "host1"), (r[2].Message, r[2].Channel, r[2].Provider, r[2].Level, r[2].Host));

        _journal.Append(RealJournal.Simple("appended 1"), RealJournal.Simple("appended 2"));
        await WaitForAsync(() => output.Records.Count >= 5, run);
        await WaitForAsync(() => BookmarkOf(context) == _journal.Cursors()[^1], run);
        await cts.CancelAsync();
        await run;
        Assert.Equal(["appended 1", "appended 2"], output.Logs.Skip(3).Select(x => x.Message));
        Assert.Equal(1, source.Stats.Starts.Value);
        Assert.Equal(0, source.Stats.Errors.Value);
    }

    [Fact]
    public async Task ARestartResumesAfterTheSavedCursorWithNothingLostOrRepeated()
    {
        _journal.Append([.. Enumerable.Range(0, 25).Select(i => RealJournal.Simple("before " + i))]);
        var context = LogSourceTestKit.Context(_dir.Path, "j");
        var first = new DurableOutput();
        await RunUntilAsync(new JournaldSource(Options(), context), first, 25);
        Assert.Equal(_journal.Cursors()[24], BookmarkOf(context));

        _journal.Append([.. Enumerable.Range(0, 12).Select(i => RealJournal.Simple("while stopped " + i))]); // more than journalctl's default 10 lines
        var second = new DurableOutput();
        await RunUntilAsync(new JournaldSource(Options(JournalInitialPosition.EndOfStream), context), second, 12);
        Assert.Equal(Enumerable.Range(0, 12).Select(i => "while stopped " + i), second.Logs.Select(x => x.Message));
        var ids = first.Logs.Concat(second.Logs).Select(x => x.Id).ToList();
        Assert.Equal(_journal.Cursors().Select(c => LogIds.For("host1", "j", c)), ids);
    }

    [Fact]
    public async Task TheBookmarkIsSavedOnlyAfterTheRecordsAreDurable()
    {
        _journal.Append([.. Enumerable.Range(0, 5).Select(i => RealJournal.Simple("e" + i))]);
        var context = LogSourceTestKit.Context(_dir.Path, "held");
        var output = new DurableOutput();
        output.Hold();
        using var cts = new CancellationTokenSource(Timeout);
        var run = new JournaldSource(Options(), context).RunAsync(output, cts.Token);
        await output.BarrierRequested.Task.WaitAsync(cts.Token);
        await Task.Delay(300, cts.Token);
        Assert.Null(BookmarkOf(context));
        output.Release();
        await WaitForAsync(() => BookmarkOf(context) == _journal.Cursors()[^1], run);
        await cts.CancelAsync();
        await run;
    }

    [Fact]
    public async Task FiltersSelectUnitsIdentifiersAndPriority()
    {
        _journal.Append(
            RealJournal.Simple("unit a, err", "a", "3", "a.service"),
            RealJournal.Simple("unit a, info: too low", "a", "6", "a.service"),
            RealJournal.Simple("identifier b, warning", "b", "4"),
            RealJournal.Simple("identifier c, crit", "c", "2"),
            RealJournal.Simple("identifier b in unit a", "b", "6", "a.service"),
            RealJournal.Simple("last: unit z, crit", "x", "2", "z.service"));
        var byUnit = new DurableOutput();
        await RunUntilAsync(new JournaldSource(Options() with { Units = ["a.service", "z.service"], MaxPriority = 4 }, LogSourceTestKit.Context(_dir.Path, "u")), byUnit, 2);
        Assert.Equal(["unit a, err", "last: unit z, crit"], byUnit.Logs.Select(x => x.Message));
        var byIdentifier = new DurableOutput();
        await RunUntilAsync(new JournaldSource(Options() with { Identifiers = ["b", "c"], MaxPriority = 3 }, LogSourceTestKit.Context(_dir.Path, "i")), byIdentifier, 1);
        Assert.Equal(["identifier c, crit"], byIdentifier.Logs.Select(x => x.Message));
        var both = new DurableOutput();
        await RunUntilAsync(new JournaldSource(Options() with { Units = ["a.service"], Identifiers = ["b"] }, LogSourceTestKit.Context(_dir.Path, "b")), both, 1);
        Assert.Equal(["identifier b in unit a"], both.Logs.Select(x => x.Message));
    }

    [Fact]
    public async Task AFirstStartFromNowSkipsWhatIsAlreadyThere()
    {
        _journal.Append(RealJournal.Simple("old 1"), RealJournal.Simple("old 2"));
        var output = new DurableOutput();
        using var cts = new CancellationTokenSource(Timeout);
        var run = new JournaldSource(Options(JournalInitialPosition.EndOfStream), LogSourceTestKit.Context(_dir.Path)).RunAsync(output, cts.Token);

        // journalctl seeks to the end when it has started: append markers until one arrives.
        for (var i = 0; output.Records.Count == 0; i++)
        {
            Assert.False(run.IsCompleted, "the source stopped");
            _journal.Append(RealJournal.Simple("marker " + i));
            await Task.Delay(300, cts.Token);
        }

        await cts.CancelAsync();
        await run;
        Assert.All(output.Logs, r => Assert.StartsWith("marker ", r.Message, StringComparison.Ordinal));
    }

    [Fact]
    public async Task WhenJournalctlExitsItIsStartedAgainAfterTheLastCursor()
    {
        // A journalctl that ends after a second, as if it crashed or was killed.
        var wrapper = Path.Combine(_dir.Path, "short-journalctl");
        File.WriteAllText(wrapper, "#!/bin/sh\nexec timeout 1 journalctl \"$@\"\n");
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(wrapper, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
        _journal.Append([.. Enumerable.Range(0, 4).Select(i => RealJournal.Simple("batch0 " + i))]);
        var source = new JournaldSource(Options() with { JournalctlPath = wrapper }, LogSourceTestKit.Context(_dir.Path));
        var output = new DurableOutput();
        using var cts = new CancellationTokenSource(Timeout);
        var run = source.RunAsync(output, cts.Token);
        for (var batch = 1; batch <= 3; batch++)
        {
            var starts = source.Stats.Starts.Value;
            await WaitForAsync(() => source.Stats.Starts.Value > starts, run);
            _journal.Append([.. Enumerable.Range(0, 4).Select(i => RealJournal.Simple($"batch{batch} {i}"))]);
        }

        await WaitForAsync(() => output.Records.Count >= 16, run);
        await Task.Delay(1500, cts.Token);
        await cts.CancelAsync();
        await run;
        Assert.True(source.Stats.Starts.Value >= 4, $"{source.Stats.Starts.Value} starts");
        Assert.Equal(Enumerable.Range(0, 4).SelectMany(b => Enumerable.Range(0, 4).Select(i => $"batch{b} {i}")), output.Logs.Select(x => x.Message));
    }

    [Fact]
    public async Task AMissingJournalctlIsAClearErrorNotACrash()
    {
        var source = new JournaldSource(Options() with { JournalctlPath = "/nonexistent/journalctl" }, LogSourceTestKit.Context(_dir.Path));
        var error = await Assert.ThrowsAsync<ExternalProgramException>(() => source.RunAsync(new DurableOutput(), CancellationToken.None));
        Assert.Equal("journalctl could not be started ('/nonexistent/journalctl': not found); install systemd's journalctl or set JournalctlPath in the source's config", error.Message);
    }

    [Fact]
    public async Task AJournalctlThatFailsAtOnceIsReportedWithItsMessage()
    {
        var source = new JournaldSource(Options() with { Directory = Path.Combine(_dir.Path, "missing") }, LogSourceTestKit.Context(_dir.Path));
        using var cts = new CancellationTokenSource(Timeout);
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => source.RunAsync(new DurableOutput(), cts.Token));
        Assert.StartsWith("journalctl exited with code 1: ", error.Message, StringComparison.Ordinal);
        Assert.True(error.Message.Length > "journalctl exited with code 1: ".Length, error.Message);
    }

    [Fact]
    public void SettingsAreReadAndCheckedWithTheirPaths()
    {
        var log = new ListLogger();
        var o = JournaldOptions.FromConfig(LogSourceTestKit.Source("""
            {"Id":"j","SourceType":"JournaldSource","Units":["sshd.service","cron.service"],"Identifiers":"sudo, su","Priority":"warning",
             "Directory":"/var/log/journal","JournalctlPath":"/usr/bin/journalctl","InitialPosition":"eos","RecordParser":"SingleLine"}
            """), log);
        Assert.Equal(["sshd.service", "cron.service"], o.Units);
        Assert.Equal(["sudo", "su"], o.Identifiers);
        Assert.Equal((4, "/var/log/journal", "/usr/bin/journalctl", JournalInitialPosition.EndOfStream), (o.MaxPriority!.Value, o.Directory, o.JournalctlPath, o.InitialPosition));
        Assert.Equal(["Config 'Sources:0:RecordParser' is not a setting of JournaldSource: ignored"], log.Entries.Select(e => e.Message));
        Assert.Equal(
            ["--output=json", "--follow", "--all", "--no-pager", "--quiet", "--directory=/var/log/journal", "--unit=sshd.service", "--unit=cron.service",
             "--identifier=sudo", "--identifier=su", "--priority=0..4", "--lines=0"],
            o.Arguments(null));
        Assert.Equal(["--after-cursor=s=1;i=2", "--lines=all"], o.Arguments("s=1;i=2").TakeLast(2));
        Assert.Equal("--lines=all", (o with { InitialPosition = JournalInitialPosition.Beginning }).Arguments(null)[^1]);

        var defaults = JournaldOptions.FromConfig(LogSourceTestKit.Source("""{"Id":"j"}"""), log);
        Assert.Equal(("journalctl", null, null, JournalInitialPosition.Bookmark), (defaults.JournalctlPath, defaults.MaxPriority, defaults.Directory, defaults.InitialPosition));
        Assert.Equal(["--output=json", "--follow", "--all", "--no-pager", "--quiet", "--lines=0"], defaults.Arguments(null));

        Assert.Equal("Config 'Sources:0:Priority' must be a syslog priority (emerg, alert, crit, err, warning, notice, info, debug or 0-7), not 'loud'.",
            Assert.Throws<LogConfigException>(() => JournaldOptions.FromConfig(LogSourceTestKit.Source("""{"Priority":"loud"}"""), NullLogger.Instance)).Message);
        Assert.Equal("Config 'Sources:0:InitialPosition' must be one of Bookmark, EOS, 0, not 'Timestamp'.",
            Assert.Throws<LogConfigException>(() => JournaldOptions.FromConfig(LogSourceTestKit.Source("""{"InitialPosition":"Timestamp"}"""), NullLogger.Instance)).Message);
        Assert.IsType<JournaldSource>(new JournaldSourceFactory().Create(LogSourceTestKit.Source("""{"Id":"j"}"""), LogSourceTestKit.Context(_dir.Path)));
        Assert.Equal("JournaldSource", new JournaldSourceFactory().SourceType);
    }

    private static string? BookmarkOf(LogSourceContext context) => context.Bookmarks.Load(context.Id, JournalJsonContext.Default.JournalBookmark)?.Cursor;

    private static async Task RunUntilAsync(JournaldSource source, DurableOutput output, int records)
    {
        using var cts = new CancellationTokenSource(Timeout);
        var run = source.RunAsync(output, cts.Token);
        await WaitForAsync(() => output.Records.Count >= records, run);
        await Task.Delay(500, cts.Token); // nothing more arrives
        await cts.CancelAsync();
        await run;
        Assert.Equal(records, output.Records.Count);
    }

    private static async Task WaitForAsync(Func<bool> condition, Task run, Func<string>? state = null)
    {
        var deadline = DateTime.UtcNow + Timeout;
        while (!condition())
        {
            if (run.IsCompleted)
            {
                await run; // surfaces the source's exception
                Assert.Fail("the source stopped before the condition held; " + state?.Invoke());
            }

            Assert.True(DateTime.UtcNow < deadline, "timed out waiting; " + state?.Invoke());
            await Task.Delay(50);
        }
    }
}
