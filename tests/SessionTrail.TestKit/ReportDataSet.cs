namespace SessionTrail.TestKit;

/// <summary>
/// The small fixed data set of the report and export approvals (tests/data/reports/records.ndjson): session s1 (alice,
/// stack-a, every AppStream field) on 2026-10-31 with runs ended by exit and by session end, a run without a session,
/// session s3 (alice) on 2026-11-01 with a program whose path has a comma, and session s2 (bob, fleet-b) never ended
/// with a run still open. The server's API and the CLI are asked the same <see cref="Cases"/>.
/// </summary>
public static class ReportDataSet
{
    /// <summary>"Now" for open runs and sessions: the day after the last record.</summary>
    public static readonly DateTimeOffset Now = new(2026, 11, 2, 0, 0, 0, TimeSpan.Zero);

    public static string NdjsonPath => Repository.DataFile("reports/records.ndjson");

    /// <summary>Each case: its approval name, the report and the API's query string (the CLI's options of the same names).</summary>
    public static IReadOnlyList<(string Name, string Report, string Query)> Cases { get; } =
    [
        ("top-apps", "top-apps", ""),
        ("top-apps-october-alice", "top-apps", "from=2026-10-31T00:00:00Z&to=2026-11-01T00:00:00Z&user=alice"),
        ("launches", "launches", ""),
        ("runs", "runs", ""),
        ("runs-stack-a", "runs", "stack=stack-a"),
        ("concurrency-day", "concurrency", ""),
        ("concurrency-month", "concurrency", "by=month"),
        ("last-used", "last-used", ""),
        ("inactive", "inactive", "days=1"),
        ("sessions", "sessions", ""),
        ("sessions-fleet-b", "sessions", "fleet=fleet-b"),
    ];

    /// <summary>The query string of case <paramref name="name"/> as name/value pairs.</summary>
    public static Dictionary<string, string> Query(string name) =>
        Cases.Single(c => c.Name == name).Query.Split('&', StringSplitOptions.RemoveEmptyEntries)
            .Select(p => p.Split('=', 2))
            .ToDictionary(p => p[0], p => Uri.UnescapeDataString(p[1]), StringComparer.Ordinal);
}
