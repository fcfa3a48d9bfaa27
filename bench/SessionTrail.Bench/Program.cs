// Temporary dispatch (the lead writes the final Program.cs): bench ingest | bench reports.
return args.FirstOrDefault() switch
{
    "ingest" => await SessionTrail.Bench.IngestBench.RunAsync(args[1..]),
    "reports" => await SessionTrail.Bench.ReportBench.RunAsync(args[1..]),
    _ => Usage(),
};

static int Usage()
{
    Console.WriteLine("usage: bench ingest [--batches N] [--batch-size N] [--runs N] [--gzip] | bench reports [--runs N] [--also-10m] [--repeat N]");
    return 2;
}
