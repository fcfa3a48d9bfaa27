using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using SessionTrail.Core;
using SessionTrail.EndToEnd.Tests.Infrastructure;
using Xunit.Abstractions;

namespace SessionTrail.EndToEnd.Tests;

/// <summary>
/// Private by default, with the real executable started under root's usual umask 022: every folder and file that
/// `server`, `agent` and `up --record` (and the commands beside them) create is 0700/0600, or 2750/0640 of the group
/// named with --group; an older, looser tree is brought to that at start with one log line; and another local user
/// cannot read the database. Each path is checked with `find -printf` (mode, group, type) after real use.
/// </summary>
[Collection(EndToEnd.Serial)]
public sealed partial class DataPrivacyEndToEndTests(ITestOutputHelper log) : IAsyncLifetime, IAsyncDisposable
{
    private const string Group = "sttestdata";
    private const string Password = "correct horse battery";
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);
    private readonly Trail trail = new();
    private int previousUmask;

    public Task InitializeAsync()
    {
        // Children inherit the umask: what a shell of root would give them.
        previousUmask = umask(0b000_010_010);
        return Task.CompletedTask;
    }

    ValueTask IAsyncDisposable.DisposeAsync() => new(DisposeAsync());

    // IAsyncLifetime: xunit 2 never calls IAsyncDisposable on a test class.
    public async Task DisposeAsync()
    {
        _ = umask(previousUmask);
        await trail.DisposeAsync();
    }

    [RootFact]
    public async Task ServerAndAgentUnderUmask022KeepEveryFileTheirOwnersAlone()
    {
        Machine.EnsureTestUser();
        var programs = Machine.MakePrograms(trail.ProgramsDir, "private", 5);
        var logs = Path.Combine(trail.Root, "logs");
        Directory.CreateDirectory(logs);
        await File.WriteAllTextAsync(Path.Combine(logs, "app.log"), "a secret line\n");
        var copy = Path.Combine(trail.Root, "copy", "app-copy.log");
        var config = LogDeliveryEndToEndTests.WriteConfig(
            Path.Combine(trail.Root, "agent.json"), logs,
            extraSinks: $$""", { "Id": "copy", "SinkType": "FileSystem", "FilePath": {{JsonSerializer.Serialize(copy)}} }""",
            extraPipes: """, { "Id": "applog-to-copy", "SourceRef": "applog", "SinkRef": "copy" }""");
        await trail.StartServerAsync();
        await AddUserAsync(trail.ServerData);
        await trail.StartAgentAsync("--config", config);
        await SessionAsync("start", trail.AgentData, "--id", "s-private", "--user", "alice");
        await Machine.RunAsTestUserAsync(programs);
        await SessionAsync("end", trail.AgentData);
        using var http = Client(trail.Token!);
        await IngestLogAsync(http);
        await UploadAsync(http, "s-private");
        var launches = await Trail.EventuallyAsync(trail.LaunchesAsync, l => l.Count == programs.Count, Timeout);
        Assert.Equal(programs.Count, launches.Count);
        Assert.True(await Trail.EventuallyAsync(() => Task.FromResult(File.Exists(copy)), done => done, Timeout), "the FileSystem sink wrote nothing");

        // While both run (the database's -wal and -shm exist now), and again after they stopped.
        Assert.True(File.Exists(Path.Combine(trail.ServerData, "sessiontrail.db-wal")), "no -wal file while the server runs");
        AssertModes(trail.ServerData, group: null);
        AssertModes(trail.AgentData, group: null);
        Assert.Equal(0, await trail.Agent!.StopAsync(Timeout));
        await trail.StopServerAsync();
        AssertModes(trail.ServerData, group: null);
        AssertModes(trail.AgentData, group: null);

        // What the agent writes outside its data directory (a FileSystem sink) is private too: the umask.
        Assert.Equal("600", Assert.Single(Find(copy)).Mode);
        log.WriteLine(string.Join('\n', Find(trail.ServerData).Concat(Find(trail.AgentData)).Select(e => $"{e.Mode} {e.Path}")));
    }

    [RootFact]
    public async Task UpWithRecordingUnderUmask022KeepsEveryFileItsOwnersAlone()
    {
        using var display = new XvncDisplay(640, 480);
        var data = Path.Combine(trail.Root, "data");
        var config = Path.Combine(trail.Root, "recording.json");
        await File.WriteAllTextAsync(config, $$"""
            { "Agent": { "Recording": { "Display": "{{display.Display}}", "Fps": 5, "MaxSegmentLength": "00:00:05", "LiveUploadInterval": "00:00:01" } } }
            """);
        var up = trail.Track(TrailProcess.Start(new Dictionary<string, string> { ["DISPLAY"] = display.Display }, "up", "--data", data, "--urls", trail.Url, "--record", "--config", config));
        await up.WaitForOutputAsync("capturing processes", Timeout);
        await AddUserAsync(data);
        using var http = Client(await TokenAsync(data));
        await SessionAsync("start", data, "--id", "s-recorded", "--user", "alice");
        var listing = await Trail.EventuallyAsync(
            () => ListingAsync(http, "s-recorded"),
            l => l.GetProperty("segments").EnumerateArray().Any(s => s.GetProperty("state").GetString() == "complete"),
            TimeSpan.FromSeconds(90));
        Assert.True(listing.GetProperty("segments").GetArrayLength() >= 1, $"nothing was recorded:\n{up.Output}");
        await SessionAsync("end", data);

        AssertModes(data, group: null);
        Assert.Equal(0, await up.StopAsync(Timeout));
        var paths = AssertModes(data, group: null);
        foreach (var recorded in new[] { "agent/recordings", "recordings", "server-keys/recording-signing.pem", "agent/up-token", "sessiontrail.db" })
        {
            Assert.True(Path.Exists(Path.Combine(data, recorded)), $"no {recorded} under {data}");
        }

        log.WriteLine($"{paths} paths checked");
    }

    [RootFact]
    public async Task WithAGroupItsMembersMayReadTheDataAndNobodyElse()
    {
        Machine.EnsureTestUser();
        var gid = EnsureGroup(Group);
        var server = trail.Track(TrailProcess.Start("server", "--data", trail.ServerData, "--urls", trail.Url, "--group", Group));
        await server.WaitHealthyAsync(trail.Url, Timeout);
        await AddUserAsync(trail.ServerData);
        using var http = Client(await TokenAsync(trail.ServerData));
        await IngestLogAsync(http);
        await UploadAsync(http, "s-group");

        // The agent takes the group from $SESSIONTRAIL_GROUP; `session start` follows the directory it writes into.
        var agent = trail.Track(TrailProcess.Start(
            new Dictionary<string, string> { ["SESSIONTRAIL_GROUP"] = Group },
            "agent", "--data", trail.AgentData, "--server", trail.Url, "--token", await TokenAsync(trail.ServerData)));
        await agent.WaitForOutputAsync("capturing processes", Timeout);
        await SessionAsync("start", trail.AgentData, "--id", "s-group", "--user", "alice");

        AssertModes(trail.ServerData, gid);
        AssertModes(trail.AgentData, gid);
        var db = Path.Combine(trail.ServerData, "sessiontrail.db");
        Assert.Equal(0, (await Machine.TryShellAsTestUserAsync($"cat '{db}' > /dev/null", gid)).ExitCode);
        Assert.NotEqual(0, (await Machine.TryShellAsTestUserAsync($"cat '{db}' > /dev/null")).ExitCode);
        var key = Path.Combine(trail.ServerData, "server-keys", "recording-signing.pem");
        Assert.NotEqual(0, (await Machine.TryShellAsTestUserAsync($"cat '{key}' > /dev/null", gid)).ExitCode);

        Assert.Equal(0, await agent.StopAsync(Timeout));
        Assert.Equal(0, await server.StopAsync(Timeout));
        AssertModes(trail.ServerData, gid);
        AssertModes(trail.AgentData, gid);
    }

    [RootFact]
    public async Task AnOlderLooserTreeIsTightenedAtStartWithOneLogLine()
    {
        await trail.StartServerAsync();
        await AddUserAsync(trail.ServerData);
        await trail.StartAgentAsync();
        Assert.Equal(0, await trail.Agent!.StopAsync(Timeout));
        await trail.StopServerAsync();

        // What an older version left under umask 022: folders 0755, files 0644.
        var loosened = Loosen(trail.ServerData) + Loosen(trail.AgentData);
        Assert.True(loosened > 10, $"only {loosened} paths");
        Assert.Equal("644", Find(trail.ServerData).Single(p => p.Path.EndsWith("/sessiontrail.db", StringComparison.Ordinal)).Mode);

        await trail.StartServerAsync();
        await trail.StartAgentAsync();
        var serverDb = Path.Combine(trail.ServerData, "sessiontrail.db");
        var line = Assert.Single(trail.Server!.Output.Split('\n'), l => l.Contains($"data directory {trail.ServerData}: changed", StringComparison.Ordinal));
        log.WriteLine(line);
        Assert.Matches(@"changed \d+ files and folders to owner only \(0700/0600\), e\.g\. /\S+ was 0(755|644), now 0(700|600)", line);
        Assert.Contains("changed", Assert.Single(trail.Agent!.Output.Split('\n'), l => l.Contains($"data directory {trail.AgentData}: changed", StringComparison.Ordinal)), StringComparison.Ordinal);
        AssertModes(trail.ServerData, group: null);
        AssertModes(trail.AgentData, group: null);
        Assert.True(File.Exists(serverDb));

        // Nothing left to change: a third start says nothing.
        Assert.Equal(0, await trail.Agent.StopAsync(Timeout));
        await trail.StopServerAsync();
        await trail.StartServerAsync();
        Assert.DoesNotContain("data directory", trail.Server.Output, StringComparison.Ordinal);
    }

    [RootFact]
    public async Task ADataDirectoryThatHoldsOtherThingsKeepsThemAsTheyAreAndSaysSo()
    {
        // --data given a folder that is not SessionTrail's own (a home directory, /srv, the checkout): its other
        // files and folders, and its own mode, are left alone — only what SessionTrail makes there is private.
        Directory.CreateDirectory(Path.Combine(trail.ServerData, "tools"));
        var script = Path.Combine(trail.ServerData, "tools", "run.sh");
        await File.WriteAllTextAsync(script, "#!/bin/sh\necho hello\n");
        var notes = Path.Combine(trail.ServerData, "notes.txt");
        await File.WriteAllTextAsync(notes, "mine");
        File.SetUnixFileMode(script, (UnixFileMode)0b111_101_101);
        File.SetUnixFileMode(notes, (UnixFileMode)0b110_100_100);
        File.SetUnixFileMode(Path.Combine(trail.ServerData, "tools"), (UnixFileMode)0b111_101_101);
        File.SetUnixFileMode(trail.ServerData, (UnixFileMode)0b111_101_101);

        await trail.StartServerAsync();
        await AddUserAsync(trail.ServerData);
        await trail.StopServerAsync();
        await trail.StartServerAsync(); // a second start finds the folder as the first left it

        var line = Assert.Single(trail.Server!.Output.Split('\n'), l => l.Contains($"data directory {trail.ServerData} also holds", StringComparison.Ordinal));
        log.WriteLine(line);
        Assert.Contains("Give SessionTrail a folder of its own", line, StringComparison.Ordinal);
        var modes = Find(trail.ServerData).ToDictionary(e => Path.GetRelativePath(trail.ServerData, e.Path), e => e.Mode);
        Assert.Equal(("755", "755", "755", "644"), (modes["."], modes["tools"], modes["tools/run.sh"], modes["notes.txt"]));
        Assert.Equal("600", modes["sessiontrail.db"]);
        Assert.All(modes.Where(m => DataDirectory.IsOwnEntry(m.Key.Split('/')[0])), m => Assert.True(m.Value is "600" or "700", $"{m.Key} is {m.Value}"));
    }

    [RootFact]
    public async Task AnotherLocalUserCannotReadTheDatabase()
    {
        Machine.EnsureTestUser();
        await trail.StartServerAsync();
        await AddUserAsync(trail.ServerData);
        var db = Path.Combine(trail.ServerData, "sessiontrail.db");

        // The probe that read every password hash: python's sqlite3, as another user.
        var query = await Machine.TryShellAsTestUserAsync(
            $"python3 -c \"import sqlite3; print(sqlite3.connect('file:{db}?mode=ro', uri=True).execute('select name, hash from accounts').fetchall())\"\n");
        log.WriteLine($"exit {query.ExitCode}: {query.Output}");
        Assert.NotEqual(0, query.ExitCode);
        Assert.DoesNotContain("alice", query.Output, StringComparison.Ordinal);
        Assert.Contains("unable to open database", query.Output, StringComparison.Ordinal);
        Assert.NotEqual(0, (await Machine.TryShellAsTestUserAsync($"cat '{db}' > /dev/null")).ExitCode);
    }

    [RootFact]
    public async Task AServerRunningAsItsOwnUserStartsAndNamesWhatItMayNotTighten()
    {
        // As under systemd's DynamicUser: the data directory is the service user's, and root left a file in it.
        Machine.EnsureTestUser();
        var data = trail.ServerData;
        Directory.CreateDirectory(data);
        File.SetUnixFileMode(data, (UnixFileMode)0b111_101_101);
        Assert.Equal(0, Run("chown", $"{Machine.TestUid}:{Machine.TestUid}", data).ExitCode);
        var agent = Path.Combine(data, "agent");
        Directory.CreateDirectory(agent);
        File.SetUnixFileMode(agent, (UnixFileMode)0b111_101_101);
        Assert.Equal(0, Run("chown", $"{Machine.TestUid}:{Machine.TestUid}", agent).ExitCode);
        var rootOwned = Path.Combine(agent, "left-by-root.txt");
        await File.WriteAllTextAsync(rootOwned, "x");
        File.SetUnixFileMode(rootOwned, (UnixFileMode)0b110_100_100);

        // Started from a folder the service user may not enter (as `sudo -u` from /root does, or a test runner in a 0700 clone).
        var closedCwd = Path.Combine(Directory.CreateTempSubdirectory("st-e2e-closed-").FullName, "inner");
        Directory.CreateDirectory(closedCwd);
        File.SetUnixFileMode(Path.GetDirectoryName(closedCwd)!, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var psi = new ProcessStartInfo("setpriv") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false, WorkingDirectory = closedCwd };
        var uid = Machine.TestUid.ToString(CultureInfo.InvariantCulture);
        foreach (var a in new[] { $"--reuid={uid}", $"--regid={uid}", "--clear-groups", "--", "env", "HOME=/tmp", "dotnet", Machine.ExecutableForTestUser, "server", "--data", data, "--urls", trail.Url })
        {
            psi.ArgumentList.Add(a);
        }

        using var server = Process.Start(psi)!;
        var output = new StringBuilder();
        server.OutputDataReceived += (_, e) => { lock (output) { output.AppendLine(e.Data); } };
        server.ErrorDataReceived += (_, e) => { lock (output) { output.AppendLine(e.Data); } };
        server.BeginOutputReadLine();
        server.BeginErrorReadLine();
        string Output() { lock (output) { return output.ToString(); } }
        try
        {
            var listening = await Trail.EventuallyAsync(() => Task.FromResult(Output()), o => o.Contains("listening on", StringComparison.Ordinal) || server.HasExited, Timeout);
            Assert.True(listening.Contains("listening on", StringComparison.Ordinal), listening);
            Assert.Contains($"data directory {data}: 1 files and folders of another owner could not be made owner only (0700/0600), e.g. {rootOwned} (0644); change them as root", listening, StringComparison.Ordinal);
            Assert.Contains($"data directory {data}: changed 2 files and folders to owner only (0700/0600), e.g. {data} was 0755, now 0700", listening, StringComparison.Ordinal);
            Assert.Equal("600", Find(data).Single(e => e.Path.EndsWith("/sessiontrail.db", StringComparison.Ordinal)).Mode);
        }
        finally
        {
            server.Kill(entireProcessTree: true);
            await server.WaitForExitAsync();
            Directory.Delete(Path.GetDirectoryName(closedCwd)!, recursive: true);
        }
    }

    /// <summary>
    /// Asserts the mode (and with <paramref name="group"/> the group) of every folder and file under <paramref name="root"/>:
    /// 0700/0600, or 2750/0640 of the group — secrets (server-keys/, agent/up-token) 0700/0600 (of any group) either way. Returns how many it checked.
    /// </summary>
    private static int AssertModes(string root, int? group)
    {
        var entries = Find(root);
        var wrong = new List<string>();
        foreach (var e in entries.Where(e => e.Type is "d" or "f"))
        {
            var secret = e.Path.Contains("/server-keys", StringComparison.Ordinal) || e.Path.EndsWith("/up-token", StringComparison.Ordinal);
            var want = (e.Type, secret, group is null) switch
            {
                ("d", true, _) or ("d", false, true) => "700",
                ("f", true, _) or ("f", false, true) => "600",
                ("d", false, false) => "2750",
                _ => "640",
            };
            if (e.Mode != want || (group is { } gid && e.Gid != gid && !secret))
            {
                wrong.Add($"{e.Path}: {e.Mode} group {e.Gid} (want {want}{(group is null ? "" : " group " + group)})");
            }
        }

        Assert.True(wrong.Count == 0, $"{wrong.Count} of {entries.Count} paths under {root}:\n{string.Join('\n', wrong)}");
        return entries.Count;
    }

    /// <summary>Every path under <paramref name="root"/> (itself included), as find sees it.</summary>
    private static List<(string Mode, int Gid, string Type, string Path)> Find(string root)
    {
        var (code, output) = Run("find", root, "-printf", "%m %G %y %p\\n");
        Assert.True(code == 0, output);
        return [.. output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Split(' ', 4)).Select(p => (p[0], int.Parse(p[1], CultureInfo.InvariantCulture), p[2], p[3]))];
    }

    /// <summary>chmod 0755 on every folder and 0644 on every file under <paramref name="root"/>; how many.</summary>
    private static int Loosen(string root)
    {
        var entries = Find(root).Where(e => e.Type is "d" or "f").ToList();
        foreach (var e in entries)
        {
            File.SetUnixFileMode(e.Path, e.Type == "d" ? (UnixFileMode)0b111_101_101 : (UnixFileMode)0b110_100_100);
        }

        return entries.Count;
    }

    private async Task AddUserAsync(string data)
    {
        var add = await TrailProcess.RunWithInputAsync(Timeout, null, Password + "\n", "user", "add", "alice", "--role", "admin", "--password-stdin", "--data", data);
        Assert.True(add.ExitCode == 0, add.Stderr);

        // A sign-in: a web_sessions row.
        using var http = new HttpClient();
        var login = await http.PostAsync(new Uri($"{trail.Url}/api/v1/auth/login"), new StringContent(JsonSerializer.Serialize(new { user = "alice", password = Password }), Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.OK, login.StatusCode);
    }

    private static async Task<string> TokenAsync(string data)
    {
        var (code, stdout, stderr) = await TrailProcess.RunAsync(Timeout, "token", "create", "--data", data);
        Assert.True(code == 0, stderr);
        return stdout.TrimEnd().Split('\n')[^1].Trim();
    }

    private static async Task SessionAsync(string verb, string data, params string[] args)
    {
        var (code, _, stderr) = await TrailProcess.RunAsync(Timeout, ["session", verb, "--data", data, .. args]);
        Assert.True(code == 0, stderr);
    }

    private HttpClient Client(string token)
    {
        var http = new HttpClient { BaseAddress = new Uri(trail.Url), Timeout = Timeout };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return http;
    }

    private static async Task IngestLogAsync(HttpClient http)
    {
        var line = $$"""{"id":"privacy:1","kind":"log","time":"{{DateTimeOffset.UtcNow:yyyy-MM-ddTHH:mm:ss.fffZ}}","host":"h1","source":"app","message":"secret command line"}""" + "\n";
        using var response = await http.PostAsync(new Uri("/api/v1/ingest", UriKind.Relative), new StringContent(line, Encoding.UTF8, "application/x-ndjson"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    /// <summary>Uploads segment 0 of <paramref name="session"/> whole and half of segment 1 (a .part stays), then asks for the signed manifest.</summary>
    private static async Task UploadAsync(HttpClient http, string session)
    {
        var bytes = RandomNumberGenerator.GetBytes(50_000);
        foreach (var (index, length) in new[] { (0, bytes.Length), (1, bytes.Length / 2) })
        {
            using var patch = new HttpRequestMessage(HttpMethod.Patch, new Uri($"/api/v1/sessions/{session}/recordings/{index}/upload", UriKind.Relative))
            {
                Content = new ByteArrayContent(bytes, 0, length),
            };
            patch.Content.Headers.ContentType = new MediaTypeHeaderValue("application/offset+octet-stream");
            patch.Headers.Add("Upload-Offset", "0");
            using var patched = await http.SendAsync(patch);
            Assert.Equal(HttpStatusCode.NoContent, patched.StatusCode);
        }

        var complete = JsonSerializer.Serialize(new { bytes = bytes.Length, sha256 = Convert.ToHexStringLower(SHA256.HashData(bytes)) });
        using var completed = await http.PostAsync(new Uri($"/api/v1/sessions/{session}/recordings/0/complete", UriKind.Relative), new StringContent(complete, Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.OK, completed.StatusCode);
        using var manifest = await http.GetAsync(new Uri($"/api/v1/sessions/{session}/recordings/manifest", UriKind.Relative));
        Assert.True(manifest.StatusCode is HttpStatusCode.OK or HttpStatusCode.NotFound, manifest.StatusCode.ToString());
    }

    /// <summary>The session's recording listing; no segments while the server has none (404).</summary>
    private static async Task<JsonElement> ListingAsync(HttpClient http, string session)
    {
        using var response = await http.GetAsync(new Uri($"/api/v1/sessions/{session}/recordings", UriKind.Relative));
        var body = response.StatusCode == HttpStatusCode.NotFound ? """{"segments":[]}""" : await response.Content.ReadAsStringAsync();
        return JsonDocument.Parse(body).RootElement.Clone();
    }

    /// <summary>The group's id, creating the group when this machine has none of that name.</summary>
    private static int EnsureGroup(string name)
    {
        var (found, entry) = Run("getent", "group", name);
        if (found != 0)
        {
            var (added, output) = Run("groupadd", name);
            Assert.True(added == 0, output);
            (_, entry) = Run("getent", "group", name);
        }

        return int.Parse(entry.Split(':')[2], CultureInfo.InvariantCulture);
    }

    /// <summary>Runs a short tool to its end: exit code and standard output (its standard error goes to the test's).</summary>
    private static (int ExitCode, string Output) Run(string file, params string[] args)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }

        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        return (p.ExitCode, stdout);
    }

    [LibraryImport("libc", EntryPoint = "umask")]
    private static partial int umask(int mask);
}
