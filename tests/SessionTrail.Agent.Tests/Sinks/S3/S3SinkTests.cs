using Amazon.Runtime;
using Microsoft.Extensions.Logging.Abstractions;
using SessionTrail.Agent.Sinks;
using SessionTrail.Agent.Sinks.S3;
using SessionTrail.Agent.Tests.Fakes;
using SessionTrail.Core.Records;
using static SessionTrail.Agent.Tests.Sinks.S3.S3TestRecords;

namespace SessionTrail.Agent.Tests.Sinks.S3;

/// <summary>The S3 sink against a real S3-protocol server (s3rver, started per test).</summary>
public sealed class S3SinkTests : IAsyncLifetime, IDisposable
{
    private const string Bucket = "trail-lake";
    private readonly TempDir _dir = new();
    private S3rverServer _s3 = null!;

    public async Task InitializeAsync() => _s3 = await S3rverServer.StartAsync(Bucket);

    public async Task DisposeAsync()
    {
        await _s3.DisposeAsync();
        _dir.Dispose();
    }

    public void Dispose() => _dir.Dispose();

    private S3SinkOptions Options(string bucket = Bucket, string format = S3ObjectFormats.Jsonl) => new()
    {
        Type = "S3",
        Bucket = bucket,
        Region = S3rverServer.Region,
        ServiceUrl = _s3.Url,
        ForcePathStyle = true,
        Format = format,
        DayCloseDelay = TimeSpan.Zero,
        RetryInitialDelay = TimeSpan.FromMilliseconds(100),
        RetryMaxDelay = TimeSpan.FromMilliseconds(400),
        RequestTimeout = TimeSpan.FromSeconds(10),
    };

    private S3SessionObjects Sink(S3SinkOptions options, string secret = S3rverServer.SecretKey, string key = S3rverServer.AccessKey) =>
        new(options, _dir.Path, new AwsS3ObjectStore(options, "Sinks:0", new BasicAWSCredentials(key, secret)), NullLogger.Instance, TimeProvider.System);

    private static async Task<T> EventuallyAsync<T>(Func<T> probe, Func<T, bool> done, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        var value = probe();
        while (!done(value) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(100);
            value = probe();
        }

        return value;
    }

    [Fact]
    public async Task AnEndedSessionAppearsUnderTheSeedLayoutWithItsRecordsOnce()
    {
        var options = Options();
        using var sink = Sink(options);
        using var stop = new CancellationTokenSource();
        var run = sink.RunAsync(CancellationToken.None, stop.Token);

        var lines = Session("8c1e6e0a-as2", 50);
        Assert.Equal(SinkOutcome.Success, (await sink.SendAsync(lines[..40], CancellationToken.None)).Outcome);
        Assert.Empty(await _s3.KeysAsync(Bucket)); // not ended yet: nothing uploaded
        Assert.Equal(SinkOutcome.Success, (await sink.SendAsync(lines[35..], CancellationToken.None)).Outcome); // 5 resent: at least once

        var keys = await _s3.WaitForKeysAsync(Bucket, 1, TimeSpan.FromSeconds(30));
        Assert.Equal(["sessiontrail_sessions/year=2026/month=11/day=23/8c1e6e0a-as2.jsonl"], keys);
        Assert.Equal(Concat(lines), await _s3.GetAsync(Bucket, keys[0]));
        var status = await EventuallyAsync(sink.GetBackgroundStatus, s => s.UploadedTotal == 1, TimeSpan.FromSeconds(10));
        Assert.Equal(new BackgroundSinkStatus(0, 0, 1, []), status with { RecentErrors = [] });
        Assert.Empty(status.RecentErrors);
        Assert.Equal(SpoolState.Uploaded, sink.Spool.StateOf(S3Spool.SessionName("8c1e6e0a-as2")));

        await stop.CancelAsync();
        await run;
    }

    [Fact]
    public async Task WhileS3IsDownTheObjectWaitsInTheSpoolAndArrivesWhenS3IsBack()
    {
        using var sink = Sink(Options());
        using var stop = new CancellationTokenSource();
        var run = sink.RunAsync(CancellationToken.None, stop.Token);
        await _s3.StopAsync();

        var lines = Session("down-1", 10);
        Assert.Equal(SinkOutcome.Success, (await sink.SendAsync(lines, CancellationToken.None)).Outcome);
        var failing = await EventuallyAsync(sink.GetBackgroundStatus, s => s.RecentErrors.Count >= 2, TimeSpan.FromSeconds(20));
        Assert.True(failing.RecentErrors.Count >= 2, "retries while S3 is down");
        Assert.Contains("unreachable", failing.RecentErrors[^1].Message, StringComparison.Ordinal);
        Assert.Equal(1, failing.PendingUploads);
        Assert.Equal(0, failing.UploadedTotal);

        await _s3.StartAgainAsync();
        var keys = await _s3.WaitForKeysAsync(Bucket, 1, TimeSpan.FromSeconds(30));
        Assert.Equal(["sessiontrail_sessions/year=2026/month=11/day=23/down-1.jsonl"], keys);
        Assert.Equal(Concat(lines), await _s3.GetAsync(Bucket, keys[0]));

        await stop.CancelAsync();
        await run;
    }

    [Fact]
    public async Task WrongCredentialsAreAClearErrorAndTheRecordsStayUntilTheyAreFixed()
    {
        var lines = Session("cred-1", 5);
        using (var wrong = Sink(Options(), key: "AKIA-WRONG"))
        {
            using var stop = new CancellationTokenSource();
            var run = wrong.RunAsync(CancellationToken.None, stop.Token);
            await wrong.SendAsync(lines, CancellationToken.None);
            var status = await EventuallyAsync(wrong.GetBackgroundStatus, s => s.RecentErrors.Count > 0, TimeSpan.FromSeconds(20));
            var error = Assert.Single(status.RecentErrors.Take(1)).Message;
            Assert.Contains("credentials refused (403 InvalidAccessKeyId", error, StringComparison.Ordinal);
            Assert.Contains($"bucket '{Bucket}' at {_s3.Url}", error, StringComparison.Ordinal);
            await stop.CancelAsync();
            await run;
        }

        Assert.Empty(await _s3.KeysAsync(Bucket));
        using var right = Sink(Options());
        Assert.Equal(SpoolState.Ready, right.Spool.StateOf(S3Spool.SessionName("cred-1")));
        using var drain = new CancellationTokenSource();
        await drain.CancelAsync();
        await right.RunAsync(drain.Token, CancellationToken.None); // drain: uploads what is ready, then returns
        Assert.Equal(Concat(lines), await _s3.GetAsync(Bucket, "sessiontrail_sessions/year=2026/month=11/day=23/cred-1.jsonl"));
    }

    [Fact]
    public async Task AMissingBucketIsNamedAndTheObjectArrivesOnceTheBucketExists()
    {
        using var sink = Sink(Options(bucket: "not-created-yet"));
        using var stop = new CancellationTokenSource();
        var run = sink.RunAsync(CancellationToken.None, stop.Token);
        var lines = Session("nb-1", 3);
        await sink.SendAsync(lines, CancellationToken.None);

        var status = await EventuallyAsync(sink.GetBackgroundStatus, s => s.RecentErrors.Count > 0, TimeSpan.FromSeconds(20));
        Assert.Contains("bucket 'not-created-yet'", status.RecentErrors[0].Message, StringComparison.Ordinal);
        Assert.Contains("the bucket does not exist (404 NoSuchBucket)", status.RecentErrors[0].Message, StringComparison.Ordinal);
        Assert.Equal(1, status.PendingUploads);

        using (var client = _s3.Client())
        {
            await client.PutBucketAsync("not-created-yet");
        }

        var keys = await _s3.WaitForKeysAsync("not-created-yet", 1, TimeSpan.FromSeconds(30));
        Assert.Equal(["sessiontrail_sessions/year=2026/month=11/day=23/nb-1.jsonl"], keys);
        await stop.CancelAsync();
        await run;
    }

    [Fact]
    public async Task RecordsWithoutASessionGoToOneObjectPerHostAndDayOnceTheDayIsOver()
    {
        using var sink = Sink(Options());
        var yesterday = DateTimeOffset.UtcNow.AddDays(-1);
        var today = DateTimeOffset.UtcNow;
        var old = new[] { Line(Process(null, ProcessEventType.Start, 10, yesterday)), Line(Process(null, ProcessEventType.Exit, 10, yesterday)) };
        await sink.SendAsync([old[0], Line(Process(null, ProcessEventType.Start, 11, today)), old[1]], CancellationToken.None);

        using var drain = new CancellationTokenSource();
        await drain.CancelAsync();
        await sink.RunAsync(drain.Token, CancellationToken.None);

        var day = DateOnly.FromDateTime(yesterday.UtcDateTime);
        var key = S3ObjectLayout.DayKey("sessiontrail_unattributed", "as2-host", day);
        Assert.Equal([key], await _s3.KeysAsync(Bucket)); // today's is still open
        Assert.Equal(Concat(old), await _s3.GetAsync(Bucket, key));
        Assert.Equal(1, sink.GetBackgroundStatus().OpenObjects);
    }

    [Fact]
    public async Task ALateRecordOfAnUploadedSessionUploadsTheCompleteObjectAgain()
    {
        using var sink = Sink(Options());
        var lines = Session("late-1", 2);
        await sink.SendAsync(lines, CancellationToken.None);
        using var drain = new CancellationTokenSource();
        await drain.CancelAsync();
        await sink.RunAsync(drain.Token, CancellationToken.None);

        var late = Line(Process("late-1", ProcessEventType.Exit, 4242, SessionStart.AddMinutes(19)));
        await sink.SendAsync([lines[0], late], CancellationToken.None); // a resent one and a new one
        await sink.RunAsync(drain.Token, CancellationToken.None);

        var key = Assert.Single(await _s3.KeysAsync(Bucket));
        Assert.Equal(Concat([.. lines, late]), await _s3.GetAsync(Bucket, key));
        Assert.Equal(2, sink.GetBackgroundStatus().UploadedTotal);
    }

    [Fact]
    public async Task ALongSessionIsUploadedSoFarBesideTheTableAndTheFinalObjectReplacesIt()
    {
        var options = Options();
        options.PartialUploadInterval = TimeSpan.FromMilliseconds(300);
        using var sink = Sink(options);
        using var stop = new CancellationTokenSource();
        var run = sink.RunAsync(CancellationToken.None, stop.Token);
        var lines = Session("long-1", 4);
        const string Partial = "sessiontrail_sessions_open/long-1.jsonl";

        await sink.SendAsync(lines[..3], CancellationToken.None);
        var keys = await _s3.WaitForKeysAsync(Bucket, 1, TimeSpan.FromSeconds(30));
        Assert.Equal([Partial], keys);
        Assert.Equal(Concat(lines[..3]), await _s3.GetAsync(Bucket, Partial));

        await sink.SendAsync(lines[3..^1], CancellationToken.None);
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while ((await _s3.GetAsync(Bucket, Partial)).Length != Concat(lines[..^1]).Length && DateTime.UtcNow < deadline)
        {
            await Task.Delay(100);
        }

        Assert.Equal(Concat(lines[..^1]), await _s3.GetAsync(Bucket, Partial)); // replaced, not added

        await sink.SendAsync(lines[^1..], CancellationToken.None);
        const string Final = "sessiontrail_sessions/year=2026/month=11/day=23/long-1.jsonl";
        deadline = DateTime.UtcNow.AddSeconds(30);
        while (!(await _s3.KeysAsync(Bucket)).SequenceEqual([Final]) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(100);
        }

        Assert.Equal([Final], await _s3.KeysAsync(Bucket)); // the partial object is deleted after the final one
        Assert.Equal(Concat(lines), await _s3.GetAsync(Bucket, Final));
        await stop.CancelAsync();
        await run;
    }

    [Fact]
    public async Task TheDefaultFormatIsTheSeedsCsvInTheSeedsLayout()
    {
        var options = Options(format: S3ObjectFormats.AthenaCsv);
        options.Format = new S3SinkOptions().Format;
        using var sink = Sink(options);
        await sink.SendAsync(Session("csv-1", 3), CancellationToken.None);
        using var drain = new CancellationTokenSource();
        await drain.CancelAsync();
        await sink.RunAsync(drain.Token, CancellationToken.None);

        var key = Assert.Single(await _s3.KeysAsync(Bucket));
        Assert.Equal("appstream_applications/year=2026/month=11/day=23/csv-1.csv", key);
        var text = System.Text.Encoding.UTF8.GetString(await _s3.GetAsync(Bucket, key));
        Assert.StartsWith("\uFEFFevent_type,date,time,process,host,pid,", text, StringComparison.Ordinal);
        Assert.EndsWith("4689,11/23/2026,00:10:00,session_end,session_end,-1,stack-a,csv-1,alice,2026-11-22T23:49:00Z,stream.standard.medium,us-east-1,arn:aws:appstream:us-east-1::image/base,fleet-a,userpool,session_end,2026-11-23T00:10:00Z\r\n", text, StringComparison.Ordinal);
        Assert.Equal(1 + 6 + 1, text.Split("\r\n", StringSplitOptions.RemoveEmptyEntries).Length);
    }

    [Fact]
    public async Task ASpoolFileThatCannotBecomeAnObjectIsSetAsideAndTheOthersGoOn()
    {
        using var sink = Sink(Options());
        var broken = sink.Spool.PathOf(SpoolState.Ready, S3Spool.SessionName("broken"));
        await File.WriteAllBytesAsync(broken, Line(Process(null, ProcessEventType.Start, 1, SessionStart)).ToArray()); // no session in a session's file
        await sink.SendAsync(Session("fine-1", 1), CancellationToken.None);

        using var drain = new CancellationTokenSource();
        await drain.CancelAsync();
        await sink.RunAsync(drain.Token, CancellationToken.None);

        Assert.Equal(["sessiontrail_sessions/year=2026/month=11/day=23/fine-1.jsonl"], await _s3.KeysAsync(Bucket));
        Assert.False(File.Exists(broken));
        var kept = Assert.Single(Directory.GetFiles(Path.Combine(sink.Spool.Root, "failed")));
        Assert.Contains("s_broken.", kept, StringComparison.Ordinal);
        Assert.Contains("needs records with a session", Assert.Single(sink.GetBackgroundStatus().RecentErrors).Message, StringComparison.Ordinal);
    }
}
