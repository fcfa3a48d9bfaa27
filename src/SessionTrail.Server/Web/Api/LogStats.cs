using System.Globalization;
using System.Text;
using SessionTrail.Core.Formats;
using SessionTrail.Server.Logs;

namespace SessionTrail.Server.Web.Api;

/// <summary>One bar of the log histogram: records with start ≤ time &lt; start + bucketSeconds.</summary>
public sealed record HistogramBucket(string Start, long Count);

/// <summary>
/// The body of <c>GET /api/v1/logs/histogram</c>: [<see cref="From"/>, <see cref="To"/>) cut into equal buckets of
/// <see cref="BucketSeconds"/> (the last one may reach past To); the counts add up to <see cref="Total"/>. From and
/// To are the query's, else the first and just after the last matching record; null (no buckets) when nothing matches.
/// </summary>
public sealed record LogHistogram(string? From, string? To, double BucketSeconds, IReadOnlyList<HistogramBucket> Buckets, long Total);

/// <summary>One value of a log field and how many matching records have it.</summary>
public sealed record FieldValue(string Value, long Count);

/// <summary>The most frequent values of one field, most frequent first.</summary>
public sealed record FieldFacet(string Name, IReadOnlyList<FieldValue> Values);

/// <summary>The body of <c>GET /api/v1/logs/fields</c>: the facets, counted over the newest <see cref="Records"/> matching records.</summary>
public sealed record LogFields(IReadOnlyList<FieldFacet> Fields, long Records);

/// <summary>
/// Counts over the log records a <see cref="LogQuery"/> matches — the same conditions as the log pages
/// (<see cref="LogSearch.Where"/>), without the cursor and limit: a time histogram and the top values of the
/// facet fields. A bad full-text query throws <see cref="LogQueryException"/>.
/// </summary>
public sealed class LogStats(LogSearch search)
{
    public const int DefaultBuckets = 60;
    public const int MaxBuckets = 1000;

    /// <summary>Values per facet field.</summary>
    public const int TopValues = 10;

    /// <summary>
    /// The facets count the newest this many matching records (like Kibana's field summaries, which count a
    /// sample of the newest records): the answer stays fast however many records match.
    /// </summary>
    public const int FacetSample = 10_000;

    /// <summary>The facet fields: the record's columns (JSON names of <see cref="LogEntry"/>) and the SQL that reads them.</summary>
    private static readonly (string Name, string Sql)[] FacetColumns =
        [("host", "l.host"), ("source", "l.source"), ("level", "l.level"), ("provider", "l.provider"), ("eventId", "l.event_id"), ("user", "l.user")];

    /// <summary>Bucket widths offered, in milliseconds: the smallest that gives at most the buckets asked for is used.</summary>
    private static readonly long[] Steps =
    [
        1, 10, 100, 1_000, 2_000, 5_000, 10_000, 15_000, 30_000, 60_000, 120_000, 300_000, 600_000, 900_000, 1_800_000,
        3_600_000, 7_200_000, 10_800_000, 21_600_000, 43_200_000, 86_400_000,
    ];

    public LogHistogram Histogram(LogQuery query, int buckets)
    {
        ArgumentNullException.ThrowIfNull(query);
        buckets = Math.Clamp(buckets, 1, MaxBuckets);
        using var connection = search.OpenConnection();
        using var cmd = connection.CreateCommand();
        var where = new StringBuilder();
        LogSearch.Where(where, cmd, query);
        long? from = query.From?.ToUnixTimeMilliseconds(), to = query.To?.ToUnixTimeMilliseconds();
        if (from is null || to is null)
        {
            // Two subqueries: each alone is one step down the time index when nothing else filters.
            cmd.CommandText = $"SELECT (SELECT MIN(l.time) FROM logs l WHERE 1{where}), (SELECT MAX(l.time) FROM logs l WHERE 1{where})";
            var (min, max) = LogSearch.Execute(cmd, query, r => r.Read() && !r.IsDBNull(0) ? (r.GetInt64(0), r.GetInt64(1)) : ((long?)null, (long?)null));
            if (min is null)
            {
                return from is null && to is null ? new LogHistogram(null, null, 0, [], 0)
                    : Empty(from ?? to!.Value - 1, to ?? from!.Value + 1, buckets);
            }

            from ??= min.Value;
            to ??= max!.Value + 1;
        }

        if (to <= from)
        {
            return Empty(from.Value, from.Value + 1, buckets);
        }

        var step = Step(from.Value, to.Value, buckets);
        // The matching times are bucketed here: a GROUP BY of the bucket expression would sort every record.
        cmd.CommandText = $"SELECT l.time FROM logs l WHERE 1{where} AND l.time >= $hfrom AND l.time < $hto";
        cmd.Parameters.AddWithValue("$hfrom", from.Value);
        cmd.Parameters.AddWithValue("$hto", to.Value);
        var count = (int)((to.Value - from.Value + step - 1) / step);
        var counts = new long[count];
        var origin = from.Value;
        LogSearch.Execute(cmd, query, r =>
        {
            while (r.Read())
            {
                counts[(r.GetInt64(0) - origin) / step]++;
            }

            return 0;
        });
        var f = from.Value;
        return new LogHistogram(
            Time(f), Time(to.Value), step / 1000.0, [.. counts.Select((c, i) => new HistogramBucket(Time(f + (i * step)), c))], counts.Sum());
    }

    /// <summary>The <see cref="TopValues"/> most frequent values of host, source, level, provider, eventId and user among the newest <see cref="FacetSample"/> matching records.</summary>
    public LogFields Fields(LogQuery query)
    {
        ArgumentNullException.ThrowIfNull(query);
        using var connection = search.OpenConnection();
        using var cmd = connection.CreateCommand();
        var where = new StringBuilder();
        LogSearch.Where(where, cmd, query);
        cmd.CommandText = $"SELECT {string.Join(", ", FacetColumns.Select(c => c.Sql))} FROM logs l WHERE 1{where} ORDER BY l.time DESC, l.seq DESC LIMIT {FacetSample}";
        var tallies = FacetColumns.Select(_ => new Dictionary<string, long>(StringComparer.Ordinal)).ToArray();
        var records = LogSearch.Execute(cmd, query, r =>
        {
            long n = 0;
            for (; r.Read(); n++)
            {
                for (var i = 0; i < FacetColumns.Length; i++)
                {
                    if (!r.IsDBNull(i))
                    {
                        var value = Convert.ToString(r.GetValue(i), CultureInfo.InvariantCulture) ?? "";
                        tallies[i][value] = tallies[i].GetValueOrDefault(value) + 1;
                    }
                }
            }

            return n;
        });
        return new LogFields(
            [.. FacetColumns.Select((c, i) => new FieldFacet(
                c.Name,
                [.. tallies[i].OrderByDescending(t => t.Value).ThenBy(t => t.Key, StringComparer.Ordinal).Take(TopValues).Select(t => new FieldValue(t.Key, t.Value))]))],
            records);
    }

    private static LogHistogram Empty(long from, long to, int buckets)
    {
        var step = Step(from, to, buckets);
        var count = (int)((to - from + step - 1) / step);
        return new LogHistogram(Time(from), Time(to), step / 1000.0, [.. Enumerable.Range(0, count).Select(i => new HistogramBucket(Time(from + (i * step)), 0))], 0);
    }

    /// <summary>The smallest offered width giving at most <paramref name="buckets"/> buckets over [from, to); whole days beyond.</summary>
    private static long Step(long from, long to, int buckets)
    {
        var span = to - from;
        foreach (var step in Steps)
        {
            if ((span + step - 1) / step <= buckets)
            {
                return step;
            }
        }

        const long Day = 86_400_000;
        var days = (span + Day - 1) / Day;
        return ((days + buckets - 1) / buckets) * Day;
    }

    private static readonly long MinMillis = DateTimeOffset.MinValue.ToUnixTimeMilliseconds();
    private static readonly long MaxMillis = DateTimeOffset.MaxValue.ToUnixTimeMilliseconds();

    /// <summary>ISO-8601; a bound just past the last representable time (a window ending at 9999-12-31) is shown as that time.</summary>
    private static string Time(long millis) => NdjsonWriter.FormatTime(DateTimeOffset.FromUnixTimeMilliseconds(Math.Clamp(millis, MinMillis, MaxMillis)));
}
