using System.Diagnostics;
using Microsoft.Data.Sqlite;
using SessionTrail.Core.Formats;
using SessionTrail.Core.Records;
using SessionTrail.Server.Store;

namespace SessionTrail.Server.Export;

/// <summary>The file formats of <see cref="AthenaExporter"/>.</summary>
public enum AthenaFormat
{
    /// <summary>The seed's per-session CSV (<see cref="AthenaCsvWriter"/>).</summary>
    Csv,

    /// <summary>JSON lines (<see cref="AthenaJsonlWriter"/>).</summary>
    Jsonl,
}

/// <summary>What to export.</summary>
/// <param name="From">Only sessions that ended at or after this time.</param>
/// <param name="To">Only sessions that ended before this time.</param>
/// <param name="IncludeOpen">Also sessions without an end, written as if they ended at <paramref name="Now"/>
/// (the seed's script runs at session end, so it never writes an open session).</param>
public sealed record AthenaExportRequest(
    AthenaFormat Format,
    string OutDirectory,
    DateTimeOffset? From = null,
    DateTimeOffset? To = null,
    bool IncludeOpen = false,
    AthenaWriteOptions? Options = null,
    DateTimeOffset? Now = null);

/// <summary>What an export wrote.</summary>
/// <param name="OpenSkipped">Sessions without an end that were not written (no --include-open).</param>
/// <param name="StartsWithoutSession">Process starts with no session id: there is no object to put them in.</param>
/// <param name="Warnings">Fields the CSV cannot carry (comma, line break), one per field and row.</param>
public sealed record AthenaExportSummary(int Sessions, long Rows, long Bytes, int OpenSkipped, long StartsWithoutSession, int Warnings, TimeSpan Elapsed);

/// <summary>
/// Writes the store's sessions in the seed's S3 layout under a folder (one object per session, see
/// <see cref="AthenaLayout"/>), read-only: sessions from the <c>sessions</c> table, process events from
/// <c>process_events</c> (an exit without a session id belongs to the session of the run it ended).
/// Existing files of the same sessions are replaced, so exporting twice gives the same tree.
/// </summary>
public sealed class AthenaExporter(SqliteStore store)
{
    private const string EventColumns = "e.seq, e.type, e.time, e.host, e.pid, e.exe, e.user, e.uid";

    /// <summary>Every process event with its session (an exit without one takes its run's), by session then arrival.</summary>
    internal static readonly string EventsQuery =
        $"""
        SELECT s, {EventColumns.Replace("e.", "", StringComparison.Ordinal)} FROM (
            SELECT e.session AS s, {EventColumns} FROM process_events e WHERE e.session IS NOT NULL
            UNION ALL
            SELECT r.session AS s, {EventColumns} FROM runs r JOIN process_events e ON e.seq = r.exit_seq
            WHERE e.session IS NULL AND r.session IS NOT NULL)
        ORDER BY s, seq
        """;

    /// <summary>Exports; <paramref name="warn"/> gets one line per field the CSV cannot carry.</summary>
    public AthenaExportSummary Export(AthenaExportRequest request, Action<string>? warn = null)
    {
        ArgumentNullException.ThrowIfNull(request);
        var watch = Stopwatch.StartNew();
        var options = request.Options ?? AthenaWriteOptions.Default;
        var now = request.Now ?? DateTimeOffset.UtcNow;
        Directory.CreateDirectory(request.OutDirectory);
        using var connection = store.OpenConnection();
        var (sessions, openSkipped) = ReadSessions(connection, request, now);

        using var cmd = connection.CreateCommand();
        cmd.CommandText = EventsQuery;
        var written = new HashSet<string>(StringComparer.Ordinal);
        long rows = 0, bytes = 0;
        var warnings = 0;
        void Write(AthenaSession session, List<ProcessRecord> events)
        {
            var obj = request.Format == AthenaFormat.Csv
                ? AthenaCsvWriter.Write(session, events, options)
                : AthenaJsonlWriter.Write(session, events, options);
            var path = Path.Combine(request.OutDirectory, obj.Key.Replace('/', Path.DirectorySeparatorChar));
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            File.WriteAllBytes(path, obj.Content);
            rows += obj.Rows;
            bytes += obj.Content.Length;
            foreach (var w in obj.Warnings)
            {
                warnings++;
                warn?.Invoke($"{obj.Key} {w}: Athena reads this row with shifted or split columns; --format athena-jsonl keeps it intact");
            }

            written.Add(session.Id);
        }

        using (var reader = cmd.ExecuteReader())
        {
            string? current = null;
            var events = new List<ProcessRecord>();
            while (reader.Read())
            {
                var id = reader.GetString(0);
                if (!sessions.ContainsKey(id))
                {
                    continue;
                }

                if (id != current)
                {
                    if (current is not null)
                    {
                        Write(sessions[current], events);
                    }

                    current = id;
                    events.Clear();
                }

                events.Add(new ProcessRecord
                {
                    Type = reader.GetInt64(2) == 0 ? ProcessEventType.Start : ProcessEventType.Exit,
                    Time = DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(3)),
                    Host = reader.GetString(4),
                    Pid = (int)reader.GetInt64(5),
                    Executable = reader.IsDBNull(6) ? null : reader.GetString(6),
                    User = reader.IsDBNull(7) ? null : reader.GetString(7),
                    Uid = reader.IsDBNull(8) ? null : reader.GetInt64(8),
                });
            }

            if (current is not null)
            {
                Write(sessions[current], events);
            }
        }

        // Sessions without any process event still get their header and session_end row, as the script writes.
        foreach (var (id, session) in sessions)
        {
            if (!written.Contains(id))
            {
                Write(session, []);
            }
        }

        using var orphans = connection.CreateCommand();
        orphans.CommandText = "SELECT COUNT(*) FROM process_events WHERE session IS NULL AND type = 0";
        var startsWithoutSession = (long)orphans.ExecuteScalar()!;
        return new AthenaExportSummary(written.Count, rows, bytes, openSkipped, startsWithoutSession, warnings, watch.Elapsed);
    }

    private static (Dictionary<string, AthenaSession> Sessions, int OpenSkipped) ReadSessions(
        SqliteConnection connection, AthenaExportRequest request, DateTimeOffset now)
    {
        using var cmd = connection.CreateCommand();
        cmd.CommandText =
            $"SELECT id, start, end, {SessionColumns.Names} FROM sessions";
        var sessions = new Dictionary<string, AthenaSession>(StringComparer.Ordinal);
        var openSkipped = 0;
        using var reader = cmd.ExecuteReader();
        while (reader.Read())
        {
            DateTimeOffset end;
            if (!reader.IsDBNull(2))
            {
                end = DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(2));
            }
            else if (request.IncludeOpen)
            {
                end = now;
            }
            else
            {
                openSkipped++;
                continue;
            }

            if ((request.From is { } from && end < from) || (request.To is { } to && end >= to))
            {
                continue;
            }

            var id = reader.GetString(0);
            if (id.Length == 0)
            {
                continue;
            }

            sessions[id] = new AthenaSession
            {
                Id = id,
                End = end,
                Start = reader.IsDBNull(1) ? null : DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(1)),
                Fields = SessionColumns.Read(reader, 3),
            };
        }

        return (sessions, openSkipped);
    }
}
