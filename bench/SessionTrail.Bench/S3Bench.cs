using System.Diagnostics;
using System.Globalization;
using Amazon.Runtime;
using Microsoft.Extensions.Logging.Abstractions;
using SessionTrail.Agent.Sinks.S3;
using SessionTrail.Core.Formats;
using SessionTrail.Core.Records;
using SessionTrail.TestKit;

namespace SessionTrail.Bench;

/// <summary>
/// S3 sink throughput against a real S3-protocol server (s3rver from tests/s3rver, on 127.0.0.1):
/// SESSIONS sessions of ROWS process events each are spooled in batches of 5,000 records (fsync per batch,
/// as the sender delivers them), then uploaded one object per session. Prints spool and upload rates.
/// Usage: s3 [sessions=200] [rows=200] [format=athena-csv|athena-jsonl|jsonl].
/// </summary>
public static class S3Bench
{
    public static async Task<int> RunAsync(string[] args)
    {
        ArgumentNullException.ThrowIfNull(args);
        var sessions = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 200;
        var rows = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 200;
        var format = args.Length > 2 ? args[2] : S3ObjectFormats.AthenaCsv;
        const string Bucket = "bench";
        await using var s3 = await S3rverServer.StartAsync(Bucket);
        var dataDir = Path.Combine(Path.GetTempPath(), "sessiontrail-s3-bench-" + Environment.ProcessId.ToString(CultureInfo.InvariantCulture));
        var options = new S3SinkOptions
        {
            Type = "S3", Bucket = Bucket, Region = S3rverServer.Region, ServiceUrl = s3.Url, ForcePathStyle = true, Format = format,
        };
        options.Validate("bench");
        var lines = Records(sessions, rows);
        try
        {
            using var sink = new S3SessionObjects(options, dataDir, new AwsS3ObjectStore(options, "bench", new BasicAWSCredentials(S3rverServer.AccessKey, S3rverServer.SecretKey)), NullLogger.Instance, TimeProvider.System);
            var spool = Stopwatch.StartNew();
            foreach (var batch in lines.Chunk(5_000))
            {
                var result = await sink.SendAsync(batch, CancellationToken.None);
                if (result.Outcome != Agent.Sinks.SinkOutcome.Success)
                {
                    throw new InvalidOperationException(result.Reason);
                }
            }

            spool.Stop();
            var upload = Stopwatch.StartNew();
            using var drain = new CancellationTokenSource();
            await drain.CancelAsync();
            await sink.RunAsync(drain.Token, CancellationToken.None);
            upload.Stop();
            var status = sink.GetBackgroundStatus();
            var keys = await s3.KeysAsync(Bucket);
            var bytes = Directory.EnumerateFiles(Path.Combine(dataDir, "agent", "s3", "s3", "uploaded")).Sum(f => new FileInfo(f).Length);
            Console.WriteLine($"s3 sink -> s3rver {s3.Url}, format {format}: {sessions} sessions x {rows} process events ({lines.Count} records, {bytes / 1e6:F1} MB spooled)");
            Console.WriteLine($"  spool (fsync per 5,000-record batch): {spool.Elapsed.TotalSeconds:F2} s = {lines.Count / spool.Elapsed.TotalSeconds:N0} records/s");
            Console.WriteLine($"  upload (render + PUT, one at a time): {upload.Elapsed.TotalSeconds:F2} s = {sessions / upload.Elapsed.TotalSeconds:F1} sessions/s; {status.UploadedTotal} uploaded, {keys.Count} objects in the bucket");
            return keys.Count == sessions && status.UploadedTotal == sessions ? 0 : 1;
        }
        finally
        {
            Directory.Delete(dataDir, recursive: true);
        }
    }

    private static List<ReadOnlyMemory<byte>> Records(int sessions, int rows)
    {
        var lines = new List<ReadOnlyMemory<byte>>();
        var sequence = 0;
        var t0 = DateTimeOffset.UtcNow.AddHours(-1);
        string NextId() => "benchagent:" + (++sequence).ToString(CultureInfo.InvariantCulture);
        for (var s = 0; s < sessions; s++)
        {
            var session = Guid.NewGuid().ToString();
            lines.Add(NdjsonWriter.ToLine(new SessionRecord
            {
                Id = NextId(), Type = SessionEventType.Start, Time = t0, Host = "bench-host", Session = session, User = "user" + s,
                Stack = "stack", Fleet = "fleet", AccessMode = "userpool", InstanceType = "stream.standard.medium", Region = "us-east-1",
            }));
            for (var r = 0; r < rows; r++)
            {
                lines.Add(NdjsonWriter.ToLine(new ProcessRecord
                {
                    Id = NextId(), Type = r % 2 == 0 ? ProcessEventType.Start : ProcessEventType.Exit, Time = t0.AddSeconds(r), Host = "bench-host",
                    Session = session, Pid = 4000 + (r / 2), Executable = $@"C:\Program Files\Vendor\app{r % 17}.exe", User = "S-1-5-21-1-2-3-1001",
                }));
            }

            lines.Add(NdjsonWriter.ToLine(new SessionRecord { Id = NextId(), Type = SessionEventType.End, Time = t0.AddMinutes(30), Host = "bench-host", Session = session }));
        }

        return lines;
    }
}
