// Benchmarks that print figures (see docs/performance.md). They are not tests and assert nothing.
//   dotnet run -c Release --project bench/SessionTrail.Bench -- <name> [options]
using SessionTrail.Bench;

var benches = new Dictionary<string, (string Help, Func<string[], Task<int>> Run)>(StringComparer.OrdinalIgnoreCase)
{
    ["capture"] = ("kernel process capture completeness at a spawn rate (root)", CaptureBench.RunAsync),
    ["ingest"] = ("server ingest throughput over real HTTP, durable", IngestBench.RunAsync),
    ["reports"] = ("report latency over 1M (and 10M) runs", ReportBench.RunAsync),
    ["export"] = ("Athena export (athena-csv, athena-jsonl) speed over 1M runs", ExportBench.RunAsync),
    ["lake"] = ("export --format parquet over 1M runs: Parquet.Net vs DuckDB COPY (rows/s, bytes per million runs)", LakeBench.RunAsync),
    ["queue"] = ("agent disk queue enqueue/dequeue/ack throughput", QueueBench.RunAsync),
    ["import"] = ("sessiontrail import of a generated seed CSV tree (rows/s), twice", ImportBench.RunAsync),
    ["idle"] = ("agent idle CPU and memory (runs the real executable)", IdleBench.RunAsync),
    ["evtx"] = ("binary .evtx read speed (events/s)", EvtxBench.RunAsync),
    ["s3"] = ("S3 sink spool and upload throughput to s3rver (npm, tests/s3rver)", S3Bench.RunAsync),
    ["logs"] = ("log record ingest (records/s) and search latency over 1M log records", LogBench.RunAsync),
    ["logship"] = ("file tail → agent → server with the real executables: MiB/s, agent CPU and RSS", LogShipBench.RunAsync),
    ["route"] = ("agent pump with log routing, filter and decoration into durable queues (records/s, MiB/s)", RouteBench.RunAsync),
    ["winlog"] = ("Windows event XML/.evtx -> LogRecord -> NDJSON line (events/s, real data)", WinlogBench.RunAsync),
    ["filetail"] = ("file log source alone: MiB/s and records/s reading generated log lines", FileTailBench.RunAsync),
    ["ui-api"] = ("web UI API latency over 100k sessions, 1M runs, 200k log records (real HTTP)", UiApiBench.RunAsync),
    ["record"] = ("screen recording: ffmpeg CPU, RSS, MB/h and SSIM, seed settings vs SessionTrail defaults (Xvnc)", RecordBench.RunAsync),
    ["recorder"] = ("the agent's recorder per capture back-end (x11damage vs x11grab): total CPU and MB/h (Xvnc)", RecorderBench.RunAsync),
};

if (args.Length == 0 || !benches.TryGetValue(args[0], out var bench))
{
    Console.Error.WriteLine("usage: SessionTrail.Bench <name> [options]");
    foreach (var (name, b) in benches)
    {
        Console.Error.WriteLine($"  {name,-8} {b.Help}");
    }

    return 2;
}

return await bench.Run(args[1..]);
