using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using DuckDB.NET.Data;
using SessionTrail.TestKit;

namespace SessionTrail.Server.Tests.Export;

/// <summary>
/// Runs a deploy/athena query file on an exported tree with DuckDB (an independent engine; DuckDB.NET in process, no
/// node), loading the tree as the Athena DDL describes it. What it emulates of Athena / Hive (the only adaptations;
/// the query text is not changed except for the placeholder substitutions, which must each match):
/// - The DDL is parsed for the table name, its columns (bigint or string) in order, the partition columns, the SerDe
///   (ROW FORMAT DELIMITED FIELDS TERMINATED BY 'c' or the OpenX JsonSerDe), the LOCATION's last folder (looked up
///   under the root) and 'skip.header.line.count'. Schema appstream_usage is created so that "appstream_usage"."table"
///   resolves as in Athena.
/// - Files: every file under LOCATION/year=*/month=*/day=*/ (Hive partitions from the folder names). Lines end at \n,
///   \r\n or \r (Hadoop LineReader); the UTF-8 BOM is kept (it sits in the skipped header).
/// - Delimited rows (LazySimpleSerDe): split on the delimiter with no quoting; missing trailing fields are NULL, extra
///   fields are dropped; a bigint that does not parse is NULL.
/// - JSON rows (OpenX JsonSerDe): keys matched case-insensitively; a missing key is NULL.
/// - from_iso8601_timestamp(s) is a DuckDB macro (CAST(s AS TIMESTAMPTZ)); session time zone UTC.
/// </summary>
public static partial class AthenaDuckDb
{
    /// <summary>The repository root (the folder holding SessionTrail.slnx).</summary>
    public static string RepoRoot { get; } = Repository.Root;

    public static string Deploy(string relative) => Path.Combine(RepoRoot, "deploy", "athena", relative);

    private sealed record Column(string Name, bool Bigint);

    /// <summary>The query's rows as JSON objects; <paramref name="set"/> replaces placeholders ("'?'=" + "'01'").</summary>
    public static List<JsonElement> Query(string ddl, string root, string query, params string[] set)
    {
        var text = CommentLine().Replace(File.ReadAllText(Deploy(ddl)), "");
        var table = CreateTable().Match(text);
        Assert.True(table.Success, $"no CREATE EXTERNAL TABLE db.table( in {ddl}");
        var (schema, name) = (table.Groups[1].Value, table.Groups[2].Value);
        var afterName = text[(table.Index + table.Length)..];
        var partitionAt = PartitionedBy().Match(afterName);
        Assert.True(partitionAt.Success, $"no PARTITIONED BY in {ddl}");
        var columns = Columns(afterName[..partitionAt.Index]);
        var partitions = Columns(PartitionList().Match(afterName).Groups[1].Value);
        var json = text.Contains("org.openx.data.jsonserde.JsonSerDe", StringComparison.Ordinal);
        var delimiter = json ? null : Delimiter().Match(text).Groups[1].Value;
        var skipMatch = SkipHeader().Match(text);
        var skip = skipMatch.Success ? int.Parse(skipMatch.Groups[1].Value, CultureInfo.InvariantCulture) : 0;
        var location = Location().Match(text).Groups[1].Value.TrimEnd('/');
        var folder = Path.Combine(root, location[(location.LastIndexOf('/') + 1)..]);

        var rows = new List<object?[]>();
        foreach (var file in Walk(folder))
        {
            var parts = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var segment in Path.GetRelativePath(folder, file).Split(Path.DirectorySeparatorChar)[..^1])
            {
                var eq = segment.IndexOf('=', StringComparison.Ordinal);
                if (eq > 0)
                {
                    parts[segment[..eq]] = segment[(eq + 1)..];
                }
            }

            var lines = LineBreak().Split(Encoding.UTF8.GetString(File.ReadAllBytes(file))).ToList(); // GetString keeps a BOM
            if (lines.Count > 0 && lines[^1].Length == 0)
            {
                lines.RemoveAt(lines.Count - 1);
            }

            foreach (var line in lines.Skip(skip))
            {
                string?[] values;
                if (json)
                {
                    using var doc = JsonDocument.Parse(line);
                    var lower = doc.RootElement.EnumerateObject().GroupBy(p => p.Name.ToLowerInvariant())
                        .ToDictionary(g => g.Key, g => g.Last().Value.ValueKind switch
                        {
                            JsonValueKind.Null => null,
                            JsonValueKind.String => g.Last().Value.GetString(),
                            _ => g.Last().Value.GetRawText(),
                        });
                    values = [.. columns.Select(c => lower.GetValueOrDefault(c.Name.ToLowerInvariant()))];
                }
                else
                {
                    var fields = line.Split(delimiter!);
                    values = [.. columns.Select((_, c) => c < fields.Length ? fields[c] : null)];
                }

                rows.Add([
                    .. columns.Select((c, k) => c.Bigint ? (object?)(values[k] is { } v && Integer().IsMatch(v) ? long.Parse(v, CultureInfo.InvariantCulture) : null) : values[k]),
                    .. partitions.Select(p => parts.GetValueOrDefault(p.Name)),
                ]);
            }
        }

        using var duck = new DuckDBConnection("DataSource=:memory:");
        duck.Open();
        var all = columns.Concat(partitions).ToList();
        Execute(duck, $"""
            SET TimeZone = 'UTC';
            CREATE SCHEMA "{schema}";
            SET search_path = '{schema}';
            CREATE MACRO from_iso8601_timestamp(s) AS CAST(s AS TIMESTAMPTZ);
            CREATE TABLE "{schema}"."{name}" ({string.Join(", ", all.Select(c => $"\"{c.Name}\" {(c.Bigint ? "BIGINT" : "VARCHAR")}"))});
            """);
        using (var appender = duck.CreateAppender(schema, name))
        {
            foreach (var row in rows)
            {
                var r = appender.CreateRow();
                foreach (var value in row)
                {
                    _ = value switch
                    {
                        null => r.AppendNullValue(),
                        long l => r.AppendValue(l),
                        _ => r.AppendValue((string)value),
                    };
                }

                r.EndRow();
            }
        }

        var sql = File.ReadAllText(Deploy(query));
        foreach (var s in set)
        {
            var eq = s.IndexOf('=', s.IndexOf('\'', 1) + 1);
            Assert.True(eq >= 0 && sql.Contains(s[..eq], StringComparison.Ordinal), $"--set {s}: '{s[..Math.Max(eq, 0)]}' is not in {query}");
            var at = sql.IndexOf(s[..eq], StringComparison.Ordinal);
            sql = sql[..at] + s[(eq + 1)..] + sql[(at + eq)..];
        }

        using var cmd = duck.CreateCommand();
        cmd.CommandText = sql;
        using var reader = cmd.ExecuteReader();
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartArray();
            while (reader.Read())
            {
                writer.WriteStartObject();
                for (var i = 0; i < reader.FieldCount; i++)
                {
                    writer.WritePropertyName(reader.GetName(i));
                    switch (reader.IsDBNull(i) ? null : reader.GetValue(i))
                    {
                        case null:
                            writer.WriteNullValue();
                            break;
                        case string v:
                            writer.WriteStringValue(v);
                            break;
                        case bool v:
                            writer.WriteBooleanValue(v);
                            break;
                        case DateTime v:
                            writer.WriteStringValue(v.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture));
                            break;
                        case DateTimeOffset v:
                            writer.WriteStringValue(v.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture));
                            break;
                        case System.Numerics.BigInteger v:
                            writer.WriteNumberValue((double)v);
                            break;
                        case var v when v is IConvertible && v.GetType().IsPrimitive:
                            writer.WriteNumberValue(Convert.ToDouble(v, CultureInfo.InvariantCulture));
                            break;
                        case var v:
                            writer.WriteStringValue(Convert.ToString(v, CultureInfo.InvariantCulture));
                            break;
                    }
                }

                writer.WriteEndObject();
            }

            writer.WriteEndArray();
        }

        using var result = JsonDocument.Parse(buffer.ToArray());
        return [.. result.RootElement.EnumerateArray().Select(e => e.Clone())];
    }

    private static List<Column> Columns(string text) =>
        [.. ColumnDeclaration().Matches(text).Select(m => new Column(m.Groups[1].Value, m.Groups[2].Value.Equals("bigint", StringComparison.OrdinalIgnoreCase)))];

    /// <summary>Every file under <paramref name="dir"/>, depth first, names in ordinal order (none when it does not exist).</summary>
    private static IEnumerable<string> Walk(string dir)
    {
        if (!Directory.Exists(dir))
        {
            yield break;
        }

        foreach (var path in Directory.GetFileSystemEntries(dir).Order(StringComparer.Ordinal))
        {
            if (Directory.Exists(path))
            {
                foreach (var file in Walk(path))
                {
                    yield return file;
                }
            }
            else
            {
                yield return path;
            }
        }
    }

    private static void Execute(DuckDBConnection duck, string sql)
    {
        using var cmd = duck.CreateCommand();
        cmd.CommandText = sql;
        cmd.ExecuteNonQuery();
    }

    [GeneratedRegex("^--.*$", RegexOptions.Multiline)]
    private static partial Regex CommentLine();

    [GeneratedRegex(@"CREATE\s+EXTERNAL\s+TABLE\s+`?(\w+)`?\.`?(\w+)`?\s*\(", RegexOptions.IgnoreCase)]
    private static partial Regex CreateTable();

    [GeneratedRegex(@"PARTITIONED\s+BY", RegexOptions.IgnoreCase)]
    private static partial Regex PartitionedBy();

    [GeneratedRegex(@"PARTITIONED\s+BY\s*\(([^)]*)\)", RegexOptions.IgnoreCase)]
    private static partial Regex PartitionList();

    [GeneratedRegex(@"`(\w+)`\s+(bigint|string)", RegexOptions.IgnoreCase)]
    private static partial Regex ColumnDeclaration();

    [GeneratedRegex(@"FIELDS\s+TERMINATED\s+BY\s+'([^']+)'", RegexOptions.IgnoreCase)]
    private static partial Regex Delimiter();

    [GeneratedRegex(@"'skip\.header\.line\.count'\s*=\s*'(\d+)'")]
    private static partial Regex SkipHeader();

    [GeneratedRegex(@"LOCATION\s+'([^']+)'", RegexOptions.IgnoreCase)]
    private static partial Regex Location();

    [GeneratedRegex(@"\r\n|\r|\n")]
    private static partial Regex LineBreak();

    [GeneratedRegex(@"^[+-]?\d+$")]
    private static partial Regex Integer();
}
