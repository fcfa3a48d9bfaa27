using System.Globalization;
using System.Text;
using Microsoft.Data.Sqlite;
using SessionTrail.Server.Store;

namespace SessionTrail.Server.Logs;

/// <summary>
/// What to look for: every part is optional. <see cref="Query"/> is an SQLite FTS5 query;
/// <see cref="FieldEquals"/>: each name must have exactly that value in the record's fields or decoration.
/// <see cref="Ascending"/>: oldest first (then <see cref="Before"/> is the position records strictly newer than it come after).
/// </summary>
public sealed record LogQuery(
    string? Query = null,
    string? Session = null,
    string? User = null,
    string? Host = null,
    string? Source = null,
    DateTimeOffset? From = null,
    DateTimeOffset? To = null,
    int Limit = LogSearch.DefaultLimit,
    LogCursor? Before = null,
    IReadOnlyList<KeyValuePair<string, string>>? FieldEquals = null,
    bool Ascending = false,
    string? Level = null,
    string? Provider = null,
    int? EventId = null);

/// <summary>A position in the newest-first order: records strictly older than (time, seq) come next.</summary>
public readonly record struct LogCursor(long TimeMillis, long Seq)
{
    /// <summary>"TIME-SEQ", both decimal (milliseconds since the epoch, store sequence).</summary>
    public override string ToString() => $"{TimeMillis.ToString(CultureInfo.InvariantCulture)}-{Seq.ToString(CultureInfo.InvariantCulture)}";

    public static bool TryParse(string? text, out LogCursor cursor)
    {
        cursor = default;
        var dash = text?.LastIndexOf('-') ?? -1;
        if (dash <= 0
            || !long.TryParse(text.AsSpan(0, dash), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var time)
            || !long.TryParse(text.AsSpan(dash + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var seq))
        {
            return false;
        }

        cursor = new LogCursor(time, seq);
        return true;
    }
}

/// <summary>
/// One stored log record as the API returns it. <see cref="Fields"/> holds the record's structured fields
/// plus its decoration (a decoration name that is also a field name keeps the field's value);
/// <see cref="Decoration"/> holds the decoration alone. <see cref="Time"/> is UTC (JSON: ISO-8601 with "Z").
/// </summary>
public sealed record LogEntry(
    DateTime Time,
    string Source,
    string Message,
    string? Session,
    string? User,
    string Host,
    string? Channel,
    string? Provider,
    int? EventId,
    string? Level,
    IReadOnlyDictionary<string, string> Fields,
    IReadOnlyDictionary<string, string> Decoration);

/// <summary>One page of results, newest first, and the cursor of the next page (null on the last).</summary>
public sealed record LogPage(IReadOnlyList<LogEntry> Records, LogCursor? Next);

/// <summary>A query the full-text index refuses (FTS5 syntax); the message says what is wrong.</summary>
public sealed class LogQueryException(string message) : FormatException(message);

/// <summary>Searches the <c>logs</c> table (schema migration 2) on its own read connection.</summary>
public sealed class LogSearch(SqliteStore store)
{
    public const int DefaultLimit = 100;
    public const int MaxLimit = 10_000;

    public LogPage Search(LogQuery query)
    {
        ArgumentNullException.ThrowIfNull(query);
        if (query.Limit is < 1 or > MaxLimit)
        {
            throw new ArgumentOutOfRangeException(nameof(query), $"limit must be between 1 and {MaxLimit}");
        }

        using var connection = store.OpenConnection();
        using var cmd = connection.CreateCommand();
        var sql = new StringBuilder(
            """
            SELECT l.seq, l.time, l.source, l.message, l.session, l.user, l.host, l.channel, l.provider, l.event_id, l.level, l.fields, l.decoration
            FROM logs l WHERE 1
            """);
        Where(sql, cmd, query);
        if (query.Before is { } before)
        {
            // Newest first: records strictly older than the cursor; oldest first: strictly newer.
            sql.Append(query.Ascending
                ? " AND (l.time > $beforeTime OR (l.time = $beforeTime AND l.seq > $beforeSeq))"
                : " AND (l.time < $beforeTime OR (l.time = $beforeTime AND l.seq < $beforeSeq))");
            cmd.Parameters.AddWithValue("$beforeTime", before.TimeMillis);
            cmd.Parameters.AddWithValue("$beforeSeq", before.Seq);
        }

        sql.Append(query.Ascending ? " ORDER BY l.time, l.seq LIMIT $limit" : " ORDER BY l.time DESC, l.seq DESC LIMIT $limit");
        cmd.Parameters.AddWithValue("$limit", query.Limit + 1);
        cmd.CommandText = sql.ToString();

        return Execute(cmd, query, reader =>
        {
            var records = new List<LogEntry>(Math.Min(query.Limit, 1024));
            LogCursor? last = null;
            while (reader.Read())
            {
                if (records.Count == query.Limit)
                {
                    return new LogPage(records, last);
                }

                last = new LogCursor(reader.GetInt64(1), reader.GetInt64(0));
                records.Add(Read(reader));
            }

            return new LogPage(records, null);
        });
    }

    /// <summary>
    /// Appends the conditions of <paramref name="query"/> (all but its cursor, limit and order) to
    /// <paramref name="sql"/> (" AND …" over the alias <c>l</c> of <c>logs</c>), binding their parameters on <paramref name="cmd"/>.
    /// </summary>
    internal static void Where(StringBuilder sql, SqliteCommand cmd, LogQuery query)
    {
        void Add(string condition, string name, object? value)
        {
            if (value is not null)
            {
                sql.Append(" AND ").Append(condition);
                cmd.Parameters.AddWithValue(name, value);
            }
        }

        Add("l.seq IN (SELECT rowid FROM logs_fts WHERE logs_fts MATCH $q)", "$q", string.IsNullOrWhiteSpace(query.Query) ? null : QuoteWords(query.Query));
        Add("l.session = $session", "$session", query.Session);
        Add("l.user = $user", "$user", query.User);
        Add("l.host = $host", "$host", query.Host);
        Add("l.source = $source", "$source", query.Source);
        Add("l.level = $level", "$level", query.Level);
        Add("l.provider = $provider", "$provider", query.Provider);
        Add("l.event_id = $eventId", "$eventId", query.EventId);
        Add("l.time >= $from", "$from", query.From?.ToUnixTimeMilliseconds());
        Add("l.time < $to", "$to", query.To?.ToUnixTimeMilliseconds());
        var n = 0;
        foreach (var (name, value) in query.FieldEquals ?? [])
        {
            var k = $"$fk{n}";
            var v = $"$fv{n++}";
            Add(
                $"EXISTS (SELECT 1 FROM json_each(l.fields) WHERE key = {k} AND value = {v} UNION ALL SELECT 1 FROM json_each(l.decoration) WHERE key = {k} AND value = {v})",
                k,
                name);
            cmd.Parameters.AddWithValue(v, value);
        }
    }

    /// <summary>Runs <paramref name="read"/> over <paramref name="cmd"/>, turning a full-text syntax error of <paramref name="query"/> into <see cref="LogQueryException"/>.</summary>
    internal static T Execute<T>(SqliteCommand cmd, LogQuery query, Func<SqliteDataReader, T> read)
    {
        try
        {
            using var reader = cmd.ExecuteReader();
            return read(reader);
        }
        catch (SqliteException e) when (e.SqliteErrorCode == 1 && query.Query is not null)
        {
            throw BadQuery(e);
        }
    }

    /// <summary>SQLITE_ERROR from MATCH: "fts5: syntax error near ...", "no such column: x", "unknown special query".</summary>
    private static LogQueryException BadQuery(SqliteException e) =>
        new($"not a valid full-text query: {e.Message.Replace("SQLite Error 1: ", "", StringComparison.Ordinal).TrimEnd('.', '\'').Trim('\'')}");

    /// <summary>A read connection of the store (for the histogram and field facets built on <see cref="Where"/>).</summary>
    internal SqliteConnection OpenConnection() => store.OpenConnection();

    /// <summary>
    /// Puts double quotes around each space-separated word that FTS5 would refuse as a bare word
    /// (<c>excel.exe</c>, <c>C:\Temp</c>, <c>a-b</c>) so that it is searched as the phrase of its tokens. Words
    /// with FTS5 syntax (<c>"</c>, <c>(</c>, <c>)</c>, <c>*</c>, <c>^</c>), the operators AND, OR, NOT, NEAR and
    /// column filters (<c>message:</c>, <c>fields:</c>) are left as written.
    /// </summary>
    internal static string QuoteWords(string query) => string.Join(' ', query.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries).Select(word =>
        word is "AND" or "OR" or "NOT" or "NEAR"
        || word.AsSpan().IndexOfAny("\"()*^") >= 0
        || word.StartsWith("message:", StringComparison.Ordinal) || word.StartsWith("fields:", StringComparison.Ordinal)
        || word.All(c => char.IsAsciiLetterOrDigit(c) || c == '_' || c > 127)
            ? word
            : "\"" + word + "\""));

    private static LogEntry Read(SqliteDataReader r)
    {
        static string? Str(SqliteDataReader r, int i) => r.IsDBNull(i) ? null : r.GetString(i);
        var fields = LogJson.Parse(Str(r, 11)) ?? new Dictionary<string, string>(StringComparer.Ordinal);
        var decoration = LogJson.Parse(Str(r, 12)) ?? new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (k, v) in decoration)
        {
            fields.TryAdd(k, v);
        }

        return new LogEntry(
            DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(1)).UtcDateTime,
            r.GetString(2),
            r.GetString(3),
            Str(r, 4),
            Str(r, 5),
            r.GetString(6),
            Str(r, 7),
            Str(r, 8),
            r.IsDBNull(9) ? null : r.GetInt32(9),
            Str(r, 10),
            fields,
            decoration);
    }
}
