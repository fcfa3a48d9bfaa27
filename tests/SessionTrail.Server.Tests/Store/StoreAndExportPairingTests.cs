using System.Globalization;
using System.Text.Json;
using SessionTrail.Core.Formats;
using SessionTrail.Core.Records;
using SessionTrail.Server.Export;

namespace SessionTrail.Server.Tests.Store;

/// <summary>
/// The run-pairing rule has one home, <see cref="ProcessRuns"/>, called in two ways: the store applies it at ingest
/// to the stored events around each batch (incrementally, batch after batch), export to a session's events. Random event streams (pid reuse, late, missing,
/// repeated and same-time events, sessions that end or not) are fed in shuffled orders and batches through
/// ingest into the real store, and through export (<see cref="AthenaExporter"/> over that store, and
/// <see cref="AthenaJsonlWriter"/> straight over the records, as the agent's S3 objects are written):
/// every exported run must be the store's.
/// </summary>
public sealed class StoreAndExportPairingTests
{
    private static readonly DateTimeOffset OpenMark = new(2100, 1, 1, 0, 0, 0, TimeSpan.Zero);

    public static TheoryData<int, bool> Cases()
    {
        var data = new TheoryData<int, bool>();
        for (var seed = 1; seed <= 8; seed++)
        {
            data.Add(seed, seed % 2 == 0);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void IngestAndExportPairTheSameRuns(int seed, bool exitsCarrySession)
    {
        var random = new Random(seed);
        var (history, sessionEnds) = History(random, exitsCarrySession);
        for (var trial = 0; trial < 3; trial++)
        {
            var arrival = history.OrderBy(_ => random.Next()).ToList();
            arrival.AddRange(arrival.Where(_ => random.Next(8) == 0).ToList()); // some sent twice
            arrival = [.. arrival.OrderBy(_ => random.Next())];
            var batchLimit = trial switch { 0 => arrival.Count, 1 => 1, _ => 1 + random.Next(12) };
            using var store = new StoreFixture();
            store.IngestInBatches(arrival, random, batchLimit);

            var stored = store.Runs().Where(r => r.Session is not null)
                .Select(r => $"{r.Session} {r.Host}/{r.Pid}@{r.Start}-{r.End ?? "open"}")
                .Order(StringComparer.Ordinal).ToList();
            Assert.NotEmpty(stored);
            Same(stored, Exported(store), $"seed {seed} trial {trial} (batches up to {batchLimit}), export of the store");
            if (exitsCarrySession)
            {
                Same(stored, Written(arrival, sessionEnds), $"seed {seed} trial {trial}, records written straight");
            }
        }
    }

    private static void Same(List<string> stored, List<string> exported, string what) =>
        Assert.True(
            stored.SequenceEqual(exported),
            $"{what}: stored only: {string.Join(" | ", stored.Except(exported))}; exported only: {string.Join(" | ", exported.Except(stored))}");

    /// <summary>
    /// Starts and exits on 2 hosts × 3 pids over 60 minutes (a pid's events may share a minute), 3 sessions of
    /// which some end. An exit carries no session, or (<paramref name="exitsCarrySession"/>) the session of its
    /// pid's latest start, as the agent attributes it; then two starts of a pid never share a minute, since which
    /// of them is the latest would depend on arrival.
    /// </summary>
    private static (List<TrailRecord> History, Dictionary<string, DateTimeOffset> SessionEnds) History(Random random, bool exitsCarrySession)
    {
        var records = new List<TrailRecord>();
        var ends = new Dictionary<string, DateTimeOffset>(StringComparer.Ordinal);
        string[] sessions = ["s1", "s2", "s3"];
        for (var s = 0; s < sessions.Length; s++)
        {
            records.Add(R.SessionStart($"ss{s}", sessions[s], 0));
            if (random.Next(3) > 0)
            {
                var end = R.SessionEnd($"se{s}", sessions[s], 10 + random.Next(60));
                records.Add(end);
                ends[sessions[s]] = end.Time;
            }
        }

        var id = 0;
        foreach (var host in new[] { "h1", "h2" })
        {
            for (var pid = 1; pid <= 3; pid++)
            {
                var events = new List<ProcessRecord>();
                var startMinutes = new HashSet<int>();
                var count = 2 + random.Next(10);
                for (var k = 0; k < count; k++)
                {
                    var minute = random.Next(60);
                    var start = random.Next(2) == 0;
                    if (start && exitsCarrySession && !startMinutes.Add(minute))
                    {
                        continue;
                    }

                    var session = random.Next(5) == 0 ? null : sessions[random.Next(sessions.Length)];
                    events.Add(start
                        ? R.Start($"p{id++}", pid, minute, exe: $"/bin/app{random.Next(3)}", user: null, session: session, host: host)
                        : R.Exit($"p{id++}", pid, minute, host: host));
                }

                if (exitsCarrySession)
                {
                    events = [.. events.Select(e => e.Type == ProcessEventType.Start ? e : e with { Session = LatestStart(events, e)?.Session })];
                }

                records.AddRange(events);
            }
        }

        return (records, ends);
    }

    /// <summary>The start of the same pid at or before <paramref name="exit"/> that comes last (starts before exits at the same time).</summary>
    private static ProcessRecord? LatestStart(List<ProcessRecord> events, ProcessRecord exit) =>
        events.Where(e => e.Type == ProcessEventType.Start && e.Time <= exit.Time).MaxBy(e => e.Time);

    /// <summary>The runs of the store's JSON-lines export (open sessions as if ending at <see cref="OpenMark"/>).</summary>
    private static List<string> Exported(StoreFixture store)
    {
        using var dir = new TempDataDir();
        new AthenaExporter(store.Store).Export(new AthenaExportRequest(AthenaFormat.Jsonl, dir.Path, IncludeOpen: true, Now: OpenMark));
        var lines = Directory.EnumerateFiles(dir.Path, "*.jsonl", SearchOption.AllDirectories)
            .SelectMany(File.ReadAllLines);
        return Runs(lines.Select(l => JsonDocument.Parse(l).RootElement));
    }

    /// <summary>The runs of the records written per session by <see cref="AthenaJsonlWriter"/>, first of each id in arrival order.</summary>
    private static List<string> Written(List<TrailRecord> arrival, Dictionary<string, DateTimeOffset> sessionEnds)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var rows = new List<JsonElement>();
        foreach (var session in arrival.Where(r => seen.Add(r.Id)).OfType<ProcessRecord>().Where(p => p.Session is not null).GroupBy(p => p.Session!))
        {
            var athena = new AthenaSession { Id = session.Key, End = sessionEnds.TryGetValue(session.Key, out var end) ? end : OpenMark };
            var content = AthenaJsonlWriter.Write(athena, [.. session]).Content;
            rows.AddRange(System.Text.Encoding.UTF8.GetString(content).Split('\n', StringSplitOptions.RemoveEmptyEntries)
                .Select(l => JsonDocument.Parse(l).RootElement));
        }

        return Runs(rows);
    }

    private static List<string> Runs(IEnumerable<JsonElement> rows) =>
        rows.Where(r => r.GetProperty("event_type").GetInt32() == AthenaRows.StartEvent)
            .Select(r =>
            {
                var end = r.GetProperty("end").GetString();
                var open = end is null || DateTimeOffset.Parse(end, CultureInfo.InvariantCulture) == OpenMark;
                return $"{r.GetProperty("session").GetString()} {r.GetProperty("host").GetString()}/{r.GetProperty("pid").GetInt64()}@{r.GetProperty("start").GetString()}-{(open ? "open" : end)}";
            })
            .Order(StringComparer.Ordinal).ToList();
}
