using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using SessionTrail.EndToEnd.Tests.Infrastructure;
using Xunit.Abstractions;

namespace SessionTrail.EndToEnd.Tests;

/// <summary>
/// Log shipping with the real executables: a file that keeps growing (and rotates) is tailed by
/// `sessiontrail agent --config appsettings.json` and delivered to `sessiontrail server`. Nothing lost,
/// nothing twice, through SIGKILLs, a server outage, a full queue and a config reload.
/// </summary>
[Collection(EndToEnd.Serial)]
public sealed class LogDeliveryEndToEndTests(ITestOutputHelper log)
{
    private const string SourceId = "applog";

    /// <summary>KinesisTap-shaped config: one DirectorySource piped to the SessionTrail server sink (plus extra entries).</summary>
    internal static string WriteConfig(string path, string logDir, string? agentSection = null, string extraSinks = "", string extraPipes = "")
    {
        var dir = JsonSerializer.Serialize(logDir);
        File.WriteAllText(path, $$"""
            {
              "Agent": { {{agentSection ?? "\"FlushDeadline\": \"00:00:03\""}} },
              "Sources": [
                { "Id": "{{SourceId}}", "SourceType": "DirectorySource", "Directory": {{dir}}, "FileNameFilter": "app*.log",
                  "RecordParser": "SingleLine", "InitialPosition": "0", "Interval": 200 }
              ],
              "Sinks": [
                { "Id": "trail", "SinkType": "SessionTrail" }{{extraSinks}}
              ],
              "Pipes": [
                { "Id": "applog-to-trail", "SourceRef": "{{SourceId}}", "SinkRef": "trail" }{{extraPipes}}
              ]
            }
            """);
        return path;
    }

    /// <summary>Appends numbered lines ("line N ...") to DIR/app.log; rotates by rename every <paramref name="rotateEvery"/> lines.</summary>
    internal sealed class GrowingFile : IAsyncDisposable
    {
        private readonly string _dir;
        private readonly CancellationTokenSource _stop = new();
        private readonly Task _task;
        private readonly int _linesPerSecond;
        private readonly int _rotateEvery;
        private int _written;
        private int _rotations;
        private int _disposed;

        public GrowingFile(string dir, int linesPerSecond, int rotateEvery)
        {
            _dir = dir;
            _linesPerSecond = linesPerSecond;
            _rotateEvery = rotateEvery;
            Directory.CreateDirectory(dir);
            _task = Task.Run(RunAsync);
        }

        public int Written => Volatile.Read(ref _written);

        public int Rotations => Volatile.Read(ref _rotations);

        public string Path => System.IO.Path.Combine(_dir, "app.log");

        /// <summary>Writes <paramref name="count"/> more lines at once (between phases of a test).</summary>
        public void WriteNow(int count)
        {
            using var file = new FileStream(Path, FileMode.Append, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete);
            var text = new StringBuilder();
            for (var i = 0; i < count; i++)
            {
                text.Append(Line(++_written));
            }

            file.Write(Encoding.UTF8.GetBytes(text.ToString()));
        }

        public static string Line(int n) => string.Create(CultureInfo.InvariantCulture, $"line {n} {new string((char)('a' + (n % 26)), 20 + (n % 60))} end\n");

        private async Task RunAsync()
        {
            var watch = Stopwatch.StartNew();
            var file = new FileStream(Path, FileMode.Append, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete);
            try
            {
                while (!_stop.IsCancellationRequested)
                {
                    if (_linesPerSecond == 0)
                    {
                        await Task.Delay(50);
                        continue;
                    }

                    var due = (int)(watch.Elapsed.TotalSeconds * _linesPerSecond);
                    while (_written < due)
                    {
                        var n = _written + 1;
                        var bytes = Encoding.UTF8.GetBytes(Line(n));

                        // Sometimes a line is written in two parts, so the agent can see half a line.
                        if (n % 97 == 0)
                        {
                            file.Write(bytes, 0, bytes.Length / 2);
                            file.Flush();
                            await Task.Delay(5);
                            file.Write(bytes, bytes.Length / 2, bytes.Length - (bytes.Length / 2));
                        }
                        else
                        {
                            file.Write(bytes);
                        }

                        file.Flush();
                        Volatile.Write(ref _written, n);
                        if (_rotateEvery > 0 && n % _rotateEvery == 0)
                        {
                            // Rotation by rename, as logrotate does: app.log → app-N.log (still matched), new app.log.
                            await file.DisposeAsync();
                            File.Move(Path, System.IO.Path.Combine(_dir, $"app-{n}.log"));
                            file = new FileStream(Path, FileMode.Append, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete);
                            Interlocked.Increment(ref _rotations);
                        }
                    }

                    await Task.Delay(10);
                }
            }
            finally
            {
                await file.DisposeAsync();
            }
        }

        /// <summary>Stops writing (idempotent: a test may stop it early, `await using` stops it again).</summary>
        public async ValueTask DisposeAsync()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 1)
            {
                return;
            }

            await _stop.CancelAsync();
            await _task;
            _stop.Dispose();
        }
    }

    /// <summary>Every log message of the source on the server (paged through X-Next-Cursor).</summary>
    internal static async Task<List<string>> ServerMessagesAsync(Trail trail, string source = SourceId)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(60) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", trail.Token);
        var messages = new List<string>();
        string? before = null;
        while (true)
        {
            var url = $"{trail.Url}/api/v1/logs?source={source}&limit=10000" + (before is null ? "" : "&before=" + Uri.EscapeDataString(before));
            using var response = await http.GetAsync(new Uri(url));
            response.EnsureSuccessStatusCode();
            using var doc = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
            messages.AddRange(doc.RootElement.EnumerateArray().Select(r => r.GetProperty("message").GetString()!));
            if (!response.Headers.TryGetValues("X-Next-Cursor", out var next))
            {
                return messages;
            }

            before = next.Single();
        }
    }

    /// <summary>Asserts the server has exactly lines 1..<paramref name="written"/>, each once.</summary>
    internal static void AssertExactlyOnce(IReadOnlyList<string> messages, int written)
    {
        var numbers = messages.Select(m => int.Parse(m.Split(' ')[1], CultureInfo.InvariantCulture)).ToList();
        var twice = numbers.GroupBy(n => n).Where(g => g.Count() > 1).Select(g => g.Key).Take(10).ToList();
        Assert.True(twice.Count == 0, "lines stored twice: " + string.Join(", ", twice));
        var missing = Enumerable.Range(1, written).Except(numbers).Take(10).ToList();
        Assert.True(missing.Count == 0, $"{written - numbers.Count} lines missing, e.g. " + string.Join(", ", missing));
        Assert.Equal(written, numbers.Count);
        Assert.All(messages, m => Assert.Equal(GrowingFile.Line(int.Parse(m.Split(' ')[1], CultureInfo.InvariantCulture)).TrimEnd('\n'), m));
    }

    internal static async Task<List<string>> WaitForAllAsync(Trail trail, int count, TimeSpan timeout) =>
        await Trail.EventuallyAsync(() => ServerMessagesAsync(trail), m => m.Count >= count, timeout);

    internal static TrailProcess StartAgent(Trail trail, string config) =>
        trail.Track(TrailProcess.Start(["agent", "--data", trail.AgentData, "--server", trail.Url, "--token", trail.Token!, "--config", config]));

    [RootFact]
    public async Task AHundredSigkillsWhileAFileGrowsAndRotatesLoseNoLineAndRepeatNone()
    {
        await using var trail = new Trail();
        await trail.StartServerAsync();
        var logDir = Path.Combine(trail.Root, "logs");
        Directory.CreateDirectory(logDir);
        var config = WriteConfig(Path.Combine(trail.Root, "appsettings.json"), logDir);
        var random = new Random(20261130);
        int written;
        await using (var file = new GrowingFile(logDir, linesPerSecond: 400, rotateEvery: 7_000))
        {
            for (var kill = 0; kill < 100; kill++)
            {
                var agent = StartAgent(trail, config);
                await Task.Delay(random.Next(150, 1_000)); // during start-up, reading, enqueueing, sending, saving the bookmark
                await agent.KillHardAsync();
            }

            await file.DisposeAsync();
            written = file.Written;
            log.WriteLine($"{written} lines written, {file.Rotations} rotations, 100 SIGKILLs");
        }

        var last = StartAgent(trail, config);
        var messages = await WaitForAllAsync(trail, written, TimeSpan.FromMinutes(3));
        log.WriteLine($"{messages.Count} lines on the server");
        Assert.Equal(0, await last.StopAsync(TimeSpan.FromSeconds(60)));
        Assert.True(written > 10_000, $"only {written} lines written");
        AssertExactlyOnce(await ServerMessagesAsync(trail), written);
    }

    [RootFact]
    public async Task AFullQueueWithTheBlockPolicyIsLoudAndLosesNothing()
    {
        await using var trail = new Trail();
        await trail.StartServerAsync();
        await trail.StopServerAsync();
        var logDir = Path.Combine(trail.Root, "logs");
        var config = WriteConfig(Path.Combine(trail.Root, "appsettings.json"), logDir,
            "\"FlushDeadline\": \"00:00:03\", \"QueueMaxBytes\": 65536, \"QueueFullPolicy\": \"Block\", \"RetryMaxDelay\": \"00:00:02\"");
        await using var file = new GrowingFile(logDir, linesPerSecond: 0, rotateEvery: 0);
        file.WriteNow(20_000); // ~1.5 MB of lines, far above the 64 KiB queue cap
        var agent = StartAgent(trail, config);
        var status = await Trail.EventuallyAsync(
            async () => (await TrailProcess.RunAsync(TimeSpan.FromSeconds(30), "agent", "status", "--data", trail.AgentData)).Stdout,
            s => s.Contains("QUEUE FULL", StringComparison.Ordinal),
            TimeSpan.FromSeconds(60));
        log.WriteLine(status);
        Assert.Contains("QUEUE FULL", status, StringComparison.Ordinal);

        await trail.StartServerAsync();
        var messages = await WaitForAllAsync(trail, file.Written, TimeSpan.FromMinutes(3));
        Assert.Equal(0, await agent.StopAsync(TimeSpan.FromSeconds(60)));
        AssertExactlyOnce(messages, file.Written);
    }

    [RootFact]
    public async Task AConfigReloadKeepsThePositionAndAppliesTheNewPipes()
    {
        await using var trail = new Trail();
        await trail.StartServerAsync();
        var logDir = Path.Combine(trail.Root, "logs");
        var configPath = Path.Combine(trail.Root, "appsettings.json");
        var config = WriteConfig(configPath, logDir);
        await using var file = new GrowingFile(logDir, linesPerSecond: 0, rotateEvery: 0);
        file.WriteNow(500);
        var agent = StartAgent(trail, config);
        await WaitForAllAsync(trail, 500, TimeSpan.FromMinutes(1));

        var copy = Path.Combine(trail.Root, "copy.ndjson");
        WriteConfig(configPath, logDir,
            extraSinks: $$""", { "Id": "copy", "SinkType": "FileSystem", "FilePath": {{JsonSerializer.Serialize(copy)}}, "Format": "json" }""",
            extraPipes: """, { "Id": "applog-to-copy", "SourceRef": "applog", "SinkRef": "copy" }""");
        await agent.WaitForOutputAsync("restarting the agent with it", TimeSpan.FromSeconds(30));
        file.WriteNow(500);
        var messages = await WaitForAllAsync(trail, 1_000, TimeSpan.FromMinutes(1));
        AssertExactlyOnce(messages, 1_000);

        // The new sink gets what was written after the reload only: the position was kept, not reset.
        var copied = await Trail.EventuallyAsync(() => Task.FromResult(File.Exists(copy) ? File.ReadAllLines(copy) : []), l => l.Length >= 500, TimeSpan.FromSeconds(30));
        Assert.Equal(500, copied.Length);
        Assert.Contains("line 501 ", copied[0], StringComparison.Ordinal);
        Assert.Equal(0, await agent.StopAsync(TimeSpan.FromSeconds(60)));
    }
}

/// <summary>
/// The 5-minute server outage, in a collection of its own: it mostly waits, so it runs beside the serial
/// end-to-end tests instead of adding 6 minutes after them.
/// </summary>
[Collection("log outage (parallel)")]
public sealed class LogOutageEndToEndTests(ITestOutputHelper log)
{
    [RootFact]
    public async Task TheServerDownForFiveMinutesTheBacklogArrivesAfter()
    {
        await using var trail = new Trail();
        await trail.StartServerAsync();
        var logDir = Path.Combine(trail.Root, "logs");
        var config = LogDeliveryEndToEndTests.WriteConfig(Path.Combine(trail.Root, "appsettings.json"), logDir);
        await using var file = new LogDeliveryEndToEndTests.GrowingFile(logDir, linesPerSecond: 50, rotateEvery: 5_000);
        var agent = LogDeliveryEndToEndTests.StartAgent(trail, config);
        await LogDeliveryEndToEndTests.WaitForAllAsync(trail, 100, TimeSpan.FromMinutes(1));

        await trail.StopServerAsync();
        var outage = Stopwatch.StartNew();
        await Task.Delay(TimeSpan.FromMinutes(5));
        var status = await TrailProcess.RunAsync(TimeSpan.FromSeconds(30), "agent", "status", "--data", trail.AgentData);
        log.WriteLine(status.Stdout);
        Assert.Contains("sink server:", status.Stdout, StringComparison.Ordinal); // a SessionTrail sink without Url is the agent's own server queue
        Assert.Contains("server unreachable", status.Stdout, StringComparison.Ordinal);
        await trail.StartServerAsync();
        log.WriteLine($"server down {outage.Elapsed.TotalSeconds:F0} s");

        await Task.Delay(TimeSpan.FromSeconds(5));
        await file.DisposeAsync();
        var messages = await LogDeliveryEndToEndTests.WaitForAllAsync(trail, file.Written, TimeSpan.FromMinutes(2));
        Assert.Equal(0, await agent.StopAsync(TimeSpan.FromSeconds(60)));
        LogDeliveryEndToEndTests.AssertExactlyOnce(messages, file.Written);
    }
}
