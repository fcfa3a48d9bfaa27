using System.Net.Http.Headers;
using System.Text.Json;

namespace SessionTrail.EndToEnd.Tests.Infrastructure;

/// <summary>A server (and optionally an agent) started from the real executable, in a temp folder.</summary>
public sealed class Trail : IAsyncDisposable
{
    private readonly List<TrailProcess> _processes = [];

    public Trail()
    {
        Root = Directory.CreateTempSubdirectory("st-e2e-").FullName;
        File.SetUnixFileMode(Root, (UnixFileMode)0b111_101_101);
        Port = TrailProcess.FreePort();
    }

    public string Root { get; }

    public int Port { get; }

    public string Url => $"http://127.0.0.1:{Port}";

    public string ServerData => Path.Combine(Root, "server");

    public string AgentData => Path.Combine(Root, "agent");

    public string ProgramsDir => Path.Combine(Root, "programs");

    public string? Token { get; private set; }

    public TrailProcess? Server { get; private set; }

    public TrailProcess? Agent { get; private set; }

    public async Task StartServerAsync()
    {
        Server = Track(TrailProcess.Start("server", "--data", ServerData, "--urls", Url));
        await Server.WaitHealthyAsync(Url, TimeSpan.FromSeconds(60));
        if (Token is null)
        {
            var (code, stdout, stderr) = await TrailProcess.RunAsync(TimeSpan.FromSeconds(60), "token", "create", "--data", ServerData);
            Assert.True(code == 0, $"token create failed ({code}): {stderr}");
            Token = stdout.TrimEnd().Split('\n')[^1].Trim();
        }
    }

    public async Task StopServerAsync()
    {
        Assert.NotNull(Server);
        var code = await Server.StopAsync(TimeSpan.FromSeconds(30));
        Assert.True(code == 0, $"server exit code {code}:\n{Server.Output}");
    }

    public async Task StartAgentAsync(params string[] extra)
    {
        Assert.NotNull(Token);
        Agent = Track(TrailProcess.Start(["agent", "--data", AgentData, "--server", Url, "--token", Token, .. extra]));
        await Agent.WaitForOutputAsync("capturing processes", TimeSpan.FromSeconds(60));
    }

    /// <summary>GET /api/v1/reports/{name} as JSON.</summary>
    public async Task<JsonElement> ReportAsync(string name)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", Token);
        var body = await http.GetStringAsync(new Uri($"{Url}/api/v1/reports/{name}"));
        return JsonDocument.Parse(body).RootElement.Clone();
    }

    /// <summary>launches per app, for the apps under <see cref="ProgramsDir"/>.</summary>
    public async Task<Dictionary<string, long>> LaunchesAsync()
    {
        var rows = await ReportAsync("launches");
        return rows.EnumerateArray()
            .Where(r => r.GetProperty("app").GetString()!.StartsWith(ProgramsDir, StringComparison.Ordinal))
            .ToDictionary(r => r.GetProperty("app").GetString()!, r => r.GetProperty("launches").GetInt64());
    }

    /// <summary>Polls until <paramref name="done"/> holds or the timeout passes; returns the last value.</summary>
    public static async Task<T> EventuallyAsync<T>(Func<Task<T>> probe, Func<T, bool> done, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var value = await probe();
            if (done(value) || DateTime.UtcNow > deadline)
            {
                return value;
            }

            await Task.Delay(250);
        }
    }

    public TrailProcess Track(TrailProcess p)
    {
        _processes.Add(p);
        return p;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var p in _processes)
        {
            await p.DisposeAsync();
        }

        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
