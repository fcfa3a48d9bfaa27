using SessionTrail.Core.Records;

namespace SessionTrail.Server.Tests.Store;

/// <summary>
/// The pairing rule checked against a plain in-memory model on random histories, whatever the
/// arrival order and however the records are cut into batches (ingest is set-based per batch, so a
/// batch holding a start and its exit and one holding only one of them take different paths).
/// </summary>
public sealed class RandomizedPairingTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(5)]
    [InlineData(6)]
    public void RunsMatchTheModelForAnyArrivalOrderAndBatching(int seed)
    {
        var random = new Random(seed);
        var history = History(random);
        var expected = Model(history);
        Assert.NotEmpty(expected);

        for (var trial = 0; trial < 4; trial++)
        {
            var arrival = history.OrderBy(_ => random.Next()).ToList();
            arrival.AddRange(arrival.Where(_ => random.Next(10) == 0).ToList()); // some sent twice
            var batchLimit = trial switch { 0 => arrival.Count, 1 => 1, _ => 1 + random.Next(12) };
            using var store = new StoreFixture();
            store.IngestInBatches(arrival, random, batchLimit);

            var actual = store.Runs()
                .Select(r => $"{r.Host}/{r.Pid}@{r.Start}-{r.End ?? "open"}:{r.EndedBy}:{r.User ?? "-"}")
                .Order(StringComparer.Ordinal).ToList();
            Assert.True(expected.SequenceEqual(actual),
                $"trial {trial} (batches up to {batchLimit}): expected but missing: {string.Join(" | ", expected.Except(actual))}; unexpected: {string.Join(" | ", actual.Except(expected))}");
        }
    }

    /// <summary>Starts and exits on 2 hosts × 4 pids (distinct minutes per pid), sessions with an end.</summary>
    private static List<TrailRecord> History(Random random)
    {
        var records = new List<TrailRecord>();
        var id = 0;
        string[] sessions = ["s1", "s2", "s3"];
        string?[] sessionUsers = ["bob", null, "carol"];
        for (var s = 0; s < sessions.Length; s++)
        {
            records.Add(R.SessionStart($"ss{s}", sessions[s], 0, user: sessionUsers[s]));
            if (random.Next(3) > 0)
            {
                records.Add(R.SessionEnd($"se{s}", sessions[s], 20 + random.Next(60)));
            }
        }

        foreach (var host in new[] { "h1", "h2" })
        {
            for (var pid = 1; pid <= 4; pid++)
            {
                var minutes = Enumerable.Range(0, 90).OrderBy(_ => random.Next()).Take(2 + random.Next(9)).Order();
                foreach (var m in minutes)
                {
                    var session = random.Next(4) == 0 ? null : sessions[random.Next(sessions.Length)];
                    var user = random.Next(2) == 0 ? "alice" : null;
                    records.Add(random.Next(2) == 0
                        ? R.Start($"p{id++}", pid, m, user: user, session: session, host: host)
                        : R.Exit($"p{id++}", pid, m, host: host));
                }
            }
        }

        return records;
    }

    /// <summary>The rule, written out: a start owns the first exit at or after it, before the pid's next start.</summary>
    private static List<string> Model(List<TrailRecord> history)
    {
        var sessionEnd = history.OfType<SessionRecord>().Where(s => s.Type == SessionEventType.End)
            .ToDictionary(s => s.Session!, s => s.Time);
        var sessionUser = history.OfType<SessionRecord>().Where(s => s.User is not null)
            .ToDictionary(s => s.Session!, s => s.User!);
        var runs = new List<string>();
        foreach (var pid in history.OfType<ProcessRecord>().GroupBy(p => (p.Host, p.Pid)))
        {
            var events = pid.OrderBy(p => p.Time).ToList();
            for (var i = 0; i < events.Count; i++)
            {
                var start = events[i];
                if (start.Type != ProcessEventType.Start)
                {
                    continue;
                }

                var exit = events.Skip(i + 1).TakeWhile(e => e.Type == ProcessEventType.Exit).FirstOrDefault();
                string end, endedBy;
                if (exit is not null)
                {
                    (end, endedBy) = (Iso(exit.Time), "exit");
                }
                else if (start.Session is not null && sessionEnd.TryGetValue(start.Session, out var se) && se >= start.Time)
                {
                    (end, endedBy) = (Iso(se), "session_end");
                }
                else
                {
                    (end, endedBy) = ("open", "open");
                }

                var user = start.User ?? (start.Session is not null && sessionUser.TryGetValue(start.Session, out var u) ? u : "-");
                runs.Add($"{start.Host}/{start.Pid}@{Iso(start.Time)}-{end}:{endedBy}:{user}");
            }
        }

        return runs.Order(StringComparer.Ordinal).ToList();
    }

    private static string Iso(DateTimeOffset time) => Core.Formats.NdjsonWriter.FormatTime(time);
}
