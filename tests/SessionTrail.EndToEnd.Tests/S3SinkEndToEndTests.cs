using System.Text;
using System.Text.Json;
using SessionTrail.EndToEnd.Tests.Infrastructure;
using Xunit.Abstractions;

namespace SessionTrail.EndToEnd.Tests;

/// <summary>
/// `sessiontrail agent` with an S3 sink in its config file, against a real S3-protocol server (s3rver):
/// `sessiontrail session start|end` and programs run by a user become the seed's per-session CSV.
/// </summary>
[Collection(EndToEnd.Serial)]
public sealed class S3SinkEndToEndTests(ITestOutputHelper log)
{
    private const string Bucket = "appstream-usage";

    /// <summary>The standard credential chain of the agent (and of `export --format parquet` to s3://): the AWS_* environment variables.</summary>
    internal static readonly Dictionary<string, string> Credentials = new()
    {
        ["AWS_ACCESS_KEY_ID"] = S3rverServer.AccessKey,
        ["AWS_SECRET_ACCESS_KEY"] = S3rverServer.SecretKey,
        ["AWS_EC2_METADATA_DISABLED"] = "true",
    };

    private static readonly JsonSerializerOptions WithoutNulls = new() { DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull };

    private static string WriteConfig(Trail trail, S3rverServer s3, bool withServer, string? profile = null)
    {
        var path = Path.Combine(trail.Root, "agent.json");
        var config = new
        {
            Agent = withServer ? (object)new { FlushDeadline = "00:00:05" } : new { ServerUrl = "", FlushDeadline = "00:00:05" },
            Sinks = new[]
            {
                new { Type = "S3", Bucket, Region = S3rverServer.Region, ServiceUrl = s3.Url, ForcePathStyle = true, RetryInitialDelay = "00:00:00.200", RetryMaxDelay = "00:00:01", Profile = profile },
            },
        };
        File.WriteAllText(path, JsonSerializer.Serialize(config, WithoutNulls));
        return path;
    }

    private static async Task SessionAsync(string data, string id, IReadOnlyList<string> programs)
    {
        var start = await TrailProcess.RunAsync(TimeSpan.FromSeconds(30),
            "session", "start", "--data", data, "--id", id, "--user", "alice", "--stack", "stack-a", "--fleet", "fleet-a");
        Assert.True(start.ExitCode == 0, start.Stderr);
        await Task.Delay(TimeSpan.FromSeconds(2)); // the agent notices the new session
        await Machine.RunAsTestUserAsync(programs);
        await Task.Delay(TimeSpan.FromSeconds(2));
        var end = await TrailProcess.RunAsync(TimeSpan.FromSeconds(30), "session", "end", "--data", data);
        Assert.True(end.ExitCode == 0, end.Stderr);
    }

    /// <summary>The CSV object's lines; checks the seed's header, the BOM and CRLF.</summary>
    private static string[] CsvLines(byte[] body)
    {
        Assert.True(body.AsSpan().StartsWith("\uFEFF"u8), "UTF-8 BOM");
        var text = Encoding.UTF8.GetString(body.AsSpan(3));
        Assert.EndsWith("\r\n", text, StringComparison.Ordinal);
        var lines = text[..^2].Split("\r\n");
        Assert.Equal(
            "event_type,date,time,process,host,pid,stack,session,username,time_of_executionprocess_start_time,instance_type,region,image_arn,fleet,auth_type,userid,process_time",
            lines[0]);
        return lines;
    }

    private static void AssertSessionCsv(string[] lines, string session, IReadOnlyList<string> programs)
    {
        var rows = lines.Skip(1).Select(l => l.Split(',')).ToList();
        Assert.All(rows, r => Assert.Equal(17, r.Length));
        Assert.All(rows, r => Assert.Equal(session, r[7]));
        foreach (var program in programs)
        {
            Assert.Single(rows, r => r[0] == "4688" && r[3] == program);
            Assert.Single(rows, r => r[0] == "4689" && r[3] == program);
        }

        var last = rows[^1];
        Assert.Equal(["4689", "session_end", "session_end", "-1"], [last[0], last[3], last[4], last[5]]);
        Assert.Equal(["stack-a", "alice", "fleet-a"], [last[6], last[8], last[13]]);
    }

    /// <summary>The real `sessiontrail agent` with the config file, AWS credentials in its environment; waits until it captures.</summary>
    private static async Task<TrailProcess> StartAgentAsync(Trail trail, string data, string config, params string[] extra)
    {
        var agent = trail.Track(TrailProcess.Start(Credentials, ["agent", "--data", data, "--config", config, .. extra]));
        await agent.WaitForOutputAsync("capturing processes", TimeSpan.FromSeconds(60));
        return agent;
    }

    /// <summary>`sessiontrail agent status` once it shows <paramref name="text"/> (status is rewritten every 2 s).</summary>
    private static async Task<string> StatusAsync(string data, string text) => await Trail.EventuallyAsync(
        async () => (await TrailProcess.RunAsync(TimeSpan.FromSeconds(30), "agent", "status", "--data", data)).Stdout,
        s => s.Contains(text, StringComparison.Ordinal),
        TimeSpan.FromSeconds(20));

    [RootFact]
    public async Task AnAgentWithOnlyAnS3SinkWritesTheSeedsCsvWhenTheSessionEnds()
    {
        Machine.EnsureTestUser();
        await using var trail = new Trail();
        await using var s3 = await S3rverServer.StartAsync(Bucket);
        var data = Path.Combine(trail.Root, "data");
        var programs = Machine.MakePrograms(trail.ProgramsDir, "lake", 5);
        var config = WriteConfig(trail, s3, withServer: false, profile: "lake");

        // Credentials from a named profile of a shared credentials file (not the environment).
        var credentials = Path.Combine(trail.Root, "aws-credentials");
        await File.WriteAllTextAsync(credentials, $"[default]\naws_access_key_id = AKIANOTTHISONE\naws_secret_access_key = x\n\n[lake]\naws_access_key_id = {S3rverServer.AccessKey}\naws_secret_access_key = {S3rverServer.SecretKey}\n");
        var environment = new Dictionary<string, string>
        {
            ["AWS_SHARED_CREDENTIALS_FILE"] = credentials,
            ["AWS_CONFIG_FILE"] = Path.Combine(trail.Root, "no-aws-config"),
            ["AWS_EC2_METADATA_DISABLED"] = "true",
        };
        var agent = trail.Track(TrailProcess.Start(environment, "agent", "--data", data, "--config", config));
        await agent.WaitForOutputAsync("capturing processes", TimeSpan.FromSeconds(60));
        await SessionAsync(data, "4f6b2c1e-e2e-1", programs);

        var keys = await s3.WaitForKeysAsync(Bucket, 1, TimeSpan.FromSeconds(60));
        log.WriteLine(agent.Output);
        var today = DateTime.UtcNow;
        Assert.Equal([$"appstream_applications/year={today:yyyy}/month={today:MM}/day={today:dd}/4f6b2c1e-e2e-1.csv"], keys);
        var lines = CsvLines(await s3.GetAsync(Bucket, keys[0]));
        log.WriteLine(string.Join('\n', lines));
        AssertSessionCsv(lines, "4f6b2c1e-e2e-1", programs);

        var status = await StatusAsync(data, "0 waiting for upload, 1 uploaded");
        Assert.Contains("sink s3:", status, StringComparison.Ordinal);
        Assert.Contains("objects: 0 open, 0 waiting for upload, 1 uploaded", status, StringComparison.Ordinal);
        Assert.Equal(0, await agent.StopAsync(TimeSpan.FromSeconds(60)));
    }

    [RootFact]
    public async Task S3DownAtSessionEndThenTheAgentIsKilledTheObjectArrivesOnceAfterTheRestart()
    {
        Machine.EnsureTestUser();
        await using var trail = new Trail();
        await using var s3 = await S3rverServer.StartAsync(Bucket);
        var data = Path.Combine(trail.Root, "data");
        var programs = Machine.MakePrograms(trail.ProgramsDir, "kill", 3);
        var config = WriteConfig(trail, s3, withServer: false);
        await s3.StopAsync();

        var agent = await StartAgentAsync(trail, data, config);
        await SessionAsync(data, "killed-1", programs);
        await agent.WaitForOutputAsync("unreachable", TimeSpan.FromSeconds(60)); // retrying, with the reason in the log
        var ready = Path.Combine(data, "agent", "s3", "s3", "ready");
        Assert.Single(Directory.GetFiles(ready));
        var status = await StatusAsync(data, "1 waiting for upload");
        Assert.Contains("1 waiting for upload, 0 uploaded", status, StringComparison.Ordinal);
        Assert.Contains($"bucket '{Bucket}' at {s3.Url}: unreachable", status, StringComparison.Ordinal);
        await agent.KillHardAsync(); // SIGKILL with the upload pending
        log.WriteLine(agent.Output);

        await s3.StartAgainAsync();
        var again = await StartAgentAsync(trail, data, config);
        var keys = await s3.WaitForKeysAsync(Bucket, 1, TimeSpan.FromSeconds(60));
        Assert.Single(keys);
        Assert.EndsWith("/killed-1.csv", keys[0], StringComparison.Ordinal);
        AssertSessionCsv(CsvLines(await s3.GetAsync(Bucket, keys[0])), "killed-1", programs);
        await Trail.EventuallyAsync(() => Task.FromResult(Directory.GetFiles(ready).Length), n => n == 0, TimeSpan.FromSeconds(30));
        Assert.Empty(Directory.GetFiles(ready));
        Assert.Equal(0, await again.StopAsync(TimeSpan.FromSeconds(60)));
        Assert.Single(await s3.KeysAsync(Bucket));
    }

    [RootFact]
    public async Task BesideTheServerSinkBothGetTheSession()
    {
        Machine.EnsureTestUser();
        await using var trail = new Trail();
        await using var s3 = await S3rverServer.StartAsync(Bucket);
        await trail.StartServerAsync();
        var data = Path.Combine(trail.Root, "data");
        var programs = Machine.MakePrograms(trail.ProgramsDir, "both", 3);
        var config = WriteConfig(trail, s3, withServer: true);

        var agent = await StartAgentAsync(trail, data, config, "--server", trail.Url, "--token", trail.Token!);
        await SessionAsync(data, "both-1", programs);

        var keys = await s3.WaitForKeysAsync(Bucket, 1, TimeSpan.FromSeconds(60));
        AssertSessionCsv(CsvLines(await s3.GetAsync(Bucket, Assert.Single(keys))), "both-1", programs);
        var launches = await Trail.EventuallyAsync(trail.LaunchesAsync, l => l.Count >= programs.Count, TimeSpan.FromSeconds(60));
        Assert.Equal(programs.Count, launches.Count);
        Assert.Equal(0, await agent.StopAsync(TimeSpan.FromSeconds(60)));
    }

    [RootFact]
    public async Task WrongCredentialsAreInTheLogAndTheStatusAndTheSessionStaysSpooled()
    {
        Machine.EnsureTestUser();
        await using var trail = new Trail();
        await using var s3 = await S3rverServer.StartAsync(Bucket);
        var data = Path.Combine(trail.Root, "data");
        var programs = Machine.MakePrograms(trail.ProgramsDir, "cred", 2);
        var config = WriteConfig(trail, s3, withServer: false);
        var wrong = new Dictionary<string, string>(Credentials) { ["AWS_ACCESS_KEY_ID"] = "AKIAWRONGWRONGWRONG" };

        var agent = trail.Track(TrailProcess.Start(wrong, "agent", "--data", data, "--config", config));
        await agent.WaitForOutputAsync("capturing processes", TimeSpan.FromSeconds(60));
        await SessionAsync(data, "cred-e2e", programs);

        await agent.WaitForOutputAsync("UPLOAD REFUSED", TimeSpan.FromSeconds(60));
        Assert.Contains($"bucket '{Bucket}' at {s3.Url}: credentials refused (403 InvalidAccessKeyId", agent.Output, StringComparison.Ordinal);
        var status = await StatusAsync(data, "credentials refused");
        Assert.Contains("1 waiting for upload, 0 uploaded", status, StringComparison.Ordinal);
        Assert.Equal(0, await agent.StopAsync(TimeSpan.FromSeconds(60)));
        Assert.Empty(await s3.KeysAsync(Bucket));
        Assert.Single(Directory.GetFiles(Path.Combine(data, "agent", "s3", "s3", "ready")));

        var fixedAgent = await StartAgentAsync(trail, data, config); // right credentials: the spooled session goes out
        var keys = await s3.WaitForKeysAsync(Bucket, 1, TimeSpan.FromSeconds(60));
        AssertSessionCsv(CsvLines(await s3.GetAsync(Bucket, Assert.Single(keys))), "cred-e2e", programs);
        Assert.Equal(0, await fixedAgent.StopAsync(TimeSpan.FromSeconds(60)));
    }

    [Fact]
    public async Task AnS3SinkWithoutABucketIsAClearErrorNamingTheKey()
    {
        await using var trail = new Trail();
        var path = Path.Combine(trail.Root, "agent.json");
        await File.WriteAllTextAsync(path, """{ "Agent": { "ServerUrl": "" }, "Sinks": [ { "Type": "S3", "Region": "us-east-1" } ] }""");

        var (code, _, stderr) = await TrailProcess.RunAsync(TimeSpan.FromSeconds(60), "agent", "--data", Path.Combine(trail.Root, "d"), "--config", path);

        Assert.Equal(1, code);
        Assert.Equal("sessiontrail agent: Agent setting 'Sinks:0:Bucket' is required (the S3 bucket to write to).", stderr.Trim());
    }

    [Fact]
    public async Task AnUnknownProfileIsAClearError()
    {
        await using var trail = new Trail();
        var path = Path.Combine(trail.Root, "agent.json");
        await File.WriteAllTextAsync(path, """{ "Agent": { "ServerUrl": "" }, "Sinks": [ { "Type": "S3", "Bucket": "b", "Region": "us-east-1", "Profile": "nope" } ] }""");
        var empty = Path.Combine(trail.Root, "empty");
        await File.WriteAllTextAsync(empty, "");

        var (code, _, stderr) = await TrailProcess.RunAsync(
            TimeSpan.FromSeconds(60),
            new Dictionary<string, string> { ["AWS_SHARED_CREDENTIALS_FILE"] = empty, ["AWS_CONFIG_FILE"] = empty },
            "agent", "--data", Path.Combine(trail.Root, "d"), "--config", path);

        Assert.Equal(1, code);
        Assert.Equal("sessiontrail agent: Agent setting 'Sinks:0:Profile' 'nope' is not a profile in the shared credentials or config file.", stderr.Trim());
    }

    [Fact]
    public async Task AnS3SinkAloneWithTheDefaultServerUrlSaysHowToTurnTheServerOff()
    {
        await using var trail = new Trail();
        var path = Path.Combine(trail.Root, "agent.json");
        await File.WriteAllTextAsync(path, """{ "Sinks": [ { "Type": "S3", "Bucket": "b", "Region": "us-east-1" } ] }""");

        var (code, _, stderr) = await TrailProcess.RunAsync(TimeSpan.FromSeconds(60), "agent", "--data", Path.Combine(trail.Root, "d"), "--config", path);

        Assert.Equal(1, code);
        Assert.Contains("'Token' is required when ServerUrl is set (http://127.0.0.1:5080), and agent.json names no token for it: ", stderr, StringComparison.Ordinal);
        Assert.Contains("; to deliver only to the configured Sinks set \"Agent\": { \"ServerUrl\": \"\" }", stderr, StringComparison.Ordinal);
    }
}
