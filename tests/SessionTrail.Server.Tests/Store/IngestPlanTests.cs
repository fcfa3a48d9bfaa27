using SessionTrail.Core.Records;
using SessionTrail.Server.Store;

namespace SessionTrail.Server.Tests.Store;

/// <summary>
/// Ingest cost must follow the batch, not the history: the statements that run per batch reach the stored
/// events by index, never by a scan of every event (checked on the SQLite this build ships, after ANALYZE).
/// </summary>
public sealed class IngestPlanTests
{
    [Fact]
    public void ThePairingWindowReadsTheBatchByItsSeqRangeAndItsNeighboursByIndex()
    {
        using var dir = new TempDataDir();
        using var store = SqliteStore.Open(dir.Path);
        var records = new List<TrailRecord>();
        for (var i = 0; i < 2_000; i++)
        {
            records.Add(R.Start($"s{i}", 1000 + (i % 300), i, host: $"h{i % 7}"));
            records.Add(R.Exit($"x{i}", 1000 + (i % 300), i + 0.5, host: $"h{i % 7}"));
        }

        store.Ingest(records);
        using var connection = store.OpenConnection();
        using (var analyze = connection.CreateCommand())
        {
            analyze.CommandText = "ANALYZE";
            analyze.ExecuteNonQuery();
        }

        using var explain = connection.CreateCommand();
        explain.CommandText = "EXPLAIN QUERY PLAN " + IngestCommands.PairingWindowSql;
        explain.Parameters.AddWithValue("$before", 3_900);
        var plan = new List<string>();
        using (var reader = explain.ExecuteReader())
        {
            while (reader.Read())
            {
                plan.Add(reader.GetString(3));
            }
        }

        var text = string.Join(" | ", plan);
        Assert.Contains(plan, step => step.StartsWith("SEARCH process_events USING INTEGER PRIMARY KEY (rowid>?)", StringComparison.Ordinal));
        Assert.DoesNotContain(plan, step => step.StartsWith("SCAN process_events", StringComparison.Ordinal) || step.StartsWith("SCAN e", StringComparison.Ordinal) || step.StartsWith("SCAN p", StringComparison.Ordinal));
        Assert.Single(plan, step => step.StartsWith("SEARCH p USING COVERING INDEX process_events_pairing", StringComparison.Ordinal));
        Assert.True(plan.Any(step => step.StartsWith("SEARCH e USING COVERING INDEX process_events_pairing", StringComparison.Ordinal)), text);
    }
}
