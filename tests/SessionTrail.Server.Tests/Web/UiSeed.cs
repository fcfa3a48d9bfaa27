using System.Globalization;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using SessionTrail.Core.Formats;
using SessionTrail.Core.Records;
using SessionTrail.Server.Tests.Recordings;

namespace SessionTrail.Server.Tests.Web;

/// <summary>A run of the seeded model: <see cref="End"/> is the exit, else the session end (when after the start), else null (open).</summary>
public sealed record SeedRun(string Session, string App, int Pid, string User, long Start, long? End, string Ended, int? ExitCode, string Host);

/// <summary>A session of the seeded model (times in Unix milliseconds).</summary>
public sealed record SeedSession(string Id, string User, string Host, string Stack, string Fleet, long Start, long? End, List<SeedRun> Runs)
{
    public bool Recorded { get; set; }
}

/// <summary>A log record of the seeded model.</summary>
public sealed record SeedLog(string Id, long Time, string Host, string? Session, string? User, string Source, string Level, string Provider, int EventId, string Message);

/// <summary>
/// A deterministic, real-looking fleet: 40 AppStream-like sessions over five days (6 users, 4 hosts, 3 fleets, 2 stacks),
/// their process starts and exits (most runs exit, some end with their session, some stay open in sessions still open),
/// log records, and recordings for every fifth session. Posted through the real ingest API; the model keeps what
/// the tests expect, computed here independently of the server's SQL.
/// </summary>
public sealed class UiSeed
{
    public static readonly string[] Users = ["alice", "bob", "Carol", "dave", "erin", "frank"];
    public static readonly string[] Hosts = ["ws-01", "ws-02", "ws-03", "ws-04"];
    public static readonly string[] Fleets = ["fleet-a", "fleet-b", "fleet-c"];
    public static readonly string[] Stacks = ["stack-x", "stack-y"];

    /// <summary>Executables; one holds a comma and a quote so that CSV quoting is exercised.</summary>
    public static readonly string[] Apps =
    [
        @"C:\Program Files\Microsoft Office\root\Office16\WINWORD.EXE",
        @"C:\Program Files\Microsoft Office\root\Office16\EXCEL.EXE",
        @"C:\Program Files\Mozilla Firefox\firefox.exe",
        @"C:\Windows\System32\notepad.exe",
        @"C:\Windows\explorer.exe",
        @"C:\Program Files\Vendor, Inc\""Pro"" Tool\tool.exe",
        @"C:\Program Files\7-Zip\7zFM.exe",
        @"C:\Program Files\Adobe\Acrobat DC\Acrobat\Acrobat.exe",
    ];

    /// <summary>A session id that needs percent-encoding in a path (slash, space, non-ASCII, '%', '#', '?').</summary>
    public const string OddId = "as2/odd id ä%#?";

    public static readonly DateTimeOffset T0 = new(2026, 11, 1, 8, 0, 0, TimeSpan.Zero);

    public List<SeedSession> Sessions { get; } = [];

    public List<SeedLog> Logs { get; } = [];

    public List<TrailRecord> Records { get; } = [];

    public IEnumerable<SeedRun> Runs => Sessions.SelectMany(s => s.Runs);

    public static UiSeed Generate(int seed = 6, int sessions = 40)
    {
        var model = new UiSeed();
        var random = new Random(seed);
        var t0 = T0.ToUnixTimeMilliseconds();
        var pid = 1000;
        for (var i = 0; i < sessions; i++)
        {
            var id = i == 7 ? OddId : $"as2-{i:D4}-{(char)('a' + (i % 26))}";
            var user = Users[random.Next(Users.Length)];
            var host = Hosts[random.Next(Hosts.Length)];
            var start = t0 + (long)(random.NextDouble() * 5 * 86_400_000);
            var open = i % 6 == 5;
            long? end = open ? null : start + random.Next(10, 600) * 60_000L + random.Next(60_000);
            var s = new SeedSession(id, user, host, Stacks[random.Next(Stacks.Length)], Fleets[random.Next(Fleets.Length)], start, end, []);
            model.Sessions.Add(s);
            model.Records.Add(new SessionRecord
            {
                Id = $"ss:{i}", Type = SessionEventType.Start, Session = id, Time = At(start), Host = host, User = user, Stack = s.Stack, Fleet = s.Fleet,
                AccessMode = "userpool", InstanceType = "stream.standard.medium", Region = "eu-west-1", ImageArn = "arn:aws:appstream:eu-west-1::image/Base",
            });
            var runCount = i % 9 == 4 ? 0 : random.Next(1, 9);
            for (var k = 0; k < runCount; k++)
            {
                var app = Apps[(int)(Apps.Length * Math.Pow(random.NextDouble(), 1.5))];
                var runStart = start + 1_000 + (long)(random.NextDouble() * ((end ?? start + 36_000_000) - start - 2_000));
                var p = pid++;
                model.Records.Add(new ProcessRecord { Id = $"ps:{i}:{k}", Type = ProcessEventType.Start, Pid = p, Time = At(runStart), Host = host, Session = id, User = user, Executable = app });
                SeedRun run;
                if (random.Next(10) < 7)
                {
                    var limit = end ?? runStart + 20_000_000;
                    var exit = runStart + 1 + (long)(random.NextDouble() * (limit - runStart - 1));
                    var code = random.Next(4) == 0 ? 1 : 0;
                    model.Records.Add(new ProcessRecord { Id = $"px:{i}:{k}", Type = ProcessEventType.Exit, Pid = p, Time = At(exit), Host = host, Session = id, ExitCode = code });
                    run = new SeedRun(id, app, p, user, runStart, exit, "exit", code, host);
                }
                else
                {
                    run = new SeedRun(id, app, p, user, runStart, end, end is null ? "open" : "session-end", null, host);
                }

                s.Runs.Add(run);
            }

            if (end is { } e)
            {
                model.Records.Add(new SessionRecord { Id = $"se:{i}", Type = SessionEventType.End, Session = id, Time = At(e), Host = host });
            }

            for (var k = random.Next(0, 4); k > 0; k--)
            {
                model.AddLog(random, host, id, user, start + random.Next(1, 3_600_000));
            }
        }

        for (var k = 0; k < 15; k++)
        {
            model.AddLog(random, Hosts[random.Next(Hosts.Length)], null, null, t0 + (long)(random.NextDouble() * 5 * 86_400_000));
        }

        return model;
    }

    private void AddLog(Random random, string host, string? session, string? user, long time)
    {
        string[] words = ["printer", "disk", "logon", "profile", "update", "timeout", "license"];
        var log = new SeedLog(
            $"lg:{Logs.Count}", time, host, session, user, random.Next(3) == 0 ? "journal" : "winlog",
            new[] { "Error", "Warning", "Information" }[random.Next(3)], new[] { "Service Control Manager", "Microsoft-Windows-Security-Auditing", "Application Error" }[random.Next(3)],
            new[] { 7036, 4688, 1000 }[random.Next(3)], $"{words[random.Next(words.Length)]} {words[random.Next(words.Length)]} event {Logs.Count}");
        Logs.Add(log);
        Records.Add(new LogRecord
        {
            Id = log.Id, Time = At(log.Time), Host = host, Session = session, Source = log.Source, Channel = "System", Provider = log.Provider,
            EventId = log.EventId, Level = log.Level, Message = log.Message,
        });
    }

    /// <summary>Posts every record through <c>POST /api/v1/ingest</c> (NDJSON, in three batches, sessions first).</summary>
    public async Task IngestAsync(HttpClient client)
    {
        var ordered = Records.OfType<SessionRecord>().Where(r => r.Type == SessionEventType.Start).Cast<TrailRecord>()
            .Concat(Records.Where(r => r is not SessionRecord s || s.Type == SessionEventType.End)).ToList();
        foreach (var batch in ordered.Chunk((ordered.Count / 3) + 1))
        {
            var body = string.Concat(batch.Select(r => Encoding.UTF8.GetString(NdjsonWriter.ToLine(r))));
            var response = await client.PostAsync("/api/v1/ingest", new StringContent(body, Encoding.UTF8, "application/x-ndjson"));
            var text = await response.Content.ReadAsStringAsync();
            Assert.True(response.IsSuccessStatusCode, text);
            Assert.Equal(0, JsonDocument.Parse(text).RootElement.GetProperty("duplicates").GetInt32());
        }
    }

    /// <summary>Gives every fifth session a recording: complete segments (bytes and records) for some, records only for others.</summary>
    public async Task RecordAsync(RecordingServer server)
    {
        for (var i = 0; i < Sessions.Count; i += 5)
        {
            var s = Sessions[i];
            s.Recorded = true;
            if (i % 10 == 0)
            {
                await server.PutChainAsync(s.Id, Seg.Bytes(1000 + i, i), Seg.Bytes(700, i + 1));
            }
            else
            {
                server.Ingest(Seg.Record(s.Id, 0, 100, new string('a', 64), null), Seg.Record(s.Id, 2, 100, new string('b', 64), new string('c', 64)));
            }
        }
    }

    public static DateTimeOffset At(long millis) => DateTimeOffset.FromUnixTimeMilliseconds(millis);

    public static string Iso(long millis) => NdjsonWriter.FormatTime(At(millis));

    public static string Name(string app) => app[(app.LastIndexOfAny(['\\', '/']) + 1)..];

    public static async Task<JsonElement> GetJsonAsync(HttpClient client, string url)
    {
        var response = await client.GetAsync(url);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"{url}: {(int)response.StatusCode} {text}");
        return JsonDocument.Parse(text).RootElement;
    }

    public static string Q(string value) => Uri.EscapeDataString(value);

    public static string Num(double value) => value.ToString("R", CultureInfo.InvariantCulture);
}
