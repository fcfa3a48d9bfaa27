using System.Net;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using SessionTrail.Server.Store;

namespace SessionTrail.Server.Tests.Http;

/// <summary>A record id names one record whatever its kind: the second record with an id is a duplicate, over real HTTP ingest.</summary>
public sealed class RecordIdTests
{
    private static string Log(string id, string message) =>
        $$"""{"id":"{{id}}","kind":"log","time":"{{R.Iso(1)}}","host":"h1","source":"app","message":"{{message}}"}""" + "\n";

    private static string Start(string id, int pid) =>
        $$"""{"id":"{{id}}","kind":"process","time":"{{R.Iso(2)}}","host":"h1","type":"start","pid":{{pid}},"exe":"/usr/bin/vim","user":"alice"}""" + "\n";

    private static string SessionStart(string id, string session) =>
        $$"""{"id":"{{id}}","kind":"session","time":"{{R.Iso(0)}}","host":"h1","session":"{{session}}","type":"start","user":"alice"}""" + "\n";

    private static string RecordingEvent(string id, string session) =>
        $$"""{"id":"{{id}}","kind":"recording","time":"{{R.Iso(3)}}","host":"h1","session":"{{session}}","type":"notice","message":"recorded"}""" + "\n";

    private static string Segment(string id, string session) =>
        $$"""{"id":"{{id}}","kind":"segment","time":"{{R.Iso(4)}}","host":"h1","session":"{{session}}","index":0,"start":"{{R.Iso(3)}}","end":"{{R.Iso(4)}}","width":640,"height":480,"fps":5,"codec":"h264","bytes":10,"sha256":"{{new string('a', 64)}}","file":"000000.mp4"}""" + "\n";

    private static async Task<string> PostAsync(RunningServer server, string body)
    {
        using var response = await server.Client.PostAsync("/api/v1/ingest", new StringContent(body, Encoding.UTF8, "application/x-ndjson"));
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, text);
        return text;
    }

    /// <summary>How many stored records, of any kind, carry <paramref name="id"/>.</summary>
    private static long Stored(RunningServer server, string id)
    {
        using var connection = server.App.Services.GetRequiredService<SqliteStore>().OpenConnection();
        using var cmd = connection.CreateCommand();
        cmd.CommandText = """
            SELECT (SELECT count(*) FROM process_events WHERE id = $id) + (SELECT count(*) FROM logs WHERE id = $id)
                 + (SELECT count(*) FROM session_events WHERE id = $id) + (SELECT count(*) FROM recording_segments WHERE id = $id)
                 + (SELECT count(*) FROM recording_events WHERE id = $id)
            """;
        cmd.Parameters.AddWithValue("$id", id);
        return (long)cmd.ExecuteScalar()!;
    }

    [Fact]
    public async Task AnIdStoredAsALogMakesALaterProcessWithItADuplicate()
    {
        await using var server = await RunningServer.StartAsync();

        Assert.Equal("""{"accepted":1,"duplicates":0}""", await PostAsync(server, Log("agent-a:1", "printer jammed")));
        Assert.Equal("""{"accepted":0,"duplicates":1}""", await PostAsync(server, Start("agent-a:1", 4242)));

        Assert.Equal(1, Stored(server, "agent-a:1"));
        var runs = JsonDocument.Parse(await server.Client.GetStringAsync(new Uri("/api/v1/reports/runs", UriKind.Relative))).RootElement;
        Assert.Equal(0, runs.GetArrayLength());
    }

    [Fact]
    public async Task EveryKindAfterEveryOtherIsADuplicate()
    {
        await using var server = await RunningServer.StartAsync();
        string[] kinds = ["log", "process", "session", "recording", "segment"];
        string Line(string kind, string id) => kind switch
        {
            "log" => Log(id, "m"),
            "process" => Start(id, 7),
            "session" => SessionStart(id, "s-" + id),
            "recording" => RecordingEvent(id, "s-" + id),
            _ => Segment(id, "s-" + id),
        };

        foreach (var first in kinds)
        {
            foreach (var second in kinds.Where(k => k != first))
            {
                var id = $"{first}-then-{second}";
                Assert.Equal("""{"accepted":1,"duplicates":0}""", await PostAsync(server, Line(first, id)));
                Assert.Equal("""{"accepted":0,"duplicates":1}""", await PostAsync(server, Line(second, id)));
                Assert.True(Stored(server, id) == 1, $"{id} is stored {Stored(server, id)} times");
            }
        }
    }

    [Fact]
    public async Task InOneBatchTheFirstRecordWithAnIdIsStoredAndTheRestAreDuplicates()
    {
        await using var server = await RunningServer.StartAsync();

        var body = Start("agent-b:7", 100) + Log("agent-b:7", "same id as the process") + SessionStart("agent-b:7", "s9") + Log("agent-b:8", "another");
        Assert.Equal("""{"accepted":2,"duplicates":2}""", await PostAsync(server, body));

        Assert.Equal(1, Stored(server, "agent-b:7"));
        Assert.Equal(1, Stored(server, "agent-b:8"));
        var runs = JsonDocument.Parse(await server.Client.GetStringAsync(new Uri("/api/v1/reports/runs", UriKind.Relative))).RootElement;
        Assert.Equal(1, runs.GetArrayLength());
        var sessions = JsonDocument.Parse(await server.Client.GetStringAsync(new Uri("/api/v1/reports/sessions", UriKind.Relative))).RootElement;
        Assert.DoesNotContain(sessions.EnumerateArray(), s => s.GetProperty("session").GetString() == "s9");

        // Sending the batch again changes nothing.
        Assert.Equal("""{"accepted":0,"duplicates":4}""", await PostAsync(server, body));
    }
}
