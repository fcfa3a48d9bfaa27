using System.Diagnostics;
using System.Text.Json;
using SessionTrail.TestKit;

namespace SessionTrail.Server.Tests.Export;

/// <summary>
/// Runs a deploy/athena query file on an exported tree with DuckDB (tests/athena/run-query.mjs, npm
/// package @duckdb/node-api; `npm ci` in tests/athena first — .ci/run does it).
/// </summary>
public static class AthenaDuckDb
{
    /// <summary>The repository root (the folder holding SessionTrail.slnx).</summary>
    public static string RepoRoot { get; } = Repository.Root;

    public static string Deploy(string relative) => Path.Combine(RepoRoot, "deploy", "athena", relative);

    /// <summary>The query's rows as JSON objects; <paramref name="set"/> replaces placeholders ("'?'=" + "'01'").</summary>
    public static List<JsonElement> Query(string ddl, string root, string query, params string[] set)
    {
        var script = Path.Combine(RepoRoot, "tests", "athena", "run-query.mjs");
        if (!Directory.Exists(Path.Combine(RepoRoot, "tests", "athena", "node_modules", "@duckdb", "node-api")))
        {
            throw new InvalidOperationException("@duckdb/node-api is not installed: run `npm ci` in tests/athena (.ci/run does)");
        }

        var start = new ProcessStartInfo("node") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[] { script, "--ddl", Deploy(ddl), "--root", root, "--query", Deploy(query) })
        {
            start.ArgumentList.Add(a);
        }

        foreach (var s in set)
        {
            start.ArgumentList.Add("--set");
            start.ArgumentList.Add(s);
        }

        using var node = Process.Start(start)!;
        var stdout = node.StandardOutput.ReadToEndAsync();
        var stderr = node.StandardError.ReadToEndAsync();
        if (!node.WaitForExit(60_000))
        {
            node.Kill(entireProcessTree: true);
            throw new TimeoutException($"node {script} {query} did not finish in 60 s");
        }

        if (node.ExitCode != 0)
        {
            throw new InvalidOperationException($"node {query} exited {node.ExitCode}: {stderr.Result}");
        }

        using var doc = JsonDocument.Parse(stdout.Result);
        return doc.RootElement.GetProperty("data").EnumerateArray().Select(e => e.Clone()).ToList();
    }
}
